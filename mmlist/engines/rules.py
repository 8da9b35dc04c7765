"""The engine of ``mmlist.stateful``: rules run one after another on one OS thread.

``runtime.DirectEngine`` (real locks, listeners), except that nobody else can release a lock
that is already taken, so taking it would hang the test: a ``deadlock`` is reported instead (in
the model function that takes the lock) and the kernel stops, as after a BUG.

It lives under ``mmlist.engines`` so that the checks name the model function of an operation,
not this hook (``mmlist.checks.report`` skips engine frames as machinery).
"""
from __future__ import annotations

import sys
from typing import Any

from .. import runtime as rt
from ..violation import Violation


def model_function() -> str | None:
    """The innermost model (or variant) function on the caller's stack."""
    f = sys._getframe(2)
    while f is not None:
        mod = f.f_globals.get("__name__", "")
        if mod.startswith(("mmlist.model", "mmlist.variants")):
            return f.f_code.co_name
        f = f.f_back
    return None


class OneRuleAtATime(rt.DirectEngine):
    """A ``LOCK`` of a lock already taken is a deadlock (see the module doc)."""

    def hook(self, op: int, obj: Any = None, arg: Any = None) -> Any:
        if op == rt.LOCK:
            locked = getattr(obj.real_lock(), "locked", None)
            if locked is not None and locked():
                ctx = rt.current_ctx()
                owner = getattr(getattr(obj, "owner", None), "name", "?")
                v = Violation(check="deadlock", thread=ctx.name, condition=obj.lock_class,
                              function=model_function(),
                              message=f"{ctx.name} takes {obj.label}, held by {owner}, which "
                                      f"nothing can release: the CPU spins forever")
                rt.DirectEngine.hook(self, rt.REPORT, v)
                raise rt.KernelPanic(v)
        return rt.DirectEngine.hook(self, op, obj, arg)
