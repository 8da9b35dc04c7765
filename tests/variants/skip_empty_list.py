"""Probe mutant: get_next_mm() skips the iteration of an empty mm list without advancing
mm_state->seq

A walker starting an iteration of a memcg whose list is empty (the root memcg in most
scenarios: kswapd ages every memcg) returns ``last`` at once, without taking the mm_list lock,
so ``mm_state->seq`` is not set to ``max_seq``; the caller then creates the generation and
``mm_state->seq`` falls two behind ``max_seq``. With a hardware accessed bit this is a new bug,
not the seed's finding F1 (which needs arch_has_hw_pte_young() false).

A one-line change to ``get_next_mm()`` from ``mmlist/model/mm_list.py``, applied to the model's
current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = ("get_next_mm(): an empty mm list ends the iteration at once without advancing "
               "mm_state->seq")
EXPECTED_CHECK = "seq"
SCENARIO = "kswapd-direct"
NEEDS_INTERLEAVING = False

PATCHES = {
    "get_next_mm": [
        ("""    spin_lock(mm_list.lock)
""",
         """    if iter[0] is None and list_empty(mm_list.fifo): return True  # MUTANT: skip
    spin_lock(mm_list.lock)
"""),
    ],
}
