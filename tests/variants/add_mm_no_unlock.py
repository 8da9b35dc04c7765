"""Probe variant: lru_gen_add_mm() returns without releasing the mm_list lock. Scenario set-up
calls it: mmlist must refuse with one line (SetupError, exit 2), not hang at the next add."""

DESCRIPTION = "lru_gen_add_mm(): no spin_unlock(&mm_list->lock)"
EXPECTED_CHECK = "lock_held_at_exit"
SCENARIO = "walkers"
NEEDS_INTERLEAVING = False

PATCHES = {
    "lru_gen_add_mm": [
        ("""    rt.trace("add", mm=mm, memcg=memcg)
    spin_unlock(mm_list.lock)
""",
         """    rt.trace("add", mm=mm, memcg=memcg)
    pass  # MUTANT: no spin_unlock(mm_list.lock)
"""),
    ],
}
