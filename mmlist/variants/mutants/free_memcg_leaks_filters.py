"""Mutant: lru_gen_free_memcg() forgets bitmap_free(): the Bloom filters of a removed memcg leak
(two bitmaps of 4 KiB per lruvec, every rmdir)

A one-line change to ``lru_gen_free_memcg()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = "lru_gen_free_memcg(): bitmap_free(lruvec->mm_state.filters[i]) dropped: a leak"
EXPECTED_CHECK = 'kmemleak'
SCENARIO = 'exit-rmdir'
NEEDS_INTERLEAVING = False

PATCHES = {
    'lru_gen_free_memcg': [
        ('            bitmap_free(lv.mm_state.filters[i])\n',
         '            pass  # MUTANT: no bitmap_free(lv.mm_state.filters[i])\n'),
    ],
}
