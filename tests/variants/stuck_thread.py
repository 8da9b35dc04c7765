"""Probe variant for the watchdog (issue 10, rows 2 and 14): should_skip_mm() starts a thread of its own that calls READ_ONCE().
Nothing the scheduler can see: the run must report it and end, not hang."""

DESCRIPTION = "should_skip_mm(): thread"
EXPECTED_CHECK = "foreign_thread"
SCENARIO = "walkers"
NEEDS_INTERLEAVING = False

PATCHES = {
    "should_skip_mm": [
        ("""    size = 0
""",
         """    size = 0
    _t = __import__("threading").Thread(target=lambda: READ_ONCE(mm, "owner"), daemon=True); _t.start(); _t.join()  # MUTANT: a thread of its own calls a kernel primitive
"""),
    ],
}
