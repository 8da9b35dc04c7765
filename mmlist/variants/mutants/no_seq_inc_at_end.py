"""Mutant: get_next_mm() reaches the end of the list without WRITE_ONCE(mm_state->seq, seq + 1)

A one-line change to ``get_next_mm()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = 'get_next_mm() reaches the end of the list without WRITE_ONCE(mm_state->seq, seq + 1)'
EXPECTED_CHECK = 'seq'
SCENARIO = 'walkers'
NEEDS_INTERLEAVING = False

PATCHES = {
    'get_next_mm': [
        ('            WRITE_ONCE(mm_state, "seq", mm_state.seq + 1)',
         '            pass  # MUTANT: was WRITE_ONCE(mm_state->seq, mm_state->seq + 1)'),
    ],
}
