"""Mutant: mm_update_next_owner() calls lru_gen_migrate_mm() after task_unlock(c)

A one-line change to ``mm_update_next_owner()`` from ``mmlist/model/exit.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = 'mm_update_next_owner() calls lru_gen_migrate_mm() after task_unlock(c)'
EXPECTED_CHECK = 'lockdep_assert_held'
SCENARIO = 'exit-new-owner'
NEEDS_INTERLEAVING = False

PATCHES = {
    'mm_update_next_owner': [
        ('        mm_list.lru_gen_migrate_mm(mm)\n        task_unlock(c)',
         '        task_unlock(c)\n        mm_list.lru_gen_migrate_mm(mm)  # MUTANT: was before task_unlock(c)'),
    ],
}
