"""Mutant: walk_pmd_range() carries a PMD entry over into the filter of walk->max_seq instead of
walk->max_seq + 1: the next generation does not find it

A one-line change to ``walk_pmd_range()`` from ``mmlist/model/aging.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = ("walk_pmd_range(): set_bloom_filter(lruvec, walk->max_seq, pmd) instead of "
               "walk->max_seq + 1: a dense PTE table is recorded in the filter being tested, "
               "and the iteration for max_seq + 1 skips it")
EXPECTED_CHECK = 'bloom_false_negative'
SCENARIO = 'kthread-use-mm'
NEEDS_INTERLEAVING = False

PATCHES = {
    'walk_pmd_range': [
        ('    set_bloom_filter(walk.lruvec, walk.max_seq + 1, pmd)',
         '    set_bloom_filter(walk.lruvec, walk.max_seq, pmd)  # MUTANT: was max_seq + 1'),
    ],
}
