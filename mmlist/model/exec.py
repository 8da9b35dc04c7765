"""``fs/exec.c``: ``exec_mmap()`` with the seed's two hunks."""
from __future__ import annotations

from .. import runtime as rt
from ..kernel import BUG_ON, cover, current, local_irq_disable, local_irq_enable
from ..kernel.fields import note_read, note_write
from . import mm_list
from .exit import mm_update_next_owner
from .fork import mm_alloc, mmdrop, mmput
from .memcontrol import task_lock, task_unlock
from .mm_types import lru_gen_use_mm
from .sched import activate_mm
from .structs import mm_struct


def exec_mmap(mm: mm_struct) -> int:
    """``exec_mmap()``: install the new mm in ``current``; IRQs are off around the add."""
    cfg = rt.world().config
    tsk = current()
    old_mm = tsk.mm
    # exec_mm_release(); mmap_read_lock(old_mm): not modelled (no other mmap_lock user)

    task_lock(tsk)
    # membarrier_exec_mmap(mm)

    local_irq_disable()
    cover("exec_mmap:add-irqs-off")
    note_read(tsk, "active_mm")
    active_mm = tsk.active_mm
    note_write(tsk, "active_mm")
    tsk.active_mm = mm
    tsk.mm = mm
    mm_list.lru_gen_add_mm(mm)
    # This prevents preemption while active_mm is being loaded and it and mm are being
    # updated, which could cause problems for lazy tlb mm refcounting when these are updated
    # by context switches. Not all architectures can handle irqs off over activate_mm yet.
    if not cfg.CONFIG_ARCH_WANT_IRQS_OFF_ACTIVATE_MM:
        cover("exec_mmap:use-mm-irqs-on")
        local_irq_enable()
    activate_mm(active_mm, mm)
    lru_gen_use_mm(mm)
    if cfg.CONFIG_ARCH_WANT_IRQS_OFF_ACTIVATE_MM:
        cover("exec_mmap:use-mm-irqs-off")
        local_irq_enable()
    task_unlock(tsk)
    if old_mm is not None:
        BUG_ON(active_mm is not old_mm, "active_mm != old_mm")
        mm_update_next_owner(old_mm)
        mmput(old_mm)
        return 0
    mmdrop(active_mm)
    return 0


def do_execve() -> int:
    """``begin_new_exec()`` as far as the mm goes: a fresh mm, then ``exec_mmap()``."""
    mm = mm_alloc(current())
    rt.trace("exec", task=current(), mm=mm)
    return exec_mmap(mm)
