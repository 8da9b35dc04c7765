"""Mutant: get_next_mm() clears last only when more than one walker holds an mm: a walker
holding the only mm is told it is the last at every call

A one-line change to ``get_next_mm()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = ("get_next_mm(): 'if (mm_state->nr_walkers > 1) last = false' instead of "
               "'if (mm_state->nr_walkers)': a walker that holds the only mm of the iteration "
               "gets last == true while it still walks, again and again")
EXPECTED_CHECK = 'iteration_last'
SCENARIO = 'walkers'
NEEDS_INTERLEAVING = False

PATCHES = {
    'get_next_mm': [
        ('    if mm_state.nr_walkers:\n        last = False',
         '    if mm_state.nr_walkers > 1:  # MUTANT: was if (mm_state->nr_walkers)\n'
         '        last = False'),
    ],
}
