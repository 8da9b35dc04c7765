"""Mutant: get_next_mm() forgets nr_walkers-- when a walker hands its last mm back

A one-line change to ``get_next_mm()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = 'get_next_mm() forgets nr_walkers-- when a walker hands its last mm back'
EXPECTED_CHECK = 'nr_walkers'
SCENARIO = 'walkers'
NEEDS_INTERLEAVING = False

PATCHES = {
    'get_next_mm': [
        ('        mm_state.nr_walkers = mm_state.nr_walkers - 1',
         '        pass  # MUTANT: was mm_state.nr_walkers = mm_state.nr_walkers - 1'),
    ],
}
