"""A controlled exploration runs its model threads on one CPU, and gives the affinity back.

Only one model thread runs at a time, so one CPU loses nothing, and a handoff on one CPU does
not wake an idle one (docs/scheduler.md). ``MMLIST_PIN=0`` turns it off, ``MMLIST_CPU`` names
the CPU (``--jobs`` gives each worker process its own).
"""
from __future__ import annotations

import os
from typing import Any

import pytest

from mmlist import sched
from mmlist.sched.affinity import chosen_cpu, current_cpu, one_cpu
from mmlist.sched.strategies.random import RandomWalk

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs a platform with CPU affinity and two CPUs at least")


class _Watching(RandomWalk):
    """A random walk that notes the CPUs the model thread asking it may run on."""

    def __init__(self) -> None:
        super().__init__(0)
        self.seen: set[frozenset[int]] = set()

    def pick(self, runnable: list[int], state: Any) -> int:
        self.seen.add(frozenset(os.sched_getaffinity(0)))
        return super().pick(runnable, state)


def test_model_threads_run_on_one_cpu_and_the_affinity_comes_back() -> None:
    before = os.sched_getaffinity(0)
    strat = _Watching()
    sched.explore("walkers", strategy=strat, max_executions=3, shrink=False)
    assert len(strat.seen) == 1 and len(next(iter(strat.seen))) == 1
    assert next(iter(next(iter(strat.seen)))) in before
    assert os.sched_getaffinity(0) == before


def test_pinning_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMLIST_PIN", "0")
    strat = _Watching()
    sched.explore("walkers", strategy=strat, max_executions=2, shrink=False)
    assert strat.seen == {frozenset(os.sched_getaffinity(0))}
    with one_cpu() as cpu:
        assert cpu is None


def test_mmlist_cpu_names_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    allowed = sorted(os.sched_getaffinity(0))
    monkeypatch.setenv("MMLIST_CPU", str(len(allowed) + 1))     # modulo the allowed CPUs
    assert chosen_cpu(set(allowed)) == allowed[1 % len(allowed)]
    with one_cpu() as cpu:
        assert cpu == allowed[1 % len(allowed)] and os.sched_getaffinity(0) == {cpu}


def test_without_mmlist_cpu_it_stays_where_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MMLIST_CPU", raising=False)
    here = current_cpu()
    assert here is None or here in os.sched_getaffinity(0)
    with one_cpu() as cpu:
        assert cpu in os.sched_getaffinity(0) and len(os.sched_getaffinity(0)) == 1
