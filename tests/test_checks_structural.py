"""Structural checks: each fails on a hand-corrupted state and passes on a good one."""
from __future__ import annotations

from checks_helpers import checks, ctx, small_world

from mmlist.checks import CheckSuite
from mmlist.kernel.list import ListHead
from mmlist.scenarios import BUILTIN
from mmlist.checks import run_sequential


def _raw_set(obj, name, value):
    obj.__dict__["_" + name] = value


def fresh():
    w = small_world()
    return w, CheckSuite(w)


def mm(w, i):
    return w.mms[i - 1]


def test_a_good_world_passes_every_structural_check():
    w, s = fresh()
    s.at_step()
    s.at_end(finished=True)
    assert s.violations == []


def test_fifo_next_prev_disagree_is_reported():
    w, s = fresh()
    _raw_set(mm(w, 2).lru_gen.list, "prev", w.memcg("A").mm_list.fifo)
    s.at_step()
    assert "fifo" in checks(s)


def test_fifo_cycle_skipping_the_sentinel_is_reported():
    w, s = fresh()
    n1, n2 = mm(w, 1).lru_gen.list, mm(w, 2).lru_gen.list
    _raw_set(n2, "next", n1)
    _raw_set(n1, "prev", n2)
    s.at_step()
    assert any(v.check == "fifo" and "twice" in v.message for v in s.violations)


def test_mm_whose_memcg_does_not_name_its_list_is_reported():
    w, s = fresh()
    _raw_set(mm(w, 1).lru_gen, "memcg", w.root_mem_cgroup)
    s.at_step()
    assert "mm_list_membership" in checks(s)


def test_mm_with_a_memcg_but_on_no_list_is_reported_at_the_end():
    w, s = fresh()
    extra = w.allocate_mm()
    _raw_set(extra.lru_gen, "memcg", w.memcg("A"))
    s.at_end(finished=True)
    assert "mm_list_membership" in checks(s)


def test_cursor_on_an_unlinked_node_is_reported():
    w, s = fresh()
    lv = w.lruvec("A")
    _raw_set(lv.mm_state, "head", ListHead(None, "stale"))
    s.at_step()
    assert any(v.check == "cursor" and "head" in v.message for v in s.violations)


def test_tail_on_another_lists_node_is_reported():
    w, s = fresh()
    _raw_set(w.lruvec("A").mm_state, "tail", w.root_mem_cgroup.mm_list.fifo)
    s.at_step()
    assert "cursor" in checks(s)


def test_seq_out_of_range_is_reported():
    w, s = fresh()
    lv = w.lruvec("A")
    _raw_set(lv.lrugen, "max_seq", lv.mm_state.__dict__["_seq"] + 2)
    s.at_step()
    assert "seq" in checks(s)


def test_seq_going_back_is_reported():
    w, s = fresh()
    lv = w.lruvec("A")
    s.at_step()
    _raw_set(lv.lrugen, "max_seq", 2)
    _raw_set(lv.mm_state, "seq", 1)
    s.at_end(finished=False)                     # at_end re-checks even if nothing was seen
    assert any("went back" in v.message for v in s.violations)


def test_nr_walkers_without_holders_is_reported():
    w, s = fresh()
    _raw_set(w.lruvec("A").mm_state, "nr_walkers", 1)
    s.at_step()
    assert "nr_walkers" in checks(s)


def test_negative_nr_walkers_is_reported():
    w, s = fresh()
    _raw_set(w.lruvec("A").mm_state, "nr_walkers", -1)
    s.at_step()
    assert "nr_walkers" in checks(s)


def test_a_list_whose_lock_is_held_is_not_checked():
    w, s = fresh()
    lv = w.lruvec("A")
    _raw_set(lv.mm_state, "nr_walkers", 1)
    w.memcg("A").mm_list.lock.owner = ctx("someone")
    s.at_step()
    assert s.violations == []
    w.memcg("A").mm_list.lock.owner = None
    s.at_step()                                  # still dirty: checked once the lock is free
    assert "nr_walkers" in checks(s)


def test_a_vanished_bloom_filter_of_a_live_lruvec_is_reported():
    w, specs = BUILTIN["walkers"].build()
    r = run_sequential(w, specs)
    assert r.violations == []
    lv = w.lruvec("A")
    gen = next(g for g in range(2) if lv.mm_state.filters.raw[g] is not None)
    lv.mm_state.filters.raw[gen] = None
    r.suite.at_end(finished=True)
    assert "bloom_filter_present" in r.checks()


def test_filters_freed_with_the_memcg_are_fine():
    w, specs = BUILTIN["rmdir"].build()
    r = run_sequential(w, specs)
    assert r.violations == []
