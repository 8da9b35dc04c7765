"""``mm/memcontrol.c`` and ``include/linux/memcontrol.h``: what the seed calls, and the
``.attach`` callback it adds (``mem_cgroup_attach``)."""
from __future__ import annotations

from .. import runtime as rt
from ..kernel.bug import KASAN_use_after_free
from ..kernel.fields import note_read, note_write
from ..kernel import (VM_BUG_ON, READ_ONCE, WRITE_ONCE, atomic_dec_and_test, atomic_inc,
                      atomic_inc_not_zero, cover, rcu_read_lock, rcu_read_unlock, spin_lock,
                      spin_unlock, mutex_lock, mutex_unlock)
from . import mm_list as _mm_list
from .structs import PF_EXITING, lruvec, mem_cgroup, mm_struct, pglist_data, task_struct


def mem_cgroup_disabled() -> bool:
    """``mem_cgroup_disabled()``: true with ``cgroup_disable=memory``, and always without
    CONFIG_MEMCG (the stub)."""
    cfg = rt.world().config
    return cfg.mem_cgroup_disabled or not cfg.CONFIG_MEMCG


def get_lruvec(memcg: mem_cgroup | None, nid: int) -> lruvec | None:
    """``get_lruvec()`` (patch 4): the lruvec of ``memcg`` on node ``nid``."""
    if memcg is not None:
        note_read(memcg, "freed")
        if memcg.freed:
            KASAN_use_after_free(memcg, "memcg->nodeinfo[nid]->lruvec")
        return memcg.nodeinfo[nid].lruvec
    VM_BUG_ON(not mem_cgroup_disabled(), "!mem_cgroup_disabled()")
    return rt.world().nodes[nid].lruvec


def lruvec_memcg(lv: lruvec) -> mem_cgroup | None:
    if mem_cgroup_disabled():
        return None
    return lv.memcg


def mem_cgroup_iter(prev: mem_cgroup | None) -> mem_cgroup | None:
    """``mem_cgroup_iter(NULL, prev, NULL)``: the next memcg after ``prev`` in the hierarchy
    walk, with a css reference taken; ``prev``'s reference is dropped. NULL at the end (and
    always NULL without memcgs, so callers age the node's own lruvec once)."""
    w = rt.world()
    if not w.config.CONFIG_MEMCG or mem_cgroup_disabled():
        return None
    # css_next_descendant_pre() under RCU: the hierarchy as published now. Model: the read is
    # recorded after it is made (an acquire orders what follows the read, and a free-running
    # engine tells the checks of an access before it happens: recorded first, the read could
    # see a memcg published after the record); not a scheduling point, so the controlled
    # scheduler sees the same either way
    memcgs = list(w.memcgs)
    note_read(w, "memcgs")
    start = 0 if prev is None else memcgs.index(prev) + 1
    nxt = None
    for memcg in memcgs[start:]:
        note_read(memcg, "online")
        if memcg.online and not memcg.freed and css_tryget(memcg):
            nxt = memcg
            break
    if prev is not None:
        mem_cgroup_put(prev)
    return nxt


def lruvec_pgdat(lv: lruvec) -> pglist_data:
    return lv.pgdat


def mem_cgroup_from_task(p: task_struct | None) -> mem_cgroup | None:
    """``mem_cgroup_from_task()``: the task's memory css (under RCU)."""
    if p is None:
        return None
    return READ_ONCE(p, "memcg")


def _css_no_ref(memcg: mem_cgroup) -> bool:
    """The root css has CSS_NO_REF: css_get/css_tryget/css_put do nothing on it."""
    return memcg is rt.world().root_mem_cgroup


def css_tryget(memcg: mem_cgroup) -> bool:
    if _css_no_ref(memcg):
        return True
    return atomic_inc_not_zero(memcg.css_refcnt)


def css_get(memcg: mem_cgroup) -> None:
    if _css_no_ref(memcg):
        return
    atomic_inc(memcg.css_refcnt)


def mem_cgroup_put(memcg: mem_cgroup | None) -> None:
    """``mem_cgroup_put()`` -> ``css_put()``: the last reference frees the memcg."""
    if memcg is None or _css_no_ref(memcg):
        return
    if atomic_dec_and_test(memcg.css_refcnt):
        rt.trace("css_free", memcg=memcg)
        mem_cgroup_css_free(memcg)


def get_mem_cgroup_from_mm(mm: mm_struct | None) -> mem_cgroup | None:
    """``get_mem_cgroup_from_mm()``: the owner's memcg with a css reference, or the root."""
    w = rt.world()
    if not w.config.CONFIG_MEMCG or mem_cgroup_disabled():
        return None                 # the !CONFIG_MEMCG stub, or cgroup_disable=memory
    rcu_read_lock()
    while True:
        if mm is None:
            memcg = w.root_mem_cgroup
        else:
            memcg = mem_cgroup_from_task(READ_ONCE(mm, "owner"))   # rcu_dereference(mm->owner)
            if memcg is None:
                memcg = w.root_mem_cgroup
        if css_tryget(memcg):
            break
    rcu_read_unlock()
    return memcg


def mem_cgroup_css_free(memcg: mem_cgroup) -> None:
    """``mem_cgroup_css_free()``: frees the per-node state, the seed's Bloom filters included."""
    from .mm_list import lru_gen_free_memcg
    lru_gen_free_memcg(memcg)
    note_write(memcg, "freed")
    memcg.freed = True


# --- the cgroup core around .attach --------------------------------------------------------------

def thread_group_leader(p: task_struct) -> bool:
    """``thread_group_leader()``. The model's ``kernel_clone()`` never passes ``CLONE_THREAD``
    (a ``CLONE_VM`` child is a process of its own that shares the mm), so every task leads its
    own thread group unless ``group_leader`` names another task."""
    return p.__dict__.get("group_leader", p) is p


def mem_cgroup_attach(tset: "list[task_struct] | task_struct | None") -> None:
    """``mem_cgroup_attach()``: the seed's ``.attach`` callback. It acts on the first thread-group
    leader of the taskset only (``cgroup_taskset_for_each_leader(task, css, tset) break;``): a
    taskset of threads without their leader (cgroup v1's ``tasks`` file) leaves every mm
    alone. The model's taskset (``cgroup_migrate()``) holds one task."""
    if tset is None or isinstance(tset, task_struct):
        tset = [tset] if tset is not None else []
    task = None
    for t in tset:                          # cgroup_taskset_for_each_leader()
        if thread_group_leader(t):
            task = t
            break

    if task is None:
        return

    _task_lock(task)
    mm = task.mm
    if mm is not None and mm.owner is task:
        cover("mem_cgroup_attach:owner")
        _mm_list.lru_gen_migrate_mm(mm)
    elif mm is not None:
        cover("mem_cgroup_attach:not-owner")    # a thread moved alone: its mm stays
    else:
        cover("mem_cgroup_attach:no-mm")
    _task_unlock(task)


def cgroup_migrate(pid: int, dst: mem_cgroup) -> int:
    """Writing ``pid`` into ``dst``'s ``cgroup.procs``: ``cgroup_attach_task()``.

    Departures from the C: the threadgroup rwsem is an exclusive lock (forks in their
    ``cgroup_can_fork()``..``cgroup_post_fork()`` window are excluded, as in the C, and also
    each other, which the C does not need); css_set bookkeeping is one ``WRITE_ONCE`` of the
    task's memory css; ``can_attach``/charge moving are not modelled.
    """
    w = rt.world()
    mutex_lock(w.cgroup_threadgroup_rwsem)
    note_read(w, "tasks")
    task = w.find_task_by_pid(pid)
    if task is not None:
        note_read(task, "exited")
        note_read(task, "flags")                # PF_EXITING, set by the exiting task itself
    if task is None or task.exited or task.flags & PF_EXITING:
        # cgroup_migrate_add_task() skips an exiting task
        cover("cgroup_migrate:task-gone")
        mutex_unlock(w.cgroup_threadgroup_rwsem)
        rt.trace("cgroup_migrate", pid=pid, dst=dst, result="ESRCH")
        return -3                   # -ESRCH
    src = READ_ONCE(task, "memcg")
    if src is dst:
        cover("cgroup_migrate:same-memcg")
        mutex_unlock(w.cgroup_threadgroup_rwsem)
        return 0
    css_get(dst)
    WRITE_ONCE(task, "memcg", dst)  # css_set_move_task(): the task's css is now dst's
    rt.trace("cgroup_migrate", pid=pid, task=task, src=src, dst=dst, result="ok")
    mem_cgroup_attach([task])       # ss->attach(tset)
    mutex_unlock(w.cgroup_threadgroup_rwsem)
    mem_cgroup_put(src)             # the old css_set's reference
    return 0


def _task_lock(p: task_struct) -> None:
    spin_lock(p.alloc_lock)


def _task_unlock(p: task_struct) -> None:
    spin_unlock(p.alloc_lock)


task_lock = _task_lock
task_unlock = _task_unlock
