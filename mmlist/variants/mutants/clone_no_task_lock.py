"""Mutant: kernel_clone() calls lru_gen_add_mm() without task_lock(p): no longer serialised against
the child's cgroup migration

A copy of ``kernel_clone()`` from ``mmlist/model/fork.py`` with the change marked
``# MUTANT:``.
"""
from mmlist.model.fork import *  # noqa: F401,F403  (the names the copied code uses)
from mmlist.model.fork import rt  # noqa: F401

DESCRIPTION = "kernel_clone() calls lru_gen_add_mm() without task_lock(p): no longer serialised against the child's cgroup migration"
EXPECTED_CHECK = 'data_race'
SCENARIO = 'fork-migrate'
NEEDS_INTERLEAVING = False


def kernel_clone(parent: task_struct, clone_flags: int = 0) -> task_struct:
    """``kernel_clone()``: the seed's hunk runs after ``copy_process()`` returned."""
    p = copy_process(parent, clone_flags)

    if not (clone_flags & CLONE_VM):
        # lock the task to synchronize with memcg migration
        # MUTANT: task_lock(p) dropped
        mm_list.lru_gen_add_mm(p.mm)
        # MUTANT: task_unlock(p) dropped

    wake_up_new_task(p)
    return p
