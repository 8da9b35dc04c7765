"""Mutant: get_next_mm(): the first walker of an iteration moves head two mms on, not one: the
first mm of the list is neither handed out nor skipped

A one-line change to ``get_next_mm()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = ("get_next_mm(): the first walker of an iteration sets head to head->next->next: "
               "the first mm on the list is never handed out (nor skipped by should_skip_mm())")
EXPECTED_CHECK = 'handout_complete'
SCENARIO = 'walkers'
NEEDS_INTERLEAVING = False

PATCHES = {
    'get_next_mm': [
        ('            mm_state.head = mm_state.head.next\n            first = True',
         '            mm_state.head = mm_state.head.next.next  # MUTANT: was head->next\n'
         '            first = True'),
    ],
}
