"""Executions after a restore are identical to executions from a fresh build.

``Session`` builds a scenario once and restores its World in place before each further
execution (``mmlist.sched.restore``). For every built-in scenario and every built-in mutant, the
same random schedules run both ways must give the same executions: status, decisions, every
violation, and the digest of the whole final World (``state_digest``).
"""
from __future__ import annotations

from typing import Any

import pytest

from mmlist.scenarios import BUILTIN
from mmlist.sched.explore import RunConfig, Session, resolve
from mmlist.sched.restore import Built, Snapshot
from mmlist.sched.strategies import make
from mmlist.sched.suite import variant_applied
from mmlist.sched.workers import WorkerPool
from mmlist.variants import list_mutants, load_variant

RUNS = 6


def _runs(name: str, restore: bool, variant: Any = None, seed: int = 5) -> list[tuple]:
    sc = resolve(name)
    strat = make("random", seed=seed)
    out = []
    with variant_applied(variant), WorkerPool() as pool:
        session = Session(pool, restore=restore)
        for _ in range(RUNS):
            strat.new_execution()
            ex = session.run(sc, strat, RunConfig(), outcome=True)
            strat.end_execution(ex)
            out.append((ex.status, [str(d) for d in ex.decisions],
                        sorted((v.check, str(v.function), v.message) for v in ex.violations),
                        ex.outcome, dict(ex.outcomes)))
    return out


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_restored_executions_equal_fresh_ones_in_every_scenario(name: str) -> None:
    fresh, restored = _runs(name, restore=False), _runs(name, restore=True)
    assert len({r[3] for r in fresh}) >= 1
    for i, (a, b) in enumerate(zip(fresh, restored)):
        assert a == b, f"execution {i} of {name} differs after a restore"


@pytest.mark.parametrize("name", [m.name for m in list_mutants()])
def test_restored_executions_equal_fresh_ones_under_every_mutant(name: str) -> None:
    info = next(m for m in list_mutants() if m.name == name)
    v = load_variant(name)
    assert _runs(info.scenario, False, v) == _runs(info.scenario, True, v)


def test_a_restore_puts_back_what_an_execution_changed() -> None:
    """The comparison can fail: what an execution changes is put back, list pointers too."""
    world, specs = BUILTIN["exit"].build()
    before = ([t.label for t in world.all_tasks], len(world.mms),
              world.mm_list.fifo.__dict__["_prev"])
    snap = Snapshot(world, specs)
    world.mms.clear()
    world.all_tasks[0].label = "renamed"
    world.mm_list.fifo.__dict__["_prev"] = None
    snap.restore()
    assert ([t.label for t in world.all_tasks], len(world.mms),
            world.mm_list.fifo.__dict__["_prev"]) == before


def test_a_session_restores_from_the_second_execution_of_a_scenario() -> None:
    sc = BUILTIN["walkers"]
    strat = make("random", seed=1)
    with WorkerPool() as pool:
        session = Session(pool)
        for n in range(3):
            strat.new_execution()
            strat.end_execution(session.run(sc, strat, RunConfig()))
            assert (session._built is not None) == (n >= 1)
        assert isinstance(session._built, Built) and session._built.scenario is sc
