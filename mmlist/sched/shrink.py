"""Shrinking a failing schedule while the same check still fails.

The objective, in order: fewer preemptions, then fewer steps (decisions up to the violation),
then fewer life-cycle threads (a fork, exit, exec, migration... dropped from the scenario). A
candidate is run with a *lenient* replay (``strategies.replay``: follow the list where it can,
let the running thread go on where it cannot); it is kept when the same check (``check`` and
``function``) fails again and the objective went down, and the schedule actually executed
becomes the new one. The passes repeat until one finds nothing better: a fixed point, so
shrinking a shrunk schedule gives it back unchanged.

Candidates: truncations (keep the first runs, let the rest run without preemption), then for
each preempting run: drop it, swap it with the next run, move it to the end; then dropping any
run; then dropping a life-cycle thread.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from ..scenarios import scenario_without
from ..violation import Violation
from .decisions import Decision
from .strategies.replay import Replay


class ShrinkError(Exception):
    """The schedule given to shrink does not fail with the expected check."""


@dataclass
class ShrinkResult:
    decisions: list[Decision]
    dropped: list[str]
    execution: Any
    violation: Violation
    attempts: int
    fixed_point: bool
    before: tuple[int, int, int]
    after: tuple[int, int, int]


def match(violations: list[Violation], target: tuple[str, str | None]) -> Violation | None:
    for v in violations:
        if (v.check, v.function) == target:
            return v
    return None


def _runs(decisions: list[Decision]) -> list[list[int]]:
    """Indices of the decisions grouped in runs of one thread (CHOOSEs stay with their run)."""
    runs: list[list[int]] = []
    cur = None
    for i, d in enumerate(decisions):
        if d.kind == "thread" and d.thread != cur:
            runs.append([])
            cur = d.thread
        if not runs:
            runs.append([])
        runs[-1].append(i)
    return runs


def _candidates(decisions: list[Decision], dropped: list[str],
                lifecycle: list[str]) -> Iterator[tuple[list[Decision], list[str]]]:
    runs = _runs(decisions)
    n = len(runs)

    def without(skip: set[int], order: list[int] | None = None) -> list[Decision]:
        order = order if order is not None else list(range(n))
        return [decisions[i] for k in order if k not in skip for i in runs[k]]

    seen_len = set()
    for keep in [0, 1, 2] + [n * q // 8 for q in range(1, 8)] + [n - 1]:
        if 0 <= keep < n and keep not in seen_len:
            seen_len.add(keep)
            yield without(set(range(keep, n))), dropped
    preempting = [k for k in range(1, n) if decisions[runs[k][0]].preempt]
    for k in preempting:
        yield without({k}), dropped
        if k + 1 < n:
            order = list(range(n))
            order[k], order[k + 1] = order[k + 1], order[k]
            yield without(set(), order), dropped
        yield without(set(), [j for j in range(n) if j != k] + [k]), dropped
    for k in range(n):
        if k not in preempting:
            yield without({k}), dropped
    for name in lifecycle:
        if name not in dropped:
            yield decisions, dropped + [name]


def shrink_schedule(session: Any, scenario: Any, decisions: list[Decision],
                    target: tuple[str, str | None], cfg: Any, dropped: list[str] | None = None,
                    max_attempts: int = 300, deadline: float | None = None) -> ShrinkResult:
    """``deadline`` (``time.monotonic()``): stop shrinking then, keeping the best so far."""
    import time
    world, specs = scenario.build()
    lifecycle = [s.name for s in specs if s.kind != "walker"]
    attempts = 0
    # one scenario object per set of dropped threads: the session builds it once and restores
    # it for every later attempt with the same threads (its set-up may be long)
    without: dict[tuple[str, ...], Any] = {}

    def attempt(decs: list[Decision], drop: list[str]) -> tuple[Any, Violation] | None:
        nonlocal attempts
        attempts += 1
        if len(drop) >= len(specs):
            return None
        key = tuple(sorted(drop))
        sc = without.get(key)
        if sc is None:
            sc = without[key] = scenario_without(scenario, drop)
        ex = session.run(sc, Replay(decs, strict=False), cfg)
        v = match(ex.violations, target)
        return (ex, v) if v is not None and not ex.divergence else None

    def measure(ex: Any, drop: list[str]) -> tuple[int, int, int]:
        return (ex.preemptions, ex.steps, len([n for n in lifecycle if n not in drop]))

    drop0 = list(dropped or [])
    got = attempt(decisions, drop0)
    if got is None:
        raise ShrinkError(f"the schedule does not fail with {target[0]}"
                          f"{' in ' + target[1] if target[1] else ''}")
    best_ex, best_v = got
    best_drop = drop0
    best_key = before = measure(best_ex, best_drop)
    fixed_point = False
    while attempts < max_attempts:
        improved = False
        for decs, drop in _candidates(best_ex.decisions, best_drop, lifecycle):
            if attempts >= max_attempts or (deadline is not None
                                            and time.monotonic() > deadline):
                break
            got = attempt(decs, drop)
            if got is None:
                continue
            key = measure(got[0], drop)
            if key < best_key:
                best_ex, best_v = got
                best_drop, best_key = list(drop), key
                improved = True
                break
        else:
            if not improved:
                fixed_point = True
                break
        if not improved:
            break
    return ShrinkResult(decisions=list(best_ex.decisions), dropped=best_drop,
                        execution=best_ex, violation=best_v, attempts=attempts,
                        fixed_point=fixed_point, before=before, after=best_key)
