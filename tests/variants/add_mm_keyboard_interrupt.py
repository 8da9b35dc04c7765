"""Probe variant (issue 10, row 14): lru_gen_add_mm() raises KeyboardInterrupt itself. Scenario
set-up calls it: that is the variant failing, not a Ctrl-C (one line, exit 2)."""

DESCRIPTION = "lru_gen_add_mm(): raise KeyboardInterrupt"
EXPECTED_CHECK = None
SCENARIO = "walkers"
NEEDS_INTERLEAVING = False

PATCHES = {
    "lru_gen_add_mm": [
        ("""    spin_lock(mm_list.lock)
""",
         """    raise KeyboardInterrupt  # MUTANT
"""),
    ],
}
