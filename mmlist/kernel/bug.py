"""``mmdebug.h``, ``bug.h``, ``lockdep.h`` assertions. Each failure is a ``Violation`` named as in
the C, reported through the hook (``REPORT``); the ``BUG`` flavours then end the model thread with
``KernelPanic`` as the kernel would oops. The condition is passed as the C text, so the report
quotes it.
"""
from __future__ import annotations

import sys
from typing import Any

from .. import runtime as rt
from ..violation import Violation


def _report(check: str, condition: str, severity: str, extra: str = "",
            details: dict[str, Any] | None = None, depth: int = 2) -> Violation:
    fn = sys._getframe(depth).f_code.co_name
    ctx = rt.current_ctx()
    msg = f"{check}({condition}) failed in {fn}(){extra}"
    v = Violation(check=check, message=msg, severity=severity, thread=ctx.name, function=fn,
                  condition=condition, details=dict(details or {}))
    rt.hook(rt.REPORT, v)
    return v


def VM_BUG_ON(cond: Any, text: str) -> None:
    if cond:
        raise rt.KernelPanic(_report("VM_BUG_ON", text, "bug"))


def VM_BUG_ON_MM(cond: Any, mm: Any, text: str) -> None:
    if cond:
        label = getattr(mm, "label", repr(mm))
        raise rt.KernelPanic(_report("VM_BUG_ON_MM", text, "bug", f": dump_mm({label})",
                                     {"mm": label}))


def VM_WARN_ON(cond: Any, text: str) -> bool:
    if cond:
        _report("VM_WARN_ON", text, "warning")
    return bool(cond)


def WARN_ON_ONCE(cond: Any, text: str) -> bool:
    if cond:
        _report("WARN_ON_ONCE", text, "warning")
    return bool(cond)


def lockdep_assert_held(lock: Any, text: str | None = None) -> None:
    """``lockdep_assert_held(l)``: a WARN when the current context does not hold ``l``."""
    ctx = rt.current_ctx()
    held = lock.owner is ctx if not hasattr(lock, "readers") else lock in ctx.locks_held
    if not held:
        _report("lockdep_assert_held", text or f"&{lock.label}", "warning",
                f": {lock.label} not held by {ctx.name}", {"lock": lock.label})


def BUG_ON(cond: Any, text: str) -> None:
    if cond:
        raise rt.KernelPanic(_report("BUG_ON", text, "bug"))


def KASAN_use_after_free(obj: Any, access: str) -> None:
    """What KASAN prints for an access to freed memory; the model carries on (the object's
    fields are still there), as KASAN does without panic_on_warn."""
    label = getattr(obj, "label", repr(obj))
    _report("KASAN", f"use-after-free: {access}", "bug", f": {label} was freed",
            {"object": label}, depth=3)


def KASAN_out_of_bounds(obj: Any, access: str, why: str) -> None:
    """What KASAN prints for an access past the end (or before the start) of an allocation;
    the model carries on, as KASAN does without panic_on_warn."""
    label = getattr(obj, "label", repr(obj))
    _report("KASAN", f"slab-out-of-bounds: {access}", "bug", f": {label}: {why}",
            {"object": label}, depth=3)


def wild_pointer(access: str, why: str) -> None:
    """A dereference of a pointer that points at no object of its type: a general protection
    fault (or a silent corruption) in the kernel; an oops here."""
    raise rt.KernelPanic(_report("general_protection_fault", access, "bug", f": {why}",
                                 depth=3))


def BUILD_BUG_ON(cond: Any, text: str) -> None:
    """Evaluated when a World is configured: a configuration the C would not compile."""
    if cond:
        raise ValueError(f"BUILD_BUG_ON({text}): this configuration would not compile")
