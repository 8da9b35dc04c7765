"""Mutant: mm_update_next_owner() calls lru_gen_migrate_mm() after task_unlock(c)

A copy of ``mm_update_next_owner()`` from ``mmlist/model/exit.py`` with the change marked
``# MUTANT:``.
"""
from mmlist.model.exit import *  # noqa: F401,F403  (the names the copied code uses)
from mmlist.model.exit import rt  # noqa: F401

DESCRIPTION = 'mm_update_next_owner() calls lru_gen_migrate_mm() after task_unlock(c)'
EXPECTED_CHECK = 'lockdep_assert_held'
SCENARIO = 'exit-new-owner'
NEEDS_INTERLEAVING = False


def mm_update_next_owner(mm: mm_struct) -> None:
    """``mm_update_next_owner()``: hand ``mm->owner`` to another user of ``mm``.

    model: ``read_lock(&tasklist_lock)`` is not modelled; the search visits the World's tasks in
    pid order instead of children, then siblings, then every process.
    """
    p = current()

    while True:                                      # retry:
        if mm.owner is not p:
            return
        if atomic_read(mm.mm_users) <= 1:
            WRITE_ONCE(mm, "owner", None)
            return

        c = None
        for t in rt.world().tasks_in_pid_order():
            if t.flags & PF_KTHREAD:
                continue                             # for_each_process() has no kthreads here
            if t is not p and not t.exited and t.mm is mm:
                c = t
                break
        if c is None:
            WRITE_ONCE(mm, "owner", None)
            return
        # assign_new_owner:
        task_lock(c)
        # Delay read_unlock() till we have the task_lock() to ensure that c does not slip away.
        if c.mm is not mm:
            task_unlock(c)
            continue                                 # goto retry
        WRITE_ONCE(mm, "owner", c)
        rt.trace("new_owner", mm=mm, owner=c)
        task_unlock(c)
        mm_list.lru_gen_migrate_mm(mm)  # MUTANT: was before task_unlock(c)
        return
