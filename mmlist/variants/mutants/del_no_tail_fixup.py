"""Mutant: lru_gen_del_mm() forgets to move mm_state->tail off the mm it unlinks

A one-line change to ``lru_gen_del_mm()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = 'lru_gen_del_mm() forgets to move mm_state->tail off the mm it unlinks'
EXPECTED_CHECK = 'cursor'
SCENARIO = 'exit-new-owner'
NEEDS_INTERLEAVING = False

PATCHES = {
    'lru_gen_del_mm': [
        ('            lv.mm_state.tail = lv.mm_state.tail.next',
         '            pass  # MUTANT: was lv.mm_state.tail = lv.mm_state.tail.next'),
    ],
}
