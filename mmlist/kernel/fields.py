"""Shared fields and the kernel's marked accesses (READ_ONCE, WRITE_ONCE, acquire/release).

A ``tracked`` field records every plain access through the hook (``READ``/``WRITE``): not a
scheduling point, but what the lockset race check and the lockdep rules see. Marked accesses
bypass the plain recording and are scheduling points (``READ_ONCE``/``WRITE_ONCE``).
"""
from __future__ import annotations

from typing import Any

from .. import runtime as rt


class tracked:
    """A data descriptor for a shared struct field: ``mm_state.head`` reads like the C."""

    __slots__ = ("name", "slot")

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.slot = "_" + name

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        rt.hook(rt.READ, obj, self.name)
        return obj.__dict__[self.slot]

    def __set__(self, obj: Any, value: Any) -> None:
        rt.hook(rt.WRITE, obj, self.name)
        obj.__dict__[self.slot] = value


def _raw_get(obj: Any, name: Any) -> Any:
    if isinstance(name, int):
        return obj.raw[name] if hasattr(obj, "raw") else obj[name]
    d = obj.__dict__
    slot = "_" + name
    return d[slot] if slot in d else d[name]


def _raw_set(obj: Any, name: Any, value: Any) -> None:
    if isinstance(name, int):
        if hasattr(obj, "raw"):
            obj.raw[name] = value
        else:
            obj[name] = value
        return
    d = obj.__dict__
    slot = "_" + name
    if slot in d:
        d[slot] = value
    else:
        d[name] = value


def init_fields(obj: Any, **values: Any) -> None:
    """Initialise fields of a new, still private object without recording accesses."""
    cls = type(obj)
    d = obj.__dict__
    for name, value in values.items():
        d["_" + name if isinstance(getattr(cls, name, None), tracked) else name] = value


def note_read(obj: Any, name: str) -> None:
    """Record a read of model bookkeeping that is not a C field but that threads share (a freed
    flag, the pid table, the page-table arrays): no scheduling point, but the reduction and the
    checks see it."""
    rt.hook(rt.READ, obj, name)


def note_write(obj: Any, name: str) -> None:
    """Record a write of shared model bookkeeping (see ``note_read``)."""
    rt.hook(rt.WRITE, obj, name)


def READ_ONCE(obj: Any, name: Any) -> Any:
    """``READ_ONCE(obj->name)``; ``name`` may be an index into a list (``filters[gen]``)."""
    rt.hook(rt.READ_ONCE, obj, name)
    return _raw_get(obj, name)


def WRITE_ONCE(obj: Any, name: Any, value: Any) -> None:
    """``WRITE_ONCE(obj->name, value)``."""
    rt.hook(rt.WRITE_ONCE, obj, name)
    _raw_set(obj, name, value)


# In the model every scheduling point is sequentially consistent, so acquire/release reduce to
# marked accesses. Departure from the C: no weak-memory reordering is explored.
smp_load_acquire = READ_ONCE
smp_store_release = WRITE_ONCE
