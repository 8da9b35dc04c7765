"""Mutant: try_to_inc_max_seq() lets kswapd wait for the last walker too
(current_is_kswapd() || ... instead of !current_is_kswapd() && ...)

A one-line change to ``try_to_inc_max_seq()`` from ``mmlist/model/aging.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = "try_to_inc_max_seq() lets kswapd wait for another walker's new generation (current_is_kswapd() || ... instead of !current_is_kswapd() && ...)"
EXPECTED_CHECK = 'who_waits'
SCENARIO = 'kswapd-direct'
NEEDS_INTERLEAVING = True

PATCHES = {
    'try_to_inc_max_seq': [
        ('        if not current_is_kswapd() and sc.priority < DEF_PRIORITY - 2:',
         '        if current_is_kswapd() or sc.priority < DEF_PRIORITY - 2:  # MUTANT: kswapd waits'),
    ],
}
