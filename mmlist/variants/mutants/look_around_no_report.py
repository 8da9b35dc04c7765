"""Mutant: the look-around promotes the young pages it finds but never reports a dense PTE table
to the Bloom filter: the next walkers skip a PMD entry the eviction saw was worth scanning

A one-line change to ``lru_gen_look_around()`` from ``mmlist/model/aging.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = ("lru_gen_look_around() never calls set_bloom_filter(lruvec, max_seq, pmd), even "
               "when the window was dense")
EXPECTED_CHECK = 'page_walk'
SCENARIO = 'look-around'
NEEDS_INTERLEAVING = True

PATCHES = {
    'lru_gen_look_around': [
        ('        set_bloom_filter(lv, max_seq, pt.pmd_entry(region))\n',
         '        pass  # MUTANT: no set_bloom_filter(lv, max_seq, pt.pmd_entry(region))\n'),
    ],
}
