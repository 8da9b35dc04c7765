"""The seed's two accepted behaviours and the probes around them.

(a) An mm migrated out of a memcg and back during one iteration is re-appended behind ``head``
    and handed out again: ``handout_once`` reports it with ``details["re_added"] is True`` (the
    registry judges it benign, B3). A second hand-out without a ``del`` and an ``add`` in between
    stays ``re_added is False``.
(b) ``VM_WARN_ON(list_empty(&mm->lru_gen.list))`` in ``lru_gen_use_mm`` fires when a context
    switch falls in ``lru_gen_migrate_mm``'s window between its del and its add (B4).
(c) A ``GFP_ATOMIC`` Bloom filter allocation fails (B5): benign only where it may fail.

Searches use fixed seeds and execution budgets, never seconds.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from checks_helpers import ctx, small_world, trace
from conftest import Recorder
from model_helpers import as_current, mkworld

from mmlist import runtime as rt
from mmlist import sched
from mmlist.checks import CheckSuite
from mmlist.findings import classify
from mmlist.kernel import list_del_init
from mmlist.model import sched as ksched
from mmlist.model.structs import lru_gen_mm_walk
from mmlist.scenarios import BUILTIN
from mmlist.variants import load_variant

VARIANTS = Path(__file__).parent / "variants"


def _explore(scenario, strategy, n, seed=0, variant=None, **kw):
    v = load_variant(VARIANTS / f"{variant}.py") if variant else None
    return sched.explore(scenario, strategy=strategy, seed=seed, max_executions=n, shrink=False,
                         variant=v, **kw)


def _labels(report):
    config = BUILTIN[report.scenario].config
    return [(f.violation, classify(f.violation, config)) for f in report.failures]


# --- (a) handout_once and re_added on hand-built histories ----------------------------------------

@pytest.fixture
def env():
    w = small_world()
    w.mem_cgroup_alloc("B")
    s = CheckSuite(w, races=False)
    return w, s, w.lruvec("A"), w.memcg("A"), w.memcg("B"), w.mms[0], w.mms[1]


def _walk(lv, label="walk"):
    wk = lru_gen_mm_walk(label)
    wk.lruvec, wk.max_seq, wk.full_scan = lv, 5, True
    return wk


def _out(s, c, lv, wk, prev, mm, nr=1):
    if prev is not None:
        trace(s, c, "mmput", mm=prev, async_=True)
    if mm is not None:
        trace(s, c, "mmget", mm=mm, ok=True)
    trace(s, c, "get_next_mm", lruvec=lv, walk=wk, max_seq=5, prev=prev, mm=mm, last=False,
          first=False, nr_walkers=nr, case="locked")


def _handouts(s):
    return [v for v in s.violations if v.check == "handout_once"]


def _migrate(s, c, mm, src, dst):
    trace(s, c, "migrate", mm=mm, src=src, dst=dst)
    trace(s, c, "del", mm=mm, memcg=src)
    trace(s, c, "add", mm=mm, memcg=dst)


def test_an_mm_migrated_out_and_back_is_handed_out_again_with_re_added(env):
    w, s, lv, A, B, m1, m2 = env
    r0, mig = ctx("reclaim0"), ctx("migrate", 1)
    wk = _walk(lv)
    trace(s, r0, "iter_start", lruvec=lv, max_seq=5)
    _out(s, r0, lv, wk, None, m1)
    _migrate(s, mig, m1, A, B)
    _migrate(s, mig, m1, B, A)
    _out(s, r0, lv, wk, m1, m2)
    _out(s, r0, lv, wk, m2, m1)
    [v] = _handouts(s)
    assert v.details == {"mm": "mm#1", "lruvec": "lruvec(memcg=1,node=0)", "seq": 5,
                         "walkers": ["reclaim0", "reclaim0"], "re_added": True}
    assert v.message == ("mm#1 handed out again in iteration seq=5 of lruvec(memcg=1,node=0) "
                         "after lru_gen_migrate_mm() deleted it from and re-added it to memcg "
                         "A's list (walkers reclaim0 and reclaim0)")
    assert v.severity == "bug" and v.function == "get_next_mm"


def test_a_third_hand_out_in_the_same_stay_is_not_re_added(env):
    w, s, lv, A, B, m1, m2 = env
    r0, r1, mig = ctx("reclaim0"), ctx("reclaim1", 1), ctx("migrate", 2)
    trace(s, r0, "iter_start", lruvec=lv, max_seq=5)
    _out(s, r0, lv, _walk(lv), None, m1)
    _migrate(s, mig, m1, A, B)
    _migrate(s, mig, m1, B, A)
    _out(s, r1, lv, _walk(lv), None, m1, nr=2)
    _out(s, r0, lv, _walk(lv), m1, m1, nr=2)
    assert [(v.details["walkers"], v.details["re_added"]) for v in _handouts(s)] == [
        (["reclaim0", "reclaim1"], True), (["reclaim1", "reclaim0"], False)]


def test_deleted_from_this_list_and_added_to_another_is_not_re_added(env):
    """Only a del *and* an add on this list make a new stay: a del here and an add to memcg B
    (an mm that then shows up in A's iteration again) is a plain double hand-out."""
    w, s, lv, A, B, m1, m2 = env
    r0, mig = ctx("reclaim0"), ctx("migrate", 1)
    trace(s, r0, "iter_start", lruvec=lv, max_seq=5)
    _out(s, r0, lv, _walk(lv), None, m1)
    _migrate(s, mig, m1, A, B)
    _out(s, r0, lv, _walk(lv), m1, m1)
    [v] = _handouts(s)
    assert v.details["re_added"] is False
    assert v.message == ("mm#1 handed out twice in iteration seq=5 of lruvec(memcg=1,node=0): "
                         "walkers reclaim0 and reclaim0")


def test_an_add_to_this_list_without_a_del_is_not_re_added(env):
    w, s, lv, A, B, m1, m2 = env
    r0 = ctx("reclaim0")
    trace(s, r0, "iter_start", lruvec=lv, max_seq=5)
    _out(s, r0, lv, _walk(lv), None, m1)
    trace(s, r0, "add", mm=m1, memcg=A)             # no del in between
    _out(s, r0, lv, _walk(lv), m1, m1)
    assert [v.details["re_added"] for v in _handouts(s)] == [False]


def test_a_del_and_add_before_the_first_hand_out_do_not_count(env):
    w, s, lv, A, B, m1, m2 = env
    r0, mig = ctx("reclaim0"), ctx("migrate", 1)
    trace(s, r0, "iter_start", lruvec=lv, max_seq=5)
    _migrate(s, mig, m1, A, B)
    _migrate(s, mig, m1, B, A)
    _out(s, r0, lv, _walk(lv), None, m1)
    _out(s, r0, lv, _walk(lv), m1, m1)
    assert [v.details["re_added"] for v in _handouts(s)] == [False]


def test_a_plain_del_and_add_name_the_functions_that_did_them(env):
    """Not through lru_gen_migrate_mm(): the message names lru_gen_del_mm()/lru_gen_add_mm()."""
    w, s, lv, A, B, m1, m2 = env
    r0, other = ctx("reclaim0"), ctx("other", 1)
    trace(s, r0, "iter_start", lruvec=lv, max_seq=5)
    _out(s, r0, lv, _walk(lv), None, m1)
    trace(s, other, "del", mm=m1, memcg=A)
    trace(s, other, "add", mm=m1, memcg=A)
    _out(s, r0, lv, _walk(lv), m1, m1)
    [v] = _handouts(s)
    assert v.details["re_added"] is True
    assert ("after lru_gen_del_mm() deleted it from and lru_gen_add_mm() re-added it to memcg "
            "A's list") in v.message


def test_re_added_on_the_global_list_without_memcg():
    w = small_world(CONFIG_MEMCG=False)
    s = CheckSuite(w, races=False)
    lv, m1 = w.lruvec(None), w.mms[0]
    r0, other = ctx("reclaim0"), ctx("other", 1)
    trace(s, r0, "iter_start", lruvec=lv, max_seq=5)
    _out(s, r0, lv, _walk(lv), None, m1)
    trace(s, other, "del", mm=m1, memcg=None)
    trace(s, other, "add", mm=m1, memcg=None)
    _out(s, r0, lv, _walk(lv), m1, m1)
    [v] = _handouts(s)
    assert v.details["re_added"] is True and "the global mm list" in v.message


# --- (b) the context_switch event names the mm, before lru_gen_use_mm ---------------------------

def test_context_switch_event_carries_the_mm_before_lru_gen_use_mm_warns():
    rec = Recorder(ops=True)
    rt.install(rt.DirectEngine([rec]))
    w = mkworld(nr_cpus=1)
    with w:
        w.mem_cgroup_alloc("A")
        app = w.spawn("A", comm="app")
        rq = w.runqueues[0]
        as_current(rq.curr)
        list_del_init(app.mm.lru_gen.list)          # as in lru_gen_migrate_mm()'s window
        rec.clear()
        ksched.context_switch(rq, rq.curr, app)
    [ev] = rec.events("context_switch")
    assert ev["mm"] is app.mm and ev["next"] is app
    order = [(op, obj) for _, op, obj, _ in rec.ops if op in (rt.TRACE, rt.REPORT)]
    i = order.index((rt.TRACE, "context_switch"))
    j = next(k for k, (op, _) in enumerate(order) if op == rt.REPORT)
    assert i < j and order[j][1].function == "lru_gen_use_mm"


# --- the new scenarios on the faithful model ------------------------------------------------------

@pytest.mark.parametrize("scenario, strategy, n", [("migrate-back", "pct", 100),
                                                    ("migrate-back-2walkers", "pct", 100)])
def test_migrate_back_is_handed_out_again_and_nothing_else(scenario, strategy, n):
    r = _explore(scenario, strategy, n)
    assert r.failures, r.summary()
    for v, lab in _labels(r):
        assert (v.check, v.details.get("re_added")) == ("handout_once", True), r.summary()
        assert v.details["mm"] == "mm#1"
        assert "lru_gen_migrate_mm() deleted it from and re-added it to memcg A's list" \
            in v.message
        assert (lab.kind, lab.id) == ("benign", "B3"), r.summary()


def test_switch_migrate_warns_in_lru_gen_use_mm_and_nothing_else():
    r = _explore("switch-migrate", "dfs", 2000, preemption_bound=2)
    assert r.completed, r.summary()
    assert [(f.violation.check, f.violation.function, f.violation.condition)
            for f in r.failures] == [("VM_WARN_ON", "lru_gen_use_mm",
                                      "list_empty(&mm->lru_gen.list)")], r.summary()
    [(v, lab)] = _labels(r)
    assert (lab.kind, lab.id) == ("benign", "B4"), r.summary()


def test_the_new_scenarios_run_sequentially_show_nothing():
    from mmlist.checks import run_sequential
    for name in ("migrate-back", "migrate-back-2walkers", "switch-migrate"):
        world, specs = BUILTIN[name].build()
        r = run_sequential(world, specs)
        assert r.checks() == set(), (name, [str(v) for v in r.violations])


def test_a_failed_bloom_filter_allocation_is_benign_b5_only_where_it_may_fail():
    import dataclasses
    r = _explore("faults", "random", 60)
    fails = [f for f in r.failures if f.violation.check == "bloom_filter_alloc_failed"]
    assert fails, r.summary()
    v = fails[0].violation
    assert (v.function, v.condition, v.severity) == ("clear_bloom_filter", "GFP_ATOMIC", "info")
    cfg = BUILTIN["faults"].config
    lab = classify(v, cfg)
    assert (lab.kind, lab.id) == ("benign", "B5")
    # the same report from a configuration where GFP_ATOMIC cannot fail is explained by nothing
    assert classify(v, dataclasses.replace(cfg, gfp_atomic_may_fail=False)).kind == "new"


# --- mutants and probes -------------------------------------------------------------------------

def test_handout_twice_mutant_is_caught_without_re_added():
    r = _explore("walkers", "random", 5, variant="handout_twice")
    found = [f.violation for f in r.failures if f.violation.check == "handout_once"]
    assert found and all(v.details["re_added"] is False for v in found), r.summary()
    for v, lab in _labels(r):
        assert lab.kind == "new", (str(v), lab.text())


def test_nonlast_inc_max_seq_trips_the_last_walkers_vm_bug_on_and_is_new():
    r = _explore("kswapd-direct", "random", 10, variant="nonlast_inc_max_seq")
    assert ("VM_BUG_ON", "try_to_inc_max_seq", "max_seq != READ_ONCE(lrugen->max_seq)") in {
        (f.violation.check, f.violation.function, f.violation.condition)
        for f in r.failures}, r.summary()
    assert BUILTIN["kswapd-direct"].config.arch_has_hw_pte_young
    for v, lab in _labels(r):
        assert lab.kind == "new", (str(v), lab.text())      # not F2: there is a hw accessed bit


def test_skip_empty_list_leaves_seq_behind_on_the_root_memcg_and_is_new():
    r = _explore("kswapd-direct", "random", 3, variant="skip_empty_list")
    seq = [f.violation for f in r.failures if f.violation.check == "seq"]
    assert seq and seq[0].condition == "max_seq - 1 <= seq <= max_seq", r.summary()
    assert seq[0].details.get("lruvec") == "lruvec(memcg=0,node=0)"      # root: empty list
    for v, lab in _labels(r):
        assert lab.kind == "new", (str(v), lab.text())      # not F1: there is a hw accessed bit


@pytest.mark.parametrize("name", ["nonlast_inc_max_seq", "skip_empty_list", "handout_twice"])
def test_probe_variants_load_as_mutants(name):
    v = load_variant(VARIANTS / f"{name}.py")
    assert v.is_mutant and v.scenario in BUILTIN


def test_look_around_report_racing_a_later_clear_is_b8_and_only_from_the_look_around():
    """(d) B8: kswapd's look-around read max_seq = 4 and set_bit()s its PMD entry into
    filters[0]; the first walker of iteration 5 clears filters[0] for seq 6 with bitmap_clear()
    under the mm_list lock, and nothing orders the two. The bounded search of
    look-around-running passes with the race judged B8; without the allowlist rows it is a
    data_race between set_bloom_filter() and clear_bloom_filter(). The rows name the caller:
    the same unlocked set_bit() from walk_pmd_range()'s carry-over is not excused."""
    from mmlist.checks import races
    r = sched.explore("look-around-running", strategy="dfs", preemption_bound=2,
                      max_executions=1500, shrink=False)
    assert r.verdict == "passed" and not r.failures, [str(f) for f in r.failures]
    assert any(field == "filters[].bits" and why.startswith("lru_gen_look_around() ->")
               for field, why in r.benign_races), r.benign_races
    rows = {k: v for k, v in races._BENIGN_WITHIN.items() if k[0] == "set_bloom_filter"}
    assert rows and set(rows.values()) == {"lru_gen_look_around"}
    saved = {k: races.BENIGN.pop(k) for k in rows}
    try:
        bare = sched.explore("look-around-running", strategy="dfs", preemption_bound=2,
                             max_executions=1500, shrink=False, stop_on_first=True)
    finally:
        races.BENIGN.update(saved)
    msgs = [f.violation.message for f in bare.failures if f.violation.check == "data_race"]
    assert any("set_bloom_filter() via" in m and "clear_bloom_filter() via bitmap_clear()" in m
               for m in msgs), msgs


def test_owner_and_flags_reads_racing_an_exit_are_b9_and_b7():
    """B9 and B7's third row (found by the free-running stress of issue 12, rebuilt in the
    scenario owner-exits-migrate): app1, owning mm#1 shared with its CLONE_VM children vm1 and
    vm2, exits while app2 exits too and vm2 is moved to memcg B. mem_cgroup_attach() reads
    mm->owner under task_lock(vm2) while mm_update_next_owner() writes it (WRITE_ONCE) under
    task_lock(vm1); the owner scan reads app2's flags while app2's exit_signals() sets
    PF_EXITING. With the rows both are judged benign and the search finds nothing; without
    them both are data races."""
    from mmlist.checks import races
    r = sched.explore("owner-exits-migrate", strategy="portfolio", max_executions=200,
                      shrink=False)
    assert not r.failures, [str(f) for f in r.failures]
    judged = {field for field, _why in r.benign_races}
    assert {"mm.owner", "task.flags"} <= judged, r.benign_races
    rows = [k for k in races.BENIGN if (k[0], k[2]) in {("mem_cgroup_attach", "mm.owner"),
                                                        ("mm_update_next_owner", "task.flags")}]
    assert len(rows) == 2
    saved = {k: races.BENIGN.pop(k) for k in rows}
    try:
        bare = sched.explore("owner-exits-migrate", strategy="portfolio", max_executions=200,
                             shrink=False)
    finally:
        races.BENIGN.update(saved)
    msgs = [f.violation.message for f in bare.failures if f.violation.check == "data_race"]
    assert any("READ in mem_cgroup_attach()" in m and
               "WRITE (marked) in mm_update_next_owner()" in m for m in msgs), msgs
    assert any(".flags" in m and "exit_signals()" in m and "mm_update_next_owner()" in m
               for m in msgs), msgs

