"""Mutant: set_bloom_filter() sets key[0] twice and never key[1]: test_bloom_filter(), which
needs both, answers false for what was recorded

A one-line change to ``set_bloom_filter()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = "set_bloom_filter() sets key[0] twice and never key[1]: a recorded PMD entry tests negative in the next generation"
EXPECTED_CHECK = 'bloom_false_negative'
SCENARIO = 'kthread-use-mm'
NEEDS_INTERLEAVING = False

PATCHES = {
    'set_bloom_filter': [
        ('        set_bit(key[1], filt)',
         '        set_bit(key[0], filt)  # MUTANT: was set_bit(key[1], filt)'),
    ],
}
