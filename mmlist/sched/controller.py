"""Controlled execution of real threads: the engine behind every strategy.

Each model thread runs on a real ``threading.Thread`` (a pooled worker). At every scheduling
point (``op in runtime.SCHEDULING``) the thread that reached it parks its pending op and asks the
decision source, *on its own OS thread*, which thread runs next: when it picks itself the thread
just continues (no round trip through a controller thread); otherwise it releases the chosen
thread's lock and parks on its own. Exactly one model thread runs at a time, so the controller's
state needs no lock: it is only ever touched by the thread that currently runs.

A thread is *runnable* when its pending op can proceed: a ``LOCK`` whose lock has no owner (a
thread asking for a lock it holds itself is blocked: an AA deadlock), a ``WAIT_SCHEDULE`` whose
wait queue no longer lists it; anything else. No runnable thread and some unfinished: deadlock
(or, in fair mode with only sleepers left, a liveness violation).

An execution ends normally (every thread returned or oopsed with ``KernelPanic``, its locks
still held as after an oops), or is cut off (deadlock, first violation, step budget, the
decision source gave up). Cut-off threads are unwound one at a time by waking them with
``ExecutionAborted`` raised from the hook; their workers go back to the pool.
"""
from __future__ import annotations

import _thread
import ctypes
import os
import sys
import threading
import time
import traceback
from typing import Any

from .. import runtime as rt
from ..violation import Violation
from .decisions import Footprint, access_of, fmt_arg, label_of
from .execution import Event, Execution, _model_error, _model_function, state_digest
from .workers import WorkerPool, _Worker

__all__ = ["Controller", "Event", "Execution", "WorkerPool", "WATCHDOG", "state_digest"]

_tls, _setup_ctx, _ctx_of = rt._tls, rt._setup_ctx, getattr
_SCHED = rt.SCHEDULING
_LOCK, _WAIT_SCHEDULE, _WAKE, _CHOOSE, _REPORT = rt.LOCK, rt.WAIT_SCHEDULE, rt.WAKE, rt.CHOOSE, \
    rt.REPORT
_READ, _WRITE, _TRACE, _TRYLOCK = rt.READ, rt.WRITE, rt.TRACE, rt.TRYLOCK
#: the plain accesses: recording ops, scheduling points only with ``every_access``
_PLAIN = frozenset({rt.READ, rt.WRITE})
_START = (rt.THREAD_START, None, None)      # the pending "op" of a thread not yet started
#: With structural checks on, the state they read is "visible" (Clarke, Grumberg, Minea, Peled,
#: "State space reduction using partial order techniques", STTT 1999: the visibility condition):
#: every step writing it, and every acquisition or release of an mm_list lock (the checks look
#: at a list only while its lock is free), conflicts with every other such step, so each checked
#: intermediate state of one interleaving is also met in the one the reduction keeps.
VISIBLE_KINDS = frozenset({"ListHead", "mm_lru_gen", "lru_gen_mm_state", "lru_gen_struct",
                           "tracked_array"})
VISIBLE_LOCK_CLASS = "mm_list lock"
_VISIBLE = ("#visible", None)
FAIR_LIMIT = 64                             # fair mode: longest a runnable thread may be passed over
#: seconds a model thread may run without reaching the hook before the watchdog calls it stuck
WATCHDOG = 5.0


# ---------------------------------------------------------------------------------------------
# Per-thread state.
# ---------------------------------------------------------------------------------------------
class _Thread:
    __slots__ = ("tid", "name", "spec", "ctx", "worker", "pending", "finished", "outcome",
                 "ident", "passed_over", "abandoned")

    def __init__(self, tid: int, spec: Any, ctx: rt.ThreadCtx, worker: _Worker):
        self.tid = tid
        self.name = spec.name
        self.spec = spec
        self.ctx = ctx
        self.worker = worker
        self.pending: tuple = _START
        self.finished = False
        self.outcome = "unstarted"
        self.ident: int | None = None
        self.passed_over = 0
        self.abandoned = False          # stuck: the watchdog gave up on it


# ---------------------------------------------------------------------------------------------
# The controller (a runtime Engine).
# ---------------------------------------------------------------------------------------------
class Controller(rt.Engine):
    def __init__(self, pool: WorkerPool | None = None):
        self.pool = pool or WorkerPool()
        self.aborting = False
        self.threads: list[_Thread] = []
        self._snapshotting = False
        self.sched_ops = _SCHED
        self.watchdog: float | None = None
        self.beat = 0                   # hook calls: the watchdog's sign of life

    # --- the state strategies may read ---------------------------------------------------------
    @property
    def nthreads(self) -> int:
        return len(self.threads)

    def names(self) -> list[str]:
        return [t.name for t in self.threads]

    def pending_of(self, tid: int) -> tuple[str, str]:
        """``(op name, object label)`` of the op thread ``tid`` is parked on."""
        op, obj, _ = self.threads[tid].pending
        return rt.OP_NAMES[op], label_of(obj) if op != rt.THREAD_START else "start"

    # --- running one execution -----------------------------------------------------------------
    def run(self, world: Any, specs: list, source: Any, suite: Any, *, structural: bool = True,
            fair: bool = False, step_budget: int = 5000, record: int = 0,
            footprints: bool = False,
            stop_on_violation: bool | tuple[str, str | None] = False,
            outcome: bool = False, every_access: bool = False,
            watchdog: float | None = None) -> Execution:
        """One execution of ``specs`` in ``world``. ``stop_on_violation``: cut the execution
        at the first violation (True) or at the first one with this ``(check, function)``.
        ``outcome``: compute ``Execution.outcome`` (a walk of the final World: off by
        default, it costs about as much as a short execution). ``every_access``: every plain
        access (``READ``/``WRITE``) is a scheduling point too, not only a recording op (the
        race check stands for them otherwise: ``mmlist hunt --every-access``). ``watchdog``:
        a model thread that runs that many seconds without reaching the hook (a loop, a sleep,
        a plain Python lock: nothing the scheduler can see) is reported as ``stuck_thread``
        and abandoned, and the execution ends with status ``stuck`` (None: wait forever)."""
        self.world = world
        self.watchdog = watchdog
        self.source = source
        self.suite = suite
        self.on_event = suite.on_event
        # the structural checks at each step: CheckSuite.step_check (at_step without its
        # indirection), or at_step of any other suite
        self.at_step = getattr(suite, "step_check", None) or suite.at_step
        self.structural = structural
        self.fair = fair
        self.step_budget = step_budget
        self.record = record
        self.fp_on = footprints
        self.visible = footprints and structural
        self.sched_ops = _SCHED | _PLAIN if every_access else _SCHED
        self.fp: Footprint | None = Footprint() if footprints else None
        self.last_fp: Footprint | None = None
        self.stop_on_violation = stop_on_violation
        self._nv = 0
        self.engine_violations: list[Violation] = []
        self.decisions: list[tuple] = []
        self.trail: list[int] = []
        self.steps = 0
        self.preemptions = 0
        self.current: int | None = None
        self.status: str | None = None
        self.divergence: str | None = None
        self.events: list[Event] | None = [] if record else None
        self.aborting = False
        workers = self.pool.get(len(specs))
        self.threads = []
        for tid, spec in enumerate(specs):
            ctx = spec.ctx(world, tid)
            t = _Thread(tid, spec, ctx, workers[tid])
            ctx.engine_data = t
            self.threads.append(t)
        for t in self.threads:
            t.worker.job = (lambda t=t: self._thread_main(t))
        self.done = _thread.allocate_lock()
        self.done.acquire()
        interrupted = False
        old_world = rt._world
        old_engine = rt.install(self)
        try:
            world.activate()
            try:
                self._decide(None)
                self._await_end()
            except KeyboardInterrupt:
                interrupted = True
            finally:
                self._cleanup()
        finally:
            rt.install(old_engine)
            rt.set_world(old_world)
        for t in self.threads:
            t.worker.job = None
        status = self.status or "interrupted"
        try:
            # A pruned execution (a sleep-set-blocked DFS branch) is the prefix of one that is
            # explored in full elsewhere: end-of-execution checks would judge a half-run.
            if status != "pruned":
                suite.at_end(status == "finished")
        except Exception:
            self.engine_violations.append(_model_error("check suite", "at_end"))
        violations = list(suite.violations) + self.engine_violations
        final_state = self._snapshot() if record >= 2 else ""
        outcomes = {t.name: t.outcome for t in self.threads}
        digest = None
        if outcome and status != "pruned":
            self._snapshotting = True
            try:
                digest = (state_digest(world, (status, sorted(outcomes.items()))),
                          frozenset((v.check, v.function, v.condition) for v in violations))
            finally:
                self._snapshotting = False
        ex = Execution(status=status, raw_decisions=self.decisions,
                       violations=violations, steps=self.steps, preemptions=self.preemptions,
                       threads=[t.name for t in self.threads], outcomes=outcomes,
                       trail_hash=hash(tuple(self.trail)), events=self.events,
                       final_state=final_state, interrupted=interrupted,
                       divergence=self.divergence, outcome=digest,
                       benign=list(getattr(suite, "benign", None) or ()))
        for t in self.threads:
            t.ctx.engine_data = None
        self.threads = []
        self.world = None
        return ex

    def _await_end(self) -> None:
        """Wait until the execution ends. With a watchdog, a model thread that does not reach
        the hook for ``watchdog`` seconds is stuck: reported, abandoned, and the execution
        ends (the main thread never waits on it again, so one Ctrl-C always ends a run)."""
        if self.watchdog is None:
            self.done.acquire()
            return
        last, since = self.beat, time.monotonic()
        while not self.done.acquire(timeout=min(0.2, self.watchdog)):
            now = time.monotonic()
            if self.beat != last:
                last, since = self.beat, now
            elif now - since >= self.watchdog:
                self._abandon_stuck()
                return

    def _abandon_stuck(self) -> None:
        t = self.threads[self.current] if self.current is not None else None
        frame = sys._current_frames().get(t.ident) if t is not None and t.ident else None
        fn = _model_function(frame) if frame is not None else ""
        where = (f" at {frame.f_code.co_name}() ({os.path.basename(frame.f_code.co_filename)}:"
                 f"{frame.f_lineno})" if frame is not None else "")
        name = t.name if t is not None else "a model thread"
        self.engine_violations.append(Violation(
            check="stuck_thread", thread=name, function=fn or None, condition="watchdog",
            message=f"{name} ran {self.watchdog:g}s without reaching a kernel primitive"
                    f"{where}: a loop, a sleep or a plain Python lock the scheduler cannot "
                    f"see; the watchdog abandoned it"))
        self.status = "stuck"
        if t is not None:
            t.abandoned = True
            t.finished = True
            self.pool.forget(t.worker)
            if t.ident is not None:     # unwinds a pure-Python loop at its next bytecode
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(t.ident), ctypes.py_object(rt.ExecutionAborted))

    def _cleanup(self) -> None:
        """Unwind every unfinished thread, one at a time, back to the pool."""
        if self.status is None:
            # Interrupted while a model thread runs: it stops at its next hook (or ends the
            # execution itself); either way it releases ``done`` exactly once, unless it is
            # stuck (the watchdog, when on, gives up on it).
            self.aborting = True
            # a running thread reaches its next hook in microseconds: one that does not
            # within a second (or the watchdog, if shorter) is stuck, and Ctrl-C must not wait
            if not self.done.acquire(timeout=min(1.0, self.watchdog or 1.0)):
                self._abandon_stuck()
        self.aborting = True
        for t in self.threads:
            if not t.finished:
                t.worker.go.release()
                self.done.acquire()
        self.aborting = False

    # --- the worker side -----------------------------------------------------------------------
    def _thread_main(self, t: _Thread) -> None:
        ctx = t.ctx
        rt.bind_thread(ctx)
        t.ident = threading.get_ident()
        outcome = "done"
        try:
            if self.aborting:
                raise rt.ExecutionAborted()
            t.pending = None
            t.outcome = "running"
            if self.fp_on:
                self.fp = Footprint()
            if self.record:
                self._rec(ctx, rt.THREAD_START, ctx, None)
            self.on_event(ctx, rt.THREAD_START, ctx, None)
            t.spec.body(self.world)
        except rt.ExecutionAborted:
            outcome = "aborted"
        except rt.KernelPanic:
            outcome = "oops"
        except BaseException:          # a crash of the model (or of a strategy) on this thread
            outcome = "error"
            if not t.abandoned:
                self.engine_violations.append(_model_error(t.name,
                                                           traceback.format_exc(limit=6)))
        if t.abandoned:                 # the watchdog gave up on it: that execution is over
            rt.bind_thread(None)
            return
        if outcome == "aborted":
            if t.outcome in ("running", "unstarted"):
                t.outcome = "cut off" if t.outcome == "running" else "unstarted"
            t.finished = True
            rt.bind_thread(None)
            self.done.release()
            return
        t.outcome = outcome
        t.pending = None
        try:
            if self.record:
                self._rec(ctx, rt.THREAD_END, ctx, outcome)
            self.on_event(ctx, rt.THREAD_END, ctx, outcome)
        except Exception:
            self.engine_violations.append(_model_error(t.name, traceback.format_exc(limit=6)))
        t.finished = True
        rt.bind_thread(None)
        self._decide(t)                         # hand off (a finished thread never parks)

    # --- the hook ------------------------------------------------------------------------------
    def hook(self, op: int, obj: Any = None, arg: Any = None) -> Any:
        if self.aborting:
            raise rt.ExecutionAborted()
        if self._snapshotting:
            return None
        ctx = _ctx_of(_tls, "ctx", _setup_ctx)        # rt.current_ctx(), inlined: every op
        t = ctx.engine_data
        if t is None or t.abandoned:
            self._foreign(ctx, op)
        self.beat += 1                          # the watchdog's sign of life
        if op in self.sched_ops:
            if op == _LOCK and getattr(obj, "owner", None) is ctx:
                # An AA deadlock: the kernel's lockdep checks in lock_acquire(), before the
                # CPU spins, so the suite hears of the attempt now; the thread then never runs.
                self.on_event(ctx, op, obj, arg)
            t.pending = (op, obj, arg)
            self._decide(t)
            # t runs now: the op takes effect.
            t.pending = None
            if op == _WAKE:
                obj.waiters.clear()
            if self.fp_on:
                fp = self.fp = Footprint()
                acc = access_of(op, obj, arg)
                if acc is not None:
                    fp.add(*acc)
                if self.visible and (
                        ((op == rt.WRITE_ONCE or op == _WRITE)
                         and type(obj).__name__ in VISIBLE_KINDS)
                        or (op in (_LOCK, rt.UNLOCK)
                            and getattr(obj, "lock_class", None) == VISIBLE_LOCK_CLASS)):
                    fp.add(_VISIBLE, True)
            if self.record:
                self._rec(ctx, op, obj, arg)
            self.on_event(ctx, op, obj, arg)
            return None
        if op == _CHOOSE:
            return self._choose(ctx, obj, arg)
        if self.fp_on:
            if op == _READ:
                self.fp.add((label_of(obj), arg), False)
            elif op == _WRITE:
                self.fp.add((label_of(obj), arg), True)
                if self.visible and type(obj).__name__ in VISIBLE_KINDS:
                    self.fp.add(_VISIBLE, True)
        if self.record:
            self._rec(ctx, op, obj, arg)
        self.on_event(ctx, op, obj, arg)
        return None

    def _foreign(self, ctx: rt.ThreadCtx, op: int) -> None:
        """A kernel primitive called from a thread that is not one of this execution's model
        threads: a thread the model (or a variant) started itself, or one the watchdog
        abandoned. Its operations cannot be scheduled: one violation, and the thread ends."""
        t = ctx.engine_data
        if t is None or not t.abandoned:
            who = threading.current_thread().name
            if not any(v.check == "foreign_thread" for v in self.engine_violations):
                self.engine_violations.append(Violation(
                    check="foreign_thread", thread=who, condition="not a model thread",
                    message=f"{rt.OP_NAMES.get(op, op)} called from thread {who!r}, which is "
                            f"not a model thread: model code must not start threads of its "
                            f"own (the scheduler cannot see them)"))
        raise rt.ExecutionAborted()

    def _choose(self, ctx: rt.ThreadCtx, obj: Any, n: int) -> int:
        t = ctx.engine_data
        value = self.source.choose(n, self)
        if value is None and self.divergence is None:
            # The strategy gave up (a DFS prefix that did not replay): pruned, not judged.
            t.pending = (rt.YIELD, None, None)
            self._end(t, "pruned")
        if value is None or not 0 <= value < n:
            self.divergence = self.divergence or f"CHOOSE of {t.name}: no valid answer ({value})"
            t.pending = (rt.YIELD, None, None)
            self._end(t, "diverged")
        self.decisions.append(("c", t.tid, value, n))
        self.trail.append(-1 - value)
        if self.fp_on:
            self.fp.universal = True
        if self.record:
            self._rec(ctx, _CHOOSE, obj, f"{value} of {n}")
        self.on_event(ctx, _CHOOSE, obj, n)
        return value

    # --- deciding -------------------------------------------------------------------------------
    def _violated(self) -> bool:
        """Has a violation to stop at appeared (any, or one matching ``stop_on_violation``
        when it is a ``(check, function)`` pair)?"""
        vs = self.suite.violations
        n = len(vs)
        if n == self._nv:
            return False
        target = self.stop_on_violation
        new = vs[self._nv:]
        self._nv = n
        if target is True:
            return True
        return any((v.check, v.function) == target for v in new)

    def _decide(self, cur: _Thread | None) -> None:
        """Called by the thread that reached a scheduling point (or ended), or by the main
        thread to start the execution. Returns when ``cur`` may run on."""
        if self.structural:
            self.at_step()
        if self.stop_on_violation and self._violated():
            return self._end(cur, "violation")
        runnable = []
        unfinished = False
        for t in self.threads:                  # runnable: see the module doc
            if t.finished:
                continue
            unfinished = True
            op, obj, _ = t.pending
            if op == _LOCK:
                if obj.owner is not None:
                    continue
            elif op == _WAIT_SCHEDULE and t.ctx in obj.waiters:
                continue
            runnable.append(t.tid)
        if not runnable:
            return self._end(cur, self._no_progress() if unfinished else "finished")
        if self.steps >= self.step_budget:
            return self._over_budget(cur, runnable)
        fair = self.fair
        if fair:
            runnable = self._fair_filter(runnable)
        if self.fp_on:
            self.last_fp = self.fp
        choice = self.source.pick(runnable, self)
        if choice is None:
            return self._end(cur, "diverged" if self.divergence else "pruned")
        if choice not in runnable:
            raise RuntimeError(f"strategy {self.source!r} picked {choice}, not in {runnable}")
        nxt = self.threads[choice]
        prev = self.current
        if prev == choice:
            preempt = False
        else:
            preempt = prev is not None and prev in runnable
            if preempt:
                self.preemptions += 1
            self.current = choice
        # the object, not its label: labels are fixed at construction, so naming it when
        # the execution's decisions are read (Execution.decisions) gives the same Decision
        self.decisions.append(("t", choice, nxt.pending[0], nxt.pending[1], preempt))
        self.trail.append(choice)
        self.steps += 1
        if fair:
            for i in runnable:
                th = self.threads[i]
                th.passed_over = 0 if i == choice else th.passed_over + 1
        if nxt is cur:
            return None
        nxt.worker.go.release()
        if cur is not None and not cur.finished:
            cur.worker.go.acquire()
            if self.aborting:
                raise rt.ExecutionAborted()
        return None

    def _over_budget(self, cur: _Thread | None, runnable: list[int]) -> None:
        """The step budget is spent: a liveness violation under fair scheduling (some thread
        still runs after that many fair steps), an inconclusive cut-off otherwise."""
        if self.fair:
            self.engine_violations.append(Violation(
                check="liveness", severity="liveness",
                message=f"no progress: {self.step_budget} steps under fair scheduling "
                        f"and {', '.join(self.threads[i].name for i in runnable)} still run",
                condition="step budget under fair scheduling"))
            return self._end(cur, "liveness")
        return self._end(cur, "step_budget")

    def _end(self, cur: _Thread | None, status: str) -> None:
        self.status = status
        self.done.release()
        if cur is not None and not cur.finished:
            cur.worker.go.acquire()             # parked until unwound
            raise rt.ExecutionAborted()

    def _fair_filter(self, runnable: list[int]) -> list[int]:
        """A simplified fair scheduler (CHESS, Musuvathi & Qadeer PLDI 2008, in spirit): a
        thread passed over FAIR_LIMIT times in a row while runnable must run next."""
        starved = [i for i in runnable if self.threads[i].passed_over >= FAIR_LIMIT]
        return starved or runnable

    def _no_progress(self) -> str:
        """Every unfinished thread is blocked: who waits for whom."""
        frames = sys._current_frames()
        waits: dict[str, str] = {}
        blocked: dict[rt.ThreadCtx, str] = {}
        only_sleepers = True
        behind_oops = True              # every wait is on a lock an oopsed thread still holds
        oopsed = {t.ctx for t in self.threads if t.outcome == "oops"}
        objs = []
        for t in self.threads:
            if t.finished:
                continue
            op, obj, _ = t.pending
            fn = _model_function(frames.get(t.ident)) if t.ident else ""
            where = f" in {fn}()" if fn else ""
            if op == _LOCK:
                only_sleepers = False
                owner = obj.owner
                who = owner.name if owner is not None else "nobody"
                if owner is t.ctx:
                    who = f"{who} itself (AA deadlock)"
                if owner not in oopsed:
                    behind_oops = False
                desc = f"{t.name}{where} waits for {obj.label} held by {who}"
            else:
                behind_oops = False
                desc = f"{t.name}{where} sleeps on {label_of(obj)} and no one is left to wake it"
            objs.append(label_of(obj))
            waits[t.name] = desc
            blocked[t.ctx] = desc
        if self.fair and only_sleepers:
            before = len(self.suite.violations)
            try:
                self.suite.liveness(blocked)
            except Exception:
                self.engine_violations.append(_model_error("check suite", "liveness"))
            if len(self.suite.violations) == before:
                self.engine_violations.append(Violation(
                    check="liveness", severity="liveness",
                    message="waits forever: " + "; ".join(waits.values()),
                    condition=", ".join(sorted(set(objs))), details={"waits": waits}))
            return "liveness"
        if only_sleepers:
            try:
                self.suite.liveness(blocked)
            except Exception:
                pass
        if behind_oops and oopsed:
            # The threads wait for locks an oopsed thread died holding: the oops is the bug,
            # this is its consequence (as on a real machine), not a second violation.
            return "deadlock"
        self.engine_violations.append(Violation(
            check="deadlock", severity="bug", message="; ".join(waits.values()),
            condition=", ".join(sorted(set(objs))), details={"waits": waits}))
        return "deadlock"

    # --- recording (replays and event logs) --------------------------------------------------------
    def _rec(self, ctx: rt.ThreadCtx, op: int, obj: Any, arg: Any) -> None:
        t = ctx.engine_data
        if op == _REPORT:
            label, argtxt = getattr(obj, "check", "REPORT"), str(obj)
        else:
            label, argtxt = label_of(obj), fmt_arg(arg)
        ev = Event(len(self.events), t.tid if t else -1, ctx.name, rt.OP_NAMES[op], label,
                   argtxt, kind=type(obj).__name__, step=self.steps)
        if self.record >= 2:
            ev.function = _model_function(sys._getframe(2))
            ev.state_before = self._snapshot()
        self.events.append(ev)

    def _snapshot(self) -> str:
        from ..model.snapshot import describe_world
        self._snapshotting = True
        try:
            return describe_world(self.world)
        except Exception as e:          # a torn structure must not hide the counterexample
            return f"<state unreadable: {type(e).__name__}: {e}>"
        finally:
            self._snapshotting = False
