"""Mutant: mm_update_next_owner()'s last-user test is inverted: an owner that exits while a
CLONE_VM thread still uses the mm marks the owner NULL instead of handing the mm over, so the mm
no longer follows its users' memcg

A one-line change to ``mm_update_next_owner()`` from ``mmlist/model/exit.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = ("mm_update_next_owner(): atomic_read(&mm->mm_users) > 1 instead of <= 1: the "
               "owner is marked NULL while other tasks still use the mm")
EXPECTED_CHECK = 'owner_valid'
SCENARIO = 'exit-new-owner'
NEEDS_INTERLEAVING = False

PATCHES = {
    'mm_update_next_owner': [
        ('        if atomic_read(mm.mm_users) <= 1:\n',
         '        if atomic_read(mm.mm_users) > 1:  # MUTANT: was <= 1\n'),
    ],
}
