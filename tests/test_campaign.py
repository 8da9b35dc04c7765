"""``mmlist campaign``: a tiny campaign on a local Dask cluster, bad files, no dask.

The campaign runs two one-second hunts (one of a built-in mutant, so a new finding appears)
and a one-second stress on ``--local 2``; nothing asserts a time or an exact count.
"""
from __future__ import annotations

import glob
import json
import os
import sys

import pytest

from mmlist.campaign import NEEDS_DASK, exit_code, load, merge_findings
from mmlist.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TINY = """
name = "tiny"

[[task]]
name = "faithful"
kind = "hunt"
scenarios = ["walkers"]
budget = 1

[[task]]
name = "mutant"
kind = "hunt"
scenarios = ["walkers"]
mutant = "inc-max-seq-by-two"
budget = 1

[[task]]
name = "churn"
kind = "stress"
duration = 1
lifecycle = 1
"""


def test_tiny_campaign_on_a_local_cluster(tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    out, merged = tmp_path / "out", tmp_path / "merged.json"
    rc = main(["campaign", str(path), "--local", "2", "--out", str(out),
               "--json", str(merged)])
    text = capsys.readouterr().out
    assert rc == 1, text                                # the mutant's finding is new
    rep = json.loads(merged.read_text())
    assert rep == json.loads((out / "campaign.json").read_text())
    assert rep["exit_code"] == 1 and not rep["interrupted"] and not rep["not_finished"]
    units = {u["id"]: u for u in rep["units"]}
    assert set(units) == {"faithful-portfolio-s0", "mutant-portfolio-s0", "churn-s0"}
    assert units["mutant-portfolio-s0"]["exit_code"] == 1
    assert units["faithful-portfolio-s0"]["exit_code"] in (0, 3)
    assert units["churn-s0"]["exit_code"] in (0, 3)     # the faithful model: judged races only
    new = [f for f in rep["findings"] if f["label"] == "new"]
    assert new and all(f["units"] == ["mutant-portfolio-s0"] for f in new)
    # the replay files came back from the workers and were written under --out
    replays = glob.glob(str(out / "units" / "mutant-portfolio-s0" / "replays" / "*.json"))
    assert replays and set(new[0]["replays"]) <= {os.path.abspath(p) for p in replays}
    assert all(os.path.isfile(u["report"]) for u in units.values())
    summary = (out / "summary.md").read_text()
    assert "# Campaign tiny" in summary and "mutant-portfolio-s0" in summary
    assert "**[NEW]**" in summary


@pytest.mark.parametrize("body, words", [
    ("[[task]]\nname = 'a'\nkind = 'fuzz'\n", "'kind' must be"),
    ("[[task]]\nname = 'a'\nkind = 'hunt'\nbudget = -1\n", "--budget"),
    ("[[task]]\nname = 'a'\nkind = 'hunt'\nscenarios = ['nope']\n", "unknown scenario"),
    ("[[task]]\nname = 'a'\nkind = 'stress'\nbudget = 3\n", "unknown key(s)"),
    ("[[task]]\nname = 'a'\nkind = 'hunt'\nmutant = 'nope'\n", "unknown mutant"),
    ("[[task]]\nname = 'a'\nkind = 'hunt'\nseeds = [1, 'x']\n", "must be an integer"),
    ("name = 'x'\n", "no [[task]] tables"),
    ("[[task]\n", "not valid TOML"),
])
def test_a_bad_campaign_file_is_one_line_and_exit_2(tmp_path, capsys, body, words):
    pytest.importorskip("dask.distributed")
    path = tmp_path / "bad.toml"
    path.write_text(body)
    rc = main(["campaign", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and words in err, err
    assert not (tmp_path / "out").exists()              # nothing was started


def test_without_dask_it_says_which_extra(tmp_path, capsys, monkeypatch):
    # a None entry in sys.modules makes `import dask.distributed` raise ImportError
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    path = tmp_path / "c.toml"
    path.write_text(TINY)
    rc = main(["campaign", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.strip() == f"mmlist: error: {NEEDS_DASK}"


def test_every_campaign_in_stress_loads():
    files = sorted(glob.glob(os.path.join(ROOT, "stress", "campaigns", "*.toml")))
    assert len(files) >= 6
    for f in files:
        assert load(f).units, f


def _unit(uid: str, code: int, findings: list[dict]) -> dict:
    return {"id": uid, "exit_code": code, "report": {"findings": findings}}


def _finding(fid: str | None, count: int, replay: str) -> dict:
    return {"label": "known" if fid else "new", "finding_id": fid, "count": count,
            "replay": replay, "also": [], "scenario": "walkers",
            "violation": {"schema_version": 1, "check": "cursor", "message": "head at 3",
                          "function": "get_next_mm", "stack": ["get_next_mm"]}}


def test_findings_merge_once_by_key_and_the_worst_exit_code_wins():
    a = _unit("a", 3, [_finding("F1", 2, "a.json"), _finding(None, 1, "a2.json")])
    b = _unit("b", 1, [_finding("F1", 5, "b.json"), _finding(None, 4, "b2.json")])
    merged = merge_findings([a, b])
    assert [(m["label"], m["count"], m["units"]) for m in merged] == [
        ("new", 5, ["a", "b"]), ("known", 7, ["a", "b"])]
    assert merged[1]["replays"] == ["a.json", "b.json"]
    assert exit_code([a, b]) == 1 and exit_code([a]) == 3
    assert exit_code([_unit("c", 4, []), a]) == 4 and exit_code([]) == 0
