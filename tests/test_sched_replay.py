"""Replay files: round trip, divergence, stale and corrupt files refused."""
from __future__ import annotations

import copy
import json

import pytest

from mmlist import sched


@pytest.fixture(scope="module")
def failure():
    r = sched.explore("fork-migrate", strategy="dfs", preemption_bound=1, stop_on_first=True)
    f = next(f for f in r.failures if f.violation.check == "VM_BUG_ON_MM")
    return f


def test_replay_round_trip(failure, tmp_path):
    path = str(tmp_path / "fm.json")
    sched.save_replay(failure, path)
    assert f"mmlist replay {path}" in failure.table_text
    data = json.load(open(path))
    assert data["schema_version"] == 1 and data["scenario"] == "fork-migrate"
    # keyed by meaning: thread, op name, object label; never ids or bytecode offsets
    d = next(d for d in data["decisions"] if "op" in d)
    assert set(d) <= {"thread", "op", "obj", "preempt"}
    res = sched.replay(path)
    assert res.reproduced and res.divergence is None, res
    assert "lru_gen_migrate_mm" in res.table_text
    assert res.execution.decisions == failure.schedule
    # the same file again: byte-for-byte the same execution
    again = sched.replay(sched.load_replay(path))
    assert [e.__dict__ for e in again.execution.events] == \
        [e.__dict__ for e in res.execution.events]


def test_replay_reports_first_divergence(failure):
    data = copy.deepcopy(failure.replay_dict)
    k = next(i for i, d in enumerate(data["decisions"]) if d.get("op") == "LOCK")
    data["decisions"][k]["obj"] = "some.other.lock"
    res = sched.replay(data)
    assert not res.reproduced
    assert res.divergence.startswith(f"decision #{k}: expected ")
    assert "some.other.lock" in res.divergence and "observed" in res.divergence


@pytest.mark.parametrize("mutate, words", [
    (lambda d: d.update(schema_version=0), "stale replay file"),
    (lambda d: d.update(scenario="no-such-scenario"), "unknown scenario"),
    (lambda d: d.update(threads=["a", "b"]), "now has threads"),
    (lambda d: d.pop("decisions"), "missing decisions"),
    (lambda d: d.update(kind="something"), "not an mmlist replay file"),
])
def test_stale_replay_refused_with_one_line(failure, tmp_path, mutate, words):
    data = copy.deepcopy(failure.replay_dict)
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(sched.ReplayFileError) as e:
        sched.replay(str(path))
    assert words in str(e.value) and "\n" not in str(e.value)


def test_corrupt_replay_refused(tmp_path):
    path = tmp_path / "corrupt.json"
    path.write_text('{"schema_version": 1, "kind": "mmlist-replay", "decis')
    with pytest.raises(sched.ReplayFileError, match="corrupt replay file .*invalid JSON"):
        sched.load_replay(str(path))
    with pytest.raises(sched.ReplayFileError, match="cannot read"):
        sched.replay(str(tmp_path / "missing.json"))
