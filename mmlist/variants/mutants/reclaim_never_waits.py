"""Mutant: try_to_inc_max_seq() tests sc->priority > DEF_PRIORITY - 2 instead of <: direct
reclaimers under pressure no longer wait for the last walker's new generation

A one-line change to ``try_to_inc_max_seq()`` from ``mmlist/model/aging.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = "try_to_inc_max_seq() tests sc->priority > DEF_PRIORITY - 2 instead of <: a direct reclaimer under pressure that is not the last walker returns without waiting"
EXPECTED_CHECK = 'who_waits'
SCENARIO = 'walkers'
NEEDS_INTERLEAVING = True

PATCHES = {
    'try_to_inc_max_seq': [
        ('        if not current_is_kswapd() and sc.priority < DEF_PRIORITY - 2:',
         '        if not current_is_kswapd() and sc.priority > DEF_PRIORITY - 2:  # MUTANT: was <'),
    ],
}
