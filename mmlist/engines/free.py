"""The free-running engine: every model thread is a real ``threading.Thread`` and the hook runs
operations on real ``threading`` primitives (``runtime.DirectEngine``). Interleavings come from the
OS scheduler and the GIL's switch interval, which ``run_free`` shortens to shake them up.
"""
from __future__ import annotations

import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .. import runtime as rt
from ..programs import ThreadSpec
from ..violation import Violation


@dataclass
class FreeResult:
    threads: list[str]
    finished: list[str]
    violations: list[Violation] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ops: int = 0
    seconds: float = 0.0
    world: Any = None

    @property
    def hung(self) -> list[str]:
        return [t for t in self.threads if t not in self.finished]


class _Counter:
    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, ctx: rt.ThreadCtx, op: int, obj: Any, arg: Any) -> None:
        self.n += 1


def run_free(world: Any, specs: list[ThreadSpec], listeners: list[Callable] | None = None,
             seed: int = 0, timeout: float = 30.0, switch_interval: float = 1e-5) -> FreeResult:
    """Run ``specs`` concurrently on real threads against ``world``; collect what they report."""
    result = FreeResult(threads=[s.name for s in specs], finished=[], world=world)
    counter = _Counter()
    reports: list[Violation] = []

    def collect(ctx: rt.ThreadCtx, op: int, obj: Any, arg: Any) -> None:
        if op == rt.REPORT:
            reports.append(obj)

    engine = rt.DirectEngine([counter, collect, *(listeners or [])], np.random.default_rng(seed))
    lock = threading.Lock()
    ctxs = [spec.ctx(world, tid) for tid, spec in enumerate(specs)]

    def run_one(spec: ThreadSpec, ctx: rt.ThreadCtx) -> None:
        rt.bind_thread(ctx)
        try:
            rt.hook(rt.THREAD_START, ctx)
            spec.body(world)
            rt.hook(rt.THREAD_END, ctx)
        except rt.KernelPanic:
            pass                                      # reported through REPORT already
        except Exception:                             # a crash of the model itself
            with lock:
                result.errors.append(f"{spec.name}: {traceback.format_exc(limit=4)}")
        finally:
            with lock:
                result.finished.append(spec.name)
            rt.bind_thread(None)

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(switch_interval)
    t0 = time.perf_counter()
    try:
        with rt.installed(engine):
            world.activate()
            threads = [threading.Thread(target=run_one, args=(s, c), name=f"mmlist:{s.name}",
                                        daemon=True) for s, c in zip(specs, ctxs)]
            for t in threads:
                t.start()
            deadline = time.perf_counter() + timeout
            for t in threads:
                t.join(max(0.0, deadline - time.perf_counter()))
    finally:
        sys.setswitchinterval(old_interval)
    result.seconds = time.perf_counter() - t0
    result.ops = counter.n
    result.violations = reports
    return result
