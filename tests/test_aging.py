"""The aging path that drives ``get_next_mm`` (patch 6/9 as protocol.md section 3 outlines it):
``try_to_inc_max_seq``, ``inc_max_seq``, ``walk_mm`` on the numpy page tables,
``lru_gen_look_around``, and the three callers (kswapd, direct reclaim, debugfs)."""
from __future__ import annotations

import threading

import pytest

import mmlist.runtime as rt
from mmlist.config import (MM_PMD_ADDED, MM_PMD_FOUND, MM_PMD_TOTAL, MM_PTE_OLD, MM_PTE_TOTAL,
                           MM_PTE_YOUNG)
from mmlist.model import aging, mm_list as M
from mmlist.model.structs import lru_gen_mm_walk, scan_control
from model_helpers import mkworld, raw, as_current


def walk_for(lv, max_seq=None, full_scan=False, label="walk"):
    walk = lru_gen_mm_walk(label)
    walk.lruvec = lv
    walk.max_seq = raw(lv.lrugen, "max_seq") if max_seq is None else max_seq
    walk.full_scan = full_scan
    return walk


class _Rng:
    def __init__(self, answer):
        self.answer = answer

    def integers(self, n):
        return self.answer


def build(nr_apps=2, nr_regions=2, **cfg):
    """memcg A with ``nr_apps`` used mms; a direct reclaimer of A is ``current``."""
    w = mkworld(**cfg)
    rt.set_world(w)
    A = w.mem_cgroup_alloc("A")
    apps = [w.spawn("A", comm=f"app{i}", nr_regions=nr_regions) for i in range(nr_apps)]
    as_current(w.user_task("reclaim", "A"))
    return w, A, [a.mm for a in apps], w.lruvec("A")


# --- inc_max_seq ------------------------------------------------------------------------------------

def test_inc_max_seq_creates_a_generation_under_lru_lock(rec_ops):
    w, A, mms, lv = build()
    rec_ops.clear()
    aging.inc_max_seq(lv, 3)
    assert raw(lv.lrugen, "max_seq") == 4 and lv.lrugen.min_seq == [1, 1]   # 4 gens in use
    assert raw(lv.mm_state, "seq") == 2                      # the mm list is not touched
    ops = [(op, arg) for _, op, obj, arg in rec_ops.ops if op != rt.TRACE and op != rt.READ]
    assert ops[0] == (rt.CONTEXT, "irq_off") and ops[1] == (rt.LOCK, None)
    assert (rt.WRITE_ONCE, "max_seq") in ops                 # smp_store_release()
    assert ops[-2:] == [(rt.UNLOCK, None), (rt.CONTEXT, "irq_on")]
    ev = [arg for _, op, obj, arg in rec_ops.ops if op == rt.TRACE and obj == "inc_max_seq"]
    assert ev == [{"lruvec": lv, "max_seq": 3, "done": True}]


def test_inc_max_seq_someone_else_got_there_first(rec):
    w, A, mms, lv = build()
    aging.inc_max_seq(lv, 3)
    aging.inc_max_seq(lv, 3)                                 # stale: nothing happens
    assert raw(lv.lrugen, "max_seq") == 4
    assert [e["done"] for e in rec.events("inc_max_seq")] == [True, False]
    assert lv.lru_lock.owner is None and not rt.current_ctx().irqs_disabled


def test_inc_min_seq_keeps_at_most_max_nr_gens():
    w, A, mms, lv = build(MAX_NR_GENS=5)
    for seq in range(3, 9):
        aging.inc_max_seq(lv, seq)
        lrugen = lv.lrugen
        assert raw(lrugen, "max_seq") - lrugen.min_seq[0] + 1 <= 5
        assert aging.seq_is_valid(lv)
    assert raw(lv.lrugen, "max_seq") == 9 and lv.lrugen.min_seq == [5, 5]


def test_inc_max_seq_bugs_on_invalid_seqs(rec):
    w, A, mms, lv = build()
    lv.lrugen.min_seq = [3, 3]                   # one generation only: < MIN_NR_GENS
    with pytest.raises(rt.KernelPanic):
        aging.inc_max_seq(lv, 3)
    assert rec.reports[-1].condition == "!seq_is_valid(lruvec)"


# --- try_to_inc_max_seq -------------------------------------------------------------------------------

def test_try_to_inc_max_seq_without_hw_accessed_bit_does_not_walk(rec):
    w, A, mms, lv = build(arch_has_hw_pte_young=False)
    assert aging.try_to_inc_max_seq(lv, 3, scan_control(), True, False) is True
    assert raw(lv.lrugen, "max_seq") == 4
    assert raw(lv.mm_state, "seq") == 2                      # the mm list never saw it
    assert "get_next_mm" not in rec.names() and "walk_mm" not in rec.names()
    assert rec.events("aging_end")[-1]["how"] == "no_walk"


def test_try_to_inc_max_seq_without_hw_accessed_bit_walks_on_full_scan(rec):
    w, A, mms, lv = build(arch_has_hw_pte_young=False)
    assert aging.try_to_inc_max_seq(lv, 3, scan_control(), True, True) is True
    assert [e["mm"] for e in rec.events("walk_mm")] == mms
    assert raw(lv.mm_state, "seq") == 3 and raw(lv.lrugen, "max_seq") == 4


def test_try_to_inc_max_seq_walks_every_mm_and_the_last_walker_increments(rec):
    w, A, mms, lv = build(nr_apps=3)
    assert aging.try_to_inc_max_seq(lv, 3, scan_control(), True, False) is True
    assert [e["mm"] for e in rec.events("walk_mm")] == mms
    assert raw(lv.mm_state, "seq") == 3 and raw(lv.lrugen, "max_seq") == 4
    assert raw(lv.mm_state, "nr_walkers") == 0
    lasts = [e["last"] for e in rec.events("get_next_mm")]
    assert lasts == [False, False, False, True]
    assert rec.events("aging_end")[-1] == {"lruvec": lv, "max_seq": 3, "result": True,
                                           "how": "last"}
    # every page was young: all promoted to generation 3; the references were handed back
    for mm in mms:
        assert (mm.pgtables.gen == 3).all() and not mm.pgtables.young.any()
        assert mm.mm_users.counter == 1
    assert w.system_wq == []
    # the stats of the whole iteration reached mm_state->stats (nothing lost)
    total = 3 * 2 * 16
    assert lv.mm_state.stats[0].raw == [total, 0, total, 6, 6, 6]
    assert lv.lrugen.nr_pages[3] == total


def test_try_to_inc_max_seq_a_second_round_uses_the_filter(rec):
    """Round 2 (max_seq 4) reads the filter the first round filled for seq 4, so only PMDs
    found there are walked; those that stayed dense are carried over to seq 5's filter."""
    w, A, mms, lv = build(nr_apps=1, nr_regions=3)
    aging.try_to_inc_max_seq(lv, 3, scan_control(), True, False)
    pt = mms[0].pgtables
    pt.touch(0)                                  # region 0 used again, 1 and 2 idle
    mms[0].lru_gen.nodes.bits.setall(1)          # it ran since (lru_gen_use_mm)
    rec.clear()
    assert aging.try_to_inc_max_seq(lv, 4, scan_control(), True, False) is True
    stats = rec.events("mm_stats")[0]["stats"]
    assert stats[MM_PMD_TOTAL] == 3 and stats[MM_PMD_FOUND] == 3 and stats[MM_PMD_ADDED] == 1
    assert M.test_bloom_filter(lv, 5, pt.pmd_entry(0))
    assert not M.test_bloom_filter(lv, 5, pt.pmd_entry(1))
    assert (pt.gen[0] == 4).all() and (pt.gen[1] == 3).all()


def test_try_to_inc_max_seq_bugs_on_a_max_seq_from_the_future(rec):
    w, A, mms, lv = build()
    with pytest.raises(rt.KernelPanic):
        aging.try_to_inc_max_seq(lv, 4, scan_control(), True, False)
    assert rec.reports[-1].condition == "max_seq > READ_ONCE(lrugen->max_seq)"


def test_try_to_inc_max_seq_gives_up_when_the_walk_cannot_be_allocated(rec):
    w, A, mms, lv = build(mm_walk_alloc_may_fail=True)
    rt.install(rt.DirectEngine([rec], rng=_Rng(1)))
    assert aging.try_to_inc_max_seq(lv, 3, scan_control(), True, False) is False
    assert raw(lv.lrugen, "max_seq") == 3
    assert rec.events("alloc_fail") == [{"what": "mm_walk"}]


def _hold_one(lv, label="other"):
    """Another walker of the same iteration takes the first mm and keeps it."""
    other = walk_for(lv, label=label)
    it = [None]
    M.get_next_mm(lv, other, it)
    assert it[0] is not None
    return other, it


@pytest.mark.parametrize("who, priority", [("reclaim", 12), ("reclaim", 10), ("kswapd", 0)])
def test_try_to_inc_max_seq_not_last_returns_without_waiting(rec, who, priority):
    """Another walker holds an mm: this one is not last. kswapd never waits, nor does a
    caller with ``sc->priority >= DEF_PRIORITY - 2``; it returns whether max_seq moved."""
    w, A, mms, lv = build()
    other, it = _hold_one(lv)
    if who == "kswapd":
        k = as_current(w.kthread("kswapd0", kswapd=True))
        k.reclaim_state.mm_walk = w.nodes[0].mm_walk
    assert aging.try_to_inc_max_seq(lv, 3, scan_control(priority=priority), True, False) is False
    assert raw(lv.lrugen, "max_seq") == 3 and raw(lv.mm_state, "nr_walkers") == 1
    assert raw(lv.mm_state, "seq") == 3                      # this walker ended the iteration
    assert rec.events("aging_end")[-1]["how"] == "not_last"
    assert [e["mm"] for e in rec.events("walk_mm")] == [mms[1]]
    assert lv.mm_state.wait.waiters == []
    # the holder finishes: it is the last walker
    assert M.get_next_mm(lv, other, it) is True and it == [None]


def test_try_to_inc_max_seq_not_last_waits_for_the_last_walker(rec):
    """The wait path on two real threads, made deterministic by an Event instead of sleeps:
    the main thread finishes the other walker only once the waiter has queued itself."""
    w, A, mms, lv = build()
    other, it = _hold_one(lv)
    waiter_task = w.user_task("reclaim2", "A")
    ctx = rt.ThreadCtx("reclaim2", tid=1)
    ctx.task = waiter_task
    queued = threading.Event()
    result = {}

    def spy(c, op, obj, arg):
        if op == rt.WAIT_PREPARE and c is ctx and obj is lv.mm_state.wait:
            queued.set()

    rt.engine.listeners.append(spy)

    def waiter():
        rt.bind_thread(ctx)
        try:
            result["ret"] = aging.try_to_inc_max_seq(lv, 3, scan_control(priority=0), True,
                                                     False)
        except BaseException as e:                        # pragma: no cover - reported below
            result["exc"] = e
            queued.set()
        finally:
            rt.bind_thread(None)

    t = threading.Thread(target=waiter, daemon=True)
    t.start()
    assert queued.wait(30), "the waiter never reached wait_event_killable"
    assert "exc" not in result
    # the last walker: hand back, create the generation, wake the waiters
    assert M.get_next_mm(lv, other, it) is True
    aging.inc_max_seq(lv, 3)
    from mmlist.kernel import wake_up_all, wq_has_sleeper
    if wq_has_sleeper(lv.mm_state.wait):
        wake_up_all(lv.mm_state.wait)
    t.join(30)
    assert not t.is_alive()
    assert result == {"ret": True}
    assert raw(lv.lrugen, "max_seq") == 4 and lv.mm_state.wait.waiters == []
    assert ctx.waiting_on is None


# --- walk_mm over the page tables -------------------------------------------------------------------

def test_walk_mm_promotes_young_pages_and_counts_them(rec):
    w, A, mms, lv = build(nr_apps=1, nr_regions=2)
    pt = mms[0].pgtables
    pt.young[:] = False
    pt.young[0, :1] = True                       # region 0: 1 of 16 young (sparse: < 1/8)
    pt.young[1, :] = True                        # region 1: dense
    from mmlist.kernel import spin_lock, spin_unlock
    spin_lock(A.mm_list.lock)
    M.clear_bloom_filter(lv, 4)                  # as the first walker of the iteration does
    spin_unlock(A.mm_list.lock)
    walk = walk_for(lv, full_scan=True)
    aging.walk_mm(lv, mms[0], walk)
    assert not pt.young.any()
    assert (pt.gen[0, :1] == 3).all() and (pt.gen[0, 1:] == 0).all() and (pt.gen[1] == 3).all()
    assert walk.mm_stats[MM_PTE_TOTAL] == 32 and walk.mm_stats[MM_PTE_YOUNG] == 17
    assert walk.mm_stats[MM_PTE_OLD] == 15
    assert lv.lrugen.nr_pages == {3: 17, 0: -17} and walk.batched == 0 and walk.nr_pages == {}
    # the dense PMD goes into the next generation's filter, the sparse one does not
    assert walk.mm_stats[MM_PMD_ADDED] == 1
    assert [e["item"] for e in rec.events("filter_set")] == [pt.pmd_entry(1)]
    assert rec.events("filter_set")[0]["seq"] == 4


def test_walk_mm_leaves_misplaced_pages_of_another_memcg_or_node_alone():
    w = mkworld(nr_nodes=2)
    with w:
        A, B = w.mem_cgroup_alloc("A"), w.mem_cgroup_alloc("B")
        mm = w.spawn("A", comm="app", nr_regions=2).mm      # region r on node r % 2
        pt = mm.pgtables
        pt.memcg[0, 8:] = B.id                   # half of region 0 charged to B
        lv = w.lruvec("A", 0)
        walk = walk_for(lv, full_scan=True)
        aging.walk_mm(lv, mm, walk)
        assert not pt.young[0, :8].any() and (pt.gen[0, :8] == 3).all()
        assert pt.young[0, 8:].all() and (pt.gen[0, 8:] == 0).all()     # another memcg
        assert pt.young[1].all() and (pt.gen[1] == 0).all()             # another node
        assert walk.mm_stats[MM_PTE_YOUNG] == 8
        # node 1's walker of A takes region 1 and nothing else
        walk1 = walk_for(w.lruvec("A", 1), full_scan=True)
        aging.walk_mm(w.lruvec("A", 1), mm, walk1)
        assert not pt.young[1].any() and pt.young[0, 8:].all()


def test_walk_mm_without_full_scan_only_walks_pmds_in_the_filter(rec):
    w, A, mms, lv = build(nr_apps=1, nr_regions=3)
    pt = mms[0].pgtables
    walk = walk_for(lv)                          # max_seq 3: filters[1], not allocated yet
    aging.walk_mm(lv, mms[0], walk)
    assert walk.mm_stats[MM_PMD_TOTAL] == 3 and walk.mm_stats[MM_PMD_FOUND] == 0
    assert pt.young.all()
    from mmlist.kernel import spin_lock, spin_unlock
    spin_lock(A.mm_list.lock)
    M.clear_bloom_filter(lv, 3)
    spin_unlock(A.mm_list.lock)
    M.set_bloom_filter(lv, 3, pt.pmd_entry(2))
    walk = walk_for(lv)
    aging.walk_mm(lv, mms[0], walk)
    assert walk.mm_stats[MM_PMD_FOUND] == 1
    assert pt.young[:2].all() and not pt.young[2].any()


def test_walk_mm_works_in_chunks_of_max_lru_batch(rec_ops):
    w, A, mms, lv = build(nr_apps=1, nr_regions=4, MAX_LRU_BATCH=16)
    mm = mms[0]
    walk = walk_for(lv, full_scan=True)
    seen_next = []
    real = aging.walk_page_range

    def spy(lv_, mm_, start, walk_):
        seen_next.append(start)
        err = real(lv_, mm_, start, walk_)
        seen_next.append((err, walk_.next_addr))
        return err

    import unittest.mock as mock
    with mock.patch.object(aging, "walk_page_range", spy):
        aging.walk_mm(lv, mm, walk)
    pmd = 1 << 21
    assert seen_next == [0, (-aging.EAGAIN, pmd), pmd, (-aging.EAGAIN, 2 * pmd), 2 * pmd,
                         (-aging.EAGAIN, 3 * pmd), 3 * pmd, (0, 0)]
    flushes = [obj for _, op, obj, _ in rec_ops.ops if op == rt.LOCK and obj is lv.lru_lock]
    assert len(flushes) == 4 and lv.lrugen.nr_pages[3] == 64
    assert not mm.pgtables.young.any()


def test_walk_mm_stops_after_a_chunk_for_an_oom_victim():
    w, A, mms, lv = build(nr_apps=1, nr_regions=4, MAX_LRU_BATCH=16)
    mm = mms[0]
    mm.oom_victim = True
    walk = walk_for(lv, full_scan=True)
    aging.walk_mm(lv, mm, walk)
    assert not mm.pgtables.young[0].any() and mm.pgtables.young[1:].all()
    assert walk.next_addr == 1 << 21


def test_walk_mm_gives_up_when_mmap_lock_is_contended(rec):
    w, A, mms, lv = build(nr_apps=1, mmap_lock_contended=True)
    rt.install(rt.DirectEngine([rec], rng=_Rng(1)))
    aging.walk_mm(lv, mms[0], walk_for(lv, full_scan=True))
    assert mms[0].pgtables.young.all()
    assert rec.events("mmap_lock_busy") == [{"mm": mms[0]}]
    assert mms[0].mmap_lock.readers == 0


def test_walk_mm_gives_up_while_the_memcg_moves_charges():
    w, A, mms, lv = build(nr_apps=1)
    A.moving_account = True
    aging.walk_mm(lv, mms[0], walk_for(lv, full_scan=True))
    assert mms[0].pgtables.young.all()


def test_walk_mm_of_an_exited_mm_is_flagged(rec):
    w, A, mms, lv = build(nr_apps=1)
    mms[0].mmap_exited = True
    aging.walk_mm(lv, mms[0], walk_for(lv, full_scan=True))
    assert rec.events("walk_freed_mm") == [{"lruvec": lv, "mm": mms[0]}]
    assert mms[0].pgtables.young.all()


def test_walk_mm_takes_mmap_lock_for_read_under_rcu(rec_ops):
    w, A, mms, lv = build(nr_apps=1)
    rec_ops.clear()
    aging.walk_mm(lv, mms[0], walk_for(lv, full_scan=True))
    kinds = [(op, arg) for _, op, obj, arg in rec_ops.ops
             if (op == rt.CONTEXT and arg.startswith("rcu")) or obj is mms[0].mmap_lock]
    assert kinds == [(rt.CONTEXT, "rcu_lock"), (rt.TRYLOCK, None), (rt.UNLOCK, None),
                     (rt.CONTEXT, "rcu_unlock")]


# --- lru_gen_look_around -----------------------------------------------------------------------------

def test_look_around_clears_neighbours_and_reports_a_dense_table(rec):
    w, A, mms, lv = build(nr_apps=1, nr_regions=2, PTRS_PER_PTE=32)
    ev = as_current(w.user_task("evict", "A"))
    walk = lru_gen_mm_walk("lent")
    ev.reclaim_state.mm_walk = walk
    pt = mms[0].pgtables
    from mmlist.kernel import spin_lock, spin_unlock
    spin_lock(A.mm_list.lock)
    M.clear_bloom_filter(lv, 3)                  # the filter for max_seq exists
    spin_unlock(A.mm_list.lock)
    aging.lru_gen_look_around(lv, mms[0], 1, 10)
    # MIN_LRU_BATCH = 8: PTEs 6..13 of region 1
    assert not pt.young[1, 6:14].any() and pt.young[1, :6].all() and pt.young[1, 14:].all()
    assert (pt.gen[1, 6:14] == 3).all() and pt.young[0].all()
    assert walk.max_seq == 3                                     # follows lrugen->max_seq
    assert dict(lv.lrugen.nr_pages) == {0: -8, 3: 8}             # moved from generation 0
    assert [(e["seq"], e["item"]) for e in rec.events("filter_set")] == [(3, pt.pmd_entry(1))]


def test_look_around_sparse_table_and_misplaced_pages(rec):
    w, A, mms, lv = build(nr_apps=1, nr_regions=1, MIN_LRU_BATCH=64, PTRS_PER_PTE=64)
    rt.current_ctx().task.reclaim_state.mm_walk = lru_gen_mm_walk("lent")   # v6 needs one
    pt = mms[0].pgtables
    from mmlist.kernel import spin_lock, spin_unlock
    spin_lock(A.mm_list.lock)
    M.clear_bloom_filter(lv, 3)
    spin_unlock(A.mm_list.lock)
    pt.young[:] = False
    pt.young[0, 32] = True
    pt.young[0, 33] = True
    pt.memcg[0, 33] = 99                          # charged elsewhere: left alone
    aging.lru_gen_look_around(lv, mms[0], 0, 32)
    assert not pt.young[0, 32] and pt.young[0, 33]
    assert rec.events("filter_set") == []          # 1 young of 64: not dense
    assert dict(lv.lrugen.nr_pages) == {0: -1, 3: 1}             # moved from generation 0


def test_look_around_of_an_exited_mm_does_nothing():
    w, A, mms, lv = build(nr_apps=1)
    rt.current_ctx().task.reclaim_state.mm_walk = lru_gen_mm_walk("lent")   # v6 needs one
    mms[0].mmap_exited = True
    aging.lru_gen_look_around(lv, mms[0], 0, 0)
    assert mms[0].pgtables.young.all()


# --- the three callers -----------------------------------------------------------------------------

def test_kswapd_ages_every_memcg_with_its_preallocated_walk(rec):
    w, A, mms, lv = build()
    B = w.mem_cgroup_alloc("B")
    w.spawn("B", comm="appB")
    k = as_current(w.kthread("kswapd0", kswapd=True))
    aging.lru_gen_age_node(w.nodes[0], scan_control(priority=12))
    for memcg in (w.root_mem_cgroup, A, B):
        assert raw(w.lruvec(memcg.label).lrugen, "max_seq") == 4
    walks = {e["walk"] for e in rec.events("get_next_mm")}
    assert walks == {w.nodes[0].mm_walk}
    assert k.reclaim_state.mm_walk is None                      # lent back
    w.run_pending_work()


def test_direct_reclaim_get_nr_to_scan_ages_and_kswapd_does_not(rec):
    w, A, mms, lv = build()
    assert aging.get_nr_to_scan(lv, scan_control(priority=12), True) == 1
    assert raw(lv.lrugen, "max_seq") == 4
    as_current(w.kthread("kswapd0", kswapd=True))
    assert aging.get_nr_to_scan(lv, scan_control(priority=12), True) == 0
    assert raw(lv.lrugen, "max_seq") == 4


def test_get_nr_to_scan_not_last_returns_0():
    w, A, mms, lv = build()
    _hold_one(lv)
    assert aging.get_nr_to_scan(lv, scan_control(priority=12), True) == 0


def test_debugfs_run_aging_checks_seq_and_passes_full_scan(rec):
    w, A, mms, lv = build()
    for m in mms:                                  # idle since the last iteration
        m.lru_gen.nodes.bits.setall(0)
    rec.clear()
    sc = scan_control(priority=0)
    assert aging.run_aging(lv, 2, sc, True, True) == 0             # seq < max_seq: done
    assert aging.run_aging(lv, 4, sc, True, True) == -22           # -EINVAL
    assert rec.events("aging_start") == []
    assert aging.run_aging(lv, 3, sc, True, True) == 0
    assert rec.events("aging_start") == [{"lruvec": lv, "max_seq": 3, "full_scan": True}]
    assert [e["mm"] for e in rec.events("walk_mm")] == mms        # full_scan: none skipped
    assert raw(lv.lrugen, "max_seq") == 4


def test_can_swap_false_counts_only_file_pages():
    w, A, mms, lv = build()
    assert aging.try_to_inc_max_seq(lv, 3, scan_control(), False, True) is True
    # every mm's rss is anonymous: all too small without swap
    assert all(m.mm_users.counter == 1 and (m.pgtables.gen == 0).all() for m in mms)


# --- known finding 1: no hardware accessed bit ------------------------------------------------------

def test_finding_no_hw_young_kswapd_then_debugfs_full_scan_trips_get_next_mm(rec):
    """Known finding 1: without a hardware accessed bit, kswapd's ``try_to_inc_max_seq``
    increments max_seq (3 -> 4) without an iteration, so ``mm_state->seq`` stays 2. A debugfs
    full scan then walks with max_seq 4 and ``VM_BUG_ON(walk->max_seq > mm_state->seq + 1)``
    fires in ``get_next_mm``."""
    w, A, mms, lv = build(arch_has_hw_pte_young=False)
    dbg = rt.current_ctx().task
    as_current(w.kthread("kswapd0", kswapd=True))
    aging.lru_gen_age_node(w.nodes[0], scan_control(priority=12))
    assert raw(lv.lrugen, "max_seq") == 4 and raw(lv.mm_state, "seq") == 2
    as_current(dbg)
    with pytest.raises(rt.KernelPanic) as exc:
        aging.run_aging(lv, 4, scan_control(priority=0), True, True)
    v = exc.value.violation
    assert (v.check, v.function, v.condition) == (
        "VM_BUG_ON", "get_next_mm", "walk->max_seq > mm_state->seq + 1")


def test_finding_no_hw_young_kswapd_during_a_full_scan_trips_try_to_inc_max_seq(
        rec, monkeypatch):
    """Known finding 1, second face: kswapd's walk-less aging creates a generation while a
    debugfs full scan for max_seq 3 is walking; the debugfs walker ends the iteration as the
    last walker and ``VM_BUG_ON(max_seq != READ_ONCE(lrugen->max_seq))`` fires."""
    w, A, mms, lv = build(arch_has_hw_pte_young=False)
    dbg = rt.current_ctx().task
    kswapd = w.kthread("kswapd0", kswapd=True)
    real = aging.walk_mm
    fired = []

    def walk_then_kswapd(lv_, mm, walk):
        real(lv_, mm, walk)
        if not fired:
            fired.append(1)
            as_current(kswapd)
            aging.lru_gen_age_node(w.nodes[0], scan_control(priority=12))
            as_current(dbg)

    monkeypatch.setattr(aging, "walk_mm", walk_then_kswapd)
    with pytest.raises(rt.KernelPanic) as exc:
        aging.run_aging(lv, 3, scan_control(priority=0), True, True)
    v = exc.value.violation
    assert (v.check, v.function, v.condition) == (
        "VM_BUG_ON", "try_to_inc_max_seq", "max_seq != READ_ONCE(lrugen->max_seq)")
    assert raw(lv.mm_state, "seq") == 3 and raw(lv.lrugen, "max_seq") == 4


def test_with_hw_young_kswapd_then_debugfs_is_fine(rec):
    """The same sequence with a hardware accessed bit: kswapd iterates, seq follows max_seq."""
    w, A, mms, lv = build()
    dbg = rt.current_ctx().task
    as_current(w.kthread("kswapd0", kswapd=True))
    aging.lru_gen_age_node(w.nodes[0], scan_control(priority=12))
    w.run_pending_work()
    as_current(dbg)
    assert aging.run_aging(lv, 4, scan_control(priority=0), True, True) == 0
    assert raw(lv.lrugen, "max_seq") == 5 and raw(lv.mm_state, "seq") == 4
    assert [v for v in rec.reports if v.severity == "bug"] == []
