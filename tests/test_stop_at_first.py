"""``--stop-at-first`` (issue 11, item 4): a hunt or a check ends right after its first
violation that makes the exit status 1 (a new one; a known one too under --strict; a benign
judgement never), still writing its report, JSON and replay files, and saying that it stopped
and where. Budgets are executions or at most 2 s; nothing here asserts a wall-clock time."""
from __future__ import annotations

import json
import os

from cli_helpers import run_cli as _run
from mmlist.findings import BY_ID, NEW, Label
from mmlist.hunt import _FirstStop

MUTANT = "no-nr-walkers-inc"            # caught in walkers' first execution, sequentially


def _hunt(tmp_path, name: str, *argv: str) -> tuple[int, str, dict]:
    path = tmp_path / f"{name}.json"
    code, out, err = _run("hunt", "--no-progress", "--out", str(tmp_path / name), "--json",
                          str(path), *argv)
    assert not err.strip(), err
    return code, out, json.loads(path.read_text())


def _executions(data: dict) -> int:
    return sum(r["executions"] for r in data["results"])


def test_which_findings_stop_it():
    loose, strict = _FirstStop(strict=False), _FirstStop(strict=True)
    known, benign = Label("known", BY_ID["F3"]), Label("benign", BY_ID["B3"])
    assert loose.stops(NEW) and strict.stops(NEW)
    assert not loose.stops(known) and strict.stops(known)
    assert not loose.stops(benign) and not strict.stops(benign)


def test_a_mutant_hunt_ends_at_its_first_finding(tmp_path):
    args = ("--mutant", MUTANT, "--scenario", "walkers", "--scenario", "fork", "--budget", "1")
    code, _, whole = _hunt(tmp_path, "whole", *args)
    assert code == 1 and not whole["stopped_at_first"]
    code, out, first = _hunt(tmp_path, "first", *args, "--stop-at-first")
    assert code == 1 and first["exit_code"] == 1
    assert first["stopped_at_first"] is True
    assert "stopped at the first finding (--stop-at-first): walkers:" in first["stopped"]
    assert "stopped at the first finding (--stop-at-first)" in out
    # it ended in walkers' first execution: fork was never started, and not called passed
    assert [r["scenario"] for r in first["results"]] == ["walkers"]
    assert first["results"][0]["executions"] == 1
    assert first["not_searched"] == ["fork"] and "not searched: 1 scenario(s): fork" in out
    assert first["verdict"] == "verdict: failed"
    assert _executions(first) < _executions(whole)
    # every finding of that execution has its replay file
    assert first["counts"]["new"] >= 1
    for f in first["findings"]:
        assert f["replay"] and os.path.isfile(f["replay"]), f
    assert sorted(os.listdir(tmp_path / "first")) == \
        sorted(os.path.basename(f["replay"]) for f in first["findings"])


def test_a_known_finding_stops_it_only_under_strict(tmp_path):
    # F3 on fork-migrate: PCT finds it within a few dozen executions
    args = ("--scenario", "fork-migrate", "--strategy", "pct", "--budget", "1.5",
            "--stop-at-first")
    code, out, loose = _hunt(tmp_path, "loose", *args)
    assert code == 3, out
    assert loose["counts"] == {"new": 0, "known": 1, "benign": 0}
    assert not loose["stopped_at_first"] and loose["stopped"] is None
    code, out, strict = _hunt(tmp_path, "strict", *args, "--strict")
    assert code == 1, out
    assert strict["stopped_at_first"] and "known finding F3" in strict["stopped"]
    assert _executions(strict) < _executions(loose)
    assert all(os.path.isfile(f["replay"]) for f in strict["findings"])


def test_check_stops_at_its_first_finding(tmp_path):
    # fork-migrate at bound 1: 79 executions to completion, F3 among them
    base = ("check", "--scenario", "fork-migrate", "--preemption-bound", "1", "--out",
            str(tmp_path))
    code, out, _ = _run(*base, "--stop-at-first", "--json", str(tmp_path / "loose.json"))
    loose = json.loads((tmp_path / "loose.json").read_text())
    assert code == 3 and loose["results"][0]["verdict"] == "failed"
    assert loose["results"][0]["completed"] and not loose["stopped_at_first"]
    code, out, _ = _run(*base, "--stop-at-first", "--strict",
                        "--json", str(tmp_path / "strict.json"))
    strict = json.loads((tmp_path / "strict.json").read_text())
    assert code == 1
    row = strict["results"][0]
    assert row["verdict"] == "failed" and not row["completed"] and not row["interrupted"]
    assert "stopped at the first finding (--stop-at-first)" in row["reason"]
    assert row["executions"] < loose["results"][0]["executions"]
    assert not strict["interrupted"] and "(interrupted)" not in out
    assert "stopped at the first finding (--stop-at-first): VM_BUG_ON_MM" in out


def test_a_mutant_check_stops_after_one_execution_and_its_replay_reproduces(tmp_path):
    code, out, _ = _run("check", "--mutant", MUTANT, "--scenario", "walkers",
                        "--preemption-bound", "1", "--stop-at-first", "--out", str(tmp_path),
                        "--json", str(tmp_path / "r.json"))
    data = json.loads((tmp_path / "r.json").read_text())
    assert code == 1 and data["stopped_at_first"]
    assert data["results"][0]["executions"] == 1
    replay = data["findings"][0]["replay"]
    code, out, _ = _run("replay", replay)
    assert code == 1 and "reproduced" in out
