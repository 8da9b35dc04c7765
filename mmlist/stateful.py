"""``mmlist.stateful``: a public Hypothesis state machine over the mm_struct list (issue 13, item 2).

Each rule is one whole kernel operation run on the real model, sequentially: the life-cycle
events (fork with and without ``CLONE_VM``, exec, exit, cgroup migration, context switch,
``kthread_use_mm``/``kthread_unuse_mm``, memcg creation and removal) and the walker steps (start
an aging round, one ``get_next_mm``, walk the mm, finish the round). Bundles carry tasks (pids),
mms (labels) and memcgs (labels), so Hypothesis shrinks a failure to a short program and prints
it as code. The same operation drives the independent reference model (``mmlist.reference``);
the invariants are the checks of ``mmlist.checks`` (structural on every step, the history and
property checks on every event) and the reference's agreement. A violation the findings registry
labels known or benign is recorded by its id (``excused``), never skipped ad hoc.

Checking a change in three lines::

    from mmlist.stateful import machine_for
    TestMyChange = machine_for(variant="path/to/my_variant.py").TestCase

Subclass ``MMListMachine`` to add rules; the World is ``self.world``. A rule that runs model
code the reference does not follow step by step (a concurrent batch of ``ThreadSpec``s under the
controlled scheduler) is written as::

    @precondition(lambda self: self.quiescent)
    @rule(data=st.data())
    def concurrent_batch(self, data):
        batch = run_batch(self.world, [...], data)  # its own engine and CheckSuite
        self.resync()                           # the reference and the checks start afresh
        self.judge_violations(batch.violations) # by the findings registry, as every step

What is not modelled here: a walker waiting for the next generation (``try_to_inc_max_seq()``'s
wait), the walk-less aging (``arch_has_hw_pte_young`` is on: F1/F2 need it off), and the
``mm_users == 0`` skip (the kworker runs ``mmput_async()``'s work right after each rule, so no
mm with no user is left on a list for a walker to meet); each needs concurrency.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator

from hypothesis import HealthCheck, settings as Settings
from hypothesis import strategies as st
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, consumes, initialize, invariant,
                                 multiple, precondition, rule)

from . import findings
from . import runtime as rt
from .checks import CheckSuite
from .engines.rules import OneRuleAtATime
from .config import Config
from .model import World
from .model import aging, exec as exec_, exit as exit_, fork, memcontrol, sched
from .model import mm_list as mm_list_
from .kernel import READ_ONCE, VM_BUG_ON, WRITE_ONCE
from .model.structs import CLONE_VM, PF_KTHREAD, lru_gen_mm_walk
from .reference import Reference, differences, observe_world
from .violation import Violation

#: the walkers of the machine (each its own model thread context and walk struct)
WALKERS = ("w0", "w1")


class _Walker:
    """One page-table walker: its context, walk struct and ``*iter`` box, between rules."""

    def __init__(self, name: str, ctx: rt.ThreadCtx):
        self.name = name
        self.ctx = ctx
        self.lv: Any = None
        self.walk: lru_gen_mm_walk | None = None
        self.it: list = [None]
        self.walked = False             # walk_mm ran on the mm it holds

    @property
    def in_round(self) -> bool:
        return self.walk is not None

    @property
    def busy(self) -> bool:
        return self.it[0] is not None


class MMListMachine(RuleBasedStateMachine):
    """The mm_struct list, one kernel operation per step, checked against the reference.

    Class attributes a subclass may change: ``VARIANT`` (a variant's name or path, applied with
    ``mmlist.variants.load_variant(...).applied()`` around each example), ``CONFIG`` (the
    World's ``Config`` fields), ``MEMCGS`` (created at start), ``SPARE_MEMCGS`` (what ``mkdir``
    may create), ``MAX_TASKS`` (user tasks alive at most)."""

    VARIANT: ClassVar[str | Path | None] = None
    CONFIG: ClassVar[dict[str, Any]] = dict(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16,
                                            nr_nodes=2, nr_cpus=2, CONFIG_LRU_GEN_STATS=True)
    MEMCGS: ClassVar[tuple[str, ...]] = ("A", "B")
    SPARE_MEMCGS: ClassVar[tuple[str, ...]] = ("C",)
    MAX_TASKS: ClassVar[int] = 8
    #: pages of a "small" mm: below MIN_LRU_BATCH, so should_skip_mm() skips it
    SMALL_RSS: ClassVar[int] = 4

    tasks = Bundle("tasks")
    mms = Bundle("mms")
    memcgs = Bundle("memcgs")

    _variants: ClassVar[dict[str, Any]] = {}

    def __init__(self) -> None:
        super().__init__()
        self._stack = contextlib.ExitStack()
        self._old_engine, self._old_world = rt.engine, rt._world
        try:
            self._stack.enter_context(self._variant_applied())
            self._build()
        except BaseException:
            self.teardown()                 # Hypothesis only tears down what it built
            raise

    def _build(self) -> None:
        """The World: memcgs ``MEMCGS``, two CPUs running their idle tasks, a kworker, a
        kthread that borrows mms, a shell, and the walkers' reclaiming tasks."""
        self.world = w = World(Config(**self.CONFIG))
        self.config = w.config
        self.skips: list[tuple[str, str]] = []
        self.excused: list[str] = []                # registry ids of accepted violations
        self.dead = False                           # a BUG ended the kernel
        self._ctxs: list[rt.ThreadCtx] = []
        self._install_checks()
        rt.set_world(w)
        self.ref = Reference(w.config.nr_nodes, w.config.nr_cpus, w.config.MIN_LRU_BATCH, w.config)
        self.idle = [rq.curr for rq in w.runqueues]
        for cpu, idle in enumerate(self.idle):
            idle.on_cpu = cpu
        self.ctx = self._ctx("lifecycle")
        self.kworker_ctx = self._ctx("kworker")
        self.kworker_ctx.task = w.kthread("kworker/u4:0")
        self.ref.add_task(self.kworker_ctx.task.pid, kthread=True)
        self.kthread = w.kthread("vhost-1")
        self.ref.add_task(self.kthread.pid, kthread=True)
        self.shell = w.user_task("sh")
        self.ref.add_task(self.shell.pid)
        self.walkers = {n: _Walker(n, self._ctx(n)) for n in WALKERS}
        for wk in self.walkers.values():
            wk.ctx.task = w.user_task(f"reclaim-{wk.name}")
            self.ref.add_task(wk.ctx.task.pid)
        for m in self.MEMCGS:
            w.mem_cgroup_alloc(m)
            self.ref.mkdir(m)
        self._spare = list(self.SPARE_MEMCGS)
        self._n = 0

    def teardown(self) -> None:
        rt.bind_thread(None)
        rt.install(self._old_engine if self._old_engine is not rt._default_engine else None)
        rt.set_world(self._old_world)
        self._stack.close()

    # --- set-up helpers ---------------------------------------------------------------------
    @contextlib.contextmanager
    def _variant_applied(self) -> Iterator[None]:
        if self.VARIANT is None:
            yield
            return
        from .variants import load_variant
        key = str(self.VARIANT)
        v = self._variants.get(key)
        if v is None:
            v = self._variants[key] = load_variant(self.VARIANT)
        with v.applied():
            yield

    def _install_checks(self) -> None:
        """A fresh ``CheckSuite`` on ``self.world``, listening to every op through a direct
        engine. Race checks are off: every rule runs to its end before the next starts, on
        one OS thread, so the race check's happens-before would not see that order and would
        report the rules' accesses as races."""
        self.suite = CheckSuite(self.world, races=False)
        self._seen = 0                              # suite.violations judged so far
        rt.install(OneRuleAtATime([self.suite.on_event, self._listen]))

    def _ctx(self, name: str) -> rt.ThreadCtx:
        """A model thread context of its own (lockdep and the history key on it)."""
        ctx = rt.ThreadCtx(name=name, tid=len(self._ctxs) + 1)
        ctx.cpu = 0  # type: ignore[attr-defined]
        self._ctxs.append(ctx)
        return ctx

    def _listen(self, ctx: Any, op: int, obj: Any, arg: Any) -> None:
        if op == rt.TRACE and obj == "skip":
            self.skips.append((arg["mm"].label, arg["reason"]))

    def _run(self, ctx: rt.ThreadCtx, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` as the model thread ``ctx``; then the kworker runs queued work. Each ends
        like a thread (lockdep: no lock held, IRQs on, RCU balanced). A BUG (``KernelPanic``)
        ends the kernel. Every violation is judged by ``judge()``."""
        try:
            result = self._as_thread(ctx, fn)
            if not self.dead:
                self._as_thread(self.kworker_ctx, self.world.run_pending_work)
                if not self.dead:
                    self.ref.run_pending_work()
            return result
        finally:
            self.judge()

    def _as_thread(self, ctx: rt.ThreadCtx, fn: Callable[[], Any]) -> Any:
        rt.bind_thread(ctx)
        try:
            return fn()
        except rt.KernelPanic:
            self.dead = True
            return None
        finally:
            rt.hook(rt.THREAD_END, ctx, None)
            if ctx.locks_held or ctx.irqs_disabled or ctx.rcu_depth:
                self._release(ctx)      # reported (lock_held_at_exit...); must not hang later
            rt.bind_thread(None)

    @staticmethod
    def _release(ctx: rt.ThreadCtx) -> None:
        """An oopsed context keeps its locks in the kernel; the machine stops, but must not
        leave real locks taken for the next example."""
        for lock in reversed(ctx.locks_held):
            lock.owner = None
            real = lock.real_lock()
            with contextlib.suppress(RuntimeError):
                real.release()
        ctx.locks_held.clear()
        ctx.irqs_disabled, ctx.preempt_count, ctx.rcu_depth = False, 0, 0

    def _task(self, pid: int) -> Any:
        """The live task ``pid``, or None: gone (a batch run by a subclass's rule may end tasks
        the bundle still names) or the machine stopped."""
        t = self.world.tasks.get(pid)
        return None if self.dead or t is None or t.exited else t

    def _memcg(self, name: str) -> Any:
        """The online memcg ``name``, or None (removed, or the machine stopped)."""
        m = self.world.memcg(name)
        return None if self.dead or m.freed or not m.online else m

    def _users(self) -> int:
        return sum(1 for t in self.world.tasks.values()
                   if not t.flags & PF_KTHREAD and t.__dict__["_mm"] is not None)

    def _on_cpu(self, task: Any, cpu: int) -> int:
        """The CPU ``task`` runs on; switched to on ``cpu`` first if it runs nowhere (a task
        execs and exits from its own CPU)."""
        if task.on_cpu is None:
            self._switch(cpu, task)
        return task.on_cpu

    def _switch(self, cpu: int, nxt: Any) -> None:
        rq = self.world.runqueues[cpu]
        self.ctx.task, self.ctx.cpu = rq.curr, cpu  # type: ignore[attr-defined]
        self._run(self.ctx, lambda: sched.context_switch(rq, rq.curr, nxt))
        if not self.dead:
            self.ref.context_switch(cpu, nxt.pid)

    # --- bundles at start -----------------------------------------------------------------------
    @initialize(target=memcgs)
    def start_memcgs(self) -> Any:
        return multiple(*self.MEMCGS)

    # --- memcgs ---------------------------------------------------------------------------------
    @precondition(lambda self: bool(self._spare) and not self.dead)
    @rule(target=memcgs)
    def mkdir(self) -> str:
        name = self._spare.pop(0)
        self.world.mem_cgroup_alloc(name)
        self.ref.mkdir(name)
        return name

    @rule(memcg=memcgs)
    def rmdir(self, memcg: str) -> None:
        """``rmdir``: refused (-EBUSY) while a live task is in the memcg (cgroup v2); else it
        goes offline and drops its base reference, and is freed with its last one (its list may
        still hold mms). Rules given an offline memcg do nothing."""
        m = self._memcg(memcg)
        if m is None or any(t.__dict__["_memcg"] is m and not t.exited
                            for t in self.world.tasks.values()):
            return
        self.ctx.task = self.shell

        def cgroup_rmdir() -> None:
            m.online = False
            rt.trace("memcg_offline", memcg=m)
            memcontrol.mem_cgroup_put(m)
        self._run(self.ctx, cgroup_rmdir)
        assert self.ref.rmdir(memcg)

    # --- tasks ----------------------------------------------------------------------------------
    @precondition(lambda self: self._users() < self.MAX_TASKS and not self.dead)
    @rule(target=tasks, memcg=memcgs, nr_regions=st.integers(1, 2), small=st.booleans())
    def spawn(self, memcg: str, nr_regions: int, small: bool) -> Any:
        """A process that already exec'd (``World.spawn``), used since on every node."""
        if self._memcg(memcg) is None:
            return multiple()
        self._n += 1
        t = self.world.spawn(memcg, comm=f"t{self._n}", nr_regions=nr_regions,
                             rss=self.SMALL_RSS if small else None)
        mm = t.__dict__["_mm"]
        self.ref.spawn(t.pid, memcg, mm.label, _size(mm))
        self.judge()
        return t.pid

    @precondition(lambda self: self._users() < self.MAX_TASKS and not self.dead)
    @rule(target=tasks, parent=tasks, clone_vm=st.booleans())
    def fork(self, parent: int, clone_vm: bool) -> Any:
        p = self._task(parent)
        if p is None or p.__dict__["_mm"] is None:
            return multiple()
        self.ctx.task = p
        child = self._run(self.ctx, lambda: fork.kernel_clone(p, CLONE_VM if clone_vm else 0))
        if child is None or self.dead:
            return multiple()
        mm = child.__dict__["_mm"]
        self.ref.fork(parent, child.pid, clone_vm, None if clone_vm else mm.label)
        return child.pid

    @rule(target=mms, task=tasks, cpu=st.integers(0, 1))
    def exec(self, task: int, cpu: int) -> Any:
        t = self._task(task)
        if t is None:
            return multiple()
        cpu = self._on_cpu(t, cpu)
        if self.dead:
            return multiple()
        self.ctx.task, self.ctx.cpu = t, cpu  # type: ignore[attr-defined]
        self._run(self.ctx, exec_.do_execve)
        if self.dead:
            return multiple()
        mm = t.__dict__["_mm"]
        self.ref.exec(task, mm.label, _size(mm))
        return mm.label

    @rule(task=consumes(tasks), cpu=st.integers(0, 1))
    def exit(self, task: int, cpu: int) -> None:
        t = self._task(task)
        if t is None:
            return
        cpu = self._on_cpu(t, cpu)
        if self.dead:
            return
        self.ctx.task, self.ctx.cpu = t, cpu  # type: ignore[attr-defined]
        self._run(self.ctx, exit_.do_exit)
        if self.dead:
            return
        # the dead task's last schedule(): its CPU runs the idle task (model: do_task_dead()
        # switches without a runqueue)
        rq, idle = self.world.runqueues[cpu], self.idle[cpu]
        rq.curr, idle.on_cpu, t.on_cpu = idle, cpu, None
        self.ref.exit(task)

    @rule(task=tasks, memcg=memcgs)
    def migrate(self, task: int, memcg: str) -> None:
        """``echo pid > memcg/cgroup.procs`` by a shell."""
        dst = self._memcg(memcg)
        if dst is None:
            return
        self.ctx.task = self.shell
        self._run(self.ctx, lambda: memcontrol.cgroup_migrate(task, dst))
        self.ref.cgroup_migrate(task, memcg)

    @rule(cpu=st.integers(0, 1), task=tasks)
    def context_switch(self, cpu: int, task: int) -> None:
        t = self._task(task)
        if t is None or t.on_cpu is not None:
            return                      # a task runs on one CPU at a time
        self._switch(cpu, t)

    @rule(cpu=st.integers(0, 1))
    def switch_to_kthread(self, cpu: int) -> None:
        """The kthread (with or without a borrowed mm) runs on ``cpu``."""
        if self.dead or self.kthread.on_cpu is not None:
            return
        self._switch(cpu, self.kthread)

    @precondition(lambda self: self.kthread.__dict__["_mm"] is None and not self.dead)
    @rule(mm=mms, cpu=st.integers(0, 1))
    def kthread_use_mm(self, mm: str, cpu: int) -> None:
        """A kthread borrows an mm that still has users (``mmget_not_zero`` first)."""
        m = self._mm(mm)
        if self.ref.mms[mm].users == 0:
            return                      # gone: a kthread can no longer find it
        kt = self.kthread
        cpu = self._on_cpu(kt, cpu)
        self.ctx.task, self.ctx.cpu = kt, cpu  # type: ignore[attr-defined]

        def borrow() -> None:
            if fork.mmget_not_zero(m):
                sched.kthread_use_mm(m)
        self._run(self.ctx, borrow)
        self.ref.kthread_use_mm(kt.pid, mm)

    @precondition(lambda self: self.kthread.__dict__["_mm"] is not None and not self.dead)
    @rule()
    def kthread_unuse_mm(self) -> None:
        kt = self.kthread
        m = kt.__dict__["_mm"]
        self.ctx.task = kt

        def give_back() -> None:
            sched.kthread_unuse_mm(m)
            fork.mmput(m)
        self._run(self.ctx, give_back)
        self.ref.kthread_unuse_mm(kt.pid)

    @rule(target=mms, task=tasks)
    def mm_of(self, task: int) -> Any:
        """Name the task's mm (for a kthread to borrow later): no kernel operation."""
        t = self._task(task)
        mm = t.__dict__["_mm"] if t is not None else None
        return multiple() if mm is None else mm.label

    @rule(task=tasks)
    def oom_kill(self, task: int) -> None:
        """``mark_oom_victim()``: MMF_OOM_VICTIM on the task's mm."""
        t = self._task(task)
        if t is None:
            return
        self.ctx.task = self.shell

        def out_of_memory() -> None:
            mm = t.__dict__["_mm"]
            if mm is not None:
                WRITE_ONCE(mm, "oom_victim", True)  # set_bit(MMF_OOM_VICTIM, &mm->flags)
        self._run(self.ctx, out_of_memory)
        self.ref.mark_oom_victim(task)

    def _mm(self, label: str) -> Any:
        return next(m for m in self.world.mms if m.label == label)

    # --- walkers -------------------------------------------------------------------------------
    @rule(k=st.sampled_from(WALKERS), memcg=memcgs, nid=st.integers(0, 1),
          full_scan=st.booleans())
    def start_round(self, k: str, memcg: str, nid: int, full_scan: bool) -> None:
        """``try_to_inc_max_seq()`` begins on (memcg, nid), holding a css reference."""
        wk = self.walkers[k]
        m = self._memcg(memcg)
        if m is None or wk.in_round:
            return
        if not self._run(wk.ctx, lambda: memcontrol.css_tryget(m)):
            return
        lv = self.world.lruvec(memcg, nid)
        walk = lru_gen_mm_walk(f"{k}.walk")
        walk.lruvec, walk.max_seq, walk.full_scan = lv, lv.lrugen.__dict__["_max_seq"], full_scan
        wk.lv, wk.walk, wk.it, wk.walked = lv, walk, [None], False
        self._run(wk.ctx, lambda: rt.trace("aging_start", lruvec=lv, max_seq=walk.max_seq,
                                           full_scan=full_scan))
        assert self.ref.start_round(k, memcg, nid, full_scan)

    @precondition(lambda self: not self.dead)
    @rule(k=st.sampled_from(WALKERS), memcg=memcgs, nid=st.integers(0, 1),
          full_scan=st.booleans())
    def next_mm(self, k: str, memcg: str, nid: int, full_scan: bool) -> None:
        """One turn of ``try_to_inc_max_seq()``'s loop: ``walk_mm()`` on the mm held, if the
        ``walk_mm`` rule has not walked it yet (a walker always walks what it was handed), then
        ``get_next_mm()``, which hands it back and takes the next one. A walker outside a round
        starts one on (``memcg``, ``nid``) first; inside one, those are ignored."""
        wk = self.walkers[k]
        if not wk.in_round:
            self.start_round(k=k, memcg=memcg, nid=nid, full_scan=full_scan)
            if not wk.in_round:
                return
        if wk.busy and not wk.walked:
            wk.walked = True
            self._run(wk.ctx, lambda: aging.walk_mm(wk.lv, wk.it[0], wk.walk))
            if self.dead:
                return
        self._next(wk)

    @precondition(lambda self: any(w.busy and not w.walked for w in self.walkers.values())
                  and not self.dead)
    @rule(k=st.sampled_from(WALKERS))
    def walk_mm(self, k: str) -> None:
        """``walk_mm()`` on the mm the walker holds (once per hand-out)."""
        wk = self.walkers[k]
        if not wk.busy or wk.walked:
            return
        wk.walked = True
        self._run(wk.ctx, lambda: aging.walk_mm(wk.lv, wk.it[0], wk.walk))

    @precondition(lambda self: any(w.in_round for w in self.walkers.values()) and not self.dead)
    @rule(k=st.sampled_from(WALKERS))
    def finish_round(self, k: str) -> None:
        """The rest of the round: get_next_mm and walk_mm until the list is done."""
        wk = self.walkers[k]
        for _ in range(4 * self.MAX_TASKS + 8):
            if not wk.in_round or self.dead:
                return
            if wk.busy and not wk.walked:
                wk.walked = True
                self._run(wk.ctx, lambda: aging.walk_mm(wk.lv, wk.it[0], wk.walk))
            else:
                self._next(wk)
        raise AssertionError(f"{k} never reached the end of its iteration")

    @rule(k=st.sampled_from(WALKERS), memcg=memcgs, nid=st.integers(0, 1),
          full_scan=st.booleans())
    def aging_round(self, k: str, memcg: str, nid: int, full_scan: bool) -> None:
        """A whole ``try_to_inc_max_seq()`` in one step (``start_round`` + ``finish_round``):
        rounds one after another are what make the usage hints matter."""
        if self.walkers[k].in_round:
            return
        self.start_round(k=k, memcg=memcg, nid=nid, full_scan=full_scan)
        if self.walkers[k].in_round:
            self.finish_round(k=k)

    def _next(self, wk: _Walker) -> None:
        self.skips = []
        last = self._run(wk.ctx, lambda: mm_list_.get_next_mm(wk.lv, wk.walk, wk.it))
        if self.dead:
            return
        got = wk.it[0].label if wk.it[0] is not None else None
        want = self.ref.get_next_mm(wk.name)
        self.ref.run_pending_work()             # the kworker ran the model's after the call
        seen = (got, bool(last), tuple(self.skips), wk.walk.full_scan)
        ref_walk = self.ref.walkers[wk.name]
        expect = (want.mm, want.last, want.skipped, ref_walk.full_scan)
        assert seen == expect, (f"get_next_mm() for {wk.name}: model (mm, last, skipped, "
                                f"full_scan) = {seen}, reference {expect}")
        wk.walked = False
        if wk.busy:
            return
        self._end_round(wk, bool(last))

    def _end_round(self, wk: _Walker, last: bool) -> None:
        """No mm left for this walker: the last one creates the generation (as
        ``try_to_inc_max_seq()`` does, with its VM_BUG_ON), and the css reference goes."""
        lv, walk = wk.lv, wk.walk
        assert walk is not None

        def done() -> None:
            if last:
                VM_BUG_ON(walk.max_seq != READ_ONCE(lv.lrugen, "max_seq"),
                          "max_seq != READ_ONCE(lrugen->max_seq)")
                aging.inc_max_seq(lv, walk.max_seq)
            rt.trace("aging_end", lruvec=lv, max_seq=walk.max_seq, result=last, how="last")
            memcontrol.mem_cgroup_put(lv.memcg)
        self._run(wk.ctx, done)
        wk.lv, wk.walk, wk.it = None, None, [None]
        self.ref.end_round(wk.name, last)

    # --- checking --------------------------------------------------------------------------------
    def judge(self) -> None:
        """Every violation the checks reported since the last call: one the findings registry
        labels (known finding or benign) is recorded by its id; any other fails the example."""
        new = self.suite.violations[self._seen:]
        self._seen = len(self.suite.violations)
        self.judge_violations(new)

    def judge_violations(self, violations: list[Violation]) -> None:
        """Judge violations found elsewhere too (a concurrent batch's own ``CheckSuite``): the
        registry's entries are recorded in ``excused``; the first unknown one fails."""
        for v in violations:
            label = findings.classify(v, self.config)
            if label.entry is None:
                raise AssertionError(_describe(v))
            self.excused.append(label.entry.id)

    @invariant()
    def structural_checks_pass(self) -> None:
        """protocol.md section 4, on every list (all locks are free between rules)."""
        self.suite.at_step()
        self.judge()

    @invariant()
    def agrees_with_reference(self) -> None:
        """Lists, cursors, seq, max_seq, nr_walkers and usage hints equal the reference's."""
        if self.dead:
            return
        diff = differences(self.ref.observe(), observe_world(self.world))
        assert not diff, "the model and the reference disagree:\n  " + "\n  ".join(diff)

    # --- for rules that run model code the reference does not follow -------------------------------
    @property
    def quiescent(self) -> bool:
        """No walker of the machine is inside an aging round: the precondition of a rule that
        runs other model code (a concurrent batch) and then calls ``resync()``."""
        return not self.dead and not any(w.in_round for w in self.walkers.values())

    def resync(self) -> None:
        """After model code the machine did not follow step by step (e.g. a batch of
        ``ThreadSpec``s under the controlled scheduler, which installs its own engine):
        rebuild the reference from ``self.world``, and start fresh checks (re-installing the
        machine's engine), since the old ones did not see the batch's events. Call it only
        when ``quiescent``: a fresh history does not know which mm a walker in mid-round
        holds."""
        if not self.quiescent:
            raise RuntimeError("resync() with a walker inside an aging round: give the rule "
                               "@precondition(lambda self: self.quiescent)")
        self.ref.resync(self.world)
        self._install_checks()



class ConcurrentMMListMachine(MMListMachine):
    """``MMListMachine`` with one more rule, ``concurrently``: a batch of operations on real
    threads under the controlled scheduler, every scheduling decision drawn from Hypothesis on
    the test's thread, so that Hypothesis shrinks the operations and the interleaving
    together (a failure prints as the rules that led to it and the draws of the batch). A
    subclass of its own: one more rule changes every sequence Hypothesis generates, and the
    sequential machine keeps its own."""

    @precondition(lambda self: not self.dead)
    @rule(data=st.data(), memcg=MMListMachine.memcgs, nid=st.integers(0, 1),
          walkers=st.integers(1, 2), priority=st.sampled_from((12, 0)),
          task=MMListMachine.tasks, what=st.sampled_from(("fork", "fork-vm", "migrate")),
          dst=MMListMachine.memcgs)
    def concurrently(self, data: Any, memcg: str, nid: int, walkers: int, priority: int,
                     task: int, what: str, dst: str) -> None:
        """Aging rounds of ``walkers`` direct reclaimers of (``memcg``, ``nid``) against one
        life-cycle operation of ``task`` (a fork, with or without ``CLONE_VM``, or its
        migration to ``dst``), on real threads under the controlled scheduler; every scheduling
        decision is drawn from Hypothesis (``mmlist.interleave.run_batch``, on this thread), so
        the operations and the interleaving shrink together. The batch's own ``CheckSuite``
        (races included) judges it; then the reference is rebuilt from the World
        (``resync``). The machine's own walkers first finish their rounds (``finish_round``):
        a rebuilt reference cannot know which mm a walker in mid-round holds."""
        from . import interleave
        from . import programs as P
        for k, wk in self.walkers.items():
            if wk.in_round:
                self.finish_round(k=k)
        if not self.quiescent:
            return
        t = self._task(task)
        if self._memcg(memcg) is None or self._memcg(dst) is None or t is None \
                or t.__dict__["_mm"] is None:
            return
        specs = [P.direct_reclaim(f"reclaim-{k}", memcg, nid, priority=priority)
                 for k in WALKERS[:walkers]]
        if what == "migrate":
            specs.append(P.migrator(task, dst, name=f"migrate({t.label}->{dst})"))
        else:
            flags = CLONE_VM if what == "fork-vm" else 0

            def kernel_clone(w: World) -> None:
                fork.kernel_clone(rt.current_ctx().task, flags)
            specs.append(P.ThreadSpec(f"{what}({t.label})", kernel_clone, P._pid(task),
                                      describe=f"{t.label} forks"))
        ex = interleave.run_batch(self.world, specs, data, max_preemptions=2)
        rt.set_world(self.world)
        if not interleave.continuable(ex):
            self.dead = True            # cut off mid-operation: its locks stay taken
        unknown = interleave.unexpected(ex, self.config)
        if unknown:
            raise AssertionError("a concurrent batch: " + interleave.explain(ex, self.config))
        self.judge_violations(ex.violations)
        if not self.dead:
            self.resync()               # the machine's engine and checks again, a new reference
            # what the batch queued for the kworker (mmput_async's __mmput), as after any rule
            self._as_thread(self.kworker_ctx, self.world.run_pending_work)
            self.ref.resync(self.world)
            self.judge()


def _size(mm: Any) -> int:
    rss = mm.rss_stat
    return int(rss[0] + rss[1] + rss[3])


def _describe(v: Violation) -> str:
    where = f" in {v.function}()" if v.function else ""
    return f"[NEW] {v.check}{where}: {v.message}"


def machine_for(variant: str | Path | None = None, settings: Settings | None = None,
                concurrent: bool = False, **attrs: Any) -> type[MMListMachine]:
    """A subclass of ``MMListMachine`` checking ``variant`` (a built-in variant's name or a path
    to a variant module); ``settings`` become its ``TestCase``'s; ``concurrent``: of
    ``ConcurrentMMListMachine`` (with batches on real threads); ``attrs`` override class
    attributes (``CONFIG``, ``MAX_TASKS``...)."""
    base = ConcurrentMMListMachine if concurrent else MMListMachine
    name = base.__name__
    if variant is not None:
        from .variants import load_variant
        # fail here, with the loader's message, rather than in the first example
        MMListMachine._variants.setdefault(str(variant), load_variant(variant))
        name += "_" + "".join(c if c.isalnum() else "_" for c in Path(str(variant)).stem)
    cls = type(name, (base,), {"VARIANT": variant, **attrs})
    cls.TestCase.settings = settings or Settings(
        deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                              HealthCheck.filter_too_much])
    return cls
