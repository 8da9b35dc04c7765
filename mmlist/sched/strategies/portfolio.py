"""A portfolio: strategies take turns, one execution each. An exhaustive member (DFS) that
completes leaves the rotation and makes the portfolio ``completed``: within its bound the space
has been covered (``sound`` when that member is); the randomised members keep looking beyond it
while the budget lasts. Footprints are computed only for the executions of a member that uses
them, so the random and PCT turns pay nothing for the DFS's reduction."""
from __future__ import annotations

from typing import Any

from . import Strategy


class Portfolio(Strategy):
    name = "portfolio"

    def __init__(self, members: list[Strategy], turns: list[int] | None = None):
        """``turns``: the rotation, as indices into ``members`` (a member may take several
        turns of it); by default each member once, in order."""
        self.members = list(members)
        self.cycle = [self.members[i] for i in (turns if turns is not None
                                                 else range(len(self.members)))]
        if not self.cycle or set(map(id, self.cycle)) != set(map(id, self.members)):
            raise ValueError("a portfolio's turns must give every member at least one turn")
        self.active = list(members)
        self.turn = -1
        self.cur: Strategy = self.cycle[0]
        self._again = False
        self.exhaustive = any(m.exhaustive for m in members)

    @property
    def wants_footprints(self) -> bool:  # type: ignore[override]
        return self.cur.wants_footprints

    @property
    def completed(self) -> bool:  # type: ignore[override]
        return any(m.exhaustive and m.completed for m in self.members)

    @property
    def sound(self) -> bool:  # type: ignore[override]
        """A completed portfolio covers its space when the member that completed is sound."""
        done = [m for m in self.members if m.exhaustive and m.completed]
        if done:
            return any(m.sound for m in done)
        return any(m.exhaustive and m.sound for m in self.members)

    @property
    def only_exhaustive_left(self) -> bool:
        return all(m.exhaustive for m in self.active)

    def new_execution(self) -> bool:
        if self._again and self.cur in self.active:
            # A branch the reduction pruned costs almost nothing: it does not use up a turn.
            self._again = False
            if self.cur.new_execution():
                return True
            self.active.remove(self.cur)
        self._again = False
        for _ in range(len(self.cycle)):        # every position once: each active member
            self.turn = (self.turn + 1) % len(self.cycle)
            m = self.cycle[self.turn]
            if m not in self.active:
                continue
            if m.new_execution():
                self.cur = m
                return True
            self.active.remove(m)
        return False

    def pick(self, runnable: list[int], state: Any) -> int | None:
        return self.cur.pick(runnable, state)

    def choose(self, n: int, state: Any) -> int | None:
        return self.cur.choose(n, state)

    def end_execution(self, execution: Any) -> None:
        self.cur.end_execution(execution)
        self._again = getattr(execution, "status", None) == "pruned"

    def member(self, name: str) -> Strategy | None:
        return next((m for m in self.members if m.name == name), None)

    def describe(self) -> str:
        shares = {id(m): sum(1 for c in self.cycle if c is m) for m in self.members}
        return "portfolio[" + ", ".join(
            m.describe() + (f" x{shares[id(m)]}" if shares[id(m)] > 1 else "")
            for m in self.members) + "]"
