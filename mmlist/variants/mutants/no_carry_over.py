"""Mutant: walk_pmd_range() counts a dense PTE table in MM_PMD_ADDED but never sets it in the
Bloom filter: the next generation skips it

A one-line change to ``walk_pmd_range()`` from ``mmlist/model/aging.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = ("walk_pmd_range() drops set_bloom_filter(lruvec, walk->max_seq + 1, pmd) after "
               "walk->mm_stats[MM_PMD_ADDED]++: the entry is counted as carried over but lost")
EXPECTED_CHECK = 'bloom_carry_over'
SCENARIO = 'walkers'
NEEDS_INTERLEAVING = False

PATCHES = {
    'walk_pmd_range': [
        ('    set_bloom_filter(walk.lruvec, walk.max_seq + 1, pmd)',
         '    pass  # MUTANT: was set_bloom_filter(lruvec, walk->max_seq + 1, pmd)'),
    ],
}
