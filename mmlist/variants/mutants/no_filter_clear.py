"""Mutant: the first walker does not clear (allocate) the Bloom filter of the next generation

A one-line change to ``get_next_mm()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = 'the first walker does not clear (allocate) the Bloom filter of the next generation'
EXPECTED_CHECK = 'bloom_filter_clear'
SCENARIO = 'walkers'
NEEDS_INTERLEAVING = False

PATCHES = {
    'get_next_mm': [
        ('        clear_bloom_filter(lv, walk.max_seq + 1)',
         '        pass  # MUTANT: was clear_bloom_filter(lv, walk.max_seq + 1)'),
    ],
}
