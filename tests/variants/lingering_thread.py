"""Probe variant (issue 10, row 14): should_skip_mm() starts a non-daemon thread that sleeps an
hour and never calls a kernel primitive. The run must still end when it is done."""

DESCRIPTION = "should_skip_mm(): leaves a non-daemon thread sleeping"
EXPECTED_CHECK = None
SCENARIO = "walkers"
NEEDS_INTERLEAVING = False

PATCHES = {
    "should_skip_mm": [
        ("""    size = 0
""",
         """    size = 0
    __import__("threading").Thread(target=__import__("time").sleep, args=(3600,), name="lingerer", daemon=False).start()  # MUTANT
"""),
    ],
}
