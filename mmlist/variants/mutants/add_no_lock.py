"""Mutant: lru_gen_add_mm() links the mm and moves the cursors without the mm_list lock

A one-line change to ``lru_gen_add_mm()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = 'lru_gen_add_mm() links the mm and moves the cursors without the mm_list lock'
EXPECTED_CHECK = 'data_race'
SCENARIO = 'fork'
NEEDS_INTERLEAVING = True

PATCHES = {
    'lru_gen_add_mm': [
        ('    spin_lock(mm_list.lock)',
         '    # MUTANT: spin_lock(mm_list.lock) dropped'),
        ('    spin_unlock(mm_list.lock)',
         '    # MUTANT: spin_unlock(mm_list.lock) dropped'),
    ],
}
