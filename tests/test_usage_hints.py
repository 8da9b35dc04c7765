"""The usage hints of v6 (``usage_hint_skip``, ``usage_hint_walk``) and new mms on the kernel's
paths (``full_scan_new_mm``): each fails on a bad history, passes a good one (the allowed races
included), and catches its mutants for the right reason.

The scenarios below are prototypes, run sequentially in the order given (the built-in ones
put their walkers first): a walk, then the event (a context switch, a fork, an exec, a
migration), then the walk that must see it.
"""
from __future__ import annotations

import os
import textwrap

import pytest
from checks_helpers import ctx, small_world, trace

from mmlist import programs as P
from mmlist import runtime as rt
from mmlist import sched
from mmlist.checks import CheckSuite, run_sequential
from mmlist.config import Config
from mmlist.model.structs import PF_KTHREAD, lru_gen_mm_walk
from mmlist.scenarios import BUILTIN, Scenario, _base, _pid_of
from mmlist.variants import load_variant

MINE = {"usage_hint_skip", "usage_hint_walk", "full_scan_new_mm"}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _cfg(**kw) -> Config:
    return Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16, **kw)


#: reclaim0 takes both mms (full scan: they are new); CPU 0 switches idle -> app1 (no use: the
#: idle task is a kthread, B2) -> app2 (a use of mm#2) -> app1 (a use of mm#1; mm#2 is switched
#: out); reclaim1 must take both; reclaim2 takes mm#1 (loaded on CPU 0) and skips mm#2.
USE_AFTER_WALK = Scenario(
    "use-after-walk", "a walk, a CPU switching app1 -> app2 -> app1, then two more walks",
    config=_cfg(nr_cpus=1),
    setup=lambda w: _base(w, walkers=("reclaim0", "reclaim1", "reclaim2")),
    threads=lambda w: [P.direct_reclaim("reclaim0", "A"), P.cpu(0, ["app1", "app2", "app1"]),
                       P.direct_reclaim("reclaim1", "A"), P.direct_reclaim("reclaim2", "A")])

#: reclaim0's iteration, then app1 forks (kernel_clone -> lru_gen_add_mm), then reclaim1's.
FORK_AFTER_ITERATION = Scenario(
    "fork-after-iteration", "a walk, app1 forks, a walk: the child is a new mm on the second",
    setup=lambda w: _base(w),
    threads=lambda w: [P.direct_reclaim("reclaim0", "A"), P.forker("app1"),
                       P.direct_reclaim("reclaim1", "A")])

EXEC_AFTER_ITERATION = Scenario(
    "exec-after-iteration", "a walk, app1 execs (exec_mmap -> lru_gen_add_mm), a walk",
    setup=lambda w: _base(w),
    threads=lambda w: [P.direct_reclaim("reclaim0", "A"), P.execer("app1"),
                       P.direct_reclaim("reclaim1", "A"), P.kworker()])


def _two_walkers_in_b(w):
    _base(w, memcgs=("A", "B"), apps={"app1": "A", "app2": "B"}, walkers=("reclaim0",))
    w.user_task("reclaimB", "B")
    w.user_task("reclaimB2", "B")


MIGRATE_AFTER_ITERATION = Scenario(
    "migrate-after-iteration", "walks of A and B, app1 moves to B (lru_gen_migrate_mm -> "
                               "lru_gen_add_mm), a walk of B",
    setup=_two_walkers_in_b,
    threads=lambda w: [P.direct_reclaim("reclaim0", "A"), P.direct_reclaim("reclaimB", "B"),
                       P.migrator(_pid_of(w, "app1"), "B"), P.direct_reclaim("reclaimB2", "B")])

#: CPU 0 keeps app1's mm loaded, so every walk takes it and holds it while it walks: app2's
#: fork can add its child while the second iteration is under way.
FORK_WHILE_WALKING = Scenario(
    "fork-while-walking", "app1 runs on CPU 0 while a walker makes two passes and app2 forks",
    config=_cfg(nr_cpus=1),
    setup=lambda w: _base(w, walkers=("reclaim0",)),
    threads=lambda w: [P.cpu(0, ["app1"]), P.direct_reclaim("reclaim0", "A", rounds=2),
                       P.forker("app2")])

PROTOTYPES = [USE_AFTER_WALK, FORK_AFTER_ITERATION, EXEC_AFTER_ITERATION,
              MIGRATE_AFTER_ITERATION, FORK_WHILE_WALKING]


def _run(scenario, variant=None, after_build=False):
    """Sequential run; ``after_build``: the world is built by the faithful model (set-up's own
    lru_gen_add_mm() calls are not mutated), the variant applies to the threads only."""
    if variant is None:
        world, specs = scenario.build()
        return run_sequential(world, specs)
    v = load_variant(variant)
    if after_build:
        world, specs = scenario.build()
        with v.applied():
            return run_sequential(world, specs)
    with v.applied():
        world, specs = scenario.build()
        return run_sequential(world, specs)


def _msgs(r, check):
    return [v.message for v in r.violations if v.check == check]


# --- the faithful model -----------------------------------------------------------------------

@pytest.mark.parametrize("sc", PROTOTYPES, ids=lambda s: s.name)
def test_the_faithful_model_passes_the_prototypes_sequentially(sc):
    r = _run(sc)
    assert r.violations == [], [str(v) for v in r.violations]


@pytest.mark.parametrize("sc", [USE_AFTER_WALK, FORK_WHILE_WALKING], ids=lambda s: s.name)
def test_the_faithful_model_passes_the_prototypes_under_interleavings(sc):
    rep = sched.explore(sc, strategy="portfolio", seed=0, max_executions=60, shrink=False)
    assert {f.violation.check for f in rep.failures} & MINE == set()


@pytest.mark.parametrize("name", ["switch-two-memcgs", "context-switch", "two-forks",
                                  "exit-head"])
def test_the_faithful_model_shows_no_usage_hint_violation_under_interleavings(name):
    if name not in BUILTIN:
        pytest.skip(f"scenario {name} not built in")
    rep = sched.explore(name, strategy="portfolio", seed=0, max_executions=60, shrink=False)
    assert {f.violation.check for f in rep.failures} & MINE == set()


def test_use_after_walk_follows_the_seed():
    r = _run(USE_AFTER_WALK)
    got = [(who, f["mm"].label) for who, ev, f in r.suite.protocol
           if ev == "get_next_mm" and f["mm"] is not None]
    skipped = [(who, f["mm"].label) for who, ev, f in r.suite.protocol
               if ev == "skip" and f["reason"] == "unused"]
    assert got == [("reclaim0", "mm#1"), ("reclaim0", "mm#2"), ("reclaim1", "mm#1"),
                   ("reclaim1", "mm#2"), ("reclaim2", "mm#1")]
    assert skipped == [("reclaim2", "mm#2")]


# --- hand-built histories: what is allowed under the race --------------------------------------

_SHIM = {"__name__": "mmlist.model._test_shim"}
exec(compile(textwrap.dedent("""
    def context_switch(then):
        then()
"""), "<shim>", "exec"), _SHIM)


@pytest.fixture
def env():
    w = small_world(nr_cpus=1)
    s = CheckSuite(w, races=False)
    lv = w.lruvec("A")
    mm = w.mms[1]                                   # app2's
    user = next(t for t in w.all_tasks if t.label == "app1")
    walk = lru_gen_mm_walk("walk")
    walk.lruvec, walk.max_seq = lv, 3
    return w, s, lv, mm, user, walk


def _take(s, c, lv, mm, walk, seq=3):
    trace(s, c, "mmget", mm=mm, ok=True)
    trace(s, c, "get_next_mm", lruvec=lv, walk=walk, max_seq=seq, prev=None, mm=mm,
          last=False, first=False, nr_walkers=1, case="locked")


def _switch(s, c, task, mm):
    c.task = task
    trace(s, c, "context_switch", cpu=0, prev=task, next=task, mm=mm)


def _hint(s):
    """The usage-hint violations (set-up's mms are new: the hand-built takes are no full scans)."""
    return [v for v in s.violations if v.check in ("usage_hint_skip", "usage_hint_walk")]


def _skip(s, c, lv, mm):
    trace(s, c, "skip", mm=mm, lruvec=lv, reason="unused")


def test_a_returned_use_after_the_last_take_forbids_the_unused_skip(env):
    w, s, lv, mm, user, walk = env
    _take(s, ctx("reclaim0"), lv, mm, walk)
    _switch(s, ctx("cpu0"), user, mm)
    _skip(s, ctx("reclaim1"), lv, mm)
    assert [v.message for v in _hint(s)] == [
        "should_skip_mm() skipped mm#2 as unused for lruvec(memcg=1,node=0) [reclaim1], but "
        "context_switch() from app1 to app1 on cpu0 ran lru_gen_use_mm() on it since (reclaim0 "
        "took it for node 0 in iteration seq=3): mm->lru_gen.nodes must have bit 0 set again"]
    assert _hint(s)[0].condition == "!node_isset(nid, mm->lru_gen.nodes)"


def test_a_use_before_the_last_take_or_by_a_kthread_allows_the_skip(env):
    w, s, lv, mm, user, walk = env
    _switch(s, ctx("cpu0"), user, mm)
    _take(s, ctx("reclaim0"), lv, mm, walk)
    kthread = next(t for t in w.all_tasks if t.flags & PF_KTHREAD)
    _switch(s, ctx("cpu0"), kthread, mm)            # current is a kthread: no use (v6)
    _skip(s, ctx("reclaim1"), lv, mm)
    assert _hint(s) == []


def test_a_use_still_running_may_be_missed_by_the_skip(env):
    w, s, lv, mm, user, walk = env
    _take(s, ctx("reclaim0"), lv, mm, walk)
    cpu = ctx("cpu0")
    cpu.task = user
    # the skip comes while context_switch() has not returned: lru_gen_use_mm() may not have run
    _SHIM["context_switch"](lambda: (
        trace(s, cpu, "context_switch", cpu=0, prev=user, next=user, mm=mm),
        _skip(s, ctx("reclaim1"), lv, mm)))
    assert _hint(s) == []
    _skip(s, ctx("reclaim1"), lv, mm)               # now it has returned
    assert [v.check for v in _hint(s)] == ["usage_hint_skip"]


def test_an_mm_marked_at_set_up_and_never_taken_is_not_unused(env):
    w, s, lv, mm, user, walk = env
    _skip(s, ctx("reclaim0"), lv, mm)
    assert [v.message for v in _hint(s)] == [
        "should_skip_mm() skipped mm#2 as unused for lruvec(memcg=1,node=0) [reclaim0], but it "
        "was marked used on node 0 when the execution started and no walker of node 0 has "
        "taken it since: mm->lru_gen.nodes must still have bit 0 set"]


def test_an_mm_loaded_on_a_cpu_is_never_unused(env):
    w, s, lv, mm, user, walk = env
    _take(s, ctx("reclaim0"), lv, mm, walk)
    mm.cpu_bitmap.bits[0] = 1                       # loaded since before the walker looked
    trace(s, ctx("reclaim1"), "iter_start", lruvec=lv, max_seq=4)
    _skip(s, ctx("reclaim1"), lv, mm)
    assert [v.condition for v in _hint(s)] == ["cpumask_empty(mm_cpumask(mm))"]


def test_a_cpumask_that_changed_while_the_walker_looked_is_not_judged(env):
    w, s, lv, mm, user, walk = env
    _take(s, ctx("reclaim0"), lv, mm, walk)
    trace(s, ctx("reclaim1"), "iter_start", lruvec=lv, max_seq=4)
    s.on_event(ctx("cpu0"), rt.BIT_WRITE, mm.cpu_bitmap, 0)    # cpumask_set_cpu() meanwhile
    mm.cpu_bitmap.bits[0] = 1
    _skip(s, ctx("reclaim1"), lv, mm)
    assert _hint(s) == []


def test_a_second_take_without_a_use_is_a_walk_of_an_unused_mm(env):
    w, s, lv, mm, user, walk = env
    _take(s, ctx("reclaim0"), lv, mm, walk)
    walk2 = lru_gen_mm_walk("walk2")
    walk2.lruvec, walk2.max_seq = lv, 4
    _take(s, ctx("reclaim1"), lv, mm, walk2, seq=4)
    assert [v.message for v in _hint(s)] == [
        "get_next_mm() handed mm#2 to reclaim1 for lruvec(memcg=1,node=0) without full_scan and "
        "with an empty mm_cpumask, although nothing used it (lru_gen_use_mm()) since reclaim0 "
        "took it for node 0 in iteration seq=3: bit 0 of mm->lru_gen.nodes is clear and "
        "should_skip_mm() must skip it as unused"]


def test_a_second_take_after_a_use_or_with_full_scan_is_fine(env):
    w, s, lv, mm, user, walk = env
    _take(s, ctx("reclaim0"), lv, mm, walk)
    _switch(s, ctx("cpu0"), user, mm)
    walk2 = lru_gen_mm_walk("walk2")
    walk2.lruvec, walk2.max_seq = lv, 4
    _take(s, ctx("reclaim1"), lv, mm, walk2, seq=4)
    walk3 = lru_gen_mm_walk("walk3")
    walk3.lruvec, walk3.max_seq, walk3.full_scan = lv, 5, True
    _take(s, ctx("reclaim2"), lv, mm, walk3, seq=5)
    assert _hint(s) == []


def test_a_use_overlapping_the_last_take_may_have_set_the_bit_after_its_clear(env):
    w, s, lv, mm, user, walk = env
    cpu = ctx("cpu0")
    cpu.task = user
    # the use starts, a walker takes the mm meanwhile, then the use returns: its
    # nodes_setall() may come after the walker's node_clear()
    _SHIM["context_switch"](lambda: (
        trace(s, cpu, "context_switch", cpu=0, prev=user, next=user, mm=mm),
        _take(s, ctx("reclaim0"), lv, mm, walk)))
    walk2 = lru_gen_mm_walk("walk2")
    walk2.lruvec, walk2.max_seq = lv, 4
    _take(s, ctx("reclaim1"), lv, mm, walk2, seq=4)
    assert _hint(s) == []


# --- mutants -----------------------------------------------------------------------------------

#: blind mutant b10 (stress/blind_mutants/): lru_gen_use_mm() tests nodes_full() the wrong way
B10 = os.path.join(ROOT, "stress", "blind_mutants", "b10_use_mm_never_marks.py")


@pytest.mark.parametrize("mutant", ["context-switch-no-use-mm", B10], ids=["built-in", "b10"])
def test_a_use_that_never_marks_is_caught_sequentially(mutant):
    r = _run(USE_AFTER_WALK, mutant)
    assert r.checks() == {"usage_hint_skip"}
    msgs = _msgs(r, "usage_hint_skip")
    assert msgs[0] == (
        "should_skip_mm() skipped mm#2 as unused for lruvec(memcg=1,node=0) [reclaim1], but "
        "context_switch() from app1 to app2 on cpu0 ran lru_gen_use_mm() on it since (reclaim0 "
        "took it for node 0 in iteration seq=3): mm->lru_gen.nodes must have bit 0 set again")
    assert msgs[1:] == [msgs[0].replace("[reclaim1]", "[reclaim2]")]   # still not taken since


def test_mutant_context_switch_no_use_mm_is_caught_under_interleavings():
    v = load_variant("context-switch-no-use-mm")
    rep = sched.explore(v.scenario, strategy="portfolio", seed=0, max_executions=40,
                        variant=v, stop_on_first=False, shrink=False)
    msgs = [f.violation.message for f in rep.failures if f.violation.check == "usage_hint_skip"]
    assert msgs and all("ran lru_gen_use_mm() on it since" in m for m in msgs)
    assert {f.violation.check for f in rep.failures} <= {"usage_hint_skip"}


def test_mutant_skip_no_node_clear_walks_a_sleeping_mm():
    r = _run(BUILTIN["walkers"], "skip-no-node-clear")
    assert r.checks() == {"usage_hint_walk"}
    assert _msgs(r, "usage_hint_walk")[0] == (
        "get_next_mm() handed mm#1 to reclaim0 for lruvec(memcg=1,node=0) without full_scan and "
        "with an empty mm_cpumask, although nothing used it (lru_gen_use_mm()) since reclaim0 "
        "took it for node 0 in iteration seq=3: bit 0 of mm->lru_gen.nodes is clear and "
        "should_skip_mm() must skip it as unused")
    r = _run(USE_AFTER_WALK, "skip-no-node-clear")
    assert [m.split(" without")[0] for m in _msgs(r, "usage_hint_walk")] == [
        "get_next_mm() handed mm#2 to reclaim2 for lruvec(memcg=1,node=0)"]


#: Later versions (the merged code) clear the node bit as soon as the walker gets past the usage
#: test, before the size test. In v6 an mm skipped for its size keeps its bit.
LATER_VERSION_CLEAR = textwrap.dedent('''\
    DESCRIPTION = "should_skip_mm() clears the node bit before the size test (later versions)"
    PATCHES = {
        'should_skip_mm': [
            ('    for type_ in range(int(not walk.can_swap), ANON_AND_FILE):',
             '    node_clear(pgdat.node_id, mm.lru_gen.nodes)  # MUTANT: later versions\\n'
             '    for type_ in range(int(not walk.can_swap), ANON_AND_FILE):'),
        ],
    }
    ''')

SMALL_APP2 = Scenario(
    "small-app2", "app2's mm is below MIN_LRU_BATCH; two walks",
    setup=lambda w: (w.mem_cgroup_alloc("A"), w.spawn("A", comm="app1", nr_regions=2),
                     w.spawn("A", comm="app2", nr_regions=2, rss=4), w.user_task("reclaim0", "A"),
                     w.user_task("reclaim1", "A"), w.user_task("sh")) and None,
    threads=lambda w: [P.direct_reclaim("reclaim0", "A"), P.direct_reclaim("reclaim1", "A")])


def test_v6_keeps_the_bit_of_an_mm_skipped_for_its_size(tmp_path):
    r = _run(SMALL_APP2)
    assert r.violations == []
    reasons = [(who, f["mm"].label, f["reason"]) for who, ev, f in r.suite.protocol
               if ev == "skip"]
    assert reasons == [("reclaim0", "mm#2", "small"), ("reclaim1", "mm#1", "unused"),
                       ("reclaim1", "mm#2", "small")]
    path = tmp_path / "later_version_clear.py"
    path.write_text(LATER_VERSION_CLEAR)
    r = _run(SMALL_APP2, str(path))
    assert _msgs(r, "usage_hint_skip") == [
        "should_skip_mm() skipped mm#2 as unused for lruvec(memcg=1,node=0) [reclaim1], but it "
        "was marked used on node 0 when the execution started and no walker of node 0 has "
        "taken it since: mm->lru_gen.nodes must still have bit 0 set"]


# --- new mms on the kernel's paths --------------------------------------------------------------

def test_a_fork_child_added_after_an_iteration_is_walked_with_full_scan():
    r = _run(FORK_AFTER_ITERATION)
    assert r.violations == []
    child = [f["mm"] for who, ev, f in r.suite.protocol if ev == "copy_process"][0]
    got = [(who, f["walk"]) for who, ev, f in r.suite.protocol
           if ev == "get_next_mm" and f["mm"] is child]
    assert [who for who, _ in got] == ["reclaim1"] and got[0][1].full_scan
    assert child.lru_gen.nodes.bits.count() == 0    # never ran: unused, yet walked


@pytest.mark.parametrize("sc,path,how", [
    (FORK_AFTER_ITERATION, "kernel_clone()", "without full_scan and skipped it (unused)"),
    (EXEC_AFTER_ITERATION, "exec_mmap()", "but reclaim1 got it without full_scan"),
    (MIGRATE_AFTER_ITERATION, "lru_gen_migrate_mm()",
     "without full_scan and skipped it (unused)")], ids=["fork", "exec", "migrate"])
def test_add_no_tail_move_is_caught_on_the_kernel_path_alone(sc, path, how):
    """The world is built by the faithful model: only the kernel's own add is mutated."""
    r = _run(sc, "add-no-tail-move", after_build=True)
    msgs = _msgs(r, "full_scan_new_mm")
    assert len(msgs) == 1 and f"by {path} after the last iteration" in msgs[0], msgs
    assert how in msgs[0]
    assert [v.details["added_by"] for v in r.violations if v.check == "full_scan_new_mm"] == [
        path]


def test_a_skipped_new_mm_was_dropped_by_the_old_check():
    """The fork child is skipped as unused, never handed out: only the skip shows it."""
    r = _run(FORK_AFTER_ITERATION, "add-no-tail-move", after_build=True)
    v = next(v for v in r.violations if v.check == "full_scan_new_mm")
    assert v.details["reason"] == "unused"
    assert not any(ev == "get_next_mm" and f["mm"] is not None
                   and f["mm"].label == v.details["mm"] for _, ev, f in r.suite.protocol)


#: The kernel-path mutant for ``full_scan_new_mm``, to go into mmlist/variants/mutants/ once a
#: scenario like FORK_WHILE_WALKING is built in (no built-in one adds an mm while a walker that is
#: not in its first iteration holds one: the mutant is caught in none of them).
ADD_TAIL_FROM_HEAD = textwrap.dedent('''\
    DESCRIPTION = ("lru_gen_add_mm(): tail = head->prev instead of tail->prev: between iterations "
                   "(head on the sentinel) that is the new mm, as it should be; during one it is an "
                   "mm head already passed, so a fork child added then is skipped as unused "
                   "instead of walked with full_scan")
    EXPECTED_CHECK = 'full_scan_new_mm'
    SCENARIO = 'fork'
    NEEDS_INTERLEAVING = True

    PATCHES = {
        'lru_gen_add_mm': [
            ('            lv.mm_state.tail = lv.mm_state.tail.prev',
             '            lv.mm_state.tail = lv.mm_state.head.prev  # MUTANT: was tail->prev'),
        ],
    }
    ''')


def test_mutant_add_tail_from_head_needs_an_add_during_an_iteration(tmp_path):
    path = tmp_path / "add_tail_from_head.py"
    path.write_text(ADD_TAIL_FROM_HEAD)
    v = load_variant(path)
    with v.applied():
        world, specs = FORK_AFTER_ITERATION.build()
        assert "full_scan_new_mm" not in run_sequential(world, specs).checks()
    rep = sched.explore(FORK_WHILE_WALKING, strategy="portfolio", seed=0, max_executions=200,
                        variant=v, stop_on_first=True, shrink=False)
    hits = [f.violation for f in rep.failures if f.violation.check == "full_scan_new_mm"]
    assert hits and "by kernel_clone() after the last iteration" in hits[0].message
