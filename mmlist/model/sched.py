"""``kernel/sched/core.c`` and ``kernel/kthread.c``: switching mms."""
from __future__ import annotations

from .. import runtime as rt
from ..kernel import (cpumask_clear_cpu, cpumask_set_cpu, local_irq_disable, local_irq_enable,
                      spin_lock, spin_unlock, WARN_ON_ONCE)
from ..kernel.fields import note_read, note_write
from .fork import mmdrop, mmgrab
from .memcontrol import task_lock, task_unlock
from .mm_types import lru_gen_use_mm
from .structs import PF_KTHREAD, mm_cpumask, mm_struct, task_struct


def switch_mm_irqs_off(prev: mm_struct | None, next: mm_struct, tsk: task_struct,
                       cpu: int = 0) -> None:
    """x86's ``switch_mm_irqs_off()`` (5.16, ``arch/x86/mm/tlb.c``) as far as ``mm_cpumask``
    goes. ``prev`` stands for ``real_prev``, the mm this CPU has loaded
    (``cpu_tlbstate.loaded_mm``: the previous task's ``active_mm``, lazy TLB included); ``None``
    is ``&init_mm``. The same mm keeps its bit. Otherwise, in the C's order, the CPU first
    leaves ``real_prev``'s mask ("Stop remote flushes for the previous mm"), then joins
    ``next``'s ("Start remote flushes and then read tlb_gen"): in between it is in neither."""
    if prev is next:
        return
    if prev is not None:                    # real_prev != &init_mm
        cpumask_clear_cpu(cpu, mm_cpumask(prev))
    cpumask_set_cpu(cpu, mm_cpumask(next))  # next != &init_mm


def activate_mm(prev: mm_struct | None, next: mm_struct) -> None:
    ctx = rt.current_ctx()
    switch_mm_irqs_off(prev, next, ctx.task, getattr(ctx, "cpu", 0))


def context_switch(rq: "runqueue", prev: task_struct, next: task_struct) -> None:
    """``context_switch()`` with the seed's hunk, from ``__schedule()`` (IRQs off, rq lock held).

    As in the C, ``current`` is still ``prev`` when ``lru_gen_use_mm(next->mm)`` runs.
    """
    ctx = rt.current_ctx()
    local_irq_disable()
    spin_lock(rq.lock)
    # model: the event comes before lru_gen_use_mm(next->mm) so that a VM_WARN_ON there is
    # preceded by it; next->mm is read raw (no scheduling point, no access for the checks)
    rt.trace("context_switch", cpu=rq.cpu, prev=prev, next=next, mm=next.__dict__["_mm"])
    prev_mm = None
    note_read(prev, "active_mm")
    if next.mm is None:                             # to kernel
        # enter_lazy_tlb(prev->active_mm, next)
        note_write(next, "active_mm")
        next.active_mm = prev.active_mm
        if prev.mm is not None:                     # from user
            mmgrab(prev.active_mm)
        else:
            note_write(prev, "active_mm")
            prev.active_mm = None
    else:                                           # to user
        # sys_membarrier() requires an smp_mb() between setting rq->curr / membarrier_switch_mm()
        # and returning to userspace.
        switch_mm_irqs_off(prev.active_mm, next.mm, next, rq.cpu)
        lru_gen_use_mm(next.mm)

        if prev.mm is None:                         # from kernel
            # will mmdrop() in finish_task_switch().
            prev_mm = prev.active_mm
            note_write(prev, "active_mm")
            prev.active_mm = None
    # switch_to(prev, next, prev)
    ctx.task = next
    rq.curr = next
    note_write(prev, "on_cpu")
    prev.on_cpu = None
    note_write(next, "on_cpu")
    next.on_cpu = rq.cpu
    # finish_task_switch()
    spin_unlock(rq.lock)
    local_irq_enable()
    if prev_mm is not None:
        mmdrop(prev_mm)


class runqueue:
    def __init__(self, cpu: int, idle: task_struct):
        from ..kernel import spinlock_t
        self.cpu = cpu
        self.lock = spinlock_t(f"rq#{cpu}.lock", "rq->lock")
        self.curr = idle


def kthread_use_mm(mm: mm_struct) -> None:
    """``kthread_use_mm()`` as in 5.16: the seed adds no hook here; a kthread later switched to
    with a borrowed mm reaches ``lru_gen_use_mm`` through ``context_switch``."""
    ctx = rt.current_ctx()
    tsk = ctx.task

    WARN_ON_ONCE(not (tsk.flags & PF_KTHREAD), "!(tsk->flags & PF_KTHREAD)")
    WARN_ON_ONCE(tsk.mm is not None, "tsk->mm")

    task_lock(tsk)
    # Hold off any flush_tlb_mm() from using active_mm while we switch it over.
    local_irq_disable()
    note_read(tsk, "active_mm")
    active_mm = tsk.active_mm
    if active_mm is not mm:
        mmgrab(mm)
        note_write(tsk, "active_mm")
        tsk.active_mm = mm
    tsk.mm = mm
    switch_mm_irqs_off(active_mm, mm, tsk, getattr(ctx, "cpu", 0))
    local_irq_enable()
    task_unlock(tsk)
    if active_mm is not None and active_mm is not mm:
        mmdrop(active_mm)
    rt.trace("kthread_use_mm", task=tsk, mm=mm)


def kthread_unuse_mm(mm: mm_struct) -> None:
    ctx = rt.current_ctx()
    tsk = ctx.task
    task_lock(tsk)
    local_irq_disable()
    tsk.mm = None
    # active_mm stays (lazy TLB); enter_lazy_tlb(mm, tsk)
    local_irq_enable()
    task_unlock(tsk)
