"""From a stress find to a deterministic replay (``mmlist.stress_replay``, ``mmlist.oplog``).

A stress run of a mutant writes a replay file that ``mmlist replay`` reproduces; the pieces
(the op log's stamps, the window and set-up of a definition, the hint strategy) behave as
documented; a replay file's scenario is checked like every other field; a find that cannot be
searched for again says why.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from cli_helpers import main
from mmlist import churn
from mmlist.oplog import Entry, OpLog, Stamp
from mmlist.sched.explore import replay
from mmlist.sched.replayfile import ReplayFileError, validate
from mmlist.stress_replay import (Hint, StressScenarioError, check_definition, definition,
                                  hint_of, reproduce, scenario_from_definition)

DATA = Path(__file__).parent / "data"


def _stress(tmp_path: Path, *flags: str) -> tuple[int, dict]:
    out = tmp_path / "report.json"
    rc = main(["stress", "--no-progress", "--out", str(tmp_path / "out"), "--json", str(out),
               *flags])
    return rc, json.loads(out.read_text())


def test_a_stress_find_becomes_a_replay_file_that_mmlist_replay_reproduces(tmp_path, capsys):
    rc, rep = _stress(tmp_path, "--duration", "1", "--seed", "0", "--mutant", "stats-no-add")
    assert rc == 1
    table = capsys.readouterr().out
    new = [f for f in rep["findings"] if f["label"] == "new"]
    assert new and all(f["replay"] is not None for f in new[:1])
    done = [f["replay"] for f in new if f["replay"] and f["replay"]["reproduced"]]
    assert done, [f["replay"] for f in new]
    path = done[0]["replay_path"]
    assert f"replay file {path}" in table
    data = json.loads(Path(path).read_text())
    assert data["variant"] == "stats-no-add" and "stress_scenario" in data
    capsys.readouterr()
    assert main(["replay", path]) == 1          # reproduced: the violation again
    assert "reproduced:" in capsys.readouterr().out


def test_the_replay_file_of_a_stress_find_replays_the_same_twice(tmp_path):
    """Replaying is deterministic: two replays of a stress find's file take the same steps."""
    rc, rep = _stress(tmp_path, "--duration", "1", "--seed", "1", "--mutant", "stats-no-add")
    paths = [f["replay"]["replay_path"] for f in rep["findings"]
             if f["replay"] and f["replay"]["reproduced"]]
    assert paths
    a, b = replay(paths[0]), replay(paths[0])
    assert a.reproduced and b.reproduced
    assert a.execution.decisions == b.execution.decisions


def test_without_checks_a_find_is_not_searched_for_and_the_table_says_why(tmp_path):
    """The controlled scheduler judges by the checks: with --no-checks there is nothing to
    search for (a unit test: a mutant that trips a kernel assertion without checks hangs
    threads, which would outlive the test)."""
    from mmlist.findings import Label
    from mmlist.stress_cmd import Distinct, replay_finds
    from mmlist.violation import Violation
    v = Violation(check="VM_BUG_ON", severity="bug", message="x", function="get_next_mm")
    f = Distinct(v, Label("new"))
    state = SimpleNamespace(churn=SimpleNamespace(cfg=churn.ChurnConfig(checks=False)))
    args = SimpleNamespace(replay_known=False, duration=1.0, seed=0, replay_budget=1,
                           out=str(tmp_path))
    assert "not searched for again: checks off" in replay_finds(state, [f], args, None)
    assert f.replay is None and not list(tmp_path.iterdir())


# --- the op log and the definition of a find -------------------------------------------------------

def _log(ops: dict[str, list[tuple[list, int, int | None, int]]]) -> OpLog:
    """An OpLog by hand: per thread, (op, start, end, hooks) entries."""
    log = OpLog(list(ops))
    for tid, entries in enumerate(ops.values()):
        log.ops[tid] = [Entry(op, start, hooks, end) for op, start, end, hooks in entries]
    return log


SHAPE = {"memcgs": 2, "tasks": 8, "nodes": 1, "walkers": 1, "lifecycle": 1, "seed": 0}


def test_the_window_is_each_threads_last_k_operations_and_the_set_up_the_rest_in_return_order():
    log = _log({
        "kswapd0": [(["age_node", 0], 1, 4, 0), (["age_node", 0], 5, 9, 30),
                    (["age_node", 0], 10, None, 60)],
        "lifecycle0": [(["exec", 1], 2, 3, 0), (["exit", 2], 6, 7, 5), (["exec", 3], 8, 11, 9)],
        "migrate": [(["migrate", 4, "M1"], 12, None, 0)],          # started after the stamp
    })
    stamp = Stamp(seq=11, started=[3, 3, 0], hooks=[70, 12, 0])
    d, window = definition(SHAPE, {}, log.names, log.ops, stamp, 1, None)
    assert window == {(0, 2), (1, 2)}
    assert d["threads"] == [{"name": "kswapd0", "ops": [["age_node", 0]]},
                            {"name": "lifecycle0", "ops": [["exec", 3]]}]
    # the rest, in the order they returned (end 3, 4, 7, 9): never an operation of the window,
    # never one that started after the stamp
    assert d["setup"] == [["lifecycle0", ["exec", 1]], ["kswapd0", ["age_node", 0]],
                          ["lifecycle0", ["exit", 2]], ["kswapd0", ["age_node", 0]]]
    d2, window2 = definition(SHAPE, {}, log.names, log.ops, stamp, 2, 1)
    assert window2 == {(0, 1), (0, 2), (1, 1), (1, 2)}
    assert d2["setup"] == [["kswapd0", ["age_node", 0]]]     # of exec 1 (end 3), age (end 4)
    d0, _ = definition(SHAPE, {}, log.names, log.ops, stamp, 1, 0)
    assert d0["setup"] == []
    check_definition(d)                 # what definition() writes, check_definition() reads


def test_the_hint_follows_each_threads_positions_in_stress():
    log = _log({"a": [(["age_node", 0], 1, None, 2)], "b": [(["exec", 1], 2, None, 0)]})
    # thread a's hook operations 2..4 were the 3rd, 5th and 6th of the run; b's 0..1 the 1st
    # and 4th (the rings hold each thread's last ones)
    stamp = Stamp(seq=3, started=[1, 1], hooks=[5, 2], recent=[[1, 2, 3, 5, 6], [1, 4]])
    hints = hint_of(log.names, log.ops, stamp, {(0, 0), (1, 0)})
    assert hints == {"a": [3, 5, 6], "b": [1, 4]}
    state = SimpleNamespace(current=None, names=lambda: ["a", "b", "kworker"])
    h = Hint(hints, depart=0.0, seed=0)
    h.new_execution()
    picks = []
    for _ in range(6):
        picks.append(h.pick([0, 1, 2], state))
        state.current = picks[-1]
    # b(1) a(3) b(4) a(5) a(6), then past every hint: the running thread goes on
    assert picks == [1, 0, 1, 0, 0, 0]


# --- a replay file's scenario is data, checked -----------------------------------------------------

def _file() -> dict:
    return json.loads((DATA / "stress-mkdir-publication-race.json").read_text())


@pytest.mark.parametrize("path, value, says", [
    (("threads", 0, "name"), "rm -rf /", "not a stress thread"),
    (("threads", 0, "ops", 0), ["age_node", 7], "out of range"),
    (("threads", 0, "ops", 0), ["age_node", "0"], "age_node wants 1 arguments"),
    (("threads", 0, "ops", 0), ["eval", "x"], "not an operation"),
    (("setup",), [["kswapd0", ["reclaim", "M9", 0, 0]]], "out of range"),
    (("setup",), [["nobody", ["age_node", 0]]], "expected [thread, operation]"),
    (("shape", "memcgs"), 0, "out of range"),
    (("shape", "nodes"), True, "expected integers"),
    (("config",), {"PREEMPT_RT": "maybe"}, "boolean"),
    (("config",), {"CONFIG_MEMCG": False}, "expected KEY=VALUE"),
])
def test_a_corrupt_stress_scenario_is_one_line_naming_the_field(path, value, says, tmp_path,
                                                                capsys):
    data = _file()
    node = data["stress_scenario"]
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    with pytest.raises(ReplayFileError, match="stress_scenario") as e:
        validate(copy.deepcopy(data), "x.json")
    assert says in str(e.value) and "\n" not in str(e.value)
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(data))
    assert main(["replay", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "stress_scenario" in err


def test_check_definition_accepts_what_the_memcg_thread_names():
    d = _file()["stress_scenario"]
    assert ["mkdir", "D0"] in d["threads"][6]["ops"]
    check_definition(d)
    bad = copy.deepcopy(d)
    bad["threads"][6]["ops"][0] = ["mkdir", "M0; echo"]
    with pytest.raises(StressScenarioError):
        check_definition(bad)


# --- a modelling error that stress found (docs/findings.md) ----------------------------------------

def test_a_new_memcg_is_published_before_kswapd_walks_it(monkeypatch):
    """``mem_cgroup_alloc()`` initialises a memcg's lruvecs, then links it where
    ``mem_cgroup_iter()`` finds it, by RCU: kswapd's reads of the new lruvec are ordered after
    its initialisation. Before the race check knew the publication (``RCU_PUBLISHED``), stress
    with memcg churn reported a data race there; the replay file of that find now runs to its
    end with no race, and reports it again when the publication is forgotten."""
    path = str(DATA / "stress-mkdir-publication-race.json")
    r = replay(path)
    assert not r.reproduced
    assert r.divergence and r.divergence.startswith(
        f"decision #{len(_file()['decisions'])}: expected the end of the schedule")
    assert not [v for v in r.violations if v.check == "data_race"]
    from mmlist.checks import races
    monkeypatch.setattr(races, "RCU_PUBLISHED", frozenset())
    assert replay(path).reproduced


# --- honest reports -----------------------------------------------------------------------------------

def test_a_find_after_the_history_limit_is_reported_as_not_replayable(monkeypatch, tmp_path):
    monkeypatch.setattr("mmlist.oplog.HISTORY_MAX", 20)
    from mmlist.variants import load_variant
    v = load_variant("stats-no-add")
    with v.applied():
        state = churn.start(churn.ChurnConfig(duration=0.5, seed=0, noise="none"))
        churn.run(state)
        late = [x for x in state.violations if state.churn.log.stamps[id(x)].truncated]
        assert late, "the mutant's violations come after 20 operations"
        r = reproduce(state, late[0], budget=2, out_dir=str(tmp_path), variant=v)
    assert not r.reproduced and "history had passed 20 operations" in r.line()
    assert not list(tmp_path.iterdir())


def test_the_scenario_of_a_find_builds_the_stress_world_with_the_same_pids():
    """The set-up of a stress find starts from the stress World's own (``churn.populate``),
    so the pids in its operations name the same tasks."""
    world, _, _ = churn.build_world(churn.ChurnConfig())
    d = _file()["stress_scenario"]
    sc = scenario_from_definition({**d, "setup": []})
    w2, specs = sc.build()
    assert [(t.pid, t.label) for t in world.all_tasks] == \
        [(t.pid, t.label) for t in w2.all_tasks][:len(world.all_tasks)]
    assert [s.name for s in specs][-1] == "kworker/u8:0"
