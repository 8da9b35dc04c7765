"""Probe variant for the watchdog (issue 10, rows 2 and 14): should_skip_mm() blocks on a plain Python lock it holds.
Nothing the scheduler can see: the run must report it and end, not hang."""

DESCRIPTION = "should_skip_mm(): pylock"
EXPECTED_CHECK = "stuck_thread"
SCENARIO = "walkers"
NEEDS_INTERLEAVING = False

PATCHES = {
    "should_skip_mm": [
        ("""    size = 0
""",
         """    size = 0
    _l = __import__("threading").Lock(); _l.acquire(); _l.acquire()  # MUTANT: plain Python lock, taken twice
"""),
    ],
}
