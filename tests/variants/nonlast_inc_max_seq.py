"""Probe mutant: in try_to_inc_max_seq(), a walker that did not get ``last`` from get_next_mm()
calls inc_max_seq() itself

With a hardware accessed bit (the default configuration) this is a new bug, not the seed's
finding F2 (which needs arch_has_hw_pte_young() false and a walk-less aging): max_seq moves on
while the iteration for the old max_seq is still running, and the last walker's
``VM_BUG_ON(max_seq != READ_ONCE(lrugen->max_seq))`` fires.

A one-line change to ``try_to_inc_max_seq()`` from ``mmlist/model/aging.py``, applied to the
model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = ("try_to_inc_max_seq(): a walker that did not get last calls inc_max_seq() "
               "itself (hardware accessed bit present)")
EXPECTED_CHECK = "VM_BUG_ON"
SCENARIO = "kswapd-direct"
NEEDS_INTERLEAVING = True

PATCHES = {
    "try_to_inc_max_seq": [
        ("""    if not last:
        if not current_is_kswapd()""",
         """    if not last:
        inc_max_seq(lv, max_seq, can_swap)  # MUTANT: only the last walker may call it
        if not current_is_kswapd()"""),
    ],
}
