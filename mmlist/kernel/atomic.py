"""``atomic_t``: read-modify-write under one process-wide lock, so that free-running threads
see them atomic too. Each op is one ``ATOMIC`` scheduling point.
"""
from __future__ import annotations

import threading

from .. import runtime as rt

_ATOMIC = threading.Lock()


class atomic_t:
    __slots__ = ("counter", "label")

    def __init__(self, value: int = 0, label: str = "atomic_t"):
        self.counter = value
        self.label = label

    def __repr__(self) -> str:
        return f"<{self.label}={self.counter}>"


def atomic_read(v: atomic_t) -> int:
    rt.hook(rt.ATOMIC, v, "read")
    return v.counter


def atomic_inc(v: atomic_t) -> None:
    rt.hook(rt.ATOMIC, v, "inc")
    with _ATOMIC:
        v.counter += 1


def atomic_inc_not_zero(v: atomic_t) -> bool:
    rt.hook(rt.ATOMIC, v, "inc_not_zero")
    with _ATOMIC:
        if v.counter == 0:
            return False
        v.counter += 1
        return True


def atomic_dec_and_test(v: atomic_t) -> bool:
    rt.hook(rt.ATOMIC, v, "dec_and_test")
    with _ATOMIC:
        v.counter -= 1
        return v.counter == 0
