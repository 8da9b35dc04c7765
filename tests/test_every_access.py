"""``--every-access``: every plain access a scheduling point, compared with the default.

By default only the operations that order or publish something are scheduling points, and the
race check stands for the interleavings of plain accesses. With ``every_access`` each plain
access (``READ``/``WRITE``) is a scheduling point too. Every schedule of the default search is
then a schedule of the every-access search with the same preemptions (the thread simply goes on
at each plain access), so at the same preemption bound the every-access search reaches at least
the same coverage points and the same checks.

Every built-in scenario is compared at preemption bound 1, with the bounded DFS (with its
reduction), both ways:

* ``FULL``: scenarios whose every-access search completes in a few hundred executions. Both
  searches run to completion; the verdicts must be of the same kind (passed/passed,
  failed/failed), the same checks must fire, and the every-access coverage must be a superset.
* every other scenario is too big for this test's time at bound 1 with every access scheduled
  (from hundreds to thousands of executions). For those the comparison is capped, like with
  like: the first ``CAP`` executions of the default search, each replayed with every access a
  scheduling point and the thread going on at each plain access (``Projected``), must end the
  same way, with the same violations and the same coverage points. That is the inclusion the
  full comparison relies on, checked schedule by schedule; the uncapped comparison of these
  scenarios is ``stress/every_access.py``.
"""
from __future__ import annotations

import pytest

from mmlist import coverage, sched
from mmlist.scenarios import BUILTIN
from mmlist.sched.controller import WorkerPool
from mmlist.sched.explore import RunConfig, Session
from mmlist.sched.strategies import Strategy, make

#: small enough to search completely both ways at bound 1 (a few seconds each)
FULL = tuple(n for n in ("switch-migrate", "memcg-disabled", "migrate-odd", "preempt-rt-exec",
                         "kthread-use-mm", "debugfs", "migrate-back", "skips")
             if n in BUILTIN)
#: default-search executions replayed with every access scheduled, per other scenario
CAP = 6
#: a full search that does not complete within this many executions belongs in the capped set
MAX_FULL = 400


def _search(name: str, every_access: bool):
    with coverage.recording() as cov:
        r = sched.explore(name, strategy="dfs", preemption_bound=1, every_access=every_access,
                          max_executions=MAX_FULL, shrink=False)
    return r, set(cov.hit)


def _checks(report) -> set:
    return {(f.violation.check, f.violation.function) for f in report.failures}


def test_the_full_set_is_big_enough():
    assert len(FULL) >= 5, FULL


@pytest.mark.parametrize("name", FULL)
def test_every_access_search_agrees_with_the_default_and_covers_more(name):
    default, cov_d = _search(name, False)
    every, cov_e = _search(name, True)
    assert default.completed and every.completed, (
        f"{name}: bound-1 search not completed within {MAX_FULL} executions "
        f"(default {default.executions}, every-access {every.executions}): move it out of FULL")
    assert default.verdict == every.verdict, (default.verdict_reason, every.verdict_reason)
    assert _checks(every) == _checks(default)
    assert cov_e >= cov_d, sorted(cov_d - cov_e)
    # every access scheduled: more points where a thread can be switched out
    assert every.executions + every.pruned >= default.executions


class Projected(Strategy):
    """Replays a default-mode schedule with every access a scheduling point: at a plain access
    the running thread goes on (as it does by default, where a plain access is no switch);
    every other decision is the recorded one, which must find the same thread parked on the
    same op and object."""

    name = "projected"

    def __init__(self, decisions):
        self.decisions = list(decisions)
        self.i = 0
        self.mismatch: str | None = None

    def pick(self, runnable, state):
        cur = state.current
        if cur is not None and cur in runnable and state.pending_of(cur)[0] in ("READ", "WRITE"):
            return cur
        while self.i < len(self.decisions) and self.decisions[self.i].kind != "thread":
            self.i += 1
        if self.i >= len(self.decisions):
            self.mismatch = f"schedule exhausted at step {state.steps}"
            return None
        d = self.decisions[self.i]
        self.i += 1
        names = state.names()
        tid = names.index(d.thread)
        if tid not in runnable or state.pending_of(tid) != (d.op, d.obj):
            self.mismatch = f"{d} vs {state.pending_of(tid)}"
            return None
        return tid

    def choose(self, n, state):
        while self.i < len(self.decisions) and self.decisions[self.i].kind != "choose":
            self.i += 1
        d = self.decisions[self.i]
        self.i += 1
        return d.value


def _outcome(ex) -> tuple:
    return (ex.status, frozenset((v.check, v.function, v.condition) for v in ex.violations),
            tuple(sorted(ex.outcomes.items())))


CAPPED = tuple(n for n in BUILTIN if n not in FULL)


@pytest.mark.parametrize("name", CAPPED)
def test_each_default_schedule_is_an_every_access_schedule_with_the_same_outcome(name):
    sc = BUILTIN[name]
    strat = make("dfs", preemption_bound=1)
    done = 0
    with WorkerPool() as pool:
        session = Session(pool)
        while done < CAP and strat.new_execution():
            with coverage.recording() as cov_d:
                ex = session.run(sc, strat, RunConfig())
            strat.end_execution(ex)
            if ex.status == "pruned":
                continue
            done += 1
            proj = Projected(ex.decisions)
            with coverage.recording() as cov_e:
                ex2 = session.run(sc, proj, RunConfig(every_access=True))
            assert proj.mismatch is None, (name, done, proj.mismatch)
            assert _outcome(ex2) == _outcome(ex), (name, done)
            assert cov_e.hit == cov_d.hit, (name, done)
            assert ex2.steps >= ex.steps
    assert done >= 1


def test_an_every_access_counterexample_replays_with_every_access():
    """Replay files record every_access: the schedule only replays that way."""
    r = sched.explore("switch-migrate", strategy="dfs", preemption_bound=1, every_access=True,
                      max_executions=50)
    assert r.failures
    f = r.failures[0]
    assert f.replay_dict["every_access"] is True
    assert sched.replay(f.replay_dict).reproduced
    bad = dict(f.replay_dict, every_access="yes")
    with pytest.raises(sched.ReplayFileError, match="every_access"):
        sched.replay(bad)
    plain = sched.explore("switch-migrate", strategy="dfs", preemption_bound=1,
                          max_executions=50)
    assert "every_access" not in plain.failures[0].replay_dict


def test_hunt_check_and_coverage_take_every_access():
    from mmlist.cli import build_parser
    p = build_parser()
    for argv in (["hunt", "--every-access"], ["check", "--scenario", "walkers", "--every-access"],
                 ["coverage", "--every-access"]):
        assert p.parse_args(argv).every_access is True
        assert p.parse_args(argv[:-1]).every_access is False
