"""Mutant: should_skip_mm() ignores a failed mmget_not_zero(): walkers take mms that are going away

A one-line change to ``should_skip_mm()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = 'should_skip_mm() ignores a failed mmget_not_zero(): walkers take mms that are going away'
EXPECTED_CHECK = 'walker_reference'
SCENARIO = 'exit'
NEEDS_INTERLEAVING = True

PATCHES = {
    'should_skip_mm': [
        ('    if not mmget_not_zero(mm):',
         '    if mmget_not_zero(mm) is None:  # MUTANT: was !mmget_not_zero(mm)'),
    ],
}
