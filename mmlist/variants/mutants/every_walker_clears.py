"""Mutant: every get_next_mm() that hands out an mm clears the next Bloom filter, not only the
first

A one-line change to ``get_next_mm()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = 'every get_next_mm() that hands out an mm clears the next Bloom filter, not only the first'
EXPECTED_CHECK = 'bloom_filter_clear'
SCENARIO = 'walkers'
NEEDS_INTERLEAVING = False

PATCHES = {
    'get_next_mm': [
        ('    if mm is not None and first:',
         '    if mm is not None:  # MUTANT: was `mm is not None and first`'),
    ],
}
