"""Mutant: lru_gen_add_mm() leaves mm_state->tail on the sentinel: new mms lose their full scan

A one-line change to ``lru_gen_add_mm()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = 'lru_gen_add_mm() leaves mm_state->tail on the sentinel: new mms lose their full scan'
EXPECTED_CHECK = 'full_scan_new_mm'
SCENARIO = 'walkers'
NEEDS_INTERLEAVING = False

PATCHES = {
    'lru_gen_add_mm': [
        ('            lv.mm_state.tail = lv.mm_state.tail.prev',
         '            pass  # MUTANT: was lv.mm_state.tail = lv.mm_state.tail.prev'),
    ],
}
