"""History checks over hand-built TRACE histories: each fails on a bad one, passes a good one."""
from __future__ import annotations

import pytest
from checks_helpers import checks, ctx, small_world, trace

from mmlist import runtime as rt
from mmlist.checks import CheckSuite
from mmlist.kernel import bitmap
from mmlist.model.structs import lru_gen_mm_walk


@pytest.fixture
def env():
    w = small_world()
    s = CheckSuite(w, races=False)
    lv = w.lruvec("A")
    return w, s, lv, w.mms[0], w.mms[1]


def walk(lv, max_seq=3, full_scan=True, label="walk"):
    wk = lru_gen_mm_walk(label)
    wk.lruvec, wk.max_seq, wk.full_scan = lv, max_seq, full_scan
    return wk


def hand_out(s, c, lv, wk, prev, mm, last=False, first=False, nr=1, seq=3, get=True, put=True):
    if prev is not None and put:
        trace(s, c, "mmput", mm=prev, async_=True)
    if mm is not None and get:
        trace(s, c, "mmget", mm=mm, ok=True)
    trace(s, c, "get_next_mm", lruvec=lv, walk=wk, max_seq=seq, prev=prev, mm=mm, last=last,
          first=first, nr_walkers=nr, case="locked")


def test_a_whole_good_iteration_passes(env):
    w, s, lv, m1, m2 = env
    c, wk = ctx("reclaim0"), walk(lv)
    lv.mm_state.filters.raw[0] = bitmap(1 << 15)
    trace(s, c, "iter_start", lruvec=lv, max_seq=3)
    trace(s, c, "filter_clear", lruvec=lv, seq=4, gen=0, alloc=True)
    hand_out(s, c, lv, wk, None, m1, first=True)
    hand_out(s, c, lv, wk, m1, m2)
    trace(s, c, "iter_end", lruvec=lv, seq=3, by="get_next_mm")
    hand_out(s, c, lv, wk, m2, None, last=True, nr=0)
    trace(s, c, "inc_max_seq", lruvec=lv, max_seq=3, done=False)
    s.at_end(finished=True)
    # this hand-built history has no page-table walk between hand-outs: page_walk (which
    # recomputes what walk_mm() did) says so, the history checks must not
    assert [v.check for v in s.violations if v.check not in ("max_seq", "page_walk")] == []
    assert all("entered PMD regions []" in v.message
               for v in s.violations if v.check == "page_walk")


def test_an_mm_handed_out_twice_in_one_iteration_is_reported(env):
    w, s, lv, m1, m2 = env
    a, b = ctx("reclaim0"), ctx("reclaim1", 1)
    trace(s, a, "iter_start", lruvec=lv, max_seq=5)
    hand_out(s, a, lv, walk(lv, 5), None, m1, first=True, seq=5)
    hand_out(s, b, lv, walk(lv, 5), None, m1, nr=2, seq=5)
    msgs = [v.message for v in s.violations if v.check == "handout_once"]
    assert msgs == ["mm#1 handed out twice in iteration seq=5 of lruvec(memcg=1,node=0): "
                    "walkers reclaim0 and reclaim1"]


def test_an_mm_nobody_got_is_reported_at_the_end_of_the_iteration(env):
    w, s, lv, m1, m2 = env
    c, wk = ctx("reclaim0"), walk(lv)
    trace(s, c, "iter_start", lruvec=lv, max_seq=3)
    trace(s, c, "filter_clear", lruvec=lv, seq=4, gen=0, alloc=True)
    hand_out(s, c, lv, wk, None, m1, first=True)
    trace(s, c, "iter_end", lruvec=lv, seq=3, by="get_next_mm")
    hand_out(s, c, lv, wk, m1, None, last=True, nr=0)
    assert [v.message.split(" stayed")[0] for v in s.violations
            if v.check == "handout_complete"] == ["mm#2"]


@pytest.mark.parametrize("how", ["skip", "del"])
def test_skipped_and_deleted_mms_need_not_be_handed_out(env, how):
    w, s, lv, m1, m2 = env
    c, wk = ctx("reclaim0"), walk(lv)
    trace(s, c, "iter_start", lruvec=lv, max_seq=3)
    trace(s, c, "filter_clear", lruvec=lv, seq=4, gen=0, alloc=True)
    hand_out(s, c, lv, wk, None, m1, first=True)
    if how == "skip":
        trace(s, c, "skip", mm=m2, lruvec=lv, reason="unused")
    else:
        trace(s, ctx("exit", 2), "del", mm=m2, memcg=w.memcg("A"))
    trace(s, c, "iter_end", lruvec=lv, seq=3, by="get_next_mm")
    hand_out(s, c, lv, wk, m1, None, last=True, nr=0)
    assert "handout_complete" not in checks(s)


def test_new_mm_without_full_scan_is_reported(env):
    w, s, lv, m1, m2 = env
    c = ctx("reclaim0")
    trace(s, c, "iter_start", lruvec=lv, max_seq=3)
    hand_out(s, c, lv, walk(lv, full_scan=False), None, m1, first=True)
    assert "full_scan_new_mm" in checks(s)


def test_new_mm_with_full_scan_is_fine(env):
    w, s, lv, m1, m2 = env
    c = ctx("reclaim0")
    trace(s, c, "iter_start", lruvec=lv, max_seq=3)
    hand_out(s, c, lv, walk(lv, full_scan=True), None, m1, first=True)
    assert "full_scan_new_mm" not in checks(s)


def test_two_last_walkers_are_reported(env):
    w, s, lv, m1, m2 = env
    a, b = ctx("reclaim0"), ctx("reclaim1", 1)
    trace(s, a, "iter_start", lruvec=lv, max_seq=3)
    wa, wb = walk(lv, label="a"), walk(lv, label="b")
    hand_out(s, a, lv, wa, None, m1, first=True)
    hand_out(s, b, lv, wb, None, m2, nr=2)
    hand_out(s, a, lv, wa, m1, None, last=True, nr=1)
    hand_out(s, b, lv, wb, m2, None, last=True, nr=0)
    assert "iteration_last" in checks(s)


def test_an_ended_iteration_without_a_last_walker_is_reported(env):
    w, s, lv, m1, m2 = env
    c, wk = ctx("reclaim0"), walk(lv)
    trace(s, c, "iter_start", lruvec=lv, max_seq=3)
    hand_out(s, c, lv, wk, None, m1, first=True)
    trace(s, c, "iter_end", lruvec=lv, seq=3, by="get_next_mm")
    hand_out(s, c, lv, wk, m1, None, last=False, nr=0)
    s.at_end(finished=True)
    assert "iteration_last" in checks(s)


def test_the_last_walker_must_increment_max_seq(env):
    w, s, lv, m1, m2 = env
    c, wk = ctx("reclaim0"), walk(lv)
    trace(s, c, "iter_start", lruvec=lv, max_seq=3)
    hand_out(s, c, lv, wk, None, None, last=True, nr=0, first=True)
    s.at_end(finished=True)
    assert "max_seq" in checks(s)
    s2 = CheckSuite(w, races=False)
    lv.lrugen.__dict__["_max_seq"] = 4
    lv.mm_state.__dict__["_seq"] = 3
    trace(s2, c, "inc_max_seq", lruvec=lv, max_seq=3, done=True)
    s2.at_end(finished=True)
    assert s2.violations == []


def test_max_seq_must_go_up_by_exactly_one(env):
    w, s, lv, m1, m2 = env
    lv.lrugen.__dict__["_max_seq"] = 5
    trace(s, ctx("reclaim0"), "inc_max_seq", lruvec=lv, max_seq=3, done=True)
    assert "max_seq" in checks(s)


def test_seq_must_become_the_iterations_max_seq(env):
    w, s, lv, m1, m2 = env
    c = ctx("reclaim0")
    trace(s, c, "iter_start", lruvec=lv, max_seq=3)
    trace(s, c, "iter_end", lruvec=lv, seq=2, by="get_next_mm")
    assert "seq" in checks(s)


def test_references_of_walkers(env):
    w, s, lv, m1, m2 = env
    c, wk = ctx("reclaim0"), walk(lv)
    trace(s, c, "iter_start", lruvec=lv, max_seq=3)
    hand_out(s, c, lv, wk, None, m1, first=True, get=False)
    assert any("without taking a reference" in v.message for v in s.violations)
    hand_out(s, c, lv, wk, m1, m2, put=False)
    assert any("without mmput_async" in v.message for v in s.violations)


def test_a_walker_ending_with_an_mm_is_reported(env):
    w, s, lv, m1, m2 = env
    c = ctx("reclaim0")
    trace(s, c, "iter_start", lruvec=lv, max_seq=3)
    hand_out(s, c, lv, walk(lv), None, m1, first=True)
    s.at_end(finished=True)
    assert any("ended still holding" in v.message for v in s.violations)


def test_walk_after_mmput_is_reported(env):
    w, s, lv, m1, m2 = env
    trace(s, ctx("exit"), "__mmput", mm=m2)
    s.violations.clear()
    trace(s, ctx("reclaim0"), "walk_mm", lruvec=lv, mm=m2, max_seq=3)
    assert "walk_after_mmput" in checks(s)
    trace(s, ctx("reclaim0"), "walk_freed_mm", lruvec=lv, mm=m2)
    assert len([v for v in s.violations if v.check == "walk_after_mmput"]) == 2


def test_mmput_while_a_walker_holds_the_mm_is_reported(env):
    w, s, lv, m1, m2 = env
    c, wk = ctx("reclaim0"), walk(lv)
    trace(s, c, "iter_start", lruvec=lv, max_seq=3)
    hand_out(s, c, lv, wk, None, m1, first=True)
    w.all_tasks[[t.label for t in w.all_tasks].index("app1")].__dict__["_mm"] = None
    trace(s, ctx("exit"), "__mmput", mm=m1)
    assert "mmput_while_held" in checks(s)


def test_mmput_after_the_walker_put_its_reference_is_fine(env):
    w, s, lv, m1, m2 = env
    c, wk = ctx("reclaim0"), walk(lv)
    trace(s, c, "iter_start", lruvec=lv, max_seq=3)
    hand_out(s, c, lv, wk, None, m1, first=True)
    trace(s, c, "mmput", mm=m1, async_=True)            # get_next_mm(): mmput_async(*iter)
    w.all_tasks[[t.label for t in w.all_tasks].index("app1")].__dict__["_mm"] = None
    trace(s, ctx("exit"), "__mmput", mm=m1)
    assert "mmput_while_held" not in checks(s)


def test_mmput_of_an_mm_still_used_by_a_task_is_reported(env):
    w, s, lv, m1, m2 = env
    trace(s, ctx("exit"), "__mmput", mm=m1)
    assert "mmput_while_used" in checks(s)


def test_freeing_an_mm_or_memcg_still_listed_is_reported(env):
    w, s, lv, m1, m2 = env
    trace(s, ctx("x"), "__mmdrop", mm=m1, on_list=False)
    trace(s, ctx("x"), "free_memcg", memcg=w.memcg("A"), fifo_empty=True)
    assert s.violations == []
    trace(s, ctx("x"), "__mmdrop", mm=m1, on_list=True)
    trace(s, ctx("x"), "free_memcg", memcg=w.memcg("A"), fifo_empty=False)
    assert {"mm_freed_on_list", "memcg_freed_with_mms"} <= checks(s)


def test_bloom_filter_cleared_twice_is_reported(env):
    w, s, lv, m1, m2 = env
    c = ctx("reclaim0")
    trace(s, c, "filter_clear", lruvec=lv, seq=4, gen=0, alloc=True)
    trace(s, c, "filter_clear", lruvec=lv, seq=4, gen=0, alloc=False)
    assert "bloom_filter_clear" in checks(s)


def test_bloom_filter_cleared_by_a_walker_that_is_not_first_is_reported(env):
    w, s, lv, m1, m2 = env
    c = ctx("reclaim0")
    trace(s, c, "iter_start", lruvec=lv, max_seq=3)
    trace(s, c, "filter_clear", lruvec=lv, seq=4, gen=0, alloc=True)
    hand_out(s, c, lv, walk(lv), None, m1, first=False)
    assert "bloom_filter_clear" in checks(s)


def test_bloom_filter_set_before_clear_is_reported(env):
    w, s, lv, m1, m2 = env
    c, wk = ctx("reclaim0"), walk(lv)
    trace(s, c, "iter_start", lruvec=lv, max_seq=3)
    hand_out(s, c, lv, wk, None, m1, first=True)
    s.violations.clear()
    trace(s, c, "filter_set", lruvec=lv, seq=4, gen=0, item=1)
    assert "bloom_filter_clear" in checks(s)


def test_a_failed_gfp_atomic_allocation_is_its_own_check(env):
    w, s, lv, m1, m2 = env
    c, wk = ctx("reclaim0"), walk(lv)
    trace(s, c, "iter_start", lruvec=lv, max_seq=3)
    trace(s, c, "alloc_fail", what=f"{lv.label}.filters[0]")
    trace(s, c, "filter_clear", lruvec=lv, seq=4, gen=0, alloc=False)
    hand_out(s, c, lv, wk, None, m1, first=True)
    trace(s, c, "filter_set", lruvec=lv, seq=4, gen=0, item=1)
    lv.mm_state.__dict__["_nr_walkers"] = 1
    s.at_step()
    assert checks(s) == {"bloom_filter_alloc_failed"}
    assert s.violations[0].severity == "info"


def test_stats_batched_but_not_flushed_is_reported(env):
    w, s, lv, m1, m2 = env
    c, wk = ctx("reclaim0"), walk(lv)
    trace(s, c, "iter_start", lruvec=lv, max_seq=3)
    hand_out(s, c, lv, wk, None, m1, first=True)
    trace(s, c, "mm_stats", lruvec=lv, mm=m1, walk=wk, stats=(1, 0, 1, 1, 1, 1))
    trace(s, c, "stats_flush", lruvec=lv, hist=0, stats=(0, 0, 0, 0, 0, 0), last=False)
    hand_out(s, c, lv, wk, m1, m2)
    assert "mm_stats" in checks(s)


def test_stats_that_never_reach_mm_state_are_reported(env):
    w, s, lv, m1, m2 = env
    c, wk = ctx("reclaim0"), walk(lv)
    trace(s, c, "iter_start", lruvec=lv, max_seq=3)
    hand_out(s, c, lv, wk, None, m1, first=True)
    trace(s, c, "mm_stats", lruvec=lv, mm=m1, walk=wk, stats=(1, 0, 1, 1, 1, 1))
    trace(s, c, "stats_flush", lruvec=lv, hist=0, stats=(1, 0, 1, 1, 1, 1), last=False)
    hand_out(s, c, lv, wk, m1, m2)        # mm_state->stats was never written
    assert any("mm_state.stats[0]" in v.message for v in s.violations)


def test_liveness_reports_a_waiter_nobody_can_wake(env):
    w, s, lv, m1, m2 = env
    waiter, other = ctx("reclaim0"), ctx("reclaim1", 1)
    for c in (waiter, other):
        s.on_event(c, rt.THREAD_START, c, None)
    trace(s, waiter, "aging_start", lruvec=lv, max_seq=3, full_scan=False)
    waiter.waiting_on = lv.mm_state.wait
    trace(s, other, "aging_start", lruvec=lv, max_seq=3, full_scan=False)
    assert s.liveness({waiter: "asleep"}) == []          # reclaim1 may still be the last
    trace(s, other, "aging_end", lruvec=lv, max_seq=3, result=True, how="last")
    found = s.liveness({waiter: "asleep"})
    assert [v.check for v in found] == ["liveness"]
    lv.lrugen.__dict__["_max_seq"] = 4
    found = s.liveness({waiter: "asleep"})
    assert "lost wake-up" in found[0].message
