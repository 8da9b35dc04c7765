"""The noisy free-running engine of ``mmlist stress``: ``runtime.DirectEngine`` (real threads,
real locks) with seeded noise at scheduling points, and a listener counting hook operations.

It lives under ``mmlist.engines`` so that the checks name the model function that made an
operation, not this hook (``mmlist.checks.report`` skips engine frames as machinery).
"""
from __future__ import annotations

import contextlib
import random
import sys
import threading
import time
from typing import Any, Callable, Iterator

import numpy as np

from .. import runtime as rt


#: the interpreter's switch interval while the world is being stopped (seconds)
PAUSE_SWITCH_INTERVAL = 1e-5


class NoisyEngine(rt.DirectEngine):
    """``runtime.DirectEngine`` with seeded noise at scheduling points, and a way to stop the
    world for the structural checks.

    Noise: with probability ``p`` a thread yields (``time.sleep(0)``) or spins briefly before
    a scheduling operation, so that interleavings vary more than the GIL's switch interval
    alone makes them. One stream per model thread, seeded by ``seed`` and the thread's id.

    Stopping the world (``paused``): the structural checks judge a state in which every model
    thread stands at a scheduling point, its operation not yet done nor told to the listeners,
    as under the controlled scheduler's ``at_step``. While a pause is requested, a thread that
    reaches a scheduling point parks there; a thread blocked on a lock or a wait queue counts
    as standing at its operation (nothing can release it: every other thread is parked before
    its own operation), and parks before telling the listeners if it gets through anyway.
    Hence the one change of order from the direct engine: ``UNLOCK`` is told to the listeners
    and the thread may park *before* the real release, as the hook runs before the op takes
    effect everywhere else.
    """

    def __init__(self, listeners: list[Callable], seed: int, p: float):
        super().__init__(listeners, np.random.default_rng(seed))
        self.p = p
        self.seed = seed
        self.noise_events = 0               # approximate (unlocked increments): for the table
        self._cond = threading.Condition()
        self._pause = False
        self._parked = 0                    # threads parked at a scheduling point
        self._blocked = 0                   # threads blocked in a lock or a wait
        self._alive = 0                     # model threads started and not finished

    # --- model threads tell the engine they start and end (``mmlist.churn.run``) ----------------
    def thread_started(self) -> None:
        with self._cond:
            self._alive += 1

    def thread_ended(self) -> None:
        with self._cond:
            self._alive -= 1
            self._cond.notify_all()

    # --- the hook ----------------------------------------------------------------------------------
    def _noise_rng(self, ctx: rt.ThreadCtx) -> random.Random:
        r = ctx.engine_data
        if r is None:                       # one stream per model thread: seeded, no lock
            r = ctx.engine_data = random.Random(self.seed * 1_000_003 + ctx.tid)
        return r

    def _noise(self, ctx: rt.ThreadCtx) -> None:
        r = self._noise_rng(ctx)
        if r.random() < self.p:
            self.noise_events += 1
            if r.random() < 0.5:
                time.sleep(0)               # give the GIL away
            else:
                for _ in range(r.randrange(1, 200)):       # a short spin
                    pass

    def hook(self, op: int, obj: Any = None, arg: Any = None) -> Any:
        if op not in rt.SCHEDULING:
            return super().hook(op, obj, arg)
        ctx = getattr(rt._tls, "ctx", None)
        if ctx is None or ctx is rt._setup_ctx:
            return super().hook(op, obj, arg)
        if self.p:
            self._noise(ctx)
        if self._pause:
            self._park()
        if op == rt.UNLOCK:
            if self.listeners:
                self._notify(ctx, op, obj, arg)
            if getattr(obj, "owner", None) is ctx:
                obj.owner = None
            obj.real_lock().release()
            return None
        if op == rt.LOCK:
            real = obj.real_lock()
            if not real.acquire(blocking=False):
                self._block(+1)
                real.acquire()
                self._block(-1)
            if self.listeners:
                self._notify(ctx, op, obj, arg)
            return None
        if op == rt.WAIT_SCHEDULE:
            cond = obj.real_cond()
            self._block(+1)
            with cond:
                while ctx in obj.waiters:
                    cond.wait(0.05)
            self._block(-1)
            if self.listeners:
                self._notify(ctx, op, obj, arg)
            return None
        return super().hook(op, obj, arg)

    def _block(self, delta: int) -> None:
        with self._cond:
            self._blocked += delta
            self._cond.notify_all()
        if delta < 0 and self._pause:       # through while the world stops: wait here
            self._park()

    def _park(self) -> None:
        with self._cond:
            self._parked += 1
            self._cond.notify_all()
            while self._pause:
                self._cond.wait()
            self._parked -= 1

    # --- the checker's side --------------------------------------------------------------------
    @contextlib.contextmanager
    def paused(self, timeout: float) -> Iterator[bool]:
        """Stop the world: yields True once every live model thread is parked or blocked (and
        holds the listeners' lock meanwhile), False if that did not happen within ``timeout``
        (a thread in a long stretch of plain Python): the caller then skips its check."""
        end = time.monotonic() + timeout
        # every thread must get the GIL once to reach its parking place: with the default
        # 5 ms switch interval that takes a switch interval per thread, so shorten it meanwhile
        interval = sys.getswitchinterval()
        sys.setswitchinterval(min(interval, PAUSE_SWITCH_INTERVAL))
        with self._cond:
            self._pause = True
            try:
                while self._parked + self._blocked < self._alive:
                    left = end - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                still = self._parked + self._blocked >= self._alive
            except BaseException:
                self._pause = False
                self._cond.notify_all()
                raise
            finally:
                sys.setswitchinterval(interval)
        try:
            if still:
                with self._listen_lock:
                    yield True
            else:
                yield False
        finally:
            with self._cond:
                self._pause = False
                self._cond.notify_all()


class OpCounter:
    """A listener counting hook operations by op code (cheap: one list increment)."""

    def __init__(self) -> None:
        self.by_op = [0] * (max(rt.OP_NAMES) + 1)

    def __call__(self, ctx: rt.ThreadCtx, op: int, obj: Any, arg: Any) -> None:
        self.by_op[op] += 1

    @property
    def total(self) -> int:
        return sum(self.by_op)

    def named(self) -> dict[str, int]:
        return {rt.OP_NAMES[i]: n for i, n in enumerate(self.by_op) if n and i in rt.OP_NAMES}
