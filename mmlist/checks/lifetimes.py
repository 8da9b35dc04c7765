"""Lifetimes and references: every reference count the model keeps balances at the end.

* ``refcount_balance``: at the end of a finished execution (no thread oopsed), each count equals
  the references the World still holds, counted from the objects themselves:

  - ``mm->mm_users``: one per task whose ``->mm`` is the mm (a ``CLONE_VM`` child, a kthread
    inside ``kthread_use_mm()``...); walkers hold none any more;
  - ``mm->mm_count``: one for all the users together until ``__mmput()`` ran, plus one per lazy
    ``active_mm`` (a task with no ``->mm``, or a kthread, whose ``active_mm`` is the mm);
  - a memcg's css refcount (the root has ``CSS_NO_REF``): the base reference while online,
    one per task whose css it is, one per mm whose ``lru_gen.memcg`` it is
    (``get_mem_cgroup_from_mm()`` in ``lru_gen_add_mm()``, put by ``lru_gen_del_mm()``);
  - ``system_wq`` is empty (an ``mmput_async()`` whose ``__mmput`` never ran leaks the mm);
  - and at any time, no ``atomic_dec_and_test`` takes a count below zero (underflow).

  Also: an mm whose ``mm_users`` is 0 went through ``__mmput()``; an mm is freed exactly when its
  ``mm_count`` is 0.
* ``mmput_in_reclaim``: ``__mmput()`` (``exit_mmap()``, ``lru_gen_del_mm()``, ``mmdrop()``) never
  runs inside the aging (``try_to_inc_max_seq()``, ``get_next_mm()``, ``walk_mm()``,
  ``lru_gen_look_around()``): a walker that holds the last ``mm_users`` hands it back with
  ``mmput_async()`` (seed: ``if (*iter) mmput_async(*iter);``), because tearing an address space
  down may sleep and recurse into reclaim.
* ``offline_memcg_freed``: a memcg that went offline (rmdir) and that no task and no mm still
  references is freed by the end (``css_free`` -> ``lru_gen_free_memcg()``): a leaked css
  reference keeps it, and its Bloom filters, forever.

Task references (``get_task_struct``) are not modelled.
"""
from __future__ import annotations

import sys
from typing import Any

from ..model.structs import PF_KTHREAD
from .report import label


def _raw(obj: Any, name: str) -> Any:
    return obj.__dict__["_" + name]


#: the aging's functions: reclaim context, where the last mmput must be deferred
_RECLAIM = frozenset({"try_to_inc_max_seq", "get_next_mm", "walk_mm", "lru_gen_look_around",
                      "get_nr_to_scan", "run_aging"})


class Lifetimes:
    def __init__(self, suite: Any, world: Any):
        self.suite = suite
        self.world = world

    def handlers(self) -> dict:
        return {"__mmput": self.t_mmput, "new_owner": self.t_new_owner}

    def t_new_owner(self, ctx: Any, f: dict) -> None:
        """``owner_valid`` at the hand-over (``assign_new_owner:`` under ``task_lock(c)``): the
        new owner is a user task that still uses the mm (``c->mm == mm`` re-checked under its
        lock; for_each_process() holds no kernel thread)."""
        mm, c = f.get("mm"), f.get("owner")
        if mm is None or c is None:
            return
        why = ("is a kernel thread" if c.flags & PF_KTHREAD else
               "has exited" if c.exited else
               None if _raw(c, "mm") is mm else f"uses {label(_raw(c, 'mm'))}")
        if why is not None:
            self.suite.report("owner_valid", f"mm_update_next_owner() made {label(c)} the owner "
                              f"of {label(mm)}, but it {why}", ctx=ctx,
                              function="mm_update_next_owner",
                              condition="c->mm == mm under task_lock(c)")

    def t_mmput(self, ctx: Any, f: dict) -> None:
        frame = sys._getframe(1)
        while frame is not None:
            name = frame.f_code.co_name
            if name in _RECLAIM and frame.f_globals.get("__name__", "").startswith("mmlist.model"):
                self.suite.report(
                    "mmput_in_reclaim",
                    f"__mmput({label(f.get('mm'))}) ran synchronously in {name}() on "
                    f"{ctx.name}: the reclaim path dropped the last mm_users itself "
                    f"(exit_mmap() may sleep and recurse into reclaim); the seed defers it "
                    f"with mmput_async()", ctx=ctx, function=name,
                    condition="mmput_async() in the reclaim path")
                return
            frame = frame.f_back

    def on_dec_and_test(self, ctx: Any, atomic: Any) -> None:
        """Before ``atomic_dec_and_test`` takes effect: the count must be positive."""
        if atomic.counter <= 0:
            self.suite.report("refcount_balance",
                              f"{atomic.label} underflow: atomic_dec_and_test() on a count of "
                              f"{atomic.counter} [{ctx.name}]", ctx=ctx,
                              function=None, condition="count > 0 before a put",
                              details={"counter": atomic.label})

    def _live_mms_on_lists(self, tasks: list) -> None:
        """``mm_on_list``: at the end of a finished run (no migration, fork or exec window
        open), the mm of every live user task is on an mm_struct list: the aging can reach
        every address space that can hold pages."""
        seen: set = set()
        for t in tasks:
            mm = _raw(t, "mm")
            if mm is None or t.exited or t.flags & PF_KTHREAD or id(mm) in seen:
                continue
            seen.add(id(mm))
            node = mm.lru_gen.list
            if node.__dict__["_next"] is node:
                self._bad("mm_on_list",
                          f"{label(mm)} of {label(t)} is on no mm_struct list at the end: "
                          f"page-table walkers never reach it", "a live user mm is on a list",
                          mm=label(mm), task=label(t))

    def _leaks(self) -> None:
        """``kmemleak``: every Bloom filter bitmap_zalloc() returned is, at the end, either
        bitmap_free()d or still held in ``filters[]`` of a lruvec of a memcg that is not freed
        (``lru_gen_free_memcg()`` frees them with the memcg; ``clear_bloom_filter()``
        allocates only into an empty slot)."""
        w = self.world
        held: set[int] = set()
        for memcg, _ in w.mm_lists():
            if memcg is not None and memcg.freed:
                continue
            lvs = ([pn.lruvec for pn in memcg.nodeinfo] if memcg is not None
                   else [p.lruvec for p in w.nodes])
            for lv in lvs:
                held.update(id(bm) for bm in lv.mm_state.filters.raw if bm is not None)
        for bm in list(w.allocated_bitmaps):
            if id(bm) not in held:
                self._bad("kmemleak", f"unreferenced object {label(bm)}: a Bloom filter "
                          f"allocated by bitmap_zalloc() is neither in a lruvec's filters[] "
                          f"nor freed", "bitmap_free()", bitmap=label(bm))

    def _owners(self, tasks: list) -> None:
        """``owner_valid``: once every fork, exec, exit and migration is over, the owner of an
        mm that is still in use is a live user task whose ``->mm`` it is (mm_init_owner(),
        mm_update_next_owner()'s hand-over), and an mm with no user task left has none
        ("Mark owner as NULL") or its last owner, gone."""
        for mm in self.world.mms:
            if mm.freed:
                continue
            owner = _raw(mm, "owner")
            users = [t for t in tasks if _raw(t, "mm") is mm and not t.flags & PF_KTHREAD
                     and not t.exited]
            if not users:
                if owner is not None and _raw(owner, "mm") is mm and not owner.exited:
                    self._bad("owner_valid", f"{label(mm)}->owner is {label(owner)}, a "
                              f"kthread or not a user of it", "owner uses the mm",
                              mm=label(mm))
                continue
            if owner is None:
                self._bad("owner_valid",
                          f"{label(mm)}->owner is NULL at the end although "
                          f"{', '.join(label(t) for t in users)} still use(s) it: "
                          f"mm_update_next_owner() hands the mm to another user",
                          "an mm in use has an owner", mm=label(mm))
            elif owner not in users:
                why = ("has exited" if owner.exited else
                       "is a kthread" if owner.flags & PF_KTHREAD else
                       f"uses {label(_raw(owner, 'mm'))}" if _raw(owner, "mm") is not None
                       else "has no mm")
                self._bad("owner_valid",
                          f"{label(mm)}->owner is {label(owner)}, which {why}, although "
                          f"{', '.join(label(t) for t in users)} still use(s) the mm: the "
                          f"owner must be one of its users", "owner uses the mm",
                          mm=label(mm))

    def _bad(self, check: str, msg: str, condition: str, **details: Any) -> None:
        self.suite.report(check, msg, condition=condition, details=details)

    def at_end(self, finished: bool, dead: set, ended: set) -> None:
        if not finished or dead:
            return
        w = self.world
        tasks = list(w.all_tasks)
        for fn, arg in list(w.system_wq):
            self._bad("refcount_balance",
                      f"{getattr(fn, '__name__', fn)}({label(arg)}) queued by mmput_async() "
                      f"never ran: the mm is never torn down", "system_wq drained",
                      work=label(arg))
        self._live_mms_on_lists(tasks)
        self._owners(tasks)
        self._leaks()
        for t in tasks:
            mm = _raw(t, "mm")
            if mm is not None and not t.flags & PF_KTHREAD and not t.exited \
                    and t.active_mm is not mm:
                self._bad("active_mm", f"{label(t)}->active_mm is {label(t.active_mm)}, not its "
                          f"own mm {label(mm)}: a user task runs on its own mm (copy_mm(), "
                          f"exec_mmap(): tsk->active_mm = mm)", "tsk->active_mm == tsk->mm",
                          task=label(t))
        for mm in w.mms:
            users = mm.mm_users.counter
            count = mm.mm_count.counter
            holders = [t for t in tasks if _raw(t, "mm") is mm]
            lazy = [t for t in tasks if t.active_mm is mm
                    and (_raw(t, "mm") is None or t.flags & PF_KTHREAD)]
            if users != len(holders):
                self._bad("refcount_balance",
                          f"{label(mm)}.mm_users is {users} at the end but "
                          f"{len(holders)} task(s) use it "
                          f"({', '.join(label(t) for t in holders) or 'none'})",
                          "mm_users == tasks using the mm", mm=label(mm))
            expect = (0 if mm.mmap_exited else 1) + len(lazy)
            if count != expect:
                self._bad("refcount_balance",
                          f"{label(mm)}.mm_count is {count} at the end but {expect} reference(s) "
                          f"remain ({'__mmput() ran' if mm.mmap_exited else 'its users'}"
                          f"{'' if not lazy else ', lazy active_mm of ' + ', '.join(label(t) for t in lazy)})",
                          "mm_count == users + lazy active_mm", mm=label(mm))
            if users == 0 and not mm.mmap_exited:
                self._bad("refcount_balance",
                          f"{label(mm)}.mm_users reached 0 but __mmput() never ran",
                          "mm_users == 0 => __mmput", mm=label(mm))
            if (count == 0) != bool(mm.freed):
                self._bad("refcount_balance",
                          f"{label(mm)}.mm_count is {count} but the mm_struct is "
                          f"{'freed' if mm.freed else 'not freed'}",
                          "freed <=> mm_count == 0", mm=label(mm))
        root = w.root_mem_cgroup
        for m in w.memcgs:
            if m is root:
                continue                        # CSS_NO_REF
            tasks_in = [t for t in tasks if _raw(t, "memcg") is m]
            mms_in = [mm for mm in w.mms if _raw(mm.lru_gen, "memcg") is m]
            expect = (1 if m.online else 0) + len(tasks_in) + len(mms_in)
            got = m.css_refcnt.counter
            if got != expect:
                who = [f"{'online' if m.online else 'offline'}"]
                who += [label(t) for t in tasks_in] + [label(x) for x in mms_in]
                self._bad("refcount_balance",
                          f"{label(m)}'s css refcount is {got} at the end but {expect} "
                          f"reference(s) remain ({', '.join(who)})",
                          "css refcount == base + tasks + mms", memcg=label(m))
            if not m.online and not tasks_in and not mms_in and not m.freed:
                self._bad("offline_memcg_freed",
                          f"{label(m)} is offline and no task or mm references it any more, "
                          f"but its css refcount is {got} and it was never freed "
                          f"(lru_gen_free_memcg() never ran)",
                          "offline and unreferenced => freed", memcg=label(m))
