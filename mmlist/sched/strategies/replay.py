"""Replay a schedule: every decision from a saved list, keyed by meaning.

Strict (``mmlist replay``): each thread decision must find the named thread runnable and parked
on the same op and object as recorded; the first mismatch stops the execution and is reported
as the divergence (expected vs observed). Lenient (shrinking): follow the list where it can,
fall back to "let the running thread go on" (else the lowest runnable thread) where it cannot,
and ignore decisions naming threads the scenario no longer has.
"""
from __future__ import annotations

from typing import Any

from ..decisions import Decision
from . import Strategy


class Replay(Strategy):
    name = "replay"

    def __init__(self, decisions: list[Decision], strict: bool = True):
        self.decisions = list(decisions)
        self.strict = strict
        self.i = 0
        self.used = False

    def new_execution(self) -> bool:
        if self.used:
            return False
        self.used = True
        self.i = 0
        return True

    def _diverge(self, state: Any, expected: str, observed: str) -> None:
        state.divergence = (f"decision #{self.i}: expected {expected}, observed {observed}")
        return None

    def _default(self, runnable: list[int], state: Any) -> int:
        return state.current if state.current in runnable else runnable[0]

    def pick(self, runnable: list[int], state: Any) -> int | None:
        names = state.names()
        if not self.strict:
            while self.i < len(self.decisions):
                d = self.decisions[self.i]
                self.i += 1
                if d.kind != "thread" or d.thread not in names:
                    continue
                tid = names.index(d.thread)
                return tid if tid in runnable else self._default(runnable, state)
            return self._default(runnable, state)
        observed_all = ", ".join(f"{names[t]}: {'{}({})'.format(*state.pending_of(t))}"
                                 for t in runnable)
        if self.i >= len(self.decisions):
            return self._diverge(state, "the end of the schedule",
                                 f"runnable threads {observed_all}")
        d = self.decisions[self.i]
        if d.kind != "thread":
            return self._diverge(state, str(d), f"a scheduling point ({observed_all})")
        if d.thread not in names:
            return self._diverge(state, str(d), f"no thread named {d.thread!r}")
        tid = names.index(d.thread)
        op, obj = state.pending_of(tid)
        if tid not in runnable or (op, obj) != (d.op, d.obj):
            where = "" if tid in runnable else " (not runnable)"
            return self._diverge(state, str(d), f"{d.thread}: {op}({obj}){where}")
        self.i += 1
        return tid

    def choose(self, n: int, state: Any) -> int | None:
        if self.i < len(self.decisions) and self.decisions[self.i].kind == "choose":
            d = self.decisions[self.i]
            self.i += 1
            if self.strict and d.n != n:
                self._diverge(state, str(d), f"CHOOSE among {n}")
                return None
            return min(d.value, n - 1)
        if self.strict:
            exp = str(self.decisions[self.i]) if self.i < len(self.decisions) else "the end"
            self._diverge(state, exp, f"CHOOSE among {n}")
            return None
        return 0
