"""Run a scenario's threads one after another on the calling thread (deterministic).

The runtime's ``DirectEngine`` would block forever where a sequential run cannot go on (a lock
held by a thread that will never release it, a wait nobody can end); ``_NoBlockEngine`` reports
that to the suite and unwinds the thread instead. Every other op behaves as with
``DirectEngine``; after each scheduling op the suite's structural checks run, as a controlled
scheduler would call them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from .. import runtime as rt
from .suite import CheckSuite


class Stuck(rt.ExecutionAborted):
    """The thread would block forever in a sequential run."""


class _NoBlockEngine(rt.DirectEngine):
    def __init__(self, listeners: list[Callable], suite: CheckSuite | None):
        super().__init__(listeners)
        self.suite = suite

    def hook(self, op: int, obj: Any = None, arg: Any = None) -> Any:
        if op == rt.LOCK and getattr(obj, "owner", None) is not None:
            ctx = rt.current_ctx()
            self._notify(ctx, op, obj, arg)          # lockdep sees the acquisition attempt
            raise Stuck(f"{ctx.name} blocks forever on {obj.label} held by {obj.owner.name}")
        if op == rt.WAIT_SCHEDULE:
            ctx = rt.current_ctx()
            if ctx in obj.waiters:
                self._notify(ctx, op, obj, arg)
                if self.suite is not None:
                    self.suite.liveness({ctx: f"asleep on {obj.label}"})
                raise Stuck(f"{ctx.name} sleeps on {obj.label} and nobody can wake it")
        result = super().hook(op, obj, arg)
        if self.suite is not None and op in rt.SCHEDULING:
            self.suite.at_step()
        return result


@dataclass
class SequentialResult:
    order: list[str]
    finished: list[str] = field(default_factory=list)
    panicked: list[str] = field(default_factory=list)
    stuck: dict[str, str] = field(default_factory=dict)
    suite: CheckSuite | None = None

    @property
    def violations(self) -> list:
        return self.suite.violations if self.suite is not None else []

    def checks(self) -> set[str]:
        return {v.check for v in self.violations}


def run_sequential(world: Any, specs: list, suite: CheckSuite | None = None,
                   order: Iterable[str] | None = None,
                   listeners: Iterable[Callable] = ()) -> SequentialResult:
    """Run ``specs`` one after another (in ``order`` of names, default as given), each to its
    end, on the calling thread; then ``suite.at_end``. Returns what happened."""
    if suite is None:
        suite = CheckSuite(world)
    by_name = {s.name: s for s in specs}
    names = list(order) if order is not None else [s.name for s in specs]
    result = SequentialResult(order=names, suite=suite)
    engine = _NoBlockEngine([suite.on_event, *listeners], suite)
    tids = {s.name: i for i, s in enumerate(specs)}
    with rt.installed(engine), world:
        for name in names:
            spec = by_name[name]
            ctx = spec.ctx(world, tids[name])
            rt.bind_thread(ctx)
            try:
                rt.hook(rt.THREAD_START, ctx)
                spec.body(world)
                rt.hook(rt.THREAD_END, ctx)
                result.finished.append(name)
            except rt.KernelPanic:
                result.panicked.append(name)
            except Stuck as e:
                result.stuck[name] = str(e)
            finally:
                rt.bind_thread(None)
    suite.at_end(finished=not result.stuck)
    return result
