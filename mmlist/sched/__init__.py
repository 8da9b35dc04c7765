"""mmlist.sched: the model checker: controlled execution of the model's real threads, search
strategies, replay, shrinking and the counterexample table.

    from mmlist import sched
    report = sched.explore("fork-migrate", strategy="dfs", preemption_bound=2)
    print(report.summary())
    for f in report.failures:
        sched.save_replay(f, "fork-migrate.json")
        print(f.table_text)
    print(sched.replay("fork-migrate.json"))

Pieces: ``controller`` (the engine: one model thread runs at a time, switches only at the
runtime's scheduling points), ``strategies`` (random walk, PCT, preemption-bounded DFS with
trace caching, unbounded DFS with sleep sets, replay, a portfolio; one small file each), ``explore`` (the search loop and verdict),
``shrink``, ``table``, ``replayfile``.

Limits, stated plainly: sequentially consistent memory only (no weak-memory reordering); the
reduction is sound only for effects that go through the runtime hook (shared state the model
touches without a hook is invisible to it: see the notes in ``decisions.py``); the bounded
search's reduction (trace caching) is sound for its bound, and ``tests/test_outcome_sets.py``
compares its outcome sets with the plain search's on every built-in scenario (see
``strategies/dfs.py``); sleep sets are used only without a bound; random and PCT sample, they
never prove absence, so their verdict is never "passed".
"""
from .controller import Controller, Execution, WorkerPool
from .decisions import Decision
from .explore import (CUTOFF_CHECK, Failure, Report, ReplayResult, Resume, RunConfig, explore,
                      load_replay, replay, run_once, save_replay, shrink)
from .replayfile import ReplayFileError
from .shrink import ShrinkError
from .strategies import Strategy, make as make_strategy

__all__ = ["CUTOFF_CHECK", "explore", "replay", "shrink", "save_replay", "load_replay", "run_once", "Report",
           "Failure", "ReplayResult", "Resume", "ReplayFileError", "ShrinkError", "RunConfig",
           "Decision", "Strategy", "make_strategy", "Controller", "Execution", "WorkerPool"]
