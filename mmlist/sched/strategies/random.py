"""Random walk: at every scheduling point, a runnable thread uniformly at random.

The baseline of every systematic-testing paper; Shuttle's ``RandomScheduler``. Seeded with
``random.Random(seed)`` (Mersenne Twister): the same seed gives the same executions.
"""
from __future__ import annotations

import random
from typing import Any

from . import Strategy


class RandomWalk(Strategy):
    name = "random"

    def __init__(self, seed: int = 0):
        self.seed = seed
        self.rng = random.Random(seed)

    def pick(self, runnable: list[int], state: Any) -> int:
        if len(runnable) == 1:
            return runnable[0]
        return runnable[self.rng.randrange(len(runnable))]

    def choose(self, n: int, state: Any) -> int:
        return self.rng.randrange(n)

    def describe(self) -> str:
        return f"random(seed={self.seed})"
