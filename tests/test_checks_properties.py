"""The property checks of lifetimes, ownership, waiting, stats slots, the size rule of
should_skip_mm() and Bloom filter negatives: each fails on a bad history or state, passes a
good one, and (for those with one) catches its mutant."""
from __future__ import annotations

import textwrap

import pytest
from checks_helpers import checks, ctx, small_world, task, trace

from mmlist import programs as P
from mmlist import runtime as rt
from mmlist import sched
from mmlist.checks import CheckSuite, run_sequential
from mmlist.config import Config
from mmlist.kernel import spin_lock, spin_unlock
from mmlist.model import mm_list as M
from mmlist.model.structs import lru_gen_mm_walk
from mmlist.scenarios import BUILTIN, Scenario, _base
from mmlist.variants import load_variant

NEW = {"refcount_balance", "offline_memcg_freed", "ownership", "who_waits", "stats_hist",
       "skip_size", "bloom_false_negative", "bloom_carry_over", "bloom_double_buffer",
       "usage_hint_skip", "usage_hint_walk", "aging_progress", "page_walk", "owner_valid", "switch_state", "skip_oom", "kmemleak", "active_mm"}


def new_checks(suite_or_result) -> set[str]:
    vs = suite_or_result.violations
    return {v.check for v in vs} & NEW


# --- the faithful model: silent sequentially ---------------------------------------------------

@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_the_faithful_model_shows_none_of_the_new_checks_sequentially(name):
    world, specs = BUILTIN[name].build()
    assert new_checks(run_sequential(world, specs)) == set()


@pytest.mark.parametrize("name", ["walkers", "rmdir", "exit-new-owner", "context-switch",
                                  "kswapd-direct", "migrate-back", "faults", "debugfs",
                                  "look-around-running", "lazy-tlb", "context-switch"])
def test_the_faithful_model_shows_none_of_the_new_checks_under_interleavings(name):
    rep = sched.explore(name, strategy="portfolio", seed=0, max_executions=60, shrink=False)
    assert {f.violation.check for f in rep.failures} & NEW == set()


# --- lifetimes -------------------------------------------------------------------------------------

def test_a_balanced_world_passes_at_the_end():
    w = small_world()
    s = CheckSuite(w, races=False)
    s.at_end(finished=True)
    assert new_checks(s) == set()


def test_a_leaked_css_reference_is_reported_and_keeps_an_offline_memcg():
    w = small_world()
    with w:
        b = w.mem_cgroup_alloc("B")
        b.css_refcnt.counter += 1                   # a reference nobody holds
        b.online = False
        b.css_refcnt.counter -= 1                   # rmdir dropped the base reference
    s = CheckSuite(w, races=False)
    s.at_end(finished=True)
    msgs = {v.check: v.message for v in s.violations}
    assert msgs["refcount_balance"] == ("B's css refcount is 1 at the end but 0 reference(s) "
                                        "remain (offline)")
    assert msgs["offline_memcg_freed"].startswith("B is offline and no task or mm references")


def test_mm_users_and_mm_count_must_match_their_holders():
    w = small_world()
    w.mms[0].mm_users.counter += 1                  # a walker that never put its mm
    w.mms[1].mm_count.counter += 1                  # an mmgrab never dropped
    s = CheckSuite(w, races=False)
    s.at_end(finished=True)
    msgs = sorted(v.message for v in s.violations if v.check == "refcount_balance")
    assert msgs == ["mm#1.mm_users is 2 at the end but 1 task(s) use it (app1)",
                    "mm#2.mm_count is 2 at the end but 1 reference(s) remain (its users)"]


def test_a_work_item_left_on_system_wq_is_a_leak():
    w = small_world()
    w.system_wq.append((M.lru_gen_del_mm, w.mms[0]))
    s = CheckSuite(w, races=False)
    s.at_end(finished=True)
    assert any("never ran" in v.message for v in s.violations if v.check == "refcount_balance")


def test_cut_off_executions_are_not_judged_at_the_end():
    w = small_world()
    w.mms[0].mm_users.counter += 1
    s = CheckSuite(w, races=False)
    s.at_end(finished=False)
    assert new_checks(s) == set()


def test_an_underflow_is_reported_when_it_happens():
    w = small_world()
    s = CheckSuite(w, races=False)
    mm = w.mms[0]
    mm.mm_users.counter = 0
    s.on_event(ctx("reclaim0"), rt.ATOMIC, mm.mm_users, "dec_and_test")
    assert [v.condition for v in s.violations] == ["count > 0 before a put"]


def test_mutant_del_no_css_put_keeps_the_removed_memcg():
    v = load_variant("del-no-css-put")
    with v.applied():
        world, specs = BUILTIN["rmdir"].build()
        r = run_sequential(world, specs)
    assert {"offline_memcg_freed", "refcount_balance"} <= r.checks()


# --- ownership -------------------------------------------------------------------------------------

def _owner_moved(w):
    """app1's css moves to B by hand: its mm stays on A's list."""
    b = w.mem_cgroup_alloc("B")
    app1 = task(w, "app1")
    app1.__dict__["_memcg"] = b
    return app1, b


def test_an_mm_on_another_memcg_than_its_owners_is_reported():
    w = small_world()
    with w:
        app1, b = _owner_moved(w)
    s = CheckSuite(w, races=False)
    s.at_step()
    assert [v.message for v in s.violations if v.check == "ownership"] == [
        "mm#1 is on A.mm_list but its owner app1 is in memcg B, and no migration of the owner "
        "is in progress"]


def test_a_migration_in_progress_is_a_window_until_the_threadgroup_rwsem_is_released():
    w = small_world()
    with w:
        app1, b = _owner_moved(w)
    s = CheckSuite(w, races=False)
    sh = ctx("migrate(1->B)")
    trace(s, sh, "cgroup_migrate", pid=app1.pid, task=app1, src=w.memcg("A"), dst=b,
          result="ok")
    s.at_step()
    assert "ownership" not in checks(s)
    s.on_event(ctx("other"), rt.UNLOCK, w.cgroup_threadgroup_rwsem, None)
    s.at_step()
    assert "ownership" not in checks(s)             # only the migrating thread closes it
    s.on_event(sh, rt.UNLOCK, w.cgroup_threadgroup_rwsem, None)
    s.at_step()
    assert "ownership" in checks(s)


def test_a_new_owner_is_a_window_until_its_task_lock_is_released():
    w = small_world()
    with w:
        app1, b = _owner_moved(w)
    s = CheckSuite(w, races=False)
    c = ctx("exit(app0)")
    trace(s, c, "new_owner", mm=w.mms[0], owner=app1)
    s.at_step()
    assert "ownership" not in checks(s)
    s.on_event(c, rt.UNLOCK, app1.alloc_lock, None)
    s.at_step()
    assert "ownership" in checks(s)


def test_an_owner_that_dropped_the_mm_is_not_judged():
    w = small_world()
    with w:
        app1, b = _owner_moved(w)
    app1.__dict__["_mm"] = None                     # exec/exit: mm_update_next_owner() pending
    s = CheckSuite(w, races=False)
    s.at_step()
    assert "ownership" not in checks(s)


def test_mutant_add_current_memcg_puts_the_mm_on_the_wrong_list():
    v = load_variant("add-current-memcg")
    with v.applied():
        world, specs = BUILTIN["migrate"].build()
        r = run_sequential(world, specs)
    assert "ownership" in r.checks()


# --- who waits ---------------------------------------------------------------------------------

def test_a_wait_outside_the_aging_is_not_judged():
    w = small_world()
    s = CheckSuite(w, races=False)
    k = ctx("kswapd0")
    k.task = w.kthread("kswapd0", kswapd=True)
    s.on_event(k, rt.WAIT_PREPARE, w.lruvec("A").mm_state.wait, None)
    assert [v.condition for v in s.violations] == ["!current_is_kswapd()"]
    s.on_event(k, rt.WAIT_PREPARE, w.kworker_wait, None)       # not an mm_state->wait
    assert len(s.violations) == 1


@pytest.mark.parametrize("mutant,condition", [
    ("reclaim-never-waits", "wait_event_killable(mm_state->wait)"),
    ("kswapd-waits", "!current_is_kswapd()")])
def test_the_waiting_mutants_are_caught_under_interleavings(mutant, condition):
    v = load_variant(mutant)
    with v.applied():
        world, specs = BUILTIN[v.scenario].build()
        assert "who_waits" not in run_sequential(world, specs).checks()
    rep = sched.explore(v.scenario, strategy="portfolio", seed=0, max_executions=100,
                        variant=v, stop_on_first=True, shrink=False)
    assert {(f.violation.check, f.violation.condition) for f in rep.failures} == {
        ("who_waits", condition)}


# --- stats slots -----------------------------------------------------------------------------------

def _flush(s, c, lv, s_, hist, stats, last=False, reset=None):
    """A walker's get_next_mm() that flushes ``stats`` into ``stats[hist]`` (and resets)."""
    wk = lru_gen_mm_walk("walk")
    trace(s, c, "mm_stats", lruvec=lv, mm=None, walk=wk, stats=stats)
    trace(s, c, "stats_flush", lruvec=lv, hist=hist, stats=stats, last=last)
    for i, x in enumerate(stats):
        lv.mm_state.stats[hist].raw[i] += x
    if reset is not None:
        trace(s, c, "stats_reset", lruvec=lv, hist=reset)
        lv.mm_state.stats[reset].raw[:] = [0] * len(stats)
    trace(s, c, "get_next_mm", lruvec=lv, walk=wk, max_seq=s_, prev=None, mm=None, last=last,
          first=False, nr_walkers=0, case="locked")


def test_stats_flushed_and_reset_in_the_slots_max_seq_gives_pass():
    w = small_world(CONFIG_LRU_GEN_STATS=True)
    s = CheckSuite(w, races=False)
    lv, c = w.lruvec("A"), ctx("reclaim0")
    _flush(s, c, lv, 5, 1, (3, 1, 2, 1, 1, 1), last=True, reset=2)
    s.at_end(finished=True)
    assert new_checks(s) == set()


def test_stats_flushed_into_another_slot_are_reported():
    w = small_world(CONFIG_LRU_GEN_STATS=True)
    s = CheckSuite(w, races=False)
    lv, c = w.lruvec("A"), ctx("reclaim0")
    _flush(s, c, lv, 5, 2, (3, 1, 2, 1, 1, 1))
    conds = [v.condition for v in s.violations if v.check == "stats_hist"]
    # the slot, then both slots differing from the expectation: stats[1] empty, stats[2] not
    assert conds == ["hist == lru_hist_from_seq(walk->max_seq)",
                     "stats[hist] as computed from max_seq",
                     "stats[hist] as computed from max_seq"]
    assert "mm_stats" not in checks(s)              # the history trusts the reported slot


def test_a_last_walker_that_clears_the_wrong_slot_or_none_is_reported():
    w = small_world(CONFIG_LRU_GEN_STATS=True)
    s = CheckSuite(w, races=False)
    lv, c = w.lruvec("A"), ctx("reclaim0")
    _flush(s, c, lv, 5, 1, (3, 1, 2, 1, 1, 1), last=True, reset=1)
    assert "hist == lru_hist_from_seq(walk->max_seq + 1)" in [v.condition for v in s.violations]
    s2 = CheckSuite(small_world(CONFIG_LRU_GEN_STATS=True), races=False)
    lv2 = s2.world.lruvec("A")
    _flush(s2, c, lv2, 5, 1, (0,) * 6, last=True)
    assert [v.condition for v in s2.violations] == [
        "last => reset stats[lru_hist_from_seq(walk->max_seq + 1)]"]


#: The scenario the stats mutant needs (not built in yet: CONFIG_LRU_GEN_STATS).
WALKERS_STATS = Scenario(
    "walkers-stats", "two direct reclaimers share iterations of memcg A with CONFIG_LRU_GEN_STATS "
                     "(NR_HIST_GENS = MAX_NR_GENS)",
    config=Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16, CONFIG_LRU_GEN_STATS=True),
    setup=lambda w: _base(w),
    threads=lambda w: [P.direct_reclaim("reclaim0", "A", rounds=2),
                       P.direct_reclaim("reclaim1", "A", rounds=2)])

#: The mutant for ``stats_hist`` (registered as mmlist/variants/mutants/reset_clears_current_hist.py
#: with the built-in ``faults``; here against the two-walker ``walkers-stats``, sequentially too).
RESET_CLEARS_CURRENT_HIST = textwrap.dedent('''\
    """Mutant: reset_mm_stats(): the last walker clears the slot it has just flushed into
    (lru_hist_from_seq(walk->max_seq)) instead of the next generation's"""

    DESCRIPTION = "reset_mm_stats(): the last walker clears stats[lru_hist_from_seq(walk->max_seq)], the slot it just flushed into, instead of the next generation's"
    EXPECTED_CHECK = 'stats_hist'
    SCENARIO = 'walkers-stats'
    NEEDS_INTERLEAVING = False

    PATCHES = {
        'reset_mm_stats': [
            ('    hist = lru_hist_from_seq(walk.max_seq + 1)',
             '    hist = lru_hist_from_seq(walk.max_seq)  # MUTANT: was walk->max_seq + 1'),
        ],
    }
    ''')


@pytest.fixture
def walkers_stats(monkeypatch):
    if "walkers-stats" not in BUILTIN:
        monkeypatch.setitem(BUILTIN, "walkers-stats", WALKERS_STATS)
    return BUILTIN["walkers-stats"]


def test_the_faithful_model_keeps_the_stats_slots(walkers_stats):
    world, specs = walkers_stats.build()
    assert run_sequential(world, specs).checks() == set()
    rep = sched.explore(walkers_stats, strategy="portfolio", seed=0, max_executions=60,
                        shrink=False)
    assert rep.failures == []


def test_mutant_reset_clears_current_hist_is_seen_by_stats_hist_only(walkers_stats, tmp_path):
    path = tmp_path / "reset_clears_current_hist.py"
    path.write_text(RESET_CLEARS_CURRENT_HIST)
    v = load_variant(path)
    with v.applied():
        world, specs = walkers_stats.build()
        r = run_sequential(world, specs)
    assert r.checks() == {"stats_hist"}            # the history's mm_stats trusts the slot
    rep = sched.explore("walkers-stats", strategy="portfolio", seed=0, max_executions=200,
                        variant=v, stop_on_first=True, shrink=False)
    assert rep.failures and rep.failures[0].violation.check == "stats_hist"


# --- the size rule of should_skip_mm ----------------------------------------------------------------

SMALL_MM = Scenario(
    "small-mm", "app2's mm is below MIN_LRU_BATCH while two walkers iterate memcg A",
    setup=lambda w: (w.mem_cgroup_alloc("A"), w.spawn("A", comm="app1", nr_regions=2),
                     w.spawn("A", comm="app2", nr_regions=2, rss=4), w.user_task("reclaim0", "A"),
                     w.user_task("reclaim1", "A"), w.user_task("sh"),
                     w.kthread("kworker/u8:0")) and None,
    threads=lambda w: [P.direct_reclaim("reclaim0", "A"), P.direct_reclaim("reclaim1", "A")])

NO_SIZE_TEST = textwrap.dedent('''\
    DESCRIPTION = "should_skip_mm() without its size test"
    PATCHES = {
        'should_skip_mm': [
            ('    if size < rt.world().config.MIN_LRU_BATCH:',
             '    if size < 0:  # MUTANT: no size test'),
        ],
    }
    ''')


def test_a_small_mm_skipped_for_size_passes():
    world, specs = SMALL_MM.build()
    r = run_sequential(world, specs)
    assert r.checks() == set()
    assert any(ev == "skip" and f["reason"] == "small" for _, ev, f in r.suite.protocol)


def test_a_small_mm_handed_out_is_reported(tmp_path):
    path = tmp_path / "no_size_test.py"
    path.write_text(NO_SIZE_TEST)
    with load_variant(path).applied():
        world, specs = SMALL_MM.build()
        r = run_sequential(world, specs)
    msgs = [v.message for v in r.violations if v.check == "skip_size"]
    assert msgs == ["mm#2 of size 4 < MIN_LRU_BATCH=8 (can_swap=True) passed should_skip_mm()'s "
                    "size test for lruvec(memcg=1,node=0) (handed out by get_next_mm())"]


def test_mutant_skip_below_max_batch_skips_ordinary_mms():
    v = load_variant("skip-below-max-batch")
    with v.applied():
        world, specs = BUILTIN["walkers"].build()
        r = run_sequential(world, specs)
    assert [v.condition for v in r.violations] == ["size < MIN_LRU_BATCH"] * 2


# --- Bloom filters: no false negatives --------------------------------------------------------------

ITEM = 0xFFFF888100001000


@pytest.fixture
def bloom_env():
    w = small_world()
    s = CheckSuite(w, races=False)
    engine = rt.DirectEngine([s.on_event])
    rt.install(engine)
    c = rt.current_ctx()
    lv = w.lruvec("A")
    with w:
        A = w.memcg("A")
        spin_lock(A.mm_list.lock)
        M.clear_bloom_filter(lv, 4)                     # iteration 3's first walker
        spin_unlock(A.mm_list.lock)
        yield w, s, lv, A, c
    rt.install(None)


def test_a_set_then_a_test_for_the_same_seq_passes(bloom_env):
    w, s, lv, A, c = bloom_env
    M.set_bloom_filter(lv, 4, ITEM)
    assert M.test_bloom_filter(lv, 4, ITEM) is True
    assert new_checks(s) == set()


def test_lost_bits_are_a_false_negative(bloom_env):
    w, s, lv, A, c = bloom_env
    M.set_bloom_filter(lv, 4, ITEM)
    k0, k1 = M.get_item_key(ITEM)
    lv.mm_state.filters.raw[0].bits[k1] = 0         # behind the checks' back
    assert M.test_bloom_filter(lv, 4, ITEM) is False
    assert [v.message for v in s.violations] == [
        f"test_bloom_filter(lruvec(memcg=1,node=0), seq=4, pmd={ITEM:#x}) [setup] answers false "
        f"(bit {k1} clear): setup set it for seq=4 and nothing cleared the slot since"]


def test_a_clear_for_a_later_generation_is_allowed_one_for_the_same_is_not(bloom_env):
    w, s, lv, A, c = bloom_env
    M.set_bloom_filter(lv, 4, ITEM)
    spin_lock(A.mm_list.lock)
    M.clear_bloom_filter(lv, 6)                     # the slot reused for seq 6
    spin_unlock(A.mm_list.lock)
    assert M.test_bloom_filter(lv, 4, ITEM) is False
    assert new_checks(s) == set()
    M.set_bloom_filter(lv, 6, ITEM)
    spin_lock(A.mm_list.lock)
    M.clear_bloom_filter(lv, 6)                     # cleared again for the same generation
    spin_unlock(A.mm_list.lock)
    assert M.test_bloom_filter(lv, 6, ITEM) is False
    assert [v.details["reset"] for v in s.violations if v.check == "bloom_false_negative"] == [
        (6, "setup")]


def test_a_test_for_another_seq_is_not_judged(bloom_env):
    w, s, lv, A, c = bloom_env
    M.set_bloom_filter(lv, 4, ITEM)
    assert M.test_bloom_filter(lv, 5, ITEM) is False
    assert M.test_bloom_filter(lv, 4, ITEM + 8) in (True, False)
    assert new_checks(s) == set()


def test_mutant_bloom_set_one_key_is_caught_sequentially():
    v = load_variant("bloom-set-one-key")
    with v.applied():
        world, specs = BUILTIN["kthread-use-mm"].build()
        r = run_sequential(world, specs)
    assert "bloom_false_negative" in r.checks()


# --- Bloom filters: carried over for the next generation, double buffered by parity -------------

_SHIM = {"__name__": "mmlist.model._bloom_shim"}
exec(compile(textwrap.dedent("""
    def walk_pmd_range(lv, mm, region, walk, seq, M):
        M.set_bloom_filter(walk.lruvec, seq, mm.pgtables.pmd_entry(region))
"""), "<shim>", "exec"), _SHIM)


def test_an_entry_carried_over_into_the_wrong_generation_is_a_false_negative(bloom_env):
    w, s, lv, A, c = bloom_env
    spin_lock(A.mm_list.lock)
    M.clear_bloom_filter(lv, 3)                     # both filters exist
    spin_unlock(A.mm_list.lock)
    walk = lru_gen_mm_walk("walk")
    walk.lruvec, walk.max_seq = lv, 3
    mm = w.mms[0]
    pmd = mm.pgtables.pmd_entry(1)
    _SHIM["walk_pmd_range"](lv, mm, 1, walk, 3, M)  # should be walk->max_seq + 1 = 4
    assert M.test_bloom_filter(lv, 3, pmd) is True  # nobody asked for 3: not judged
    assert new_checks(s) == set()
    assert M.test_bloom_filter(lv, 4, pmd) is False
    [v] = s.violations
    assert v.check == "bloom_false_negative"
    assert v.message.endswith("setup carried it over in walk_pmd_range() of iteration seq=3, "
                              "but into seq=3 and nothing cleared the slot since")
    _SHIM["walk_pmd_range"](lv, mm, 0, walk, 4, M)  # the seed's: found by iteration 4
    assert M.test_bloom_filter(lv, 4, mm.pgtables.pmd_entry(0)) is True
    assert len(s.violations) == 1


def test_no_filter_when_it_was_set_nor_when_it_is_tested_is_allowed():
    w = small_world()
    s = CheckSuite(w, races=False)
    rt.install(rt.DirectEngine([s.on_event]))
    try:
        with w:
            lv = w.lruvec("A")
            M.set_bloom_filter(lv, 4, ITEM)         # filters[0] is NULL: nothing is written
            assert M.test_bloom_filter(lv, 4, ITEM) is False    # v6: no filter answers false
            assert new_checks(s) == set()
            A = w.memcg("A")
            spin_lock(A.mm_list.lock)
            M.clear_bloom_filter(lv, 4)             # allocated for seq 4 after the set
            spin_unlock(A.mm_list.lock)
            assert M.test_bloom_filter(lv, 4, ITEM) is False
    finally:
        rt.install(None)
    assert [v.message.split(": ", 1)[1] for v in s.violations] == [
        "setup set it for seq=4 while filters[0] was NULL (nothing was written) and setup "
        "cleared it for seq=4 <= 4 since"]


def test_the_filter_of_seq_is_filters_seq_mod_2():
    w = small_world()
    s = CheckSuite(w, races=False)
    lv, c = w.lruvec("A"), ctx("reclaim0")
    trace(s, c, "filter_clear", lruvec=lv, seq=5, gen=1, alloc=True)
    assert new_checks(s) == set()
    trace(s, c, "filter_clear", lruvec=lv, seq=6, gen=1, alloc=True)
    assert [v.message for v in s.violations if v.check == "bloom_double_buffer"] == [
        "clear_bloom_filter(lruvec(memcg=1,node=0), seq=6) [reclaim0] uses filters[1], not "
        "filters[0] (filter_gen_from_seq(): seq % NR_BLOOM_FILTERS)"]


def test_every_entry_counted_in_mm_pmd_added_is_set():
    world, specs = BUILTIN["walkers"].build()
    r = run_sequential(world, specs)
    added = [f["stats"][5] for _, ev, f in r.suite.protocol if ev == "mm_stats"]
    sets = [f for _, ev, f in r.suite.protocol if ev == "filter_set"]
    assert sum(added) == len(sets) > 0 and new_checks(r) == set()


# --- aging progress --------------------------------------------------------------------------------

def test_a_lost_aging_is_reported_and_an_allocation_failure_is_excused():
    """``aging_progress``: kswapd's aging that gives up without a reason is reported (built-in
    mutant ``kswapd-aging-gives-up``); the same give-up after a failed ``alloc_mm_walk()`` (the
    seed's own ``return false``) is not."""
    lost = sched.explore("kswapd-direct", strategy="random", max_executions=5, shrink=False,
                         variant=load_variant("kswapd-aging-gives-up"))
    msgs = [f.violation.message for f in lost.failures
            if f.violation.check == "aging_progress"]
    assert msgs and "kswapd0 asked try_to_inc_max_seq(" in msgs[0], msgs
    w = small_world()
    s = CheckSuite(w, races=False)
    lv = w.lruvec("A")
    c = ctx("reclaim0", 1)
    s._waiting.t_aging_request(c, {"lruvec": lv, "max_seq": 3})
    s._waiting.t_alloc_fail(c, {"what": "mm_walk"})
    s.ended.add(c)
    s.at_end(finished=True)
    assert "aging_progress" not in {v.check for v in s.violations}
    s2 = CheckSuite(w, races=False)
    s2._waiting.t_aging_request(c, {"lruvec": lv, "max_seq": 3})
    s2.ended.add(c)
    s2.at_end(finished=True)
    assert [v.check for v in s2.violations if v.check == "aging_progress"] == ["aging_progress"]


def test_page_walk_allows_for_a_write_heard_before_it_landed_only_when_free_running():
    """Free-running threads (``mmlist stress``): another thread's page-table write is heard
    before it takes effect, and may land inside a walker's bracket opened in between; such a
    bracket is not judged until the writer's next op says the write has landed. Under the
    controlled scheduler (the default) nothing changes: the write has landed before any other
    thread runs. Found by a stress run that judged a walk whose table another CPU touched."""
    from checks_helpers import ctx, small_world
    from mmlist.checks import CheckSuite
    from mmlist import runtime as rt
    for free in (True, False):
        w = small_world()
        suite = CheckSuite(w, free_running=free)
        pw = suite._walks
        walker, toucher = ctx("reclaim0", 0), ctx("cpu0", 1)
        mm = w.mms[0]
        lv = next(iter(w.lruvecs()))
        suite.on_event(toucher, rt.WRITE, mm.pgtables, "ptes")          # heard, not landed
        pw._open(walker, "pmd", lv, mm.pgtables, 0)
        assert pw.open.pop(walker).foreign_ptes is free
        suite.on_event(toucher, rt.READ_ONCE, lv.mm_state, "seq")       # its next op: landed
        pw._open(walker, "pmd", lv, mm.pgtables, 0)
        assert pw.open.pop(walker).foreign_ptes is False
