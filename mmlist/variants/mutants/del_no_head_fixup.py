"""Mutant: lru_gen_del_mm() forgets to move mm_state->head off the mm it unlinks

A one-line change to ``lru_gen_del_mm()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = 'lru_gen_del_mm() forgets to move mm_state->head off the mm it unlinks'
EXPECTED_CHECK = 'cursor'
SCENARIO = 'fork-migrate'
NEEDS_INTERLEAVING = True

PATCHES = {
    'lru_gen_del_mm': [
        ('        lv.mm_state.head = lv.mm_state.head.next',
         '        pass  # MUTANT: was lv.mm_state.head = lv.mm_state.head.next'),
    ],
}
