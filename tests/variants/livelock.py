"""Probe variant (issue 10, row 11): should_skip_mm() spins on READ_ONCE(mm->owner) forever. It
calls a kernel primitive each time round, so the watchdog does not fire: every execution is cut
off at the step limit, and the run must say so and keep a replay of one."""

DESCRIPTION = "should_skip_mm(): spins on READ_ONCE(mm->owner)"
EXPECTED_CHECK = None
SCENARIO = "walkers"
NEEDS_INTERLEAVING = False

PATCHES = {
    "should_skip_mm": [
        ("""    size = 0
""",
         """    size = 0
    while READ_ONCE(mm, "owner") is not None or True: pass  # MUTANT: livelock
"""),
    ],
}
