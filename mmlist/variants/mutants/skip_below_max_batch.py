"""Mutant: should_skip_mm() compares the mm's size with MAX_LRU_BATCH instead of MIN_LRU_BATCH:
mms of ordinary size are skipped as too small

A one-line change to ``should_skip_mm()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = "should_skip_mm() compares the mm's size with MAX_LRU_BATCH instead of MIN_LRU_BATCH: mms of ordinary size are skipped as too small"
EXPECTED_CHECK = 'skip_size'
SCENARIO = 'walkers'
NEEDS_INTERLEAVING = False

PATCHES = {
    'should_skip_mm': [
        ('    if size < rt.world().config.MIN_LRU_BATCH:',
         '    if size < rt.world().config.MAX_LRU_BATCH:  # MUTANT: was MIN_LRU_BATCH'),
    ],
}
