"""The race check: every hooked access to shared state, ordered by the LKMM's happens-before.

The race table
--------------

Every field the model reaches through the runtime hook (``READ``/``WRITE``, ``READ_ONCE``/
``WRITE_ONCE``, bitops) has a row in ``FIELDS``: what protects it, of five kinds.

``lock``
    A lock instance protects it (protocol.md section 1): two accesses made holding *the same
    instance* never race (two locks of one class are not one lock).
``none``
    No lock protects it; the C reaches it with marked accesses, or only where something else
    orders the accesses (an owner's ``task_lock``, ``mm_users``, publication before the object
    is visible). Every pair of conflicting accesses, at least one of them plain, must be
    ordered by happens-before.
``marked``
    The C reaches it only with marked accesses (atomic bitops, ``atomic_t`` ops,
    ``test_bit(MMF_...)``); the model's accesses stand for those, so they are checked as
    marked: they race with a plain access, never with each other.
``implicit``
    A kernel lock the model does not take (the page-table lock, ``tasklist_lock``, a
    workqueue's ``pool->lock``, ``cgroup_mutex``): each model access is one step standing for
    one made under that lock, so the accesses are checked as if they all held it (a lockset
    check only: no happens-before edge is invented for them), except where the kernel's lock
    is what orders the work (``IMPLICIT_ORDERING``: the workqueue's ``pool->lock``, taken by
    ``queue_work()`` and by the worker), whose accesses acquire and release it.
``unchecked``
    Model bookkeeping with no C field (a freed flag, the World's registry of mms, the harness's
    walker count): hooked so that the reductions see it, never race-checked; the row says which
    check covers what it stands for.

A field that has no row is race-checked as ``none`` and listed in ``RaceChecker.unknown``
(``tests/test_checks_races.py`` runs every built-in scenario and wants that list empty).

Happens-before, as the LKMM says
--------------------------------

Vector clocks (one per model thread), with edges only where the kernel has acquire and release:

* unlock -> a later lock of *the same lock instance*; a successful ``down_read_trylock`` acquires
  from the writers' unlocks only, and ``up_read`` releases to writers only: two readers never
  order each other;
* ``smp_store_release``/``rcu_assign_pointer`` -> an ``smp_load_acquire`` or ``rcu_dereference``
  that reads that store (the location's last write). ``rcu_dereference`` is an address-
  dependency-ordered read: the model treats it as an acquire of a release store it reads, which
  orders every later access of the reader, not only the dependent ones (a documented
  over-approximation; ``READ_ONCE`` of a pointer published by a plain ``WRITE_ONCE`` orders
  nothing);
* value-returning atomics are full barriers on their counter (``atomic_dec_and_test``, a
  *successful* ``atomic_inc_not_zero``); a failed ``atomic_inc_not_zero``, ``atomic_inc`` and
  ``atomic_read`` order nothing;
* wait queues: ``prepare_to_wait``/``finish_wait``/``wake_up`` take the queue's lock (acquire and
  release on it); the woken waiter's ``schedule()`` acquires from the wake-up;
* the set-up context -> every thread it starts.

``READ_ONCE``/``WRITE_ONCE`` and the non-returning bitops order nothing: they are scheduling
points, never edges. Because happens-before does not depend on the order the threads ran in, a
race shows up even in a run where the threads ran one after another, as long as nothing orders
them.

A race between two accesses (at least one a write, at least one plain, different threads, not
ordered, not both holding the protecting lock instance) is a ``data_race`` violation, unless the
findings registry (``mmlist.findings``: entries with ``benign_races``) judges it intended; those
are kept in ``CheckSuite.benign`` with the entry's id and reason (shown, never violations).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .. import runtime as rt
from ..findings import BENIGN_RACES
from ..kernel.bitops import bitmap, cpumask_t, nodemask_t
from ..kernel.fields import ACQUIRE, RCU_ASSIGN, RCU_DEREF, RELEASE
from ..kernel.list import ListHead
from ..kernel.sync import rw_semaphore, wait_queue_head
from ..model.pagetable import PageTables
from ..model.structs import (lru_gen_mm_list, lru_gen_mm_state, lru_gen_struct, mem_cgroup,
                             mm_lru_gen, mm_struct, task_struct, tracked_array)
from .report import caller_and_parent, label
from sys import _getframe

#: (model function, kernel helper or None, field) -> why the race is intended: the benign races
#: of the findings registry (``mmlist.findings``), by the key the checker looks up.
BENIGN: dict[tuple[str, str | None, str], str] = {
    (r.function, r.via, r.field): r.why for r in BENIGN_RACES}
#: rows that excuse an access only when its model function was called from this one
_BENIGN_WITHIN: dict[tuple[str, str | None, str], str | None] = {
    (r.function, r.via, r.field): r.within for r in BENIGN_RACES}
#: rows that excuse an access only against a marked one
_BENIGN_MARKED: frozenset = frozenset(
    (r.function, r.via, r.field) for r in BENIGN_RACES if r.other_marked)
_BENIGN_ENTRY: dict[tuple[str, str | None, str], str] = {
    (r.function, r.via, r.field): r.entry for r in BENIGN_RACES}

#: Sentinel: "the mm_list lock of the list the mm will be on" when the mm is on none: the
#: access is protected by whichever mm_list lock instance both accesses hold.
ANY_MM_LIST = "an mm_list lock"

LOCK, NONE, MARKED, IMPLICIT, UNCHECKED = "lock", "none", "marked", "implicit", "unchecked"

#: ``implicit`` fields whose kernel lock also orders what comes before and after it, as the
#: kernel guarantees: ``queue_work()`` and the worker that runs the item both take the pool's
#: lock, so everything the queuer did happens before the work runs (a work item that could not
#: see its queuer's writes would be useless). Their accesses acquire and release that lock.
IMPLICIT_ORDERING = frozenset({("world", "system_wq")})
#: ``implicit`` fields that publish objects by RCU: a write is a release (the object is
#: initialised before it is linked: ``list_add_tail_rcu()``), a read an acquire of it
#: (``rcu_dereference()`` in the iterator); reads do not order each other. The cgroup core
#: links a new css into its parent's children with ``list_add_tail_rcu()`` in ``css_create()``,
#: and ``mem_cgroup_iter()`` walks them with ``css_next_descendant_pre()`` under RCU.
RCU_PUBLISHED = frozenset({("world", "memcgs")})

_ORDER_WRITES = frozenset({RELEASE, RCU_ASSIGN})
_ORDER_READS = frozenset({ACQUIRE, RCU_DEREF})


@dataclass(frozen=True)
class FieldRule:
    """One row of the race table: ``kind`` (``lock``, ``none``, ``marked``, ``implicit``,
    ``unchecked``), the protector in words, and the reason from the seed, protocol.md or the
    kernel. ``lock`` rows name a resolver of ``LockMap`` (``resolve``)."""

    struct: str
    field: str
    kind: str
    protector: str
    reason: str
    resolve: str | None = None


#: The race table (docs/invariants.md renders it): every hooked field of shared state.
FIELDS: tuple[FieldRule, ...] = (
    FieldRule("lru_gen_mm_state", "seq", LOCK, "the mm_list lock of the lruvec's memcg",
              "protocol.md 1; also READ_ONCE without it (get_next_mm's stale test)", "state"),
    FieldRule("lru_gen_mm_state", "head", LOCK, "the mm_list lock of the lruvec's memcg",
              "protocol.md 1", "state"),
    FieldRule("lru_gen_mm_state", "tail", LOCK, "the mm_list lock of the lruvec's memcg",
              "protocol.md 1", "state"),
    FieldRule("lru_gen_mm_state", "nr_walkers", LOCK, "the mm_list lock of the lruvec's memcg",
              "protocol.md 1", "state"),
    FieldRule("mm_state", "filters[]", LOCK, "the mm_list lock of the lruvec's memcg",
              "clear_bloom_filter() writes it under the lock; set/test_bloom_filter() read it "
              "with READ_ONCE", "array"),
    FieldRule("mm_state", "stats[][]", LOCK, "the mm_list lock of the lruvec's memcg",
              "reset_mm_stats() under lockdep_assert_held()", "array"),
    FieldRule("list_head", "next, prev", LOCK,
              "the mm_list lock of the list the node is on (an mm on no list: any mm_list lock "
              "instance both accesses hold)",
              "the fifo and its nodes: 'protects the list above'; list_empty() is a READ_ONCE",
              "list_head"),
    FieldRule("lru_gen", "memcg", NONE, "none: ordered by the callers",
              "lru_gen_add_mm() writes it before taking the mm_list lock, lru_gen_del_mm() "
              "after dropping it: the seed relies on its callers (the owner's task_lock, or "
              "mm_users reaching 0 in __mmput()) to order the accesses"),
    FieldRule("lru_gen", "nodes (whole map)", NONE, "none: racy bitops by design",
              "protocol.md 1: 'nodes: none (racy bitops, by design)'; node_isset()/"
              "node_clear() are atomic bitops, nodes_full()/nodes_setall() plain word loops"),
    FieldRule("mm_cpumask", "bits (whole map)", NONE, "none: atomic bitops",
              "switch_mm_irqs_off() sets and clears bits with atomic bitops; cpumask_empty() is "
              "a plain word loop"),
    FieldRule("filters[].bits", "bits (whole map)", LOCK,
              "the mm_list lock for bitmap_clear(); set_bit()/test_bit() are marked",
              "clear_bloom_filter() under lockdep_assert_held()", "filter"),
    FieldRule("task", "mm", LOCK, "task_lock(task) (alloc_lock)",
              "exec_mmap()/exit_mm()/kthread_use_mm() write it under task_lock", "task_mm"),
    FieldRule("task", "memcg", NONE, "none: rcu_assign_pointer()/rcu_dereference()",
              "the task's css_set: changed with rcu_assign_pointer() under css_set_lock, read "
              "with task_css() (rcu_dereference) under RCU; the model's plain accesses (a child "
              "not yet visible, the exiting task) must be ordered"),
    FieldRule("task", "flags", NONE, "none: written by the task itself",
              "current->flags: PF_EXITING is set by the task itself (exit_signals(), under "
              "cgroup_threadgroup_rwsem); other tasks' reads must be ordered with it"),
    FieldRule("task", "active_mm", NONE, "none: the CPU running the task",
              "changed by the task's own CPU (context_switch() under the rq lock, exec and "
              "kthread_use_mm() with IRQs off)"),
    FieldRule("task", "exited", IMPLICIT, "tasklist_lock (not modelled)",
              "stands for exit_notify()'s exit_state, written under write_lock(tasklist_lock); "
              "for_each_process() readers hold read_lock(tasklist_lock)"),
    FieldRule("task", "on_cpu", MARKED, "none: marked",
              "p->on_cpu: smp_store_release() in finish_task(), smp_load_acquire()/READ_ONCE() "
              "in try_to_wake_up()"),
    FieldRule("task", "visible", UNCHECKED, "-",
              "model bookkeeping: cgroup_post_fork() ran (written once, read by nobody)"),
    FieldRule("mm", "owner", NONE, "none: changed by the current owner only",
              "mm_types.h: 'current == mm->owner ... new_owner->alloc_lock is held' for a "
              "change (WRITE_ONCE in mm_update_next_owner()); read with rcu_dereference() or "
              "under the owner's alloc_lock"),
    FieldRule("mm", "oom_victim", MARKED, "none: marked",
              "MMF_OOM_VICTIM: set_bit() in mark_oom_victim(), test_bit() in "
              "mm_is_oom_victim()"),
    FieldRule("mm", "freed", UNCHECKED, "-",
              "model bookkeeping: the mm_struct's memory; its lifetime is the lifetime "
              "checks' (mm_freed_on_list, refcount_balance)"),
    FieldRule("mm", "mmap_exited", UNCHECKED, "-",
              "model bookkeeping: the page tables exist; a walk after exit_mmap() is reported "
              "by walk_after_mmput"),
    FieldRule("memcg", "online", MARKED, "none: marked",
              "CSS_ONLINE: cleared under cgroup_mutex by offline_css(); css iterators read it "
              "under RCU"),
    FieldRule("memcg", "freed", UNCHECKED, "-",
              "model bookkeeping: the memcg's memory; an access after the free is KASAN's "
              "report (get_lruvec())"),
    FieldRule("memcg", "moving_account", MARKED, "none: atomic_t",
              "memcg->moving_account: atomic_inc()/atomic_dec()/atomic_read()"),
    FieldRule("lrugen", "max_seq", LOCK, "lruvec->lru_lock",
              "inc_max_seq() writes it under lru_lock with smp_store_release(); readers use "
              "READ_ONCE", "lrugen"),
    FieldRule("lrugen", "nr_pages", LOCK, "lruvec->lru_lock",
              "reset_batch_size() (after each walk_mm() chunk) and the look-around's "
              "update_batch_size()/reset_batch_size() add to the page counts under lru_lock, as "
              "the eviction does", "lrugen"),
    FieldRule("pgtables", "ptes", MARKED, "the PTE table's lock (not modelled); marked",
              "the accessed bit is set by the MMU and cleared with "
              "ptep_test_and_clear_young() (atomic); the rest under the PTL, which each model "
              "step stands for (walk_pte_range(), lru_gen_look_around()'s caller, "
              "copy_pte_range())"),
    FieldRule("wait_queue_head", "waiters", MARKED, "wq->lock; marked",
              "waitqueue_active() after smp_mb() in wq_has_sleeper(): a lockless read; the "
              "queue changes under wq->lock"),
    FieldRule("world", "tasks", IMPLICIT, "tasklist_lock (not modelled)",
              "attach_pid()/release_task() under write_lock(tasklist_lock); "
              "for_each_process() under read_lock(tasklist_lock), find_task_by_vpid() under "
              "RCU"),
    FieldRule("world", "all_tasks", IMPLICIT, "pidmap_lock/tasklist_lock (not modelled)",
              "alloc_task(): the pid allocation (alloc_pid() under pidmap_lock) and the task "
              "list"),
    FieldRule("world", "memcgs", IMPLICIT, "cgroup_mutex (not modelled)",
              "mem_cgroup_alloc(): a css is linked into the hierarchy under cgroup_mutex, "
              "initialised, with list_add_tail_rcu() (a release), and iterated under RCU (an "
              "acquire of it: RCU_PUBLISHED)"),
    FieldRule("world", "mms", UNCHECKED, "-",
              "model bookkeeping: the World's registry of mms and their ids (allocate_mm(): "
              "the slab allocator, which orders nothing); hooked for the reductions"),
    FieldRule("world", "system_wq", IMPLICIT, "the worker pool's lock (not modelled)",
              "queue_work() and worker_thread() take pool->lock around the worklist"),
    FieldRule("world", "walkers_left", UNCHECKED, "-",
              "harness bookkeeping: how many walker threads are left (for the kworker's exit)"),
)


#: type -> the race table's struct name, for the types whose field is the hook's ``arg``
_BY_ARG: dict[type, str] = {
    lru_gen_mm_state: "lru_gen_mm_state", mm_lru_gen: "lru_gen", task_struct: "task",
    mm_struct: "mm", mem_cgroup: "memcg", lru_gen_struct: "lrugen", PageTables: "pgtables",
    wait_queue_head: "wait_queue_head"}
#: type -> (struct, field), for the types that are one location of the table
_WHOLE: dict[type, tuple[str, str]] = {
    ListHead: ("list_head", "next, prev"), nodemask_t: ("lru_gen", "nodes (whole map)"),
    cpumask_t: ("mm_cpumask", "bits (whole map)"), bitmap: ("filters[].bits", "bits (whole map)")}


def _struct_of(obj: Any, arg: Any) -> tuple[str, str] | None:
    """``(struct, field)`` of a hooked access, as the race table names them."""
    t = type(obj)
    name = _BY_ARG.get(t)
    if name is not None:
        return name, str(arg)
    whole = _WHOLE.get(t)
    if whole is not None:
        return whole
    if t is tracked_array:
        return ("mm_state", "filters[]") if obj.label.endswith(".filters") else \
            ("mm_state", "stats[][]")
    if t.__name__ == "World":
        return "world", str(arg)
    return None


_RULES: dict[tuple[str, str], FieldRule] = {(r.struct, r.field): r for r in FIELDS}


def rule_of(obj: Any, arg: Any) -> FieldRule | None:
    """The race table's row for an access (None: no row)."""
    key = _struct_of(obj, arg)
    return None if key is None else _RULES.get(key)


def _join(a: list, b: list) -> None:
    if len(a) < len(b):
        a.extend([0] * (len(b) - len(a)))
    for i, v in enumerate(b):
        if v > a[i]:
            a[i] = v


class LockMap:
    """The lock instance protecting a ``lock`` row's field of one object."""

    def __init__(self, world: Any):
        self.world = world
        self.state_lock: dict[Any, Any] = {}
        self.array_lock: dict[Any, Any] = {}
        self.lrugen_lock: dict[Any, Any] = {}
        self.filter_lock: dict[Any, Any] = {}
        self.refresh()
        self.resolvers: dict[str, Callable[[Any, Any], Any]] = {
            "state": lambda o, a: self._mapped(self.state_lock, o),
            "array": lambda o, a: self._mapped(self.array_lock, o),
            "filter": lambda o, a: self._mapped(self.filter_lock, o),
            "lrugen": lambda o, a: self._mapped(self.lrugen_lock, o),
            "list_head": self._list_head,
            "task_mm": lambda o, a: o.alloc_lock,
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

    def _mapped(self, table: dict, obj: Any) -> Any:
        lock = table.get(obj)
        if lock is None:
            self.refresh()
            lock = table.get(obj)
        return lock

    def _list_head(self, obj: Any, arg: Any) -> Any:
        c = obj.container
        if isinstance(c, lru_gen_mm_list):
            return c.lock
        if isinstance(c, mm_struct):
            memcg = c.lru_gen.__dict__["_memcg"]
            if memcg is not None:
                return memcg.mm_list.lock
            if not self.world.memcg_enabled:
                return self.world.mm_list.lock
            return ANY_MM_LIST
        return None

    def protector(self, rule: FieldRule, obj: Any, arg: Any) -> Any:
        fn = self.resolvers.get(rule.resolve or "")
        return None if fn is None else fn(obj, arg)


def field_name(obj: Any, arg: Any) -> str:
    """``mm_state.head``, ``list_head.next``, ``filters[]``: the field, without the object."""
    if isinstance(obj, tracked_array):
        return obj.label.rsplit(".", 1)[-1].split("[")[0] + "[]"
    if isinstance(obj, ListHead):
        return f"list_head.{arg}"
    t = type(obj)
    if t is nodemask_t:
        return "lru_gen.nodes"
    if t is cpumask_t:
        return "mm_cpumask"
    if t is bitmap:
        return "filters[].bits"
    kind = {lru_gen_mm_state: "mm_state", mm_lru_gen: "lru_gen", task_struct: "task",
            lru_gen_struct: "lrugen", mm_struct: "mm", mem_cgroup: "memcg",
            PageTables: "pgtables"}.get(t, t.__name__)
    if kind == "World":
        kind = "world"
    return f"{kind}.{arg}"


_NOTHING: frozenset = frozenset()
_DYNAMIC = object()             # a location whose protecting lock is resolved at each access
_WRITE_OPS_0, _WRITE_OPS_1, _WRITE_OPS_2 = rt.WRITE, rt.WRITE_ONCE, rt.BIT_WRITE


def _exclusive(lock: Any) -> bool:
    """A lock whose holders exclude each other (a read-held rw_semaphore protects no write)."""
    return not isinstance(lock, rw_semaphore)


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
        #: (struct, field) of accesses to fields the race table has no row for
        self.unknown: set[tuple[str, str]] = set()
        self._seen: set = set()
        #: frame -> (function, helper, caller): the lazy names of reported accesses
        self._names: dict[Any, tuple] = {}

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

    def release_join(self, ctx: Any, key: Any) -> None:
        """A release that adds to what the key holds (readers leaving an rw_semaphore)."""
        t = self.tid(ctx)
        C = self.clocks[t]
        L = self.sync.get(key)
        if L is None:
            self.sync[key] = C[:]
        else:
            _join(L, C)
        C[t] += 1

    def marked(self, ctx: Any, key: Any) -> None:
        """Acquire and release on ``key``: a lock operation on a wait queue's lock, a fully
        ordered atomic read-modify-write."""
        t = self.tid(ctx)
        C = self.clocks[t]
        L = self.sync.get(key)
        if L is not None:
            _join(C, L)
        self.sync[key] = C[:]
        C[t] += 1

    # --- the synchronising operations (called by CheckSuite.on_event) --------------------------
    def once(self, ctx: Any, op: int, obj: Any, arg: Any) -> None:
        """``READ_ONCE``/``WRITE_ONCE`` (possibly tagged as acquire, release, rcu_dereference,
        rcu_assign_pointer by ``mmlist.kernel.fields``): checked as a marked access, then the
        ordering it carries."""
        self.plain(ctx, op, obj, arg, marked=True)
        # a plain str or int names no ordering (``getattr`` with a default costs a caught
        # AttributeError on them: this runs at every marked access)
        order = None if type(arg) is str or type(arg) is int else getattr(arg, "order", None)
        if op == rt.WRITE_ONCE:
            if order in _ORDER_WRITES:
                self.release(ctx, ("store", (obj, arg)))
            elif self.sync:
                self.sync.pop(("store", (obj, arg)), None)      # the last write is no release
        elif order in _ORDER_READS:
            self.acquire(ctx, ("store", (obj, arg)))

    def atomic(self, ctx: Any, obj: Any, arg: Any) -> None:
        """Value-returning atomics are full barriers on their counter; a failed
        ``atomic_inc_not_zero`` (it returns without writing) and the non-returning ops order
        nothing. The hook runs just before the operation, so ``obj.counter`` is what it sees
        (exactly so under the controlled scheduler)."""
        if arg == "dec_and_test" or (arg == "inc_not_zero" and obj.counter != 0):
            self.marked(ctx, obj)

    def trylock(self, ctx: Any, obj: Any) -> None:
        """A successful read trylock acquires from the writers' unlocks only (readers do not
        order each other); a failed one orders nothing."""
        if isinstance(obj, rw_semaphore):
            if obj.writer is None:
                self.acquire(ctx, obj)
        elif getattr(obj, "owner", None) is None:
            self.acquire(ctx, obj)

    def read_unlock(self, ctx: Any, obj: Any) -> None:
        """``up_read``: a release to the next writer, not to other readers."""
        self.release_join(ctx, ("readers", obj))

    def wait_op(self, ctx: Any, op: int, obj: Any) -> None:
        """``prepare_to_wait``/``finish_wait``/``wake_up`` take the queue's lock; the woken
        ``schedule()`` acquires from the wake-up."""
        if op == rt.WAIT_SCHEDULE:
            self.acquire(ctx, obj)
        else:
            self.marked(ctx, obj)

    # --- accesses ------------------------------------------------------------------------------
    def plain(self, ctx: Any, op: int, obj: Any, arg: Any, marked: bool = False) -> None:
        """An access to a hooked field: plain, or (``marked``) a READ_ONCE/WRITE_ONCE/bitop. A
        marked access races with a plain one (KCSAN's rule: at least one plain access), never
        with another marked one."""
        key = (obj, arg)
        loc = self.locs.get(key)
        if loc is None:
            # first access to this location: its row of the race table, looked up once
            rule = rule_of(obj, arg)
            if rule is None:
                self.unknown.add(_struct_of(obj, arg) or (type(obj).__name__, str(arg)))
            kind = NONE if rule is None else rule.kind
            # the protector of a lock row, when it is fixed for this object (all but a
            # list_head's, which follows its mm's memcg): resolved once
            fixed = _DYNAMIC
            if kind == LOCK and rule.resolve != "list_head":
                found = self.locks.protector(rule, obj, arg)
                if found is not None:
                    fixed = (found, _exclusive(found))
            loc = self.locs[key] = [None, {}, rule, kind, fixed]
        rule, kind = loc[2], loc[3]
        if kind == UNCHECKED:
            return
        lock: Any = None
        held: frozenset = _NOTHING
        if kind == LOCK:
            fixed = loc[4]
            if fixed is not _DYNAMIC:
                lock = fixed[0]
                if fixed[1] and lock in ctx.locks_held:
                    held = frozenset((lock,))
            else:
                lock = self.locks.protector(rule, obj, arg)
                if lock is ANY_MM_LIST:
                    held = frozenset(h for h in ctx.locks_held
                                     if getattr(h, "lock_class", None) == "mm_list lock")
                elif lock is not None and lock in ctx.locks_held and _exclusive(lock):
                    held = frozenset((lock,))
        elif kind == IMPLICIT:
            lock = rule.protector
            held = frozenset(((rule.struct, rule.field, id(obj)),))
            if (rule.struct, rule.field) in IMPLICIT_ORDERING:
                # the kernel's lock (and API) orders these accesses: take it, as the C does
                self.acquire(ctx, ("implicit", rule.struct, rule.field, id(obj)))
            elif (rule.struct, rule.field) in RCU_PUBLISHED and op == rt.READ:
                self.acquire(ctx, ("rcu", rule.struct, rule.field, id(obj)))
        elif kind == MARKED:
            marked = True
        t = self.tidx.get(ctx)
        if t is None:
            t = self.tid(ctx)
        C = self.clocks[t]
        if kind == IMPLICIT:
            if (rule.struct, rule.field) in IMPLICIT_ORDERING:
                self.release(ctx, ("implicit", rule.struct, rule.field, id(obj)))
                C = self.clocks[t]
            elif (rule.struct, rule.field) in RCU_PUBLISHED and op == rt.WRITE:
                # release_join: every publication stays visible to later readers
                self.release_join(ctx, ("rcu", rule.struct, rule.field, id(obj)))
                C = self.clocks[t]
        # Lazy naming: the record keeps the frame of the access (a frame object outlives its
        # call and keeps its ``f_back`` chain); the kernel function, helper and caller are
        # named from it only when a race is reported (``_named``).
        write = op == _WRITE_OPS_0 or op == _WRITE_OPS_1 or op == _WRITE_OPS_2
        rec = (t, C[t], held, _getframe(2), None, write,
               lock if lock is not None else rule, marked, None)
        if write and not marked and self.sync:
            self.sync.pop(("store", key), None)          # a plain store is no release
        w = loc[0]
        if (w is not None and w[0] != t and not (marked and w[7]) and not self._hb(w, C)
                and not (held & w[2])):
            self._race(ctx, obj, arg, w, rec)
        reads = loc[1]
        if write:
            for r in reads.values():
                if (r[0] != t and not (marked and r[7]) and not self._hb(r, C)
                        and not (held & r[2])):
                    self._race(ctx, obj, arg, r, rec)
            loc[0] = rec
            if reads:
                reads.clear()
        else:
            reads[t] = rec

    @staticmethod
    def _hb(rec: tuple, C: list) -> bool:
        u = rec[0]
        return rec[1] <= (C[u] if u < len(C) else 0)

    def _describe(self, rec: tuple, obj: Any, arg: Any) -> str:
        ctx = self.ctxs[rec[0]]
        what = ("WRITE" if rec[5] else "READ") + (" (marked)" if rec[7] else "")
        via = f" via {rec[4]}()" if rec[4] else ""
        lock = rec[6]
        if isinstance(lock, FieldRule):
            how = "(no lock protects it)"
        else:
            lockname = lock if isinstance(lock, str) else label(lock)
            how = f"holding {lockname}" if rec[2] else f"without {lockname}"
        return f"{what} in {rec[3]}(){via} [{ctx.name}] {how}"

    def _named(self, rec: tuple) -> tuple:
        """``rec`` with its frame (slot 3) resolved: ``(..., function, helper, ..., caller)``,
        as ``caller_and_parent`` names them at the access."""
        frame = rec[3]
        names = self._names.get(frame)
        if names is None:
            names = self._names[frame] = caller_and_parent(frame=frame)
        fn, via, parent = names
        return rec[:3] + (fn, via) + rec[5:8] + (parent,)

    def _race(self, ctx: Any, obj: Any, arg: Any, old: tuple, new: tuple) -> None:
        old, new = self._named(old), self._named(new)
        fld = field_name(obj, arg)
        for rec, other in ((old, new), (new, old)):
            k = (rec[3], rec[4], fld)
            why = BENIGN.get(k)
            within = _BENIGN_WITHIN.get(k)
            if (why is not None and not rec[2] and (within is None or rec[8] == within)
                    and (k not in _BENIGN_MARKED or other[7])):
                key = ("benign", fld, old[3], new[3], old[5], new[5])
                if key not in self._seen:
                    self._seen.add(key)
                    self.benign.append({
                        "field": fld, "object": label(obj), "entry": _BENIGN_ENTRY[k],
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


# --- the table in docs/invariants.md ----------------------------------------------------------
TABLE_BEGIN = "<!-- race table: generated by mmlist.checks.races.render_table(); do not edit -->"
TABLE_END = "<!-- end of race table -->"


def render_table() -> str:
    """The race table as docs/invariants.md shows it (a test checks they agree)."""
    rows = ["| struct | field | kind | protected by | why |", "|---|---|---|---|---|"]
    for r in FIELDS:
        rows.append(f"| `{r.struct}` | `{r.field}` | {r.kind} | {r.protector} | {r.reason} |")
    return "\n".join([TABLE_BEGIN] + rows + [TABLE_END])


def render_allowlist() -> str:
    """The allowlist (the registry's benign races) as docs/invariants.md shows it."""
    rows = ["| entry | function | helper | field | why it is benign |", "|---|---|---|---|---|"]
    for r in BENIGN_RACES:
        fn = (f"`{r.function}()`" + (f" from `{r.within}()`" if r.within else "")
              + (" (against a marked access only)" if r.other_marked else ""))
        rows.append(f"| {r.entry} | {fn} | {f'`{r.via}()`' if r.via else '-'} | "
                    f"`{r.field}` | {r.why} |")
    return "\n".join([ALLOW_BEGIN] + rows + [ALLOW_END])


ALLOW_BEGIN = ("<!-- race allowlist: generated by mmlist.checks.races.render_allowlist(); "
               "do not edit -->")
ALLOW_END = "<!-- end of race allowlist -->"
