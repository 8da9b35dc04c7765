"""Violations as data: labels, event strings, and where in the model an operation came from.

Helpers only: ``mmlist.violation.Violation`` is the record; the checks fill ``details`` when they
need more than its fields.
"""
from __future__ import annotations

import sys
from typing import Any

from .. import runtime as rt

#: Modules whose frames are machinery, not the model: skipped when naming the caller.
_MACHINERY = ("mmlist.kernel", "mmlist.runtime", "mmlist.checks", "mmlist.engines",
              "mmlist.sched", "mmlist.model.structs", "threading")


def label(x: Any) -> str:
    """The stable name of a model object (``mm#3``, ``lruvec(memcg=1,node=0)``)."""
    if x is None:
        return "NULL"
    if isinstance(x, (bool, int, float, str)):
        return str(x)
    lab = getattr(x, "label", None)
    if lab is not None:
        return str(lab)
    if isinstance(x, tuple):
        return "(" + ",".join(label(i) for i in x) + ")"
    return repr(x)


def format_event(name: str, op: int, obj: Any, arg: Any) -> str:
    """One line per event, e.g. ``reclaim0: get_next_mm(lruvec=..., mm=mm#2, last=False)``."""
    if op == rt.TRACE:
        facts = ", ".join(f"{k}={label(v)}" for k, v in (arg or {}).items())
        return f"{name}: {obj}({facts})"
    if op == rt.CONTEXT:
        return f"{name}: {arg}"
    if op == rt.REPORT:
        return f"{name}: {obj}"
    opname = rt.OP_NAMES.get(op, str(op))
    if op in (rt.THREAD_START, rt.THREAD_END, rt.YIELD):
        return f"{name}: {opname}"
    tail = "" if arg is None else (f"[{arg}]" if isinstance(arg, int) else f".{arg}")
    return f"{name}: {opname} {label(obj)}{tail}"


def caller_and_parent(depth: int = 2, frame: Any = None
                      ) -> tuple[str | None, str | None, str | None]:
    """``caller()`` plus the name of the function that called the model function (one frame
    further out), for allowlist rows that name the caller. ``frame``: start there instead
    of ``depth`` frames up (a frame kept from an earlier access: lazy naming)."""
    f = frame if frame is not None else sys._getframe(depth)
    via = None
    while f is not None:
        mod = f.f_globals.get("__name__", "")
        if not mod.startswith(_MACHINERY):
            up = f.f_back
            return f.f_code.co_name, via, up.f_code.co_name if up is not None else None
        if via is None and mod.startswith("mmlist.kernel") and mod != "mmlist.kernel.fields" \
                and not f.f_code.co_name.startswith("_"):
            via = f.f_code.co_name
        f = f.f_back
    return None, via, None


def caller(depth: int = 2) -> tuple[str | None, str | None]:
    """``(model function, kernel helper)`` of the operation being reported: the innermost frame
    outside the machinery, and the innermost ``mmlist.kernel`` function it went through
    (``list_empty``, ``__list_add``...), if any, besides the field descriptors."""
    f = sys._getframe(depth)
    via = None
    while f is not None:
        mod = f.f_globals.get("__name__", "")
        if not mod.startswith(_MACHINERY):
            return f.f_code.co_name, via
        if via is None and mod.startswith("mmlist.kernel") and mod != "mmlist.kernel.fields" \
                and not f.f_code.co_name.startswith("_"):
            via = f.f_code.co_name
        f = f.f_back
    return None, via


#: Modules whose frames are protocol (kernel) functions: the model and variants' replacements.
_PROTOCOL = ("mmlist.model.", "mmlist.variants._loaded.")


def protocol_stack(depth: int = 1) -> list[str]:
    """The kernel functions on the calling thread's stack, outermost first (``context_switch``,
    ``lru_gen_use_mm``): what a violation's ``stack`` records. Frames of the kernel primitives,
    the checks and the engines are left out."""
    out: list[str] = []
    f = sys._getframe(depth)
    while f is not None:
        mod = f.f_globals.get("__name__", "")
        if mod.startswith(_PROTOCOL) and mod != "mmlist.model.structs":
            out.append(f.f_code.co_name)
        f = f.f_back
    out.reverse()
    return out


def labelled_trace(events: list[tuple[str, str, dict]]) -> list[list[Any]]:
    """Protocol (TRACE) events as ``[thread, event, {fact: label}]``: plain data."""
    return [[who, ev, {k: label(v) for k, v in (facts or {}).items()}]
            for who, ev, facts in events]
