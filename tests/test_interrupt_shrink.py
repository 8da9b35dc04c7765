"""Ctrl-C (or SIGTERM, which the command turns into the same interrupt) while a violation that
was just found is being shrunk: the violation is kept with its unshrunk counterexample, its
replay file is written, and the run ends as interrupted (issue 10, row 8)."""
from __future__ import annotations

import os

import pytest

from mmlist import sched
from mmlist.hunt import hunt
from mmlist.scenarios import BUILTIN
import importlib

explore_mod = importlib.import_module("mmlist.sched.explore")


@pytest.fixture
def ctrl_c_in_shrink(monkeypatch):
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(args[1].name)
        raise KeyboardInterrupt
    monkeypatch.setattr(explore_mod, "shrink_schedule", interrupted)
    return calls


def test_explore_keeps_the_unshrunk_counterexample_and_stops(ctrl_c_in_shrink, tmp_path):
    rep = sched.explore("debugfs", strategy="random", max_executions=50,
                        replay_dir=str(tmp_path))
    assert ctrl_c_in_shrink == ["debugfs"]              # shrinking began once, then Ctrl-C
    assert rep.interrupted and rep.verdict != "passed"
    (f,) = rep.failures
    assert f.shrink_interrupted and f.dropped == []      # no thread dropped: not shrunk
    assert f.table_text.startswith("(not shrunk: interrupted while shrinking")
    assert any("interrupted while shrinking" in n for n in rep.notes)
    (path,) = [os.path.join(tmp_path, p) for p in os.listdir(tmp_path)]
    assert f.replay_path == path
    res = sched.replay(path)                            # and the file reproduces it
    assert res.reproduced, res


def test_hunt_writes_the_reproducer_and_says_it_was_interrupted(ctrl_c_in_shrink, tmp_path):
    out = tmp_path / "out"
    report = hunt([BUILTIN["debugfs"], BUILTIN["walkers"]], budget=60.0, strategy="random",
                  out_dir=str(out))
    assert report.interrupted
    assert [r.scenario for r in report.results] == ["debugfs"]
    (f,) = report.findings
    assert f.known in ("F1", "F2") and os.path.isfile(f.replay_path)
    assert "not shrunk: interrupted while shrinking" in report.render()
    assert report.exit_code == 3
