"""Hypothesis as the decision source: every decision is a ``data.draw``, so Hypothesis owns
generation, its example database and shrinking (the pattern of ``hypothesis.stateful``).

    from hypothesis import given, strategies as st
    @given(st.data())
    def test_walkers(data):
        ex = mmlist.sched.run_once("walkers", HypothesisSource(data))
        assert not ex.violations, ex.violations

The draws happen on the model thread that reached the scheduling point; Hypothesis' ``data``
object is not thread-safe, but exactly one model thread runs at a time.
"""
from __future__ import annotations

from typing import Any

from . import Strategy


class HypothesisSource(Strategy):
    name = "hypothesis"

    def __init__(self, data: Any):
        from hypothesis import strategies as st
        self.data = data
        self.st = st

    def pick(self, runnable: list[int], state: Any) -> int:
        if len(runnable) == 1:
            return runnable[0]
        return self.data.draw(self.st.sampled_from(runnable))

    def choose(self, n: int, state: Any) -> int:
        return self.data.draw(self.st.integers(0, n - 1))
