"""The public Hypothesis strategies (``mmlist.strategies``) and the profiles' helpers.

Each strategy generates valid objects (a few examples each, derandomized: the same examples in
every run); a drawn World is one the kernel can reach (a walker iterates it with no violation
the findings registry does not explain); a drawn schedule drives the controlled scheduler, and
a mutant's failure shrinks to one preemption and becomes a replay file that reproduces.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from mmlist import programs as P
from mmlist import sched
from mmlist import strategies as ms
from mmlist.config import Config
from mmlist.findings import classify
from mmlist.kernel.list import raw_iter
from mmlist.scenarios import BUILTIN, get
from mmlist.strategies import (DrawnSchedule, Exec, Exit, Fork, Migrate, NewMemcg, Spawn,
                               WorldPlan)

FEW = settings(max_examples=15, deadline=None, derandomize=True, database=None,
               suppress_health_check=[HealthCheck.too_slow])
SMALL = Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16)


def new_violations(scenario, ex):
    return [str(v) for v in ex.violations if classify(v, scenario.config).kind == "new"]


# --- configs ------------------------------------------------------------------------------------
@FEW
@given(ms.configs())
def test_configs_are_buildable_and_within_the_supported_ranges(c):
    c.check_build()
    assert c.nr_nodes in (1, 2) and c.nr_cpus in (1, 2) and c.MAX_NR_GENS in (4, 5)
    assert c.MIN_LRU_BATCH in (8, 16) and c.MAX_LRU_BATCH in (c.MIN_LRU_BATCH,
                                                               8 * c.MIN_LRU_BATCH)
    assert c.CONFIG_MEMCG or not c.mem_cgroup_disabled


@FEW
@given(ms.configs(CONFIG_MEMCG=False, nr_nodes=st.just(2), MAX_LRU_BATCH=64))
def test_configs_pin_the_fields_given(c):
    assert (c.CONFIG_MEMCG, c.nr_nodes, c.MAX_LRU_BATCH, c.mem_cgroup_disabled) == \
        (False, 2, 64, False)


def test_configs_name_the_fields_when_one_is_misspelt():
    with pytest.raises(TypeError, match="unknown Config field.*nr_node.*the fields are"):
        ms.configs(nr_node=2)


# --- scenarios ----------------------------------------------------------------------------------
@FEW
@given(ms.scenarios(covering=["migration", "fork"]))
def test_scenarios_cover_what_was_asked(sc):
    assert BUILTIN[sc.name] is sc
    text = " ".join((sc.name,) + sc.covers).lower()
    assert "migration" in text or "fork" in text


@FEW
@given(ms.scenarios(names=["walkers", "exit", "fork"], exclude=["exit"], as_names=True))
def test_scenarios_by_name(name):
    assert name in ("walkers", "fork")


def test_scenarios_refuse_what_matches_nothing():
    with pytest.raises(ValueError, match="unknown scenario.*nope"):
        ms.scenarios(names=["nope"])
    with pytest.raises(ValueError, match="no built-in scenario covers.*the covers are"):
        ms.scenarios(covering="quantum")


# --- worlds ---------------------------------------------------------------------------------------
def members(w, memcg_name):
    lst = w.memcg(memcg_name).mm_list if w.memcg_enabled else w.mm_list
    return [n.container.label for n in raw_iter(lst.fifo)]


def test_a_plan_runs_each_operation_through_the_model():
    plan = WorldPlan(SMALL, (Spawn(0, 2), Spawn(0, 1), NewMemcg(), Fork(0), Fork(1, True),
                             Migrate(1, 1), Exec(0), Exit(3)))
    w = plan.build()
    labels = [t.label for t in w.all_tasks]
    assert {"sh", "reclaim0", "kworker/u8:0", "app1", "app2", "app1.c8", "app2.t9"} <= \
        set(labels)
    app1, app2 = (next(t for t in w.all_tasks if t.label == c) for c in ("app1", "app2"))
    # app2 moved to B with its mm (it owns it); app1 exec'd: a new mm on A's list, the old one
    # put (its child app1.c8 has its own since the fork); app2.t9 exited, sharing app2's mm
    assert members(w, "B") == [app2.mm.label]
    assert app1.mm.label in members(w, "A") and len(members(w, "A")) == 2
    assert w.memcg("B").label == "B" and [m.label for m in w.memcgs][1:] == ["A", "B"]


@FEW
@given(ms.world_plans(max_ops=6))
def test_drawn_worlds_are_reachable_states_a_walker_can_iterate(plan):
    def threads(w):
        return [P.direct_reclaim("reclaim0", "A" if w.config.CONFIG_MEMCG else None)]
    sc = plan.scenario(threads)
    ex = sched.run_once(sc, DrawnSchedule())
    assert ex.status == "finished", ex.status          # every thread ended: no hang, no cut-off
    assert not new_violations(sc, ex), (plan, new_violations(sc, ex))


@settings(max_examples=5, deadline=None, derandomize=True, database=None)
@given(ms.worlds(config=SMALL, max_ops=4, min_tasks=2))
def test_worlds_are_built_worlds(w):
    from mmlist.model import World
    assert isinstance(w, World) and w.config == SMALL
    assert sum(t.label.startswith("app") for t in w.all_tasks) >= 2


# --- schedules ------------------------------------------------------------------------------------
def test_a_schedule_of_zeros_never_preempts_and_replays_the_same():
    a = sched.run_once("walkers", DrawnSchedule())
    b = sched.run_once("walkers", DrawnSchedule([0] * 40))
    assert a.preemptions == 0 and a.decisions == b.decisions
    c1 = sched.run_once("walkers", DrawnSchedule([0, 1, 1, 0, 1]))
    c2 = sched.run_once("walkers", DrawnSchedule([0, 1, 1, 0, 1]))
    assert c1.preemptions >= 1 and c1.decisions == c2.decisions


def test_a_schedule_prints_as_code_and_explore_runs_it_once():
    s = DrawnSchedule([2, 0, 1])
    assert eval(repr(s), {"DrawnSchedule": DrawnSchedule}).answers == [2, 0, 1]
    assert sched.explore("walkers", strategy=s).executions == 1
    with pytest.raises(ValueError):
        DrawnSchedule([-1])


@FEW
@given(ms.schedules(max_answers=16))
def test_drawn_schedules_pass_on_the_faithful_model(schedule):
    assert ms.check_schedule("walkers", schedule, replay_dir=None) == []


def test_a_mutant_shrinks_to_one_preemption_and_its_replay_file_reproduces(tmp_path):
    mutant, scenario = "reclaim-never-waits", "walkers"      # needs an interleaving

    def fails(schedule):
        ex = ms.run_schedule(scenario, schedule, variant=mutant)
        return bool(new_violations(get(scenario), ex))
    minimal = find(ms.schedules(), fails, settings=settings(
        max_examples=100, deadline=None, derandomize=True, database=None))
    assert ms.run_schedule(scenario, minimal, variant=mutant).preemptions == 1
    assert len(minimal.answers) <= 16 and sum(1 for a in minimal.answers if a) == 1
    with pytest.raises(AssertionError) as e:
        ms.check_schedule(scenario, minimal, variant=mutant, replay_dir=str(tmp_path))
    text = str(e.value)
    assert "who_waits" in text and "[NEW]" in text and "step | reclaim0" in text
    path = tmp_path / "walkers-who_waits-hypothesis.json"
    assert f"replay: mmlist replay {path}" in text
    assert json.loads(path.read_text())["variant"] == mutant
    assert sched.replay(str(path)).reproduced


def test_known_findings_are_returned_not_raised_unless_strict(tmp_path):
    found = ms.check_schedule("preempt-rt-exec", DrawnSchedule(), replay_dir=str(tmp_path))
    assert [f.label.id for f in found] == ["F4"] and found[0].replay_path is None
    with pytest.raises(AssertionError, match=r"sleep_in_atomic.*known finding F4"):
        ms.check_schedule("preempt-rt-exec", DrawnSchedule(), replay_dir=str(tmp_path),
                          strict=True)
    assert sched.replay(str(tmp_path / "preempt-rt-exec-sleep_in_atomic-hypothesis.json"))\
        .reproduced


def test_a_user_scenario_failure_names_the_python_replay(tmp_path):
    plan = WorldPlan(SMALL, (Spawn(0, 2),))
    sc = plan.scenario(lambda w: [P.direct_reclaim("reclaim0", "A")], name="mine")
    with pytest.raises(AssertionError) as e:
        ms.check_schedule(sc, DrawnSchedule(), variant="inc-max-seq-by-two",
                          replay_dir=str(tmp_path))
    assert "replay: mmlist.sched.replay(" in str(e.value)
    assert "Replay: mmlist replay" not in str(e.value)     # the command knows no "mine"
    path = next(tmp_path.glob("mine-*-hypothesis.json"))
    assert sched.replay(str(path), scenario=sc).reproduced
