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


# --- ordering ------------------------------------------------------------------------------------
# In the model every scheduling point is sequentially consistent: no weak-memory reordering is
# explored (departure from the C). What the LKMM orders matters to the race check all the same:
# READ_ONCE()/WRITE_ONCE() order nothing by themselves; smp_load_acquire()/smp_store_release()
# and rcu_dereference()/rcu_assign_pointer() do. They are the same scheduling points as
# READ_ONCE/WRITE_ONCE (same op codes: schedules, footprints and replay files do not change);
# the field name they pass to the hook is tagged with the ordering (``ordered``), which only the
# race check (mmlist/checks/races.py) reads.

ACQUIRE = "acquire"             # smp_load_acquire()
RELEASE = "release"             # smp_store_release()
RCU_ASSIGN = "rcu_assign"       # rcu_assign_pointer(): a release
RCU_DEREF = "rcu_deref"         # rcu_dereference(): an address-dependency-ordered read


class _ordered_name(str):
    """A field name carrying the ordering of the access (equal to, and hashing like, the plain
    name: footprints, labels and replay files see the plain name)."""

    __slots__ = ("order",)

    def __repr__(self) -> str:
        return str.__repr__(str(self))


class _ordered_index(int):
    """An array index carrying the ordering of the access (see ``_ordered_name``)."""

    def __repr__(self) -> str:
        return int.__repr__(int(self))


def ordered(name: Any, order: str) -> Any:
    """``name`` (a field name or an index) tagged with ``order``."""
    tagged = _ordered_index(name) if isinstance(name, int) else _ordered_name(name)
    tagged.order = order
    return tagged


def order_of(name: Any) -> str | None:
    """The ordering a hooked field name carries (None: a plain READ_ONCE/WRITE_ONCE)."""
    return getattr(name, "order", None)


def smp_load_acquire(obj: Any, name: Any) -> Any:
    """``smp_load_acquire(&obj->name)``: an acquire (pairs with ``smp_store_release``)."""
    rt.hook(rt.READ_ONCE, obj, ordered(name, ACQUIRE))
    return _raw_get(obj, name)


def smp_store_release(obj: Any, name: Any, value: Any) -> None:
    """``smp_store_release(&obj->name, value)``: a release."""
    rt.hook(rt.WRITE_ONCE, obj, ordered(name, RELEASE))
    _raw_set(obj, name, value)


def rcu_assign_pointer(obj: Any, name: Any, value: Any) -> None:
    """``rcu_assign_pointer(obj->name, value)``: publishes ``value`` with a release."""
    rt.hook(rt.WRITE_ONCE, obj, ordered(name, RCU_ASSIGN))
    _raw_set(obj, name, value)


def rcu_dereference(obj: Any, name: Any) -> Any:
    """``rcu_dereference(obj->name)``: a READ_ONCE whose dependent accesses are ordered after
    the ``rcu_assign_pointer`` that published the pointer. The race check treats it as an
    acquire of that release, and of nothing else (not of a WRITE_ONCE or a plain store)."""
    rt.hook(rt.READ_ONCE, obj, ordered(name, RCU_DEREF))
    return _raw_get(obj, name)
