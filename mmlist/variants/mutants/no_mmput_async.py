"""Mutant: get_next_mm() takes the next mm without mmput_async() of the previous one (a leak)

A one-line change to ``get_next_mm()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = 'get_next_mm() takes the next mm without mmput_async() of the previous one (a leak)'
EXPECTED_CHECK = 'walker_reference'
SCENARIO = 'walkers'
NEEDS_INTERLEAVING = False

PATCHES = {
    'get_next_mm': [
        ('        mmput_async(iter[0])',
         '        pass  # MUTANT: was mmput_async(*iter)'),
    ],
}
