"""Mutant: reset_mm_stats(): the last walker clears the slot it has just flushed into
(lru_hist_from_seq(walk->max_seq)) instead of the next generation's

A one-line change to ``reset_mm_stats()`` from ``mmlist/model/mm_list.py``, applied to the
model's current source (the change is marked ``# MUTANT:``). It needs CONFIG_LRU_GEN_STATS
(``NR_HIST_GENS > 1``): the built-in scenario ``faults`` has it.
"""

DESCRIPTION = ("reset_mm_stats(): the last walker clears stats[lru_hist_from_seq(walk->max_seq)], "
               "the slot it just flushed into, instead of the next generation's")
EXPECTED_CHECK = 'stats_hist'
SCENARIO = 'faults'
NEEDS_INTERLEAVING = False

PATCHES = {
    'reset_mm_stats': [
        ('    hist = lru_hist_from_seq(walk.max_seq + 1)',
         '    hist = lru_hist_from_seq(walk.max_seq)  # MUTANT: was walk->max_seq + 1'),
    ],
}
