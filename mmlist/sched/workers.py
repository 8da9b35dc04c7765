"""The thread handoff: pooled real threads, each woken by a semaphore of its own.

The controlled scheduler (``mmlist.sched.controller``) lets one model thread run at a time; a
switch is one ``release()`` of the next worker's semaphore and one ``acquire()`` of its own.
The semaphore is a pipe (``PipeGo``): one byte written wakes the reader. Measured by
stress/benchmark.py on CPython 3.11 (two threads ping-ponging), a pipe hands off in about half
the time of a ``_thread`` lock pair, the next cheapest, and well under ``threading.Event`` or
``Condition``: the blocking ``read()`` gives the GIL up before it sleeps, and the waking
``write()`` lets the reader take it straight away.
"""
from __future__ import annotations

import os
import threading
import traceback
from typing import Any, Callable

from .. import runtime as rt


def _quiet_aborts(args: Any, _previous: Callable[[Any], None] = threading.excepthook) -> None:
    """``ExecutionAborted`` ends a thread the scheduler does not own (a thread model code
    started itself: ``foreign_thread``) on purpose: no traceback for it."""
    if args.exc_type is not None and issubclass(args.exc_type, rt.ExecutionAborted):
        return
    _previous(args)


threading.excepthook = _quiet_aborts


# ---------------------------------------------------------------------------------------------
# The worker pool.
# ---------------------------------------------------------------------------------------------
class PipeGo:
    """A semaphore over a pipe: ``release()`` writes one byte, ``acquire()`` reads one (blocks
    until there is one). The handoff primitive of the workers (``kind`` names it for the
    benchmark)."""

    kind = "pipe"
    __slots__ = ("_r", "_w")

    def __init__(self) -> None:
        self._r, self._w = os.pipe()

    def release(self) -> None:
        os.write(self._w, b"\0")

    def acquire(self) -> bool:
        os.read(self._r, 1)
        return True

    def close(self) -> None:
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except Exception:           # already closed, or the interpreter is going away
                pass

    def __del__(self) -> None:
        self.close()


class _Worker:
    """One reusable OS thread. ``go`` is its semaphore: empty whenever the worker may not run;
    released exactly once per wake-up (start of a job, or resumption after parking)."""

    def __init__(self, index: int):
        self.go = PipeGo()
        self.job: Callable[[], None] | None = None
        self.thread = threading.Thread(target=self._loop, name=f"mmlist-sched-{index}",
                                       daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            self.go.acquire()
            job, self.job = self.job, None
            if job is None:
                return
            try:
                job()
            except BaseException:       # never lose a worker: the controller reports errors
                traceback.print_exc()


class WorkerPool:
    """Worker threads shared by the executions of one exploration. ``shutdown`` ends them all
    (every worker is idle between executions: the controller unwinds cut-off threads)."""

    def __init__(self) -> None:
        self.workers: list[_Worker] = []

    def get(self, n: int) -> list[_Worker]:
        while len(self.workers) < n:
            self.workers.append(_Worker(len(self.workers)))
        return self.workers[:n]

    def forget(self, worker: _Worker) -> None:
        """Never hand ``worker`` out again: its thread is stuck in code the scheduler cannot
        interrupt (a daemon thread, left to finish or to wait forever)."""
        if worker in self.workers:
            self.workers.remove(worker)

    def shutdown(self) -> None:
        for w in self.workers:
            w.job = None
            w.go.release()
        for w in self.workers:
            w.thread.join(timeout=10)
        self.workers = []

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
