"""``kernel/exit.c``: ``exit_mm()`` and ``mm_update_next_owner()`` with the seed's hunk."""
from __future__ import annotations

from .. import runtime as rt
from ..kernel import (WRITE_ONCE, atomic_read, cover, covering, cpumask_clear_cpu, current,
                      local_irq_disable, local_irq_enable, mutex_lock, mutex_unlock)
from . import mm_list
from .fork import mmdrop, mmgrab, mmput
from .memcontrol import task_lock, task_unlock
from ..kernel.fields import note_read, note_write
from .memcontrol import mem_cgroup_put
from .structs import PF_EXITING, PF_KTHREAD, mm_struct, task_struct


def mm_update_next_owner(mm: mm_struct) -> None:
    """``mm_update_next_owner()``: hand ``mm->owner`` to another user of ``mm``.

    model: ``read_lock(&tasklist_lock)`` is not modelled; the search visits the World's tasks in
    pid order instead of children, then siblings, then every process.
    """
    p = current()

    while True:                                      # retry:
        if mm.owner is not p:
            cover("mm_update_next_owner:not-owner")
            return
        if atomic_read(mm.mm_users) <= 1:
            cover("mm_update_next_owner:last-user")
            WRITE_ONCE(mm, "owner", None)
            return

        c = None
        for t in rt.world().tasks_in_pid_order():     # note_read(world, "tasks") inside
            note_read(t, "flags")
            if t.flags & PF_KTHREAD:
                continue                             # for_each_process() has no kthreads here
            note_read(t, "exited")
            if t is not p and not t.exited and t.mm is mm:
                c = t
                break
        if c is None:
            cover("mm_update_next_owner:no-other-user")
            WRITE_ONCE(mm, "owner", None)
            return
        # assign_new_owner:
        task_lock(c)
        # Delay read_unlock() till we have the task_lock() to ensure that c does not slip away.
        if c.mm is not mm:
            cover("mm_update_next_owner:retry")
            task_unlock(c)
            continue                                 # goto retry
        WRITE_ONCE(mm, "owner", c)
        if covering():                               # raw reads: no operation
            if c.__dict__["_memcg"] is mm.lru_gen.__dict__["_memcg"]:
                cover("mm_update_next_owner:new-owner-same-memcg")
            else:
                cover("mm_update_next_owner:new-owner-other-memcg")
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


def exit_signals(tsk: task_struct) -> None:
    """``exit_signals()``: PF_EXITING is set under the threadgroup rwsem, so from now on a
    cgroup migration skips this task (``cgroup_migrate_add_task()``)."""
    w = rt.world()
    mutex_lock(w.cgroup_threadgroup_rwsem)        # cgroup_threadgroup_change_begin(tsk)
    note_write(tsk, "flags")
    tsk.flags |= PF_EXITING
    mutex_unlock(w.cgroup_threadgroup_rwsem)      # cgroup_threadgroup_change_end(tsk)


def do_exit() -> None:
    tsk = current()
    rt.trace("exit", task=tsk)
    exit_signals(tsk)
    exit_mm()
    note_write(tsk, "exited")
    tsk.exited = True
    # cgroup_exit() -> put_css_set(): the task's reference on its memory css.
    # model: the pointer is cleared with the reference (the C leaves task->cgroups alone until
    # cgroup_free()); a plain write through the hook, so the race check verifies that nothing
    # reads the exiting task's memcg concurrently (cgroup_migrate() skips PF_EXITING tasks,
    # mm->owner was passed on by exit_mm()).
    memcg = tsk.memcg
    tsk.memcg = None
    mem_cgroup_put(memcg)
    do_task_dead(tsk)


def do_task_dead(tsk: task_struct) -> None:
    """The dead task's last ``schedule()``: ``context_switch()`` away from it (``!prev->mm``)
    hands its lazy ``active_mm`` to ``finish_task_switch()``, which drops it; x86's
    ``switch_mm_irqs_off()`` clears this CPU from that mm's ``mm_cpumask``.
    model: the switch goes to the idle task, without a cpu program's runqueue."""
    note_read(tsk, "active_mm")
    active_mm = tsk.active_mm
    note_write(tsk, "active_mm")
    tsk.active_mm = None
    if active_mm is not None:
        local_irq_disable()
        cpumask_clear_cpu(getattr(rt.current_ctx(), "cpu", 0), active_mm.cpu_bitmap)
        local_irq_enable()
        mmdrop(active_mm)
    rt.world().release_task(tsk)                  # note_write(world, "tasks") inside
