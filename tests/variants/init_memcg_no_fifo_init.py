"""Probe variant: lru_gen_init_memcg() forgets INIT_LIST_HEAD(&memcg->mm_list.fifo). The memcg is
kzalloc'd, so the first lru_gen_add_mm() in set-up follows a NULL pointer: the model crashes
while the scenario's World is built (tests/test_setup_errors.py)."""

DESCRIPTION = "lru_gen_init_memcg(): no INIT_LIST_HEAD(&memcg->mm_list.fifo)"
EXPECTED_CHECK = None
SCENARIO = "walkers"
NEEDS_INTERLEAVING = False

PATCHES = {
    "lru_gen_init_memcg": [
        ("    INIT_LIST_HEAD(memcg.mm_list.fifo)\n", "    pass  # MUTANT: no INIT_LIST_HEAD\n"),
    ],
}
