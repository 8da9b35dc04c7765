"""``kernel/fork.c``: mm life cycle (``mm_init``, ``mmput``, ``__mmput``...) and
``kernel_clone()`` with the ``copy_process()`` steps that matter to the protocol."""
from __future__ import annotations

from .. import runtime as rt
from ..kernel import (READ_ONCE, VM_BUG_ON, atomic_dec_and_test, atomic_inc,
                      atomic_inc_not_zero, atomic_read, cover, covering, might_sleep, mutex_lock,
                      mutex_unlock)
from . import mm_list
from .memcontrol import css_get, task_lock, task_unlock
from ..kernel.fields import note_write
from .mm_types import lru_gen_init_mm
from .structs import CLONE_VM, mm_struct, task_struct


# --- reference counts ----------------------------------------------------------------------------

def mmget(mm: mm_struct) -> None:
    atomic_inc(mm.mm_users)


def mmget_not_zero(mm: mm_struct) -> bool:
    ok = atomic_inc_not_zero(mm.mm_users)
    rt.trace("mmget", mm=mm, ok=ok)
    return ok


def mmgrab(mm: mm_struct) -> None:
    atomic_inc(mm.mm_count)


def mmdrop(mm: mm_struct) -> None:
    """``mmdrop()``: the last ``mm_count`` reference frees the mm_struct (``__mmdrop``)."""
    if atomic_dec_and_test(mm.mm_count):
        rt.trace("__mmdrop", mm=mm, on_list=mm.lru_gen.list.__dict__["_next"] is not mm.lru_gen.list)
        note_write(mm, "freed")
        mm.freed = True


def exit_mmap(mm: mm_struct) -> None:
    """``exit_mmap()``: tear down the page tables. model: only marks them gone."""
    note_write(mm, "mmap_exited")
    mm.mmap_exited = True


def __mmput(mm: mm_struct) -> None:
    """``__mmput()``: the last user is gone."""
    VM_BUG_ON(atomic_read(mm.mm_users), "atomic_read(&mm->mm_users)")

    rt.trace("__mmput", mm=mm)
    exit_mmap(mm)
    mm_list.lru_gen_del_mm(mm)
    mmdrop(mm)


def mmput(mm: mm_struct) -> None:
    """``mmput()``: may sleep."""
    might_sleep()

    rt.trace("mmput", mm=mm)
    if atomic_dec_and_test(mm.mm_users):
        __mmput(mm)


def mmput_async(mm: mm_struct) -> None:
    """``mmput_async()``: the last reference defers ``__mmput`` to a workqueue.

    model: the work goes to ``World.system_wq``; the thread that queued it runs it
    (``run_pending_work``) once it holds no lock, standing in for a kworker.
    """
    rt.trace("mmput", mm=mm, async_=True)
    if atomic_dec_and_test(mm.mm_users):
        cover("mmput_async:last-reference")
        rt.world().queue_work(__mmput, mm)


# --- mm creation ---------------------------------------------------------------------------------

def mm_init(mm: mm_struct, p: task_struct) -> mm_struct:
    """``mm_init()``: only the steps the protocol sees (owner, ``lru_gen_init_mm``)."""
    mm.owner = p                        # mm_init_owner(): a private object still
    lru_gen_init_mm(mm)
    return mm


def mm_alloc(p: task_struct) -> mm_struct:
    """``mm_alloc()`` for exec, the new mm owned by ``current``; page tables from the World."""
    w = rt.world()
    mm = w.allocate_mm()
    # memset(mm, 0, sizeof(*mm)): until mm_init() the list node's pointers are NULL (not an
    # empty list), the memcg and owner NULL, no node bit set
    d = mm.lru_gen.list.__dict__
    d["_next"] = d["_prev"] = None
    mm.__dict__["_owner"] = None
    return mm_init(mm, p)


def dup_mm(p: task_struct, oldmm: mm_struct) -> mm_struct:
    """``dup_mm()``: a copy of the parent's mm (same layout and rss), owned by the child."""
    w = rt.world()
    mm = w.allocate_mm(like=oldmm)
    # memcpy(mm, oldmm, sizeof(*mm)): until mm_init() the child has the parent's lru_gen (its
    # list node's pointers into the parent's list, memcg, node bits) and owner. Read raw, as
    # memcpy reads them: mm_init() overwrites every one of them before anyone can see the child
    src, dst = oldmm.lru_gen, mm.lru_gen
    dst.list.__dict__["_next"] = src.list.__dict__["_next"]
    dst.list.__dict__["_prev"] = src.list.__dict__["_prev"]
    dst.__dict__["_memcg"] = src.__dict__["_memcg"]
    dst.nodes.bits[:] = src.nodes.bits
    mm.__dict__["_owner"] = oldmm.__dict__.get("_owner")
    return mm_init(mm, p)


def copy_process(parent: task_struct, clone_flags: int) -> task_struct:
    """``copy_process()``: the child task, its mm, and the cgroup steps.

    From ``cgroup_post_fork(p)`` on the child is visible to a cgroup migration (its pid can be
    written into another memcg's ``cgroup.procs``) although ``kernel_clone()`` has not yet
    called ``lru_gen_add_mm()``.
    """
    w = rt.world()
    p = w.alloc_task(comm=None)
    # cgroup_fork(): the child shares the parent's css_set
    memcg = READ_ONCE(parent, "memcg")
    if memcg is not None:
        css_get(memcg)
    p.memcg = memcg
    # copy_mm()
    oldmm = parent.mm
    if clone_flags & CLONE_VM:
        mmget(oldmm)
        mm = oldmm
    else:
        mm = dup_mm(p, oldmm)
    p.mm = mm
    p.active_mm = mm
    # cgroup_can_fork() .. cgroup_post_fork(): under the threadgroup rwsem (read side)
    mutex_lock(w.cgroup_threadgroup_rwsem)
    w.attach_task(p)                    # attach_pid(): find_task_by_pid() finds it now
    note_write(p, "visible")
    p.visible = True
    mutex_unlock(w.cgroup_threadgroup_rwsem)     # cgroup_post_fork() -> threadgroup_change_end
    rt.trace("copy_process", parent=parent, child=p, mm=mm, clone_vm=bool(clone_flags & CLONE_VM))
    return p


def kernel_clone(parent: task_struct, clone_flags: int = 0) -> task_struct:
    """``kernel_clone()``: the seed's hunk runs after ``copy_process()`` returned."""
    p = copy_process(parent, clone_flags)

    if not (clone_flags & CLONE_VM):
        # lock the task to synchronize with memcg migration
        task_lock(p)
        cover("kernel_clone:add-child-mm")
        mm_list.lru_gen_add_mm(p.mm)
        # raw reads, no operation. Judged after the add: the add's READ_ONCE of the child's
        # memcg orders it against the migration's WRITE_ONCE, so a reduced search keeps the
        # interleaving (a raw read before task_lock() would be invisible to the reduction)
        if covering() and (p.__dict__["_mm"].lru_gen.__dict__["_memcg"]
                           is not parent.__dict__["_memcg"]):
            cover("kernel_clone:child-moved-before-add")
        task_unlock(p)
    else:
        cover("kernel_clone:clone-vm")

    wake_up_new_task(p)
    return p


def wake_up_new_task(p: task_struct) -> None:
    rt.trace("wake_up_new_task", task=p)
