"""Mutant: walk_pmd_range() consults the Bloom filter even for a full scan: a walk that must
look at every PMD entry (a new mm, debugfs' full_scan) skips those the filter does not hold

A one-line change to ``walk_pmd_range()`` from ``mmlist/model/aging.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = ("walk_pmd_range() skips an entry when test_bloom_filter() is false even if "
               "walk->full_scan is set")
EXPECTED_CHECK = 'page_walk'
SCENARIO = 'walkers'
NEEDS_INTERLEAVING = False

PATCHES = {
    'walk_pmd_range': [
        ('    if not walk.full_scan and not test_bloom_filter(walk.lruvec, walk.max_seq, pmd):\n',
         '    if not test_bloom_filter(walk.lruvec, walk.max_seq, pmd):  # MUTANT: full_scan ignored\n'),
    ],
}
