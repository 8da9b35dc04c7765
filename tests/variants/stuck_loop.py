"""Probe variant for the watchdog (issue 10, rows 2 and 14): should_skip_mm() spins in a pure Python loop.
Nothing the scheduler can see: the run must report it and end, not hang."""

DESCRIPTION = "should_skip_mm(): loop"
EXPECTED_CHECK = "stuck_thread"
SCENARIO = "walkers"
NEEDS_INTERLEAVING = False

PATCHES = {
    "should_skip_mm": [
        ("""    size = 0
""",
         """    size = 0
    while True: pass  # MUTANT: spins without a kernel primitive
"""),
    ],
}
