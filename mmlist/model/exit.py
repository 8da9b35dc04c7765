"""``kernel/exit.c``: ``exit_mm()`` and ``mm_update_next_owner()`` with the seed's hunk."""
from __future__ import annotations

from .. import runtime as rt
from ..kernel import READ_ONCE, WRITE_ONCE, atomic_read, current, local_irq_disable, local_irq_enable
from . import mm_list
from .fork import mmdrop, mmgrab, mmput
from .memcontrol import task_lock, task_unlock
from .memcontrol import mem_cgroup_put
from .structs import PF_KTHREAD, mm_struct, task_struct


def mm_update_next_owner(mm: mm_struct) -> None:
    """``mm_update_next_owner()``: hand ``mm->owner`` to another user of ``mm``.

    model: ``read_lock(&tasklist_lock)`` is not modelled; the search visits the World's tasks in
    pid order instead of children, then siblings, then every process.
    """
    p = current()

    while True:                                      # retry:
        if READ_ONCE(mm, "owner") is not p:
            return
        if atomic_read(mm.mm_users) <= 1:
            WRITE_ONCE(mm, "owner", None)
            return

        c = None
        for t in rt.world().tasks_in_pid_order():
            if t.flags & PF_KTHREAD:
                continue                             # for_each_process() has no kthreads here
            if t is not p and not t.exited and READ_ONCE(t, "mm") is mm:
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
        mm_list.lru_gen_migrate_mm(mm)
        task_unlock(c)
        return


def exit_mm() -> None:
    """``exit_mm()``: detach ``current`` from its mm, pass ownership on, drop the reference."""
    tsk = current()
    mm = tsk.mm

    # exit_mm_release(current, mm)
    if mm is None:
        return
    # mmap_read_lock(mm): not modelled
    mmgrab(mm)
    task_lock(tsk)
    local_irq_disable()
    tsk.mm = None
    # membarrier_update_current_mm(NULL); enter_lazy_tlb(mm, current)
    local_irq_enable()
    task_unlock(tsk)
    mm_update_next_owner(mm)
    mmput(mm)
    # model: the lazy active_mm reference is dropped at once (finish_task_switch would)
    tsk.active_mm = None
    mmdrop(mm)


def do_exit() -> None:
    tsk = current()
    rt.trace("exit", task=tsk)
    exit_mm()
    tsk.exited = True
    # cgroup_exit() -> put_css_set(): the task's reference on its memory css
    memcg = tsk.__dict__["_memcg"]
    tsk.__dict__["_memcg"] = None
    mem_cgroup_put(memcg)
    rt.world().release_task(tsk)
