"""The engine of ``mmlist.stateful``: rules run one after another on one OS thread.

``runtime.DirectEngine`` (real locks, listeners), except that nobody else can release a lock
that is already taken, so taking it would hang the test: a ``deadlock`` is reported instead (in
the model function that takes the lock) and the kernel stops, as after a BUG.

It lives under ``mmlist.engines`` so that the checks name the model function of an operation,
not this hook (``mmlist.checks.report`` skips engine frames as machinery, and so does the
``caller()`` that names the function of a deadlock).
"""
from __future__ import annotations

from typing import Any

from .. import runtime as rt
from ..checks.report import caller
from ..violation import Violation


class OneRuleAtATime(rt.DirectEngine):
    """A ``LOCK`` of a lock already taken is a deadlock (see the module doc)."""

    def hook(self, op: int, obj: Any = None, arg: Any = None) -> Any:
        if op == rt.LOCK:
            locked = getattr(obj.real_lock(), "locked", None)
            if locked is not None and locked():
                ctx = rt.current_ctx()
                owner = getattr(getattr(obj, "owner", None), "name", "?")
                v = Violation(check="deadlock", thread=ctx.name, condition=obj.lock_class,
                              function=caller(1)[0],
                              message=f"{ctx.name} takes {obj.label}, held by {owner}, which "
                                      f"nothing can release: the CPU spins forever")
                rt.DirectEngine.hook(self, rt.REPORT, v)
                raise rt.KernelPanic(v)
        return rt.DirectEngine.hook(self, op, obj, arg)
