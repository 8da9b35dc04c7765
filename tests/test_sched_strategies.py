"""Strategies: bounded DFS completes and says so; the reduction keeps the verdict with fewer
executions; budgets give "inconclusive"; PCT reports its bound; the portfolio mixes them."""
from __future__ import annotations

import pytest

from mmlist import sched


@pytest.mark.parametrize("name", ["walkers", "kthread-use-mm"])
def test_dfs_bound_2_completes_on_small_scenarios(name):
    r = sched.explore(name, strategy="dfs", preemption_bound=2)
    assert r.completed, r.summary()
    # the faithful model has no violation in these scenarios: the sound search must pass
    assert r.verdict == "passed" and not r.failures, r.summary()
    assert "bounded search completed" in r.summary()


def test_reduction_keeps_the_verdict_with_fewer_executions():
    plain = sched.explore("fork-migrate", strategy="dfs-plain", preemption_bound=1, shrink=False)
    reduced = sched.explore("fork-migrate", strategy="dfs", preemption_bound=1, shrink=False)
    assert plain.completed and reduced.completed
    assert "trace caching" in reduced.strategy
    assert plain.verdict == reduced.verdict == "failed"
    keys = lambda r: {(f.violation.check, f.violation.function, f.violation.condition)
                      for f in r.failures}
    assert ("VM_BUG_ON_MM", "lru_gen_migrate_mm", "!mm->lru_gen.memcg") in keys(reduced)
    assert keys(plain) == keys(reduced)
    assert reduced.executions * 5 < plain.executions, (reduced.executions, plain.executions)
    assert reduced.executions + reduced.pruned <= plain.executions


def test_unbounded_dfs_uses_sleep_sets_and_can_pass():
    from mmlist.sched.strategies import make
    assert "sleep sets" in make("dfs", preemption_bound=None).describe()
    assert "plain" in make("dfs-plain", preemption_bound=None).describe()
    r = sched.explore("switch-migrate", strategy="dfs", preemption_bound=None, shrink=False)
    assert r.completed and r.verdict == "failed"       # switch-migrate has a known finding
    assert "unbounded" in r.strategy


def test_only_the_dfs_strategies_are_sound():
    from mmlist.sched.strategies import make
    assert make("dfs").sound and make("dfs-plain").sound and make("dfs").exhaustive
    assert not make("random").sound and not make("pct").sound
    assert make("portfolio").sound          # through its DFS member, once that completes


def test_lock_acquisitions_are_dependent():
    """pitfalls.md #1: two acquisitions of one lock never commute, so the reduced search still
    tries both orders of two walkers taking the mm_list lock."""
    from mmlist.kernel import spinlock_t
    from mmlist.runtime import LOCK, UNLOCK
    from mmlist.sched.decisions import Footprint, access_of
    lock = spinlock_t("A.mm_list.lock", "mm_list lock")
    a, b = Footprint(), Footprint()
    a.add(*access_of(LOCK, lock, None))
    b.add(*access_of(LOCK, lock, None))
    assert a.conflicts(b)
    c = Footprint()
    c.add(*access_of(UNLOCK, lock, None))
    assert a.conflicts(c)
    r1, r2 = Footprint(), Footprint()
    r1.add(("x", "seq"), False)
    r2.add(("x", "seq"), False)
    assert not r1.conflicts(r2)
    r2.add(("x", "seq"), True)
    assert r1.conflicts(r2)


def test_budget_before_completion_is_inconclusive_never_passed():
    r = sched.explore("walkers", strategy="dfs", preemption_bound=2, max_executions=5)
    assert not r.completed and r.verdict == "inconclusive"
    assert "not completed" in r.summary()


def test_pct_reports_its_probability_bound():
    r = sched.explore("walkers", strategy="pct", pct_depth=3, max_executions=20)
    b = r.pct_bound
    assert b["depth"] == 3 and b["threads"] == 2 and b["runs"] == 20
    assert b["per_run"] == pytest.approx(1 / (2 * b["steps"] ** 2))
    assert b["miss_probability"] == pytest.approx((1 - b["per_run"]) ** 20)
    assert r.verdict == "inconclusive"


def test_portfolio_finds_the_interleaving_bug():
    r = sched.explore("fork-migrate", strategy="portfolio", preemption_bound=1,
                      max_executions=200)
    assert r.verdict == "failed"
    assert any(f.violation.check == "VM_BUG_ON_MM" for f in r.failures)
    assert r.pct_bound is not None


def test_debugfs_bug_is_found_even_sequentially():
    r = sched.explore("debugfs", strategy="dfs", preemption_bound=0)
    assert r.completed and r.verdict == "failed"
    assert any(f.preemptions == 0 for f in r.failures)


def test_hypothesis_can_be_the_decision_source():
    from hypothesis import given, settings, strategies as st
    from mmlist.sched.strategies.hypothesis import HypothesisSource
    seen = []

    @settings(max_examples=10, deadline=None, database=None)
    @given(st.data())
    def run(data):
        ex = sched.run_once("walkers", HypothesisSource(data))
        seen.append(ex.status)
        # the draws happen on this thread (a draw on a model thread raises in Hypothesis, and
        # the model crash would show here as a model_error)
        assert not ex.violations, ex.violations

    run()
    assert seen and set(seen) == {"finished"}
