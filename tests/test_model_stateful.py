"""Sequential operations in any order keep the mm_struct list well formed.

A Hypothesis state machine drives the model one whole operation at a time: spawn, fork
(with and without CLONE_VM), exec, exit, cgroup migration between two memcgs, context switch,
one ``get_next_mm`` step of one of two walkers (each with its own walk struct and ``iter``
box, on a lruvec of its choice), and finishing a walker (the last one creates the new
generation, as ``try_to_inc_max_seq`` does). Queued work (``mmput_async``) runs after every
operation, as a kworker would. After every step the structural invariants of protocol.md
section 4 are checked with raw reads only (no hook), so checking never changes the run.
"""
from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import mmlist.runtime as rt
from mmlist.config import Config
from mmlist.kernel.list import raw_iter
from mmlist.model import World
from mmlist.model import aging, exec as exec_, exit as exit_, fork, memcontrol, sched
from mmlist.model import mm_list as M
from mmlist.model.structs import CLONE_VM, lru_gen_mm_walk
from model_helpers import reset_setup_ctx

MAX_TASKS = 8
MEMCGS = ("A", "B")


def raw(obj, name):
    return obj.__dict__["_" + name]


class Walker:
    def __init__(self, name: str):
        self.name = name
        self.walk: lru_gen_mm_walk | None = None
        self.it: list = [None]
        self.lv = None
        self.task = None

    @property
    def busy(self) -> bool:
        return self.it[0] is not None


class MMListMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        reset_setup_ctx()
        self.reports: list = []
        rt.install(rt.DirectEngine([self._listen]))
        self.w = w = World(Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16,
                                  nr_nodes=2, nr_cpus=2))
        rt.set_world(w)
        for m in MEMCGS:
            w.mem_cgroup_alloc(m)
        self.n = 0
        for m in MEMCGS:
            self._spawn(m)
        self.walkers = [Walker("w0"), Walker("w1")]
        for wk in self.walkers:
            wk.task = w.user_task(f"reclaim-{wk.name}")
        self.seen_seq: dict[str, int] = {}
        self.generations = 0

    def teardown(self):
        rt.install(None)
        rt.set_world(None)
        reset_setup_ctx()

    def _listen(self, ctx, op, obj, arg):
        if op == rt.REPORT:
            self.reports.append(obj)

    # --- helpers ------------------------------------------------------------------------------
    def _spawn(self, memcg: str, nr_regions: int = 2):
        self.n += 1
        return self.w.spawn(memcg, comm=f"t{self.n}", nr_regions=nr_regions)

    def _users(self):
        """Live user tasks (with an mm), in pid order."""
        return [t for t in self.w.tasks_in_pid_order()
                if raw(t, "mm") is not None and not t.exited and not (t.flags & 0x00200000)]

    def _pick(self, i):
        users = self._users()
        return users[i % len(users)] if users else None

    def _as(self, task):
        rt.current_ctx().task = task

    def _after(self):
        self.w.run_pending_work()           # the kworker of mmput_async
        rt.current_ctx().task = None

    def _has_users(self):
        return bool(self._users())

    # --- life cycle ---------------------------------------------------------------------------
    @precondition(lambda self: len(self._users()) < MAX_TASKS)
    @rule(memcg=st.sampled_from(MEMCGS), nr_regions=st.integers(1, 2))
    def spawn(self, memcg, nr_regions):
        self._spawn(memcg, nr_regions)

    @precondition(lambda self: self._has_users() and len(self._users()) < MAX_TASKS)
    @rule(i=st.integers(0, 63), clone_vm=st.booleans())
    def fork(self, i, clone_vm):
        parent = self._pick(i)
        self._as(parent)
        child = fork.kernel_clone(parent, CLONE_VM if clone_vm else 0)
        child.label = f"{parent.label}.{'thr' if clone_vm else 'child'}{child.pid}"
        self._after()

    @precondition(lambda self: self._has_users())
    @rule(i=st.integers(0, 63))
    def exec(self, i):
        self._as(self._pick(i))
        exec_.do_execve()
        self._after()

    @precondition(lambda self: self._has_users())
    @rule(i=st.integers(0, 63))
    def exit(self, i):
        self._as(self._pick(i))
        exit_.do_exit()
        self._after()

    @precondition(lambda self: self._has_users())
    @rule(i=st.integers(0, 63), memcg=st.sampled_from(MEMCGS))
    def migrate(self, i, memcg):
        t = self._pick(i)
        memcontrol.cgroup_migrate(t.pid, self.w.memcg(memcg))
        self._after()

    @precondition(lambda self: self._has_users())
    @rule(cpu=st.integers(0, 1), i=st.integers(0, 63))
    def context_switch(self, cpu, i):
        nxt = self._pick(i)
        rq = self.w.runqueues[cpu]
        if any(r.curr is nxt for r in self.w.runqueues):
            return                           # a task runs on one CPU at a time
        self._as(rq.curr)
        sched.context_switch(rq, rq.curr, nxt)
        self._after()

    # --- walkers ------------------------------------------------------------------------------
    def _step(self, wk: Walker, memcg: str, nid: int, full_scan: bool) -> None:
        """One turn of try_to_inc_max_seq's loop: get_next_mm, then walk the mm it gave."""
        self._as(wk.task)
        if not wk.busy:
            lv = self.w.lruvec(memcg, nid)
            wk.lv = lv
            wk.walk = lru_gen_mm_walk(f"{wk.name}.walk")
            wk.walk.lruvec = lv
            wk.walk.max_seq = raw(lv.lrugen, "max_seq")
            wk.walk.full_scan = full_scan
        lv, walk = wk.lv, wk.walk
        last = M.get_next_mm(lv, walk, wk.it)
        if wk.busy:
            aging.walk_mm(lv, wk.it[0], walk)
        else:
            self._done(wk, last)
        self._after()

    def _done(self, wk: Walker, last: bool) -> None:
        lv, max_seq = wk.lv, wk.walk.max_seq
        if last:
            # try_to_inc_max_seq: VM_BUG_ON(max_seq != READ_ONCE(lrugen->max_seq))
            assert max_seq == raw(lv.lrugen, "max_seq"), (wk.name, max_seq)
            aging.inc_max_seq(lv, max_seq)
            self.generations += 1
        wk.walk = None

    @rule(k=st.integers(0, 1), memcg=st.sampled_from(MEMCGS), nid=st.integers(0, 1),
          full_scan=st.booleans())
    def walker_step(self, k, memcg, nid, full_scan):
        self._step(self.walkers[k], memcg, nid, full_scan)

    @rule(k=st.integers(0, 1), memcg=st.sampled_from(MEMCGS), nid=st.integers(0, 1))
    def walker_finish(self, k, memcg, nid):
        wk = self.walkers[k]
        self._step(wk, memcg, nid, False)
        for _ in range(4 * MAX_TASKS + 8):
            if not wk.busy:
                return
            self._step(wk, memcg, nid, False)
        raise AssertionError(f"{wk.name} never reached the end of its iteration")

    # --- invariants (raw reads only) ------------------------------------------------------------
    @invariant()
    def no_kernel_assertion_fired(self):
        assert self.reports == [], [str(v) for v in self.reports]

    @invariant()
    def lists_are_well_formed_and_every_mm_on_at_most_one(self):
        where: dict[int, object] = {}
        for memcg, mm_list in self.w.mm_lists():
            fifo = mm_list.fifo
            node, n = fifo, 0
            while True:
                nxt = node.__dict__["_next"]
                assert nxt.__dict__["_prev"] is node, f"{memcg.label}: next->prev broken"
                node = nxt
                if node is fifo:
                    break
                n += 1
                assert n <= len(self.w.mms), f"{memcg.label}: the sentinel is not reachable"
                mm = node.container
                assert id(mm) not in where, f"{mm.label} on two lists"
                where[id(mm)] = memcg
                assert raw(mm.lru_gen, "memcg") is memcg, \
                    f"{mm.label} on {memcg.label}'s list names {raw(mm.lru_gen, 'memcg')}"
                assert not mm.freed, f"freed {mm.label} still on {memcg.label}'s list"
        for mm in self.w.mms:
            if id(mm) not in where:
                node = mm.lru_gen.list
                assert node.__dict__["_next"] is node and node.__dict__["_prev"] is node
                assert raw(mm.lru_gen, "memcg") is None, f"{mm.label} on no list has a memcg"

    @invariant()
    def cursors_point_into_their_list(self):
        for memcg, mm_list in self.w.mm_lists():
            nodes = {id(n) for n in raw_iter(mm_list.fifo)} | {id(mm_list.fifo)}
            for pn in memcg.nodeinfo:
                st_ = pn.lruvec.mm_state
                for c in ("head", "tail"):
                    node = raw(st_, c)
                    assert id(node) in nodes, \
                        f"{pn.lruvec.label}: {c} points at {node!r}, not into {memcg.label}'s list"

    @invariant()
    def seq_never_decreases_and_follows_max_seq(self):
        for lv in self.w.lruvecs():
            seq, max_seq = raw(lv.mm_state, "seq"), raw(lv.lrugen, "max_seq")
            assert seq >= self.seen_seq.get(lv.label, seq), f"{lv.label}: seq went down"
            self.seen_seq[lv.label] = seq
            assert max_seq - 1 <= seq <= max_seq, f"{lv.label}: seq {seq} max_seq {max_seq}"

    @invariant()
    def nr_walkers_counts_the_walkers_holding_an_mm(self):
        for lv in self.w.lruvecs():
            holding = sum(1 for wk in self.walkers if wk.busy and wk.lv is lv)
            nr = raw(lv.mm_state, "nr_walkers")
            assert nr >= 0 and nr == holding, f"{lv.label}: nr_walkers {nr}, holders {holding}"

    @invariant()
    def a_held_mm_is_alive(self):
        for wk in self.walkers:
            if wk.busy:
                mm = wk.it[0]
                assert not mm.freed and mm.mm_users.counter >= 1


MMListMachine.TestCase.settings = settings(
    derandomize=True, max_examples=30, stateful_step_count=25, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

TestMMListStateMachine = MMListMachine.TestCase
