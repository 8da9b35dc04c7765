"""``mmlist stress``: a short churn of the faithful model, a mutant it catches, bad flags, JSON.

Short runs with fixed seeds; free-running threads are not deterministic, so nothing here
asserts a time, a throughput or an exact count.
"""
from __future__ import annotations

import json

import pytest

from mmlist.cli import main

#: checks that say the harness or the model itself broke, not the protocol
ENGINE_ERRORS = {"model_error", "stuck_thread", "liveness"}


def test_faithful_stress_runs_and_prints_its_table(tmp_path, capsys):
    path = tmp_path / "stress.json"
    rc = main(["stress", "--duration", "1.5", "--seed", "0", "--lifecycle", "1",
               "--no-progress", "--json", str(path)])
    out = capsys.readouterr().out
    assert "operations by kind:" in out and "aging calls completed" in out, out
    assert f"exit status {rc}" in out
    # every race the stress reached on the faithful model is judged (B7, B9: docs/stress.md)
    assert rc in (0, 3), out
    report = json.loads(path.read_text())
    assert report["command"] == "stress" and report["exit_code"] == rc
    assert report["aging_calls"] > 0 and report["hook_operations"]["LOCK"] > 0
    assert report["threads_left"] == []
    checks = {f["violation"]["check"] for f in report["findings"]}
    assert not checks & ENGINE_ERRORS, report["findings"]
    assert report["counts"]["new"] == len([f for f in report["findings"]
                                           if f["label"] == "new"])


def test_stress_catches_a_mutant(capsys):
    rc = main(["stress", "--duration", "1", "--seed", "0", "--mutant", "stats-no-add",
               "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 1, out
    assert any("mm_stats" in line and "[NEW]" in line for line in out.splitlines()), out


def test_stress_checks_off_runs(capsys):
    rc = main(["stress", "--duration", "1", "--seed", "1", "--no-checks", "--noise", "none",
               "--no-progress"])
    out = capsys.readouterr().out
    assert "checks off" in out and rc in (0, 1, 3), out


@pytest.mark.parametrize("flags", [["--duration", "0"], ["--noise", "bogus"],
                                   ["--noise", "1.5"], ["--mutant", "no-such-mutant"],
                                   ["--tasks", "0"], ["--variant", "x", "--mutant", "y"]])
def test_bad_flags_are_one_line_and_exit_2(flags, capsys):
    rc = main(["stress", *flags])
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("mmlist: error:"), err
