"""The lockset race check with happens-before: hand-built histories and real model code."""
from __future__ import annotations

from checks_helpers import checks, ctx, small_world, task

from mmlist import runtime as rt
from mmlist.checks import BENIGN, CheckSuite
from mmlist.model import mm_list, mm_types
from mmlist.model.fork import mm_init


def start(s, *cs):
    for c in cs:
        s.on_event(c, rt.THREAD_START, c, None)


def setup():
    w = small_world()
    s = CheckSuite(w, structural=False)
    return w, s, w.lruvec("A").mm_state, w.memcg("A").mm_list.lock


def test_unlocked_write_and_read_unordered_is_a_race_with_both_accesses():
    w, s, st, lk = setup()
    a, b = ctx("a"), ctx("b", 1)
    start(s, a, b)
    s.on_event(a, rt.WRITE, st, "head")
    s.on_event(b, rt.READ, st, "head")
    v = [v for v in s.violations if v.check == "data_race"]
    assert len(v) == 1
    assert "WRITE" in v[0].details["first"] and "[a]" in v[0].details["first"]
    assert "READ" in v[0].details["second"] and "[b]" in v[0].details["second"]
    assert "mm_state.head" in v[0].message


def test_accesses_under_the_protecting_lock_do_not_race():
    w, s, st, lk = setup()
    a, b = ctx("a"), ctx("b", 1)
    start(s, a, b)
    for c, op in ((a, rt.WRITE), (b, rt.READ), (a, rt.WRITE)):
        s.on_event(c, rt.LOCK, lk, None)
        c.locks_held.append(lk)
        s.on_event(c, op, st, "tail")
        c.locks_held.remove(lk)
        s.on_event(c, rt.UNLOCK, lk, None)
    assert s.violations == []


def test_a_release_acquire_chain_orders_unlocked_accesses():
    w, s, st, lk = setup()
    a, b = ctx("a"), ctx("b", 1)
    start(s, a, b)
    other = w.root_mem_cgroup.mm_list.lock
    s.on_event(a, rt.WRITE, st, "nr_walkers")
    s.on_event(a, rt.LOCK, other, None)
    s.on_event(a, rt.UNLOCK, other, None)
    s.on_event(b, rt.LOCK, other, None)
    s.on_event(b, rt.UNLOCK, other, None)
    s.on_event(b, rt.WRITE, st, "nr_walkers")
    assert s.violations == []


def test_release_acquire_of_max_seq_synchronises():
    """smp_store_release(&lrugen->max_seq) -> READ_ONCE(lrugen->max_seq) orders what came
    before the store with what comes after the load."""
    w, s, st, lk = setup()
    a, b = ctx("a"), ctx("b", 1)
    start(s, a, b)
    lrugen = w.lruvec("A", 0).lrugen
    s.on_event(a, rt.WRITE, lrugen, "max_seq")
    s.on_event(a, rt.WRITE_ONCE, lrugen, "max_seq")
    s.on_event(b, rt.READ_ONCE, lrugen, "max_seq")
    s.on_event(b, rt.READ, lrugen, "max_seq")
    assert s.violations == []


def test_plain_write_once_read_once_order_nothing():
    """WRITE_ONCE(mm_state->seq)/READ_ONCE(mm_state->seq) carry no ordering in the LKMM: plain
    accesses around them still race."""
    w, s, st, lk = setup()
    a, b = ctx("a"), ctx("b", 1)
    start(s, a, b)
    s.on_event(a, rt.WRITE, st, "seq")
    s.on_event(a, rt.WRITE_ONCE, st, "seq")
    s.on_event(b, rt.READ_ONCE, st, "seq")
    s.on_event(b, rt.READ, st, "seq")
    assert [v.check for v in s.violations] == ["data_race"]


def test_two_reads_never_race():
    w, s, st, lk = setup()
    a, b = ctx("a"), ctx("b", 1)
    start(s, a, b)
    s.on_event(a, rt.READ, st, "head")
    s.on_event(b, rt.READ, st, "head")
    assert s.violations == []


def test_unprotected_fields_are_not_checked():
    w, s, st, lk = setup()
    a, b = ctx("a"), ctx("b", 1)
    start(s, a, b)
    mm = w.mms[0]
    s.on_event(a, rt.WRITE, mm, "owner")
    s.on_event(b, rt.READ, mm, "owner")
    assert s.violations == []


def test_task_mm_is_protected_by_task_lock():
    w, s, st, lk = setup()
    a, b = ctx("a"), ctx("b", 1)
    start(s, a, b)
    t = task(w, "app1")
    s.on_event(a, rt.WRITE, t, "mm")
    s.on_event(b, rt.READ, t, "mm")
    assert "data_race" in checks(s)


def test_the_seeds_racy_list_empty_in_lru_gen_use_mm_is_benign_and_visible():
    w, s, st, lk = setup()
    rt.install(rt.DirectEngine([s.on_event]))
    app1 = task(w, "app1")
    a, b = ctx("fork"), ctx("cpu0", 1)
    a.task = b.task = app1
    start(s, a, b)
    with w:
        rt.bind_thread(a)
        mm = mm_init(w.allocate_mm(), app1)
        mm_list.lru_gen_add_mm(mm)
        rt.bind_thread(b)
        mm_types.lru_gen_use_mm(mm)
        rt.bind_thread(None)
    assert s.violations == []
    assert [(b["field"], b["why"]) for b in s.benign] == [
        ("list_head.next", BENIGN[("lru_gen_use_mm", "list_empty", "list_head.next")])]
