"""The search end to end: every mutant is found by the default portfolio, the deadlock mutant's
report says who waits for whom, ``mmlist check`` / ``mmlist hunt`` / ``mmlist replay`` through
``mmlist.cli.main``, replay files that are corrupt, truncated, stale or edited, an interrupted
hunt, and no thread left behind.

Deterministic: fixed seeds, search budgets counted in executions (``check`` is an exhaustive
bounded DFS). The one exception is ``hunt``, whose budget is in seconds: its tests assert only
what holds for any budget of a few seconds. Under seed 0 the portfolio finds F1 and F2 in
debugfs's executions 1 and 2 and F3 in fork-migrate's execution 90 (about 0.3 s on a 2-core
machine); HUNT_BUDGET gives each scenario 4 s.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import threading

import pytest

from mmlist import sched
from mmlist.cli import main
from mmlist.findings import classify
from mmlist.hunt import HuntReport, hunt
from mmlist.scenarios import BUILTIN
from mmlist.variants import list_mutants, load_variant

#: Runs (executions plus branches the reduction pruned) the default portfolio gets per mutant.
#: With seed 0 the slowest are del-no-head-fixup (its `cursor` violation first appears at run
#: 62) and no-skip-mm-users-zero (run 53); every other one is found at run 1 or 2. 200 is a 3x
#: margin.
MUTANT_EXECUTIONS = 200

#: seconds for the CLI hunt (split over its two scenarios); see the module doc
HUNT_BUDGET = "8"

REPLAY_LINE = re.compile(r"^Replay: mmlist replay (\S+)\s*$", re.M)


# --- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope="module", autouse=True)
def no_thread_survives():
    """Every WorkerPool this file starts is shut down: the thread count is back to baseline."""
    baseline = threading.active_count()
    names = {t.name for t in threading.enumerate()}
    yield
    left = [t.name for t in threading.enumerate() if t.name not in names]
    assert threading.active_count() == baseline, f"threads left running: {left}"


def _main(*argv: str) -> tuple[int, str, str]:
    """``mmlist.cli.main`` with stdout and stderr captured (usable in module fixtures)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def fork_migrate_check(no_thread_survives, tmp_path_factory):
    """``mmlist check --scenario fork-migrate --strategy dfs --preemption-bound 2``: run once."""
    out_dir = tmp_path_factory.mktemp("check-fork-migrate")
    code, out, err = _main("check", "--scenario", "fork-migrate", "--strategy", "dfs",
                           "--preemption-bound", "2", "--out", str(out_dir))
    return code, out, err, out_dir


@pytest.fixture(scope="module")
def fork_migrate_replay(fork_migrate_check):
    """The replay file the exhaustive check of fork-migrate wrote (deterministic)."""
    _, out, _, _ = fork_migrate_check
    paths = REPLAY_LINE.findall(out)
    assert len(paths) == 1, out
    return paths[0]


@pytest.fixture(scope="module")
def cli_hunt(no_thread_survives, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("hunt")
    json_path = out_dir / "r.json"
    code, out, err = _main("hunt", "--scenario", "fork-migrate", "--scenario", "debugfs",
                           "--budget", HUNT_BUDGET, "--seed", "0", "--out", str(out_dir),
                           "--json", str(json_path), "--no-progress")
    return code, out, err, out_dir, json_path


def _error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("mmlist: error:"), lines[0]
    return lines[0]


# --- 1. every mutant is found by the default portfolio -------------------------------------------

def _mutant_params():
    params = []
    for m in list_mutants():
        marks = []
        params.append(pytest.param(m, id=m.name, marks=marks))
    return params


@pytest.mark.parametrize("m", _mutant_params())
def test_portfolio_finds_every_mutant(m):
    # stop_on_first=False: add-no-lock's first failing execution shows only 'fifo'; its
    # data_race (the expected check) comes one execution later.
    report = sched.explore(m.scenario, strategy="portfolio", seed=0,
                           max_executions=MUTANT_EXECUTIONS, variant=load_variant(m.name),
                           stop_on_first=False, shrink=False)
    found = [(f.violation.check, f.execution_index) for f in report.failures]
    assert any(f.violation.check == m.expected_check for f in report.failures), (
        f"{m.name}: expected {m.expected_check} in {m.scenario} within {MUTANT_EXECUTIONS} "
        f"executions, found (check, execution) {found}")
    assert report.verdict == "failed"


# --- 2. the deadlock mutant says who waits for whom ----------------------------------------------

AA = "migrate(3->B) in lru_gen_del_mm() waits for A.mm_list.lock held by migrate(3->B) itself " \
     "(AA deadlock)"


def test_deadlock_mutant_reports_who_waits_for_whom():
    report = sched.explore("migrate", strategy="portfolio", seed=0, max_executions=10,
                           variant=load_variant("migrate-double-lock"), stop_on_first=True,
                           shrink=False)
    deadlocks = [f.violation for f in report.failures if f.violation.check == "deadlock"]
    assert len(deadlocks) == 1, [str(f.violation) for f in report.failures]
    v = deadlocks[0]
    assert v.severity == "bug"
    assert v.condition == "A.mm_list.lock"
    waits = v.details["waits"]
    assert waits["migrate(3->B)"] == AA
    for thread, desc in waits.items():          # everyone else is stuck behind the migration
        if thread != "migrate(3->B)":
            assert re.fullmatch(re.escape(thread) + r"( in \w+\(\))? waits for A\.mm_list\.lock "
                                r"held by migrate\(3->B\)", desc), desc
    assert v.message == "; ".join(waits.values())
    assert AA in str(v)


def test_deadlock_mutant_through_check_prints_the_wait(tmp_path):
    code, out, err = _main("check", "--scenario", "migrate", "--mutant", "migrate-double-lock",
                           "--max-executions", "1", "--out", str(tmp_path))
    assert code == 1, out + err
    assert AA in out
    assert "lock_recursion" in out          # lockdep saw the second spin_lock() before it spun
    paths = REPLAY_LINE.findall(out)
    assert len(paths) == 2 and all(os.path.isfile(p) for p in paths)


# --- 3. mmlist check ------------------------------------------------------------------------------

@pytest.mark.parametrize("scenario", ["kthread-use-mm", "rmdir"])
def test_check_completes_the_exhaustive_search(scenario, tmp_path):
    code, out, err = _main("check", "--scenario", scenario, "--strategy", "dfs",
                           "--preemption-bound", "2", "--out", str(tmp_path))
    assert code == 0, out + err
    assert any("passed" in ln and "completed" in ln for ln in out.splitlines()), out
    assert "passed: the exhaustive search at preemption bound 2 completed" in out
    assert "no violation found" in out
    assert not os.listdir(tmp_path)             # no replay file for a pass


def test_check_fork_migrate_fails_with_the_counterexample(fork_migrate_check):
    code, out, err, out_dir = fork_migrate_check
    assert code == 3, out + err                 # only the known finding F3
    assert "verdict: failed, only known findings and benign judgements" in out
    assert "bounded search completed" in out
    assert ("Counterexample for scenario 'fork-migrate': VM_BUG_ON_MM in lru_gen_migrate_mm()"
            in out)
    header = next(ln for ln in out.splitlines() if ln.startswith("step |"))
    assert [c.strip() for c in header.split("|")] == ["step", "fork(app1)", "migrate(child)",
                                                        "reclaim0", "state"]
    assert "!! VM_BUG_ON_MM" in out
    assert "Violation: VM_BUG_ON_MM in lru_gen_migrate_mm() [migrate(child)]: " \
           "VM_BUG_ON_MM(!mm->lru_gen.memcg) failed" in out
    assert "[known finding F3:" in out
    (path,) = REPLAY_LINE.findall(out)
    assert os.path.isfile(path) and os.path.dirname(path) == str(out_dir)


def test_check_fix_variant_passes_fork_migrate(tmp_path):
    code, out, err = _main("check", "--scenario", "fork-migrate", "--variant",
                           "fix-migrate-before-add", "--preemption-bound", "2",
                           "--out", str(tmp_path))
    assert code == 0, out + err
    assert "passed: the exhaustive search at preemption bound 2 completed" in out
    assert "variant: fix-migrate-before-add" in out
    assert "VM_BUG_ON_MM" not in out


# --- 4. mmlist hunt -------------------------------------------------------------------------------

def test_hunt_reports_the_known_findings(cli_hunt):
    code, out, err, out_dir, _ = cli_hunt
    assert code == 3, out + err                 # only known findings: exit 3, not 1
    assert "exit status 3: only known findings and benign judgements" in out
    for fid in ("F1", "F2", "F3"):
        assert f"[known finding {fid}:" in out, fid
    assert "[NEW]" not in out
    headers = [ln for ln in out.splitlines() if ln.startswith("=== ")]
    assert any(h.startswith("=== ") and "fork-migrate: VM_BUG_ON_MM in lru_gen_migrate_mm()"
               in h for h in headers), headers
    paths = REPLAY_LINE.findall(out)
    assert len(paths) == len(headers)           # one replay file per violation
    for p in paths:
        assert os.path.isfile(p), p
        assert os.path.dirname(p) == str(out_dir)
        sched.load_replay(p)                    # and it is a valid replay file


def test_hunt_json_report(cli_hunt):
    code, out, _, _, json_path = cli_hunt
    assert f"report written to {json_path}" in out
    data = json.loads(json_path.read_text())
    assert data["interrupted"] is False
    assert {r["scenario"] for r in data["results"]} == {"fork-migrate", "debugfs"}
    assert {r["verdict"] for r in data["results"]} == {"failed"}
    assert data["schema_version"] == 2 and data["exit_code"] == 3
    assert {"F1", "F2", "F3"} <= {f["finding_id"] for f in data["findings"]}
    assert all(f["label"] == "known" for f in data["findings"])
    assert data["counts"]["new"] == 0
    for f in data["findings"]:
        assert f["count"] >= 1 and f["first_execution"] >= 1 and f["first_seconds"] >= 0
    f3 = [f for f in data["findings"] if f["finding_id"] == "F3"]
    assert len(f3) == 1 and f3[0]["scenario"] == "fork-migrate"
    assert f3[0]["violation"]["check"] == "VM_BUG_ON_MM"
    assert f3[0]["violation"]["function"] == "lru_gen_migrate_mm"
    for f in data["findings"]:
        assert os.path.isfile(f["replay"])
        assert f["replay"] in out


# --- 5. replay round trip and bad replay files ---------------------------------------------------

def test_replay_reproduces(fork_migrate_replay, capsys):
    code = main(["replay", fork_migrate_replay])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert err == ""
    assert "Counterexample for scenario 'fork-migrate': VM_BUG_ON_MM" in out
    assert "step | fork(app1)" in out
    assert "!! VM_BUG_ON_MM" in out
    assert out.rstrip().splitlines()[-1].startswith("reproduced: VM_BUG_ON_MM in "
                                                    "lru_gen_migrate_mm()")


def _edited(src: str, dst, edit) -> str:
    data = json.loads(open(src).read())
    edit(data)
    dst.write_text(json.dumps(data))
    return str(dst)


def _bad_file(kind: str, src: str, tmp_path) -> tuple[str, str]:
    """A broken copy of the replay file ``src``: (path, what the error line must say)."""
    path = tmp_path / f"{kind}.json"
    if kind == "corrupt":
        path.write_text("this is not JSON {\n")
        return str(path), "corrupt replay file"
    if kind == "truncated":
        text = open(src).read()
        path.write_text(text[:len(text) // 2])
        return str(path), "corrupt replay file"
    if kind == "stale":
        return _edited(src, path, lambda d: d.update(schema_version=d["schema_version"] + 1)), \
            "stale replay file"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["corrupt", "truncated", "stale"])
def test_replay_bad_file_is_one_line_and_exit_2(kind, fork_migrate_replay, tmp_path, capsys):
    path, needle = _bad_file(kind, fork_migrate_replay, tmp_path)
    code = main(["replay", path])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    line = _error_line(err)
    assert needle in line and path in line
    assert out == ""


def _diverge(data: dict) -> None:
    # decision #3 is fork(app1)'s WRITE_ONCE(mm#2.lru_gen.list) (lru_gen_init_mm): claim a READ
    d = data["decisions"][3]
    assert (d["thread"], d["op"]) == ("fork(app1)", "WRITE_ONCE"), d
    d["op"] = "READ_ONCE"


def test_replay_divergent_file_is_one_line_and_exit_2(fork_migrate_replay, tmp_path, capsys):
    path = _edited(fork_migrate_replay, tmp_path / "diverged.json", _diverge)
    code = main(["replay", path])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    line = _error_line(err)
    assert "not reproduced: the run diverged at decision #3" in line, line


# --- 6. an interrupted hunt keeps what it found ---------------------------------------------------

def test_interrupted_hunt_keeps_its_findings(tmp_path):
    """The first progress callback raises KeyboardInterrupt (as Ctrl-C would).

    With ``progress_interval=0`` explore() calls on_progress after every execution, its
    failures recorded: the interrupt comes right after the first execution of debugfs, which
    fails (F1), so the report must hold that finding and its replay file.
    """
    calls: list[tuple[str, int, int]] = []

    def on_progress(name: str, executions: int, found: int) -> None:
        calls.append((name, executions, found))
        if len(calls) == 1:
            raise KeyboardInterrupt

    out_dir = tmp_path / "out"
    report = hunt([BUILTIN["debugfs"], BUILTIN["fork-migrate"]], budget=600.0, seed=0,
                  out_dir=str(out_dir), on_progress=on_progress, progress_interval=0.0)
    assert isinstance(report, HuntReport)
    assert len(calls) == 1
    name, executions, found = calls[0]
    assert name == "debugfs" and executions == 1 and found >= 1
    assert report.interrupted
    assert [r.scenario for r in report.results] == ["debugfs"]     # fork-migrate never ran
    (result,) = report.results
    assert result.interrupted and result.verdict == "failed"
    # everything found so far, nothing lost: one finding per registry entry (F1's two
    # manifestations merge), every violation's replay file kept
    paths = [f.replay_path for f in report.findings] + \
        [p for f in report.findings for _, p, _ in f.also]
    assert len(paths) == found
    assert "F1" in {f.known for f in report.findings}
    for f in report.findings:
        assert f.replay_path is not None and os.path.isfile(f.replay_path)
        assert classify(f.violation, BUILTIN[f.scenario].config).id == f.known
    assert sorted(os.listdir(out_dir)) == sorted(os.path.basename(p) for p in paths)
    text = report.render()
    assert "(interrupted)" in text
    assert any(ln.startswith("debugfs ") and ln.rstrip().endswith("interrupted")
               for ln in text.splitlines()), text
    assert report.to_dict()["interrupted"] is True
    json_path = tmp_path / "r.json"
    report.write_json(str(json_path))
    assert json.loads(json_path.read_text())["interrupted"] is True
