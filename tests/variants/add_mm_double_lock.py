"""Probe variant: lru_gen_add_mm() takes the mm_list lock twice. Scenario set-up (spawning the
tasks) calls lru_gen_add_mm(), so set-up itself would hang on its real lock: mmlist must refuse
with one line naming the set-up step (SetupError, exit 2), not hang."""

DESCRIPTION = "lru_gen_add_mm(): spin_lock(&mm_list->lock) twice"
EXPECTED_CHECK = "lock_recursion"
SCENARIO = "walkers"
NEEDS_INTERLEAVING = False

PATCHES = {
    "lru_gen_add_mm": [
        ("""    spin_lock(mm_list.lock)
""",
         """    spin_lock(mm_list.lock)
    spin_lock(mm_list.lock)  # MUTANT: taken twice
"""),
    ],
}
