"""``--jobs N`` (issue 11, item 5): a hunt or a check in N worker processes, split
deterministically, merged into one report with the verdict semantics of one process.

The DFS's parts (``DFS.partition``) are checked in this process against the whole search:
together they reach the same outcome set (final state, violated checks) and the same failures,
and every part completes when the whole does. The commands run real worker processes on small
scenarios. Budgets are executions or at most 2 s; nothing asserts a wall-clock time."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mmlist import parallel, sched
from cli_helpers import run_cli as _run
from mmlist.hunt import check, hunt
from mmlist.scenarios import BUILTIN, Scenario, _base
from mmlist import programs as P
from mmlist.sched.strategies.dfs import DFS
from test_outcome_sets import _tiny_scenario

ROOT = Path(__file__).resolve().parent.parent
MUTANT = "no-nr-walkers-inc"            # caught in walkers' first execution, sequentially


def _parts(scenario, bound, n: int, reduction: str = "auto") -> list[sched.Report]:
    return [sched.explore(scenario, strategy=DFS(bound, reduction=reduction).partition(k, n),
                          shrink=False, collect_outcomes=True) for k in range(n)]


# --- the split -------------------------------------------------------------------------------------

def test_the_deal_is_deterministic():
    names = ["a", "b", "c", "d", "e"]
    assert parallel.deal(names, 2) == [(["a", "c", "e"], (0, 1)), (["b", "d"], (0, 1))]
    assert parallel.deal(["a"], 3) == [(["a"], (0, 3)), (["a"], (1, 3)), (["a"], (2, 3))]
    assert parallel.deal(["a", "b"], 3) == [(["a"], (0, 2)), (["b"], (0, 1)), (["a"], (1, 2))]
    assert parallel._shares(7, 3) == [3, 2, 2] and parallel._shares(None, 2) == [None, None]


@pytest.mark.parametrize("bound, reduction", [(0, "auto"), (1, "auto"), (2, "auto"),
                                              (2, "none"), (None, "auto"), (None, "none")])
@pytest.mark.parametrize("n", [2, 3, 5])
def test_the_parts_of_a_tiny_search_reach_every_outcome(bound, reduction, n):
    sc = _tiny_scenario()
    whole = sched.explore(sc, strategy=DFS(bound, reduction=reduction), shrink=False,
                          collect_outcomes=True)
    parts = _parts(sc, bound, n, reduction)
    assert all(p.completed and p.verdict == "passed" for p in parts)
    assert set().union(*(p.outcomes for p in parts)) == whole.outcomes
    if reduction == "none":                     # plain: the tree cut, nothing run twice
        assert sum(p.executions for p in parts) == whole.executions


@pytest.mark.parametrize("name", ["walkers", "kthread-use-mm", "fork-migrate"])
def test_the_parts_of_a_scenario_merge_into_the_whole_search(name):
    whole = sched.explore(name, strategy="dfs", preemption_bound=1, shrink=False,
                          collect_outcomes=True)
    parts = _parts(name, 1, 2)
    merged = parallel.merge_reports(list(enumerate(parts)), 2, name, 0,
                                    "bounded search (preemption bound 1)")
    assert merged.verdict == whole.verdict and merged.completed == whole.completed
    assert merged.outcomes == whole.outcomes
    assert {f.violation.key for f in merged.failures} == {f.violation.key for f in whole.failures}
    assert merged.executions == sum(p.executions for p in parts)
    assert all("part" in p.strategy for p in parts)


def test_a_missing_or_unfinished_part_is_never_passed():
    parts = _parts("walkers", 1, 2)
    space = "bounded search (preemption bound 1)"
    one = parallel.merge_reports([(0, parts[0])], 2, "walkers", 0, space)
    assert one.verdict == "inconclusive" and "1 of the 2 parts gave no result" in \
        one.verdict_reason
    cut = sched.explore("walkers", strategy=DFS(1).partition(1, 2), shrink=False,
                        max_executions=3)
    assert not cut.completed
    mixed = parallel.merge_reports([(0, parts[0]), (1, cut)], 2, "walkers", 0, space)
    assert mixed.verdict == "inconclusive" and mixed.verdict_reason.startswith("part 2/2:")


# --- check --jobs ----------------------------------------------------------------------------------

def test_check_with_two_jobs_passes_as_with_one(tmp_path):
    code, out, err = _run("check", "--scenario", "walkers", "--preemption-bound", "1",
                          "--jobs", "2", "--out", str(tmp_path), "--json",
                          str(tmp_path / "r.json"))
    assert code == 0 and not err, err
    assert "2 jobs: job k explores part k of the DFS tree" in out
    assert "verdict: passed" in out and "the 2 parts of the bounded search" in out
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["jobs"] == 2 and data["results"][0]["parts"] == 2
    assert data["results"][0]["completed"] and data["results"][0]["verdict"] == "passed"


def test_check_with_two_jobs_finds_what_one_finds(tmp_path):
    one = check(BUILTIN["fork-migrate"], bound=1, out_dir=str(tmp_path / "one"))
    two = check(BUILTIN["fork-migrate"], bound=1, out_dir=str(tmp_path / "two"), jobs=2)
    assert one.exit_code == two.exit_code == 3
    assert one.verdict_line == two.verdict_line
    assert two.results[0].verdict == "failed" and two.results[0].completed
    assert [(f.label.kind, f.known) for f in one.findings] == \
        [(f.label.kind, f.known) for f in two.findings]
    for f in two.findings:                      # written by the parent, from the merged search
        assert f.replay_path and os.path.isfile(f.replay_path)


# --- hunt --jobs -----------------------------------------------------------------------------------

def test_a_hunt_over_two_scenarios_lists_both(tmp_path):
    code, out, err = _run("hunt", "--scenario", "walkers", "--scenario", "kthread-use-mm",
                          "--budget", "1", "--jobs", "2", "--no-progress", "--out",
                          str(tmp_path), "--json", str(tmp_path / "r.json"))
    assert code == 0 and not err, err
    data = json.loads((tmp_path / "r.json").read_text())
    assert [r["scenario"] for r in data["results"]] == ["walkers", "kthread-use-mm"]
    assert all(r["executions"] > 0 and r["parts"] == 1 for r in data["results"])
    assert data["jobs"] == 2 and data["not_searched"] == []
    assert "job 1: walkers; job 2: kthread-use-mm" in data["split"] and data["split"] in out


def test_a_scenario_shared_by_two_jobs_reports_each_finding_once(tmp_path):
    code, out, err = _run("hunt", "--mutant", MUTANT, "--scenario", "walkers", "--budget", "1",
                          "--jobs", "2", "--no-progress", "--out", str(tmp_path / "out"),
                          "--json", str(tmp_path / "r.json"))
    assert code == 1 and not err, err
    data = json.loads((tmp_path / "r.json").read_text())
    (row,) = data["results"]
    assert row["parts"] == 2 and row["verdict"] == "failed"
    assert "walkers in 2 parts" in data["split"]
    keys = [(f["violation"]["check"], f["violation"]["function"]) for f in data["findings"]]
    assert len(keys) == len(set(keys))
    # both parts hit the bug in their first execution: each finding once, its other replay
    # file listed, no file overwritten
    files = os.listdir(tmp_path / "out")
    for f in data["findings"]:
        assert f["count"] >= 2 and len(f["also"]) >= 1, f
    assert len(files) == sum(1 + len(f["also"]) for f in data["findings"])


def test_jobs_stop_at_a_known_finding_under_strict(tmp_path):
    # F4 shows in preempt-rt-exec's first execution; its registry entry holds a lambda, so the
    # jobs send their findings unlabelled and the parent labels them
    code, out, err = _run("hunt", "--scenario", "preempt-rt-exec", "--budget", "2", "--jobs",
                          "2", "--stop-at-first", "--strict", "--no-progress", "--out",
                          str(tmp_path / "out"), "--json", str(tmp_path / "r.json"))
    assert code == 1 and not err, err
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["stopped_at_first"] and "known finding F4" in data["stopped"]
    assert [f["finding_id"] for f in data["findings"]] == ["F4"]
    assert data["results"][0]["verdict"] == "failed" and not data["interrupted"]


def test_hunt_with_jobs_needs_built_in_scenarios():
    tiny = Scenario("one-fork", "app1 forks, alone", setup=lambda w: _base(w, walkers=()),
                    threads=lambda w: [P.forker("app1")])
    with pytest.raises(ValueError, match="built-in scenarios only"):
        hunt([tiny], budget=0.5, jobs=2, out_dir=None)


@pytest.mark.parametrize("cmd", [["hunt"], ["check", "--scenario", "walkers"]])
@pytest.mark.parametrize("value, needle", [("0", "must be >= 1"), ("abc", "not an integer"),
                                           ("-1", "must be >= 0")])
def test_a_bad_jobs_value_is_one_line_and_exit_2(cmd, value, needle):
    code, out, err = _run(*cmd, "--jobs", value)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and not out
    assert len(lines) == 1 and lines[0].startswith("mmlist: error: argument --jobs: "), err
    assert needle in lines[0]


#: the mutant's bug, and a line on stderr at each execution: the event the SIGTERM test waits for
SAYS_RUNNING = """
DESCRIPTION = "get_next_mm() forgets nr_walkers++ and says so on stderr"
PATCHES = {
    "get_next_mm": [
        ("        mm_state.nr_walkers = mm_state.nr_walkers + 1",
         "        print('running', file=__import__('sys').stderr, flush=True)"),
    ],
}
"""


def test_sigterm_writes_the_report_with_what_the_jobs_found(tmp_path):
    variant = tmp_path / "says_running.py"
    variant.write_text(SAYS_RUNNING)
    path = tmp_path / "r.json"
    p = subprocess.Popen([sys.executable, "-m", "mmlist", "hunt", "--variant", str(variant),
                          "--scenario", "walkers", "--scenario", "kswapd-direct",
                          "--budget", "300", "--jobs", "2", "--no-progress", "--out",
                          str(tmp_path / "out"), "--json", str(path)], cwd=ROOT, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for line in p.stderr:               # an event, not a clock: a job runs its search
            if line.strip() == "running":
                break
        p.send_signal(signal.SIGTERM)
        stdout, stderr = p.communicate(timeout=120)
    finally:
        p.kill()
    # the bug showed in the executions the jobs ran before the signal: it is in the report
    assert p.returncode == 1, stdout + stderr
    data = json.loads(path.read_text())
    assert data["interrupted"] is True and data["counts"]["new"] >= 1
    assert "(interrupted)" in stdout and "2 jobs" in stdout
