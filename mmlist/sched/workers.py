"""The thread handoff: pooled real threads, each woken by a binary semaphore.

The controlled scheduler (``mmlist.sched.controller``) lets one model thread run at a time; a
switch is one ``release()`` of the next worker's semaphore and one ``acquire()`` of its own.
A ``_thread`` lock is the cheapest handoff Python has (stress/benchmark.py measures it against
``threading.Event``, ``Condition`` and pipes): nothing else runs on this path.
"""
from __future__ import annotations

import _thread
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
class _Worker:
    """One reusable OS thread. ``go`` is a binary semaphore: locked whenever the worker may not
    run; released exactly once per wake-up (start of a job, or resumption after parking)."""

    def __init__(self, index: int):
        self.go = _thread.allocate_lock()
        self.go.acquire()
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
