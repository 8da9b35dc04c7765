"""Mutant: reset_mm_stats() overwrites mm_state->stats with the walker's batch instead of adding it

A one-line change to ``reset_mm_stats()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = "reset_mm_stats() overwrites mm_state->stats with the walker's batch instead of adding it"
EXPECTED_CHECK = 'mm_stats'
SCENARIO = 'walkers'
NEEDS_INTERLEAVING = False

PATCHES = {
    'reset_mm_stats': [
        ('        WRITE_ONCE(stats, i, stats[i] + walk.mm_stats[i])',
         '        WRITE_ONCE(stats, i, walk.mm_stats[i])  # MUTANT: was stats[i] + walk->mm_stats[i]'),
    ],
}
