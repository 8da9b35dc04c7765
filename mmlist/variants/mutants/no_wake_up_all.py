"""Mutant: the last walker creates the generation but does not wake_up_all() the waiters

A one-line change to ``try_to_inc_max_seq()`` from ``mmlist/model/aging.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = 'the last walker creates the generation but does not wake_up_all() the waiters'
EXPECTED_CHECK = 'liveness'
SCENARIO = 'walkers'
NEEDS_INTERLEAVING = True

PATCHES = {
    'try_to_inc_max_seq': [
        ('        wake_up_all(lv.mm_state.wait)',
         '        pass  # MUTANT: was wake_up_all(&mm_state->wait)'),
    ],
}
