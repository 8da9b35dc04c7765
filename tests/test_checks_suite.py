"""The CheckSuite interface, violations as data, and the faithful model's known findings."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from checks_helpers import ctx, small_world, task

from mmlist import runtime as rt
from mmlist.checks import CHECKS, CheckSuite, run_sequential
from mmlist.model import fork, memcontrol
from mmlist.scenarios import BUILTIN
from mmlist.variants import load_variant
from mmlist.violation import Violation

#: What each built-in scenario shows when its threads run one after another on the faithful
#: model: the known findings (docs/findings.md), nothing else.
KNOWN_SEQUENTIAL = {
    "debugfs": {"seq", "VM_BUG_ON"},
    "preempt-rt-exec": {"sleep_in_atomic"},
}


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_faithful_scenarios_run_sequentially_show_only_the_known_findings(name):
    world, specs = BUILTIN[name].build()
    r = run_sequential(world, specs)
    assert r.checks() == KNOWN_SEQUENTIAL.get(name, set()), [str(v) for v in r.violations]
    assert not r.stuck


def test_finding_nowalk_kswapd_leaves_seq_behind_then_vm_bug_on():
    world, specs = BUILTIN["debugfs"].build()
    r = run_sequential(world, specs)
    msgs = [v.message for v in r.violations]
    assert "VM_BUG_ON(walk->max_seq > mm_state->seq + 1) failed in get_next_mm()" in msgs
    assert r.panicked == ["debugfs"]


def test_finding_preempt_rt_exec_takes_a_sleeping_lock_with_irqs_off():
    world, specs = BUILTIN["preempt-rt-exec"].build()
    r = run_sequential(world, specs)
    [v] = r.violations
    assert v.function == "lru_gen_add_mm" and "IRQs disabled" in v.message


def _fork_then_migrate_child(variant=None):
    """Finding (2), hand-scheduled: the child of a fork is moved to memcg B after
    cgroup_post_fork() and before kernel_clone() adds its mm."""
    world, _ = BUILTIN["fork-migrate"].build()
    suite = CheckSuite(world)
    rt.install(rt.DirectEngine([suite.on_event]))
    f, m = ctx("fork(app1)"), ctx("migrate(child)", 1)
    f.task, m.task = task(world, "app1"), task(world, "sh")
    with world:
        for c in (f, m):
            rt.bind_thread(c)
            rt.hook(rt.THREAD_START, c)
        rt.bind_thread(f)
        child = fork.copy_process(f.task, 0)
        rt.bind_thread(m)
        try:
            memcontrol.cgroup_migrate(child.pid, world.memcg("B"))
            rt.hook(rt.THREAD_END, m)
        except rt.KernelPanic:          # the kernel oopses holding task_lock(child)
            rt.bind_thread(None)
            suite.at_end(finished=True)
            return world, suite, child
        rt.bind_thread(f)
        memcontrol.task_lock(child)
        fork.mm_list.lru_gen_add_mm(child.mm)
        memcontrol.task_unlock(child)
        rt.hook(rt.THREAD_END, f)
        rt.bind_thread(None)
    suite.at_end(finished=True)
    return world, suite, child


def test_finding_migration_before_addition_trips_vm_bug_on_mm():
    world, suite, child = _fork_then_migrate_child()
    assert any(v.check == "VM_BUG_ON_MM" and v.condition == "!mm->lru_gen.memcg"
               for v in suite.violations)


def test_fix_migrate_before_add_adds_the_child_to_its_new_memcg():
    with load_variant("fix-migrate-before-add").applied():
        world, suite, child = _fork_then_migrate_child()
    assert suite.violations == []
    assert child.mm.lru_gen.__dict__["_memcg"] is world.memcg("B")


@pytest.mark.parametrize("fix,scenario", [("fix-nowalk-seq", "debugfs"),
                                          ("fix-exec-add-after-irq-enable", "preempt-rt-exec")])
def test_fix_variants_remove_the_known_findings(fix, scenario):
    with load_variant(fix).applied():
        world, specs = BUILTIN[scenario].build()
        r = run_sequential(world, specs)
    assert r.violations == [] and not r.panicked


def test_violations_are_json_with_schema_snapshot_and_recent_events():
    world, specs = BUILTIN["debugfs"].build()
    r = run_sequential(world, specs)
    for v in r.violations:
        back = Violation.from_json(v.to_json())
        assert back.check == v.check and back.message == v.message
        assert v.snapshot and "lruvecs" in v.snapshot
        assert 0 < len(v.events) <= 20 and all(isinstance(e, str) for e in v.events)
        json.loads(v.to_json())


def test_violations_are_deduplicated_and_in_order():
    w = small_world()
    s = CheckSuite(w)
    s.report("seq", "a")
    s.report("seq", "a")
    s.report("cursor", "b")
    assert [v.message for v in s.violations] == ["a", "b"]


def test_the_suite_is_a_plain_listener_and_at_step_is_cheap_when_nothing_changed():
    world, specs = BUILTIN["walkers"].build()
    suite = CheckSuite(world, structural=True, races=True)
    r = run_sequential(world, specs, suite)
    assert r.suite is suite and suite.violations == []
    suite.at_step()
    st = suite._structural
    assert not st.all_dirty and not st.dirty_lists and not st.dirty_lvs


def test_every_check_is_documented():
    doc = (Path(__file__).parents[1] / "docs" / "invariants.md").read_text()
    for name in CHECKS:
        assert f"`{name}`" in doc, name
