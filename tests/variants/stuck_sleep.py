"""Probe variant for the watchdog (issue 10, rows 2 and 14): should_skip_mm() sleeps 30 s in time.sleep().
Nothing the scheduler can see: the run must report it and end, not hang. With
MMLIST_TEST_SAY_ASLEEP set it first says so on stderr (the Ctrl-C test waits for that line)."""

DESCRIPTION = "should_skip_mm(): sleep"
EXPECTED_CHECK = "stuck_thread"
SCENARIO = "walkers"
NEEDS_INTERLEAVING = False

PATCHES = {
    "should_skip_mm": [
        ("""    size = 0
""",
         """    size = 0
    __import__("os").environ.get("MMLIST_TEST_SAY_ASLEEP") and print("asleep", file=__import__("sys").stderr, flush=True); __import__("time").sleep(30)  # MUTANT: sleeps (a Python sleep, no kernel primitive)
"""),
    ],
}
