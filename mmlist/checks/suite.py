"""``CheckSuite``: every check of one execution behind one listener.

Engines call ``on_event`` for every hook op, ``at_step`` at scheduling points, ``at_end`` once,
and ``liveness`` when they want to know whether blocked walkers can still be woken.
"""
from __future__ import annotations

from collections import deque
from typing import Any, Callable

from .. import runtime as rt
from ..kernel.bitops import cpumask_t as _cpumask_t
from ..model.snapshot import snapshot
from ..violation import Violation
from .bloom import BloomNegatives
from .history import History
from .lifetimes import Lifetimes
from .lockdep import Lockdep
from .ownership import Ownership
from .races import RaceChecker
from .report import format_event, label, labelled_trace, protocol_stack
from .skip_rule import SkipRule
from .stats_hist import StatsHist
from .switch_state import SwitchState
from .structural import Structural
from .usage_hints import UsageHints
from .page_walk import PageWalk
from .waiting import Waiting

_READ, _WRITE = rt.READ, rt.WRITE
_READ_ONCE, _WRITE_ONCE = rt.READ_ONCE, rt.WRITE_ONCE
_BIT_READ, _BIT_WRITE, _ATOMIC = rt.BIT_READ, rt.BIT_WRITE, rt.ATOMIC
_LOCK, _UNLOCK, _TRACE = rt.LOCK, rt.UNLOCK, rt.TRACE
_WAIT_PREPARE = rt.WAIT_PREPARE
_QUIET = frozenset({rt.READ, rt.READ_ONCE, rt.BIT_READ, rt.YIELD, rt.CHOOSE})

# Happens-before follows the LKMM (mmlist/checks/races.py says how): READ_ONCE/WRITE_ONCE order
# nothing; acquire and release come only from smp_load_acquire/smp_store_release and
# rcu_dereference/rcu_assign_pointer (tagged by mmlist.kernel.fields), lock/unlock of the same
# lock instance, value-returning atomics that succeed, and wait/wake.

#: Violations kept per check name before further ones are dropped (a broken mutant can
#: otherwise report on every event).
MAX_PER_CHECK = 25


def _nothing() -> None:
    pass


class CheckSuite:
    """All the checks of one execution.

    ``structural``: list and cursor invariants at ``at_step``; ``races``: the lockset and
    happens-before race check (the most expensive part: turn it off for speed).
    """

    def __init__(self, world: Any, structural: bool = True, races: bool = True,
                 history: bool = True, lockdep: bool = True, recent: int = 20,
                 free_running: bool = False):
        self.world = world
        #: the engine lets other threads run between an op's notification and its effect
        #: (free-running threads): checks that compare snapshots of shared state allow for it
        self.free_running = free_running
        self.violations: list[Violation] = []
        #: called with each violation as it is recorded (``mmlist stress`` stamps its op log)
        self.on_violation: Callable[[Violation], None] | None = None
        self._keys: set = set()
        self._per_check: dict[str, int] = {}
        self._recent: deque = deque(maxlen=recent)
        #: every protocol (TRACE) event of the execution, raw: (thread, event, facts)
        self.protocol: list[tuple[str, str, dict]] = []
        self._history = History(self, world)
        self._lockdep = Lockdep(self, world) if lockdep else None
        self._races = RaceChecker(self, world) if races else None
        # The property checks of lifetimes, ownership, waiting, stats slots, the size rule and
        # Bloom filter negatives (modules of their own) listen to the same TRACE events as the
        # history and run with it; ownership is judged with the structural checks.
        self._ownership = Ownership(self, world) if history else None
        self._lifetimes = Lifetimes(self, world) if history else None
        self._waiting = Waiting(self, world) if history else None
        self._bloom = BloomNegatives(self, world) if history else None
        self._usage = UsageHints(self, world) if history else None
        self._walks = PageWalk(self, world, free_running) if history else None
        self._skips = SkipRule(self, world) if history else None
        self._extra = [x for x in (self._lifetimes, self._ownership, self._waiting,
                                   StatsHist(self, world) if history else None,
                                   self._skips, self._bloom,
                                   self._usage, self._walks,
                                   SwitchState(self, world) if history else None)
                       if x is not None]
        self._structural = (Structural(self, world, self._history, self._ownership)
                            if structural else None)
        self._history_on = history
        self._trace_handlers = self._history.handlers() if history else {}
        #: TRACE event name -> the property checks' handlers, in order
        self._extra_handlers: dict[str, tuple] = {}
        for x in self._extra:
            for name, h in x.handlers().items():
                self._extra_handlers[name] = self._extra_handlers.get(name, ()) + (h,)
        #: the structural checks' record of what changed (None: structural checks off)
        self._touch = self._structural.touch if self._structural is not None else None
        #: what an engine calls at each scheduling point (``at_step`` without the indirection)
        self.step_check = (self._structural.check if self._structural is not None
                           else _nothing)
        if self._structural is not None:
            # what the history and ownership track and the structural checks compare with
            self._history.changed = self._structural.touch_lruvec
            if self._ownership is not None:
                self._ownership.changed = self._structural.touch_all
        self._lock_owner: dict = {}
        self.started: set = set()
        self.ended: set = set()
        self.dead: set = set()

    # --- results ---------------------------------------------------------------------------------
    @property
    def benign(self) -> list[dict[str, Any]]:
        """Races that the findings registry's allowlist (``mmlist.findings``, entries with
        ``benign_races``; ``mmlist.checks.races.BENIGN``) judges intended."""
        return self._races.benign if self._races is not None else []

    def report(self, check: str, message: str, ctx: Any = None, function: str | None = None,
               condition: str | None = None, severity: str = "bug",
               details: dict[str, Any] | None = None,
               stack: list[str] | None = None) -> Violation | None:
        key = (check, function, condition, message)
        if key in self._keys:
            return None
        n = self._per_check.get(check, 0)
        if n >= MAX_PER_CHECK:
            return None
        self._keys.add(key)
        self._per_check[check] = n + 1
        v = Violation(check=check, message=message, severity=severity,
                      thread=getattr(ctx, "name", None), function=function, condition=condition,
                      snapshot=self._snapshot(), events=self.recent_events(),
                      details=dict(details or {}),
                      stack=list(stack) if stack is not None else self._stack_of(ctx),
                      trace=labelled_trace(self.protocol))
        self._add(v)
        return v

    @staticmethod
    def _stack_of(ctx: Any) -> list[str]:
        """The protocol functions on ``ctx``'s stack when the report is made on its own thread
        (history, lockdep and race checks run there); [] for a check on the state as a whole."""
        if ctx is None or ctx is not rt.current_ctx():
            return []
        return protocol_stack(3)

    def _snapshot(self) -> dict[str, Any] | None:
        try:
            return snapshot(self.world)
        except Exception as e:                       # a broken list must not break reporting
            return {"error": repr(e)}

    def recent_events(self) -> list[str]:
        return [format_event(*e) for e in self._recent]

    def _add(self, v: Violation) -> None:
        self.violations.append(v)
        if self.on_violation is not None:
            self.on_violation(v)

    def _kernel_report(self, ctx: Any, v: Violation) -> None:
        if v.severity == "bug":
            self.dead.add(ctx)
        key = (v.check, v.function, v.condition, v.message)
        if key in self._keys:
            return
        self._keys.add(key)
        if v.snapshot is None:
            v.snapshot = self._snapshot()
        if not v.events:
            v.events = self.recent_events()
        if not v.stack:
            v.stack = self._stack_of(ctx)
        v.trace = labelled_trace(self.protocol)
        self._add(v)

    # --- the listener ----------------------------------------------------------------------------
    def on_event(self, ctx: Any, op: int, obj: Any, arg: Any) -> None:
        if self.free_running:
            walks = self._walks
            if walks is not None and ctx in walks.inflight:
                walks.effect_done(ctx)      # its earlier page-table write has taken effect
        bloom = self._bloom
        if bloom is not None and bloom.pending and op != _BIT_READ and op != _BIT_WRITE:
            bloom.op_done(ctx)
        if op == _READ or op == _WRITE:
            if op == _WRITE:
                if self._touch is not None:
                    self._touch(obj, arg)
                if arg == "ptes" and self._walks is not None and (
                        self._walks.open or self.free_running):
                    self._walks.on_ptes_write(ctx, obj)
            elif arg == "oom_victim" and self._skips is not None:
                self._skips.on_oom_read(ctx, obj)
            if self._races is not None:
                self._races.plain(ctx, op, obj, arg)
            return
        if op not in _QUIET:
            self._recent.append((ctx.name, op, obj, arg))
        ld = self._lockdep
        if ld is not None and ld.pending_sleep and op != _LOCK:
            ld.flush_sleep(ctx)
        if op == _READ_ONCE or op == _WRITE_ONCE or op == _BIT_READ or op == _BIT_WRITE:
            if op != _READ_ONCE and op != _BIT_READ:
                if self._touch is not None:
                    self._touch(obj, arg)
                if (op == _BIT_WRITE and self._usage is not None
                        and type(obj) is _cpumask_t):
                    self._usage.on_cpumask(ctx, obj)     # mm_cpumask: usage_hint_*
            if (op == _READ_ONCE and arg == "moving_account" and self._walks is not None
                    and self._walks.walking):
                self._walks.on_moving_account(ctx, obj)
            if (op == _READ_ONCE and bloom is not None and isinstance(arg, int)
                    and str(getattr(obj, "label", "")).endswith(".filters")):
                bloom.on_filter_read(ctx, obj, arg)
                if self._walks is not None and self._walks.open:
                    self._walks.on_filter_read(ctx, obj, arg)
            if self._races is not None:
                if op <= _WRITE_ONCE:
                    self._races.once(ctx, op, obj, arg)
                else:
                    self._races.plain(ctx, op, obj, "#bits", marked=True)
            return
        if op == _TRACE:
            self.protocol.append((ctx.name, obj, arg))
            h = self._trace_handlers.get(obj)
            if h is not None:
                h(ctx, arg)
            for h in self._extra_handlers.get(obj, ()):
                h(ctx, arg)
            return
        if op == _ATOMIC:
            if self._touch is not None:
                self._touch(obj)
            if arg == "dec_and_test":
                if ld is not None:
                    ld.on_dec_and_test(ctx, obj)
                if self._lifetimes is not None:
                    self._lifetimes.on_dec_and_test(ctx, obj)
            if self._races is not None:
                self._races.atomic(ctx, obj, arg)
            return
        if op == _LOCK:
            if ld is not None:
                ld.on_lock(ctx, obj)
            if self._walks is not None and self._walks.open:
                self._walks.on_lock(ctx, obj)
            if self._races is not None:
                prev = self._lock_owner.get(obj)
                if prev is not None and prev is not ctx:
                    # Free-running engines notify UNLOCK after the real release: the previous
                    # owner's UNLOCK may not have reached us yet. It has released the lock.
                    self._races.release(prev, obj)
                self._lock_owner[obj] = ctx
                self._races.acquire(ctx, obj)
            return
        if op == _UNLOCK:
            if self._touch is not None:
                self._touch(obj)
            if ld is not None:
                ld.on_unlock(ctx, obj)
            if self._ownership is not None and self._ownership.open:
                self._ownership.on_unlock(ctx, obj)
            if self._races is not None:
                if self._lock_owner.get(obj) is ctx:
                    del self._lock_owner[obj]
                    self._races.release(ctx, obj)
                elif hasattr(obj, "readers"):
                    self._races.read_unlock(ctx, obj)       # up_read(): to writers only
            return
        if op == rt.CONTEXT:
            if arg == "might_sleep" and ld is not None:
                ld.on_might_sleep(ctx)
            return
        if op == rt.REPORT:
            self._kernel_report(ctx, obj)
            return
        if op == rt.THREAD_START:
            self.started.add(ctx)
            if self._races is not None:
                self._races.thread_start(ctx)
            return
        if op == rt.THREAD_END:
            self.ended.add(ctx)
            if arg == "error":
                self.dead.add(ctx)          # a crash of the model (model_error): not judged
            if self._touch is not None:
                self._structural.touch_all()
            if ld is not None and ctx not in self.dead:
                ld.on_thread_end(ctx)       # an oopsed thread keeps its locks: not a new bug
            return
        if op == _WAIT_PREPARE and self._waiting is not None:
            self._waiting.on_wait_prepare(ctx, obj)
        if self._races is not None:
            if op == rt.TRYLOCK:
                self._races.trylock(ctx, obj)
            elif op in (rt.WAIT_PREPARE, rt.WAIT_SCHEDULE, rt.WAIT_FINISH, rt.WAKE):
                self._races.wait_op(ctx, op, obj)

    # --- engine entry points ---------------------------------------------------------------------
    def at_step(self) -> None:
        """Structural checks on the mm_lists whose lock is free, on what changed since the
        last step (``Structural.check``: nothing, when nothing changed)."""
        if self._structural is not None:
            self._structural.check()

    def never_run_again(self, ctxs: list) -> None:
        """Threads blocked for good (behind an oops that holds what they wait for): a
        ``might_sleep()`` of theirs waits for the lock it precedes (under PREEMPT_RT the LOCK
        decides), which never comes, so it is not judged at the end."""
        if self._lockdep is not None:
            for ctx in ctxs:
                self._lockdep.pending_sleep.pop(ctx, None)

    def at_end(self, finished: bool) -> None:
        """End of the execution; ``finished=False`` (cut off) skips the completeness checks."""
        if self._lockdep is not None:
            for ctx in list(self._lockdep.pending_sleep):
                self._lockdep.flush_sleep(ctx)
        if self._structural is not None:
            self._structural.full_check()
        if self._history_on:
            self._history.at_end(finished, self.dead, self.ended)
        for x in self._extra:
            end = getattr(x, "at_end", None)
            if end is not None:
                end(finished, self.dead, self.ended)

    def liveness(self, blocked: dict) -> list[Violation]:
        """``blocked``: {ThreadCtx: description} of threads that cannot run now. Reports each
        walker asleep on a lruvec's ``mm_state->wait`` that no unfinished, unblocked thread
        could wake: none of them is inside the aging of that lruvec (only the aging increments
        ``max_seq`` and wakes the queue). Call it when nothing else can run, or at the end."""
        found: list[Violation] = []
        h = self._history
        waits = {lv.mm_state.wait: lv for lv in self.world.lruvecs()}
        for ctx, desc in blocked.items():
            wq = getattr(ctx, "waiting_on", None)
            lv = waits.get(wq)
            if lv is None:
                continue
            aging = h.aging.get(ctx)
            s = aging[1] if aging is not None else None
            helpers = [t for t in self.started
                       if t not in self.ended and t not in blocked and t is not ctx
                       and t not in self.dead and (h.aging.get(t) or (None,))[0] is lv]
            if helpers:
                continue
            now = lv.lrugen.__dict__["_max_seq"]
            if s is not None and now > s:
                msg = (f"lost wake-up: {ctx.name} sleeps on {label(wq)} for max_seq > {s} of "
                       f"{label(lv)}; max_seq is already {now} and nobody is left to wake it")
            else:
                msg = (f"{ctx.name} sleeps on {label(wq)} for max_seq > {s} of {label(lv)} "
                       f"(now {now}, nr_walkers="
                       f"{lv.mm_state.__dict__['_nr_walkers']}) and no unfinished thread can "
                       f"increment it")
            v = self.report("liveness", msg, ctx=ctx, function="try_to_inc_max_seq",
                            condition="wait_event_killable(mm_state->wait)", severity="liveness",
                            details={"blocked": {getattr(k, 'name', str(k)): str(d)
                                                 for k, d in blocked.items()}})
            if v is not None:
                found.append(v)
        return found
