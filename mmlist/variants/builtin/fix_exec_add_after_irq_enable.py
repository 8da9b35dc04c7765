"""Fix: ``exec_mmap()`` adds the new mm after IRQs are enabled again.

Under PREEMPT_RT ``spin_lock()`` on the mm_list lock is a sleeping lock, and the seed takes it in
``lru_gen_add_mm()`` between ``local_irq_disable()`` and ``local_irq_enable()``. Upstream (the
merged MGLRU, fs/exec.c) calls ``lru_gen_add_mm()`` after the last ``local_irq_enable()``, still
under ``task_lock()``, and ``lru_gen_use_mm()`` after ``task_unlock()``.
"""
from mmlist.model.exec import *  # noqa: F401,F403  (the names the copied code uses)
from mmlist.model.exec import rt  # noqa: F401

DESCRIPTION = ("exec_mmap() calls lru_gen_add_mm() after local_irq_enable() (as upstream "
               "later did), so PREEMPT_RT's sleeping mm_list lock is not taken with IRQs off")


def exec_mmap(mm: mm_struct) -> int:
    """``exec_mmap()``: install the new mm in ``current``; the add runs with IRQs on."""
    cfg = rt.world().config
    tsk = current()
    old_mm = tsk.mm
    # exec_mm_release(); mmap_read_lock(old_mm): not modelled (no other mmap_lock user)

    task_lock(tsk)
    # membarrier_exec_mmap(mm)

    local_irq_disable()
    active_mm = tsk.active_mm
    tsk.active_mm = mm
    tsk.mm = mm
    # This prevents preemption while active_mm is being loaded and it and mm are being
    # updated, which could cause problems for lazy tlb mm refcounting when these are updated
    # by context switches. Not all architectures can handle irqs off over activate_mm yet.
    if not cfg.CONFIG_ARCH_WANT_IRQS_OFF_ACTIVATE_MM:
        local_irq_enable()
    activate_mm(active_mm, mm)
    if cfg.CONFIG_ARCH_WANT_IRQS_OFF_ACTIVATE_MM:
        local_irq_enable()
    mm_list.lru_gen_add_mm(mm)
    task_unlock(tsk)
    lru_gen_use_mm(mm)
    if old_mm is not None:
        BUG_ON(active_mm is not old_mm, "active_mm != old_mm")
        mm_update_next_owner(old_mm)
        mmput(old_mm)
        return 0
    mmdrop(active_mm)
    return 0
