"""Strategies: where every decision comes from.

One small file per strategy, behind the narrow interface of Shuttle's ``Scheduler``
(awslabs/shuttle, ``src/scheduler/``):

* ``new_execution() -> bool``: start an execution (False: the search space is exhausted);
* ``pick(runnable, state) -> int | None``: the thread (tid) that runs next, among the runnable
  ones (sorted); ``None`` gives up on this execution (a branch the reduction prunes, a prefix
  that did not replay, a replay that left its file);
* ``choose(n, state) -> int | None``: a ``CHOOSE`` inside the model, in ``range(n)`` (``None``
  gives up on the execution: "pruned", unless the source set ``state.divergence``);
* ``end_execution(execution)``: what happened (a bounded search backtracks here).

``state`` is the ``Controller``: ``state.current`` (the thread whose step just ended),
``state.nthreads``, ``state.names()``, ``state.pending_of(tid)``, ``state.steps``,
``state.preemptions``, ``state.fair``, ``state.last_fp`` (footprint of the step that just
ended, when ``wants_footprints``).

``exhaustive``: the strategy enumerates a space and can say it ``completed`` it; ``sound``:
completing it means every outcome (final state and violated checks) in that space was reached,
so a clean completed run may be reported "passed". Only the DFS variants are sound.

A decision source plugged in from elsewhere (Hypothesis' ``data.draw``) implements the same
four methods: see ``hypothesis.py``.
"""
from __future__ import annotations

from typing import Any


class Strategy:
    name = "strategy"
    #: the controller computes step footprints only for strategies that use them (DFS)
    wants_footprints = False
    #: True once a bounded, exhaustive search has covered its whole space
    completed = False
    #: systematic searches that enumerate a space (bounded, or every interleaving)
    exhaustive = False
    #: completing the search covers every outcome of its space: "passed" is possible
    sound = False

    def new_execution(self) -> bool:
        return True

    def pick(self, runnable: list[int], state: Any) -> int | None:  # pragma: no cover
        raise NotImplementedError

    def choose(self, n: int, state: Any) -> int | None:  # pragma: no cover
        raise NotImplementedError

    def end_execution(self, execution: Any) -> None:
        pass

    def describe(self) -> str:
        return self.name


#: the default portfolio's rotation over [dfs, random, pct]: pct, random, pct, pct, dfs
PORTFOLIO_TURNS = [2, 1, 2, 2, 0]


def make(name: str, seed: int = 0, preemption_bound: int | None = 2, pct_depth: int = 3,
         reduction: bool = True) -> Strategy:
    """``dfs``: trace caching under a preemption bound, sleep sets when ``preemption_bound`` is
    None (every interleaving); ``reduction=False`` or ``dfs-plain``: no reduction."""
    from .dfs import DFS
    from .pct import PCT
    from .portfolio import Portfolio
    from .random import RandomWalk
    if name == "random":
        return RandomWalk(seed)
    if name == "pct":
        return PCT(seed, pct_depth)
    red = "auto" if reduction else "none"
    if name == "dfs":
        return DFS(preemption_bound, reduction=red)
    if name == "dfs-plain":
        return DFS(preemption_bound, reduction="none")
    if name == "portfolio":
        # Turns: PCT three in five, the random walk and the bounded DFS one each. Measured
        # (docs/benchmarks.md, "time to the first find"): PCT finds F3 and most interleaving
        # mutants first, the random walk the rest; the DFS gives the verdict ("passed" once
        # its bounded search completes) and its pruned branches cost no turn.
        return Portfolio([DFS(preemption_bound, reduction=red), RandomWalk(seed),
                          PCT(seed + 1, pct_depth)], turns=PORTFOLIO_TURNS)
    raise ValueError(f"unknown strategy {name!r} (known: portfolio, random, pct, dfs, "
                     "dfs-plain)")
