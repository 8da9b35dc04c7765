"""The lockset race check: plain accesses to protected fields, ordered by happens-before.

Each shared field declares the lock that protects it (protocol.md section 1):

====================================================  ==========================================
field                                                 protected by
====================================================  ==========================================
``mm_state.{seq,head,tail,nr_walkers}``,              the mm_list lock of the lruvec's memcg
``mm_state.filters[]``, ``mm_state.stats[][]``
``list_head.{next,prev}`` of a fifo and of its mms    that memcg's mm_list lock
``mm->lru_gen.memcg``                                 an mm_list lock
``task->mm``                                          ``task_lock(task)`` (``alloc_lock``)
``lrugen->max_seq``                                   ``lruvec->lru_lock``
====================================================  ==========================================

A *plain* access (``READ``/``WRITE`` op) is reported when it conflicts with another thread's
access to the same field (at least one of them a write), at least one of the two is made without
the protecting lock, and neither happens before the other. Happens-before is tracked with vector
clocks over: lock release -> later acquire of that lock; a wake-up -> the woken waiter; the
set-up context -> every thread it starts; and the marked accesses that order memory in the
LKMM, treated as acquire and release on their location: value-returning atomics
(``atomic_inc_not_zero``, ``atomic_dec_and_test``), ``smp_store_release``/``smp_load_acquire``
of ``max_seq``, and pointers published with ``WRITE_ONCE``/``rcu_assign_pointer`` and read with
``READ_ONCE``/``rcu_dereference`` (``filters[]``, ``mm->owner``, ``task->memcg``). Plain
``READ_ONCE``/``WRITE_ONCE`` (``mm_state->seq``) and non-returning bitops order nothing (see
``CheckSuite``'s ``ORDERING_FIELDS``). Marked accesses are never reported: the kernel marks
the accesses it means to race.

Because happens-before does not depend on the order the threads actually ran in, a race shows
up even in a run where the threads ran one after another, as long as nothing orders them.

``BENIGN`` is the allowlist of races the seed makes on purpose; they are kept in
``CheckSuite.benign`` (visible, not reported as violations).
"""
from __future__ import annotations

from typing import Any

from .. import runtime as rt
from ..kernel.bitops import bitmap
from ..kernel.list import ListHead
from ..model.structs import (lru_gen_mm_list, lru_gen_mm_state, lru_gen_struct, mm_lru_gen,
                             mm_struct, task_struct, tracked_array)
from .report import caller, label

#: (model function, kernel helper or None, field) -> why the race is intended.
BENIGN: dict[tuple[str, str | None, str], str] = {
    ("lru_gen_use_mm", "list_empty", "list_head.next"):
        "lru_gen_use_mm(): VM_WARN_ON(list_empty(&mm->lru_gen.list)) reads the node without the "
        "mm_list lock; the seed says: 'unlikely but not a bug when racing with "
        "lru_gen_migrate_mm()'. list_empty() is a READ_ONCE in the C.",
    ("lru_gen_del_mm", "list_empty", "list_head.next"):
        "lru_gen_del_mm(): 'if (list_empty(&mm->lru_gen.list)) return;' reads the mm's own node "
        "before taking the lock. list_empty() is a READ_ONCE in the C, and a concurrent "
        "list_add_tail()/list_del_init() of a *neighbour* rewrites this node's next pointer "
        "without changing whether it points to itself; adding or deleting the mm itself is "
        "excluded by its owner's task_lock and by mm_users.",
    ("lru_gen_add_mm", "list_empty", "list_head.next"):
        "lru_gen_add_mm(): VM_BUG_ON_MM(!list_empty(&mm->lru_gen.list)) reads the mm's own node "
        "before taking the lock (READ_ONCE in the C); same reasoning as lru_gen_del_mm().",
    ("lru_gen_migrate_mm", "list_empty", "list_head.next"):
        "lru_gen_migrate_mm(): VM_BUG_ON_MM(list_empty(&mm->lru_gen.list)) reads the mm's own "
        "node under its owner's task_lock (READ_ONCE in the C); same reasoning as "
        "lru_gen_del_mm().",
}

#: Sentinel: "some lock of class 'mm_list lock'" when the exact one is not known.
ANY_MM_LIST = "an mm_list lock"


def _join(a: list, b: list) -> None:
    if len(a) < len(b):
        a.extend([0] * (len(b) - len(a)))
    for i, v in enumerate(b):
        if v > a[i]:
            a[i] = v


class LockMap:
    """Which lock protects a field of an object (``None``: not a checked field)."""

    def __init__(self, world: Any):
        self.world = world
        self.state_lock: dict[Any, Any] = {}
        self.array_lock: dict[Any, Any] = {}
        self.lrugen_lock: dict[Any, Any] = {}
        self.filter_lock: dict[Any, Any] = {}
        self.refresh()
        self.by_type = {
            lru_gen_mm_state: self._mm_state,
            tracked_array: self._array,
            ListHead: self._list_head,
            mm_lru_gen: self._lru_gen,
            task_struct: self._task,
            lru_gen_struct: self._lrugen,
            bitmap: self._bitmap,
        }

    def refresh(self) -> None:
        w = self.world
        for memcg, mm_list in w.mm_lists():
            lvs = ([pn.lruvec for pn in memcg.nodeinfo] if memcg is not None
                   else [p.lruvec for p in w.nodes])
            for lv in lvs:
                st = lv.mm_state
                self.state_lock[st] = mm_list.lock
                self.array_lock[st.filters] = mm_list.lock
                for arr in st.stats:
                    self.array_lock[arr] = mm_list.lock
                self.lrugen_lock[lv.lrugen] = lv.lru_lock
                for bm in st.filters.raw:
                    if bm is not None:
                        self.filter_lock[bm] = mm_list.lock

    def protector(self, obj: Any, arg: Any) -> Any:
        fn = self.by_type.get(type(obj))
        return None if fn is None else fn(obj, arg)

    def _mm_state(self, obj: Any, arg: Any) -> Any:
        lock = self.state_lock.get(obj)
        if lock is None:
            self.refresh()
            lock = self.state_lock.get(obj)
        return lock

    def _array(self, obj: Any, arg: Any) -> Any:
        lock = self.array_lock.get(obj)
        if lock is None:
            self.refresh()
            lock = self.array_lock.get(obj)
        return lock

    def _list_head(self, obj: Any, arg: Any) -> Any:
        c = obj.container
        if isinstance(c, lru_gen_mm_list):
            return c.lock
        if isinstance(c, mm_struct):
            memcg = c.lru_gen.__dict__["_memcg"]
            if memcg is not None:
                return memcg.mm_list.lock
            if not self.world.config.CONFIG_MEMCG:
                return self.world.mm_list.lock
            return ANY_MM_LIST
        return None

    def _bitmap(self, obj: Any, arg: Any) -> Any:
        """A Bloom filter's bits: bitmap_clear() under the mm_list lock, set_bit()/test_bit()
        without it. Node and CPU masks are unprotected by design (not bitmap but subclasses)."""
        lock = self.filter_lock.get(obj)
        if lock is None:
            self.refresh()
            lock = self.filter_lock.get(obj)
        return lock

    def _lru_gen(self, obj: Any, arg: Any) -> Any:
        return ANY_MM_LIST if arg == "memcg" else None

    def _task(self, obj: Any, arg: Any) -> Any:
        return obj.alloc_lock if arg == "mm" else None

    def _lrugen(self, obj: Any, arg: Any) -> Any:
        if arg != "max_seq":
            return None
        lock = self.lrugen_lock.get(obj)
        if lock is None:
            self.refresh()
            lock = self.lrugen_lock.get(obj)
        return lock


def field_name(obj: Any, arg: Any) -> str:
    """``mm_state.head``, ``list_head.next``, ``filters[]``: the field, without the object."""
    if isinstance(obj, tracked_array):
        return obj.label.rsplit(".", 1)[-1].split("[")[0] + "[]"
    if isinstance(obj, ListHead):
        return f"list_head.{arg}"
    kind = {lru_gen_mm_state: "mm_state", mm_lru_gen: "lru_gen", task_struct: "task",
            lru_gen_struct: "lrugen"}.get(type(obj), type(obj).__name__)
    return f"{kind}.{arg}"


class RaceChecker:
    """Vector clocks (one per model thread) and the last accesses of each checked location."""

    def __init__(self, suite: Any, world: Any):
        self.suite = suite
        self.locks = LockMap(world)
        self.tidx: dict[Any, int] = {}
        self.clocks: list[list[int]] = []
        self.ctxs: list[Any] = []
        self.sync: dict[Any, list[int]] = {}
        self.locs: dict[tuple, list] = {}
        self.benign: list[dict[str, Any]] = []
        self._seen: set = set()

    # --- clocks --------------------------------------------------------------------------------
    def tid(self, ctx: Any) -> int:
        i = self.tidx.get(ctx)
        if i is None:
            i = len(self.clocks)
            self.tidx[ctx] = i
            c = [0] * (i + 1)
            c[i] = 1
            self.clocks.append(c)
            self.ctxs.append(ctx)
        return i

    def thread_start(self, ctx: Any) -> None:
        t = self.tid(ctx)
        for other, i in self.tidx.items():
            if other.tid == -1 and i != t:       # the set-up context starts every thread
                _join(self.clocks[t], self.clocks[i])

    def acquire(self, ctx: Any, key: Any) -> None:
        L = self.sync.get(key)
        if L is not None:
            _join(self.clocks[self.tid(ctx)], L)

    def release(self, ctx: Any, key: Any) -> None:
        t = self.tid(ctx)
        C = self.clocks[t]
        self.sync[key] = C[:]
        C[t] += 1

    def marked(self, ctx: Any, key: Any) -> None:
        """A marked access: acquire and release on its location (SC atomics)."""
        t = self.tid(ctx)
        C = self.clocks[t]
        L = self.sync.get(key)
        if L is not None:
            _join(C, L)
        self.sync[key] = C[:]
        C[t] += 1

    # --- accesses to protected fields -----------------------------------------------------------
    def plain(self, ctx: Any, op: int, obj: Any, arg: Any, marked: bool = False) -> None:
        """A plain access (or, with ``marked``, a READ_ONCE/WRITE_ONCE) to a checked field. A
        marked access races with a plain one (KCSAN's rule: at least one plain access), never
        with another marked one."""
        lock = self.locks.protector(obj, arg)
        if lock is None:
            return
        if lock is ANY_MM_LIST:
            held = any(getattr(h, "lock_class", None) == "mm_list lock" for h in ctx.locks_held)
        else:
            held = lock in ctx.locks_held
        t = self.tid(ctx)
        C = self.clocks[t]
        fn, via = caller(3)
        write = op == rt.WRITE or op == rt.WRITE_ONCE or op == rt.BIT_WRITE
        rec = (t, C[t], held, fn, via, write, lock, marked)
        key = (obj, arg)
        loc = self.locs.get(key)
        if loc is None:
            self.locs[key] = [rec, {}] if write else [None, {t: rec}]
            return
        w = loc[0]
        if (w is not None and w[0] != t and not (marked and w[7]) and not self._hb(w, C)
                and not (held and w[2])):
            self._race(ctx, obj, arg, w, rec)
        if write:
            for r in loc[1].values():
                if (r[0] != t and not (marked and r[7]) and not self._hb(r, C)
                        and not (held and r[2])):
                    self._race(ctx, obj, arg, r, rec)
            loc[0] = rec
            loc[1] = {}
        else:
            loc[1][t] = rec

    @staticmethod
    def _hb(rec: tuple, C: list) -> bool:
        u = rec[0]
        return rec[1] <= (C[u] if u < len(C) else 0)

    def _describe(self, rec: tuple, obj: Any, arg: Any) -> str:
        ctx = self.ctxs[rec[0]]
        what = ("WRITE" if rec[5] else "READ") + (" (marked)" if rec[7] else "")
        via = f" via {rec[4]}()" if rec[4] else ""
        lock = rec[6]
        lockname = lock if isinstance(lock, str) else label(lock)
        how = f"holding {lockname}" if rec[2] else f"without {lockname}"
        return f"{what} in {rec[3]}(){via} [{ctx.name}] {how}"

    def _race(self, ctx: Any, obj: Any, arg: Any, old: tuple, new: tuple) -> None:
        fld = field_name(obj, arg)
        for rec in (old, new):
            why = BENIGN.get((rec[3], rec[4], fld))
            if why is not None and not rec[2]:
                key = ("benign", fld, old[3], new[3], old[5], new[5])
                if key not in self._seen:
                    self._seen.add(key)
                    self.benign.append({
                        "field": fld, "object": label(obj),
                        "first": self._describe(old, obj, arg),
                        "second": self._describe(new, obj, arg), "why": why})
                return
        key = (fld, old[3], new[3], old[5], new[5])
        if key in self._seen:
            return
        self._seen.add(key)
        tgt = label(obj) + (f"[{arg}]" if isinstance(arg, int) else f".{arg}")
        msg = (f"data race on {tgt}: {self._describe(old, obj, arg)} and "
               f"{self._describe(new, obj, arg)}, not ordered by happens-before")
        self.suite.report("data_race", msg, ctx=ctx, function=new[3], condition=fld,
                          details={"field": fld, "object": label(obj),
                                   "first": self._describe(old, obj, arg),
                                   "second": self._describe(new, obj, arg)})
