"""The hunt spends its budget in slices (``mmlist.hunt.hunt``), each continuing its scenario's one
search (``sched.Resume``): a search cut into slices is the same search as one run whole (same
executions, outcomes, failures and verdict), nothing is run or reported twice, and the slices
go to the scenarios whose search is not exhausted. Budgets are executions except in the hunt
itself, whose assertions hold for any budget of a few seconds."""
from __future__ import annotations

import os

from mmlist import sched
from mmlist.findings import finding_key
from mmlist.hunt import hunt
from mmlist import programs as P
from mmlist.scenarios import BUILTIN, Scenario, _base


def _sliced(name: str, strategy: str, per_slice: int, slices: int | None = None,
            **kw) -> tuple[sched.Report, int]:
    """Run ``name``'s search in slices of ``per_slice`` executions: ``slices`` of them, or
    until a slice runs nothing (the search is exhausted). Returns the report and the count."""
    res = sched.Resume()
    n = 0
    while slices is None or n < slices:
        before = (res.report.executions + res.report.pruned) if res.report else 0
        rep = sched.explore(name, strategy=strategy, max_executions=per_slice, shrink=False,
                            resume=res, **kw)
        n += 1
        if rep.executions + rep.pruned == before:
            break
    return rep, n


def test_an_exhaustive_search_in_slices_is_the_whole_search():
    whole = sched.explore("kthread-use-mm", strategy="dfs", preemption_bound=2, shrink=False,
                          collect_outcomes=True)
    assert whole.completed and whole.verdict == "passed"
    sliced, n = _sliced("kthread-use-mm", "dfs", 4, preemption_bound=2, collect_outcomes=True)
    assert n > 2                                        # really cut into several slices
    assert sliced.completed and sliced.verdict == "passed", sliced.verdict_reason
    assert (sliced.executions, sliced.pruned, sliced.distinct_interleavings) == \
        (whole.executions, whole.pruned, whole.distinct_interleavings)
    assert sliced.outcomes == whole.outcomes


def test_a_random_search_in_slices_continues_its_stream_and_reports_each_failure_once():
    whole = sched.explore("debugfs", strategy="random", seed=3, max_executions=24, shrink=False)
    sliced, n = _sliced("debugfs", "random", 8, slices=3, seed=3)
    assert n == 3 and sliced.executions == whole.executions == 24
    assert whole.failures, "debugfs shows F1/F2 under random within 24 executions"
    count = {f.violation.key: f.count for f in whole.failures}
    assert {f.violation.key: f.count for f in sliced.failures} == count
    assert [f.execution_index for f in sliced.failures] == \
        [f.execution_index for f in whole.failures]
    assert sliced.distinct_interleavings == whole.distinct_interleavings


def test_a_resumed_report_is_not_left_interrupted_and_its_clock_is_cumulative():
    res = sched.Resume()
    first = sched.explore("walkers", strategy="random", max_executions=3, shrink=False,
                          resume=res)
    t1 = first.elapsed
    again = sched.explore("walkers", strategy="random", max_executions=3, shrink=False,
                          resume=res)
    assert again is first and again.executions == 6
    assert again.elapsed >= t1 and not again.interrupted


def test_the_hunt_moves_on_from_an_exhausted_search():
    # one thread, no choice: its bounded search is one execution, done in the first slice
    tiny = Scenario("one-fork", "app1 forks, alone", setup=lambda w: _base(w, walkers=()),
                    threads=lambda w: [P.forker("app1")])
    report = hunt([tiny, BUILTIN["exec"]], budget=4.0, strategy="dfs", out_dir=None)
    small, big = report.results
    assert small.scenario == "one-fork" and small.completed and small.verdict == "passed"
    assert small.executions == 1                        # continued, never restarted
    assert small.slices <= 2                            # a slice that ran nothing: no more
    assert big.slices >= 2 and big.executions > 0       # the rest went to the other


def test_findings_of_later_slices_merge_into_one_with_every_occurrence_counted(tmp_path):
    out = tmp_path / "out"
    report = hunt([BUILTIN["debugfs"]], budget=3.0, strategy="random", out_dir=str(out))
    (res,) = report.results
    assert report.findings and res.slices >= 2
    keys = [finding_key(f.violation, BUILTIN["debugfs"].config) for f in report.findings]
    assert len(keys) == len(set(keys))
    for f in report.findings:
        assert f.count == sum(s.count for s in f.sources) >= 1
    files = [f.replay_path for f in report.findings] + \
        [p for f in report.findings for _, p, _ in f.also]
    assert sorted(os.listdir(out)) == sorted(os.path.basename(p) for p in files)


def test_a_tiny_budget_still_runs_every_scenario_once():
    names = ["walkers", "exec", "fork"]
    report = hunt([BUILTIN[n] for n in names], budget=0.001, strategy="random", out_dir=None)
    assert [r.scenario for r in report.results] == names
    assert all(r.executions >= 1 and r.slices == 1 for r in report.results)
