"""Mutant: the first walker clears the filter of the current generation instead of the next

A one-line change to ``get_next_mm()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = 'the first walker clears the filter of the current generation instead of the next'
EXPECTED_CHECK = 'bloom_filter_clear'
SCENARIO = 'walkers'
NEEDS_INTERLEAVING = False

PATCHES = {
    'get_next_mm': [
        ('        clear_bloom_filter(lv, walk.max_seq + 1)',
         '        clear_bloom_filter(lv, walk.max_seq)  # MUTANT: was walk->max_seq + 1'),
    ],
}
