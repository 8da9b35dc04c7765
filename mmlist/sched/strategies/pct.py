"""PCT: probabilistic concurrency testing with bug depth ``d``.

Burckhardt, Kothari, Musuvathi, Nagarakatte, "A Randomized Scheduler with Probabilistic
Guarantees of Finding Bugs", ASPLOS 2010. Each execution gives the ``n`` threads distinct random
priorities ``d..d+n-1``, draws ``d-1`` change points among the first ``k`` steps, and always
runs the runnable thread of highest priority; at the ``i``-th change point the running thread's
priority drops to ``i`` (below every initial priority). A bug of depth ``d`` is then hit with
probability at least ``1/(n * k^(d-1))`` per execution, so after ``N`` executions the
probability of having missed it is at most ``(1 - 1/(n*k^(d-1)))^N``.

Departures from the paper: ``k`` is not known in advance; it is the largest number of steps seen
so far (the first execution uses its own budget guess), so the bound is reported with the ``k``
actually observed. ``CHOOSE`` decisions inside the model are uniform random.
"""
from __future__ import annotations

import random
from typing import Any

from . import Strategy


class PCT(Strategy):
    name = "pct"

    def __init__(self, seed: int = 0, depth: int = 3, k_guess: int = 100):
        if depth < 1:
            raise ValueError("PCT depth must be at least 1")
        self.seed = seed
        self.depth = depth
        self.rng = random.Random(seed)
        self.k = k_guess
        self.max_steps = 0
        self.max_threads = 0
        self.runs = 0
        self.prio: dict[int, int] = {}
        self.changes: dict[int, int] = {}
        self.step = 0

    def new_execution(self) -> bool:
        self.prio = {}
        k = max(self.k, 1)
        points = self.rng.sample(range(1, k + 1), min(self.depth - 1, k))
        self.changes = {p: i + 1 for i, p in enumerate(sorted(points))}
        self.step = 0
        return True

    def _init_prio(self, n: int) -> None:
        order = list(range(n))
        self.rng.shuffle(order)
        self.prio = {tid: self.depth + rank for rank, tid in enumerate(order)}

    def pick(self, runnable: list[int], state: Any) -> int:
        if not self.prio:
            self._init_prio(state.nthreads)
        self.step += 1
        i = self.changes.get(self.step)
        if i is not None and state.current is not None:
            self.prio[state.current] = i
        return max(runnable, key=self.prio.__getitem__)

    def choose(self, n: int, state: Any) -> int:
        return self.rng.randrange(n)

    def end_execution(self, execution: Any) -> None:
        self.runs += 1
        self.max_steps = max(self.max_steps, execution.steps)
        self.max_threads = max(self.max_threads, len(execution.threads))
        self.k = max(self.max_steps, 1)

    def bound(self) -> dict[str, Any]:
        """The guarantee so far: per-run probability of hitting a depth-d bug and the bound on
        having missed it after ``runs`` executions."""
        n, k, d = max(self.max_threads, 1), max(self.max_steps, 1), self.depth
        p = 1.0 / (n * k ** (d - 1))
        return {"depth": d, "threads": n, "steps": k, "per_run": p, "runs": self.runs,
                "miss_probability": (1.0 - p) ** self.runs}

    def describe(self) -> str:
        return f"pct(seed={self.seed}, depth={self.depth})"
