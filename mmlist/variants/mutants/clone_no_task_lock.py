"""Mutant: kernel_clone() calls lru_gen_add_mm() without task_lock(p): no longer serialised against
the child's cgroup migration

A one-line change to ``kernel_clone()`` from ``mmlist/model/fork.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = "kernel_clone() calls lru_gen_add_mm() without task_lock(p): no longer serialised against the child's cgroup migration"
EXPECTED_CHECK = 'data_race'
SCENARIO = 'fork-migrate'
NEEDS_INTERLEAVING = False

PATCHES = {
    'kernel_clone': [
        ('        task_lock(p)',
         '        # MUTANT: task_lock(p) dropped'),
        ('        task_unlock(p)',
         '        # MUTANT: task_unlock(p) dropped'),
    ],
}
