"""Mutant: should_skip_mm() only tests mm_users instead of taking a reference with mmget_not_zero()

A one-line change to ``should_skip_mm()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = 'should_skip_mm() only tests mm_users instead of taking a reference with mmget_not_zero()'
EXPECTED_CHECK = 'walker_reference'
SCENARIO = 'walkers'
NEEDS_INTERLEAVING = False

PATCHES = {
    'should_skip_mm': [
        ('    if not mmget_not_zero(mm):',
         '    from ..kernel import atomic_read\n'
         '    if not atomic_read(mm.mm_users):  # MUTANT: was !mmget_not_zero(mm)'),
    ],
}
