"""``mm/vmscan.c``, section "the aging" (patch 6/9) and the rmap side of eviction (patch 7/9),
as far as the mm_struct list needs them: ``try_to_inc_max_seq``, ``inc_max_seq``, ``walk_mm`` and
its page-table walk, ``lru_gen_look_around``, and the three callers of the aging.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .. import runtime as rt
from ..config import (DEF_PRIORITY, MIN_NR_GENS, MM_PMD_ADDED, MM_PMD_FOUND, MM_PMD_TOTAL,
                      MM_PTE_OLD, MM_PTE_TOTAL, MM_PTE_YOUNG)
from ..kernel import (READ_ONCE, VM_BUG_ON, cond_resched, cover, current, down_read_trylock,
                      might_sleep, rcu_read_lock, rcu_read_unlock, smp_store_release,
                      spin_lock_irq, spin_unlock_irq, up_read, wait_event_killable, wake_up_all,
                      wq_has_sleeper)
from . import memcontrol as memcg_
from ..kernel.fields import note_read, note_write
from .mm_list import get_next_mm, mm_is_oom_victim, set_bloom_filter, test_bloom_filter
from .pagetable import FIRST_USER_ADDRESS
from .structs import PF_KSWAPD, lru_gen_mm_walk, lruvec, mm_struct, pglist_data, scan_control

EAGAIN = 11
EBUSY = 16


def arch_has_hw_pte_young() -> bool:
    return rt.world().config.arch_has_hw_pte_young


def current_is_kswapd() -> bool:
    return bool(current().flags & PF_KSWAPD)


def seq_is_valid(lv: lruvec) -> bool:
    """``seq_is_valid()`` (patch 4): both types keep MIN_NR_GENS..MAX_NR_GENS generations."""
    lrugen = lv.lrugen
    max_seq = lrugen.max_seq
    nr = [max_seq - lrugen.min_seq[t] + 1 for t in (0, 1)]
    return MIN_NR_GENS <= nr[1] <= nr[0] <= rt.world().config.MAX_NR_GENS


def inc_min_seq(lv: lruvec) -> None:
    """model: patch 4's ``inc_min_seq()`` reduced to retiring the oldest generation when all
    MAX_NR_GENS are in use; no pages move."""
    lrugen = lv.lrugen
    for t in (0, 1):
        if lrugen.max_seq - lrugen.min_seq[t] + 1 >= rt.world().config.MAX_NR_GENS:
            lrugen.min_seq[t] += 1


def inc_max_seq(lv: lruvec, max_seq: int, can_swap: bool = True) -> None:
    """``inc_max_seq()`` (patch 4): create a new generation, under ``lru_lock``."""
    lrugen = lv.lrugen

    spin_lock_irq(lv.lru_lock)

    VM_BUG_ON(not seq_is_valid(lv), "!seq_is_valid(lruvec)")

    if max_seq != lrugen.max_seq:
        cover("inc_max_seq:raced")
        rt.trace("inc_max_seq", lruvec=lv, max_seq=max_seq, done=False)
        spin_unlock_irq(lv.lru_lock)        # goto unlock
        return

    cover("inc_max_seq:new-generation")
    inc_min_seq(lv)
    # make sure preceding modifications appear
    smp_store_release(lrugen, "max_seq", lrugen.max_seq + 1)
    rt.trace("inc_max_seq", lruvec=lv, max_seq=max_seq, done=True)

    spin_unlock_irq(lv.lru_lock)


def alloc_mm_walk() -> lru_gen_mm_walk | None:
    """``alloc_mm_walk()``: kswapd's preallocated walk, or a kzalloc that may fail."""
    task = current()
    if task.reclaim_state is not None and task.reclaim_state.mm_walk is not None:
        cover("alloc_mm_walk:lent-walk")
        return task.reclaim_state.mm_walk
    might_sleep()                           # kvzalloc(..., GFP_KERNEL)
    if rt.world().config.mm_walk_alloc_may_fail and rt.choose(2):
        cover("alloc_mm_walk:failed")
        rt.trace("alloc_fail", what="mm_walk")
        return None
    cover("alloc_mm_walk:allocated")
    return lru_gen_mm_walk(f"{task.label}.mm_walk")


def free_mm_walk(walk: lru_gen_mm_walk) -> None:
    pass                                    # kfree() unless it is the preallocated one


def try_to_inc_max_seq(lv: lruvec, max_seq: int, sc: scan_control, can_swap: bool,
                       full_scan: bool) -> bool:
    """``try_to_inc_max_seq()`` (v6): join the iteration for ``max_seq``; the last walker out
    creates the new generation; others may wait for it."""
    lrugen = lv.lrugen
    iter_: list = [None]                    # struct mm_struct *mm = NULL

    VM_BUG_ON(max_seq > READ_ONCE(lrugen, "max_seq"), "max_seq > READ_ONCE(lrugen->max_seq)")
    rt.trace("aging_start", lruvec=lv, max_seq=max_seq, full_scan=full_scan)

    if not full_scan and not arch_has_hw_pte_young():
        cover("try_to_inc_max_seq:no-walk")     # apart: fix-nowalk-seq patches the block below
    # If the hardware doesn't automatically set the accessed bit, fallback to
    # lru_gen_look_around(), which only clears the accessed bit in a handful of PTEs.
    if not full_scan and not arch_has_hw_pte_young():
        inc_max_seq(lv, max_seq, can_swap)
        rt.trace("aging_end", lruvec=lv, max_seq=max_seq, result=True, how="no_walk")
        return True

    walk = alloc_mm_walk()
    if walk is None:
        cover("try_to_inc_max_seq:walk-alloc-failed")
        rt.trace("aging_end", lruvec=lv, max_seq=max_seq, result=False, how="no_walk")
        return False

    walk.lruvec = lv
    walk.max_seq = max_seq
    walk.can_swap = can_swap
    walk.full_scan = full_scan

    while True:
        last = get_next_mm(lv, walk, iter_)
        if iter_[0] is not None:
            walk_mm(lv, iter_[0], walk)

        cond_resched()
        if iter_[0] is None:
            break

    free_mm_walk(walk)

    if not last:
        if not current_is_kswapd() and sc.priority < DEF_PRIORITY - 2:
            cover("try_to_inc_max_seq:wait")
            wait_event_killable(lv.mm_state.wait,
                                lambda: max_seq < READ_ONCE(lrugen, "max_seq"))
        elif current_is_kswapd():
            cover("try_to_inc_max_seq:no-wait-kswapd")
        else:
            cover("try_to_inc_max_seq:no-wait-priority")

        result = max_seq < READ_ONCE(lrugen, "max_seq")
        if result:
            cover("try_to_inc_max_seq:not-last-seq-advanced")
        else:
            cover("try_to_inc_max_seq:not-last-seq-not-advanced")
        rt.trace("aging_end", lruvec=lv, max_seq=max_seq, result=result, how="not_last")
        return result

    cover("try_to_inc_max_seq:last-walker")
    VM_BUG_ON(max_seq != READ_ONCE(lrugen, "max_seq"), "max_seq != READ_ONCE(lrugen->max_seq)")

    inc_max_seq(lv, max_seq, can_swap)
    # either this sees any waiters or they will see updated max_seq
    if wq_has_sleeper(lv.mm_state.wait):
        cover("try_to_inc_max_seq:wake-waiters")
        wake_up_all(lv.mm_state.wait)

    rt.trace("aging_end", lruvec=lv, max_seq=max_seq, result=True, how="last")
    return True


# ---------------------------------------------------------------------------------------------
#                          the page table walk
# ---------------------------------------------------------------------------------------------

def suitable_to_scan(total: int, young: int) -> bool:
    """Suitable if the average number of young PTEs per cacheline is >= 1 (n = 8)."""
    return young * 8 >= total


def reset_batch_size(lv: lruvec, walk: lru_gen_mm_walk) -> None:
    """``reset_batch_size()``: fold the batched promotions into the lruvec (under lru_lock)."""
    walk.batched = 0
    for gen, delta in sorted(walk.nr_pages.items()):
        lv.lrugen.nr_pages[gen] = lv.lrugen.nr_pages.get(gen, 0) + delta
    walk.nr_pages.clear()


def walk_pte_range(lv: lruvec, mm: mm_struct, region: int, walk: lru_gen_mm_walk) -> bool:
    """``walk_pte_range()``: clear the accessed bit of young PTEs whose page belongs to this
    lruvec and promote the page to ``walk->max_seq``'s generation; misplaced pages (another
    memcg or node) are left alone."""
    pt = mm.pgtables
    note_write(pt, "ptes")              # ptep_test_and_clear_young(), folio_update_gen()
    present = pt.present[region]
    total = int(present.sum())
    walk.mm_stats[MM_PTE_TOTAL] += total
    young_now = pt.young[region] & present
    memcg_id = lv.memcg.id if lv.memcg is not None else None
    mine = pt.node[region] == lv.pgdat.node_id
    if memcg_id is not None:
        mine &= pt.memcg[region] == memcg_id
    walk.mm_stats[MM_PTE_OLD] += int((present & ~young_now).sum())
    hit = young_now & mine
    young = int(hit.sum())
    if young:
        walk.mm_stats[MM_PTE_YOUNG] += young
        pt.young[region, hit] = False                   # ptep_test_and_clear_young()
        old = pt.gen[region, hit]
        moved = old != walk.max_seq
        for gen, n in zip(*np.unique(old[moved], return_counts=True)):
            walk.nr_pages[int(gen)] = walk.nr_pages.get(int(gen), 0) - int(n)
        nmoved = int(moved.sum())
        if nmoved:
            walk.nr_pages[walk.max_seq] = walk.nr_pages.get(walk.max_seq, 0) + nmoved
        pt.gen[region, hit] = walk.max_seq              # folio_update_gen()
        walk.batched += nmoved
    suitable = suitable_to_scan(total, young)
    rt.trace("pte_walk", lruvec=lv, mm=mm, region=region, suitable=suitable)
    return suitable


def walk_pmd_range(lv: lruvec, mm: mm_struct, region: int, walk: lru_gen_mm_walk) -> None:
    """``walk_pmd_range()`` for one non-leaf entry: the Bloom filter decides whether to look."""
    pmd = mm.pgtables.pmd_entry(region)
    walk.mm_stats[MM_PMD_TOTAL] += 1

    if walk.full_scan:
        cover("walk_pmd_range:full-scan")       # every PMD, the Bloom filter not asked
    if not walk.full_scan and not test_bloom_filter(walk.lruvec, walk.max_seq, pmd):
        return

    walk.mm_stats[MM_PMD_FOUND] += 1

    if not walk_pte_range(lv, mm, region, walk):
        return

    walk.mm_stats[MM_PMD_ADDED] += 1

    # carry over to the next generation
    set_bloom_filter(walk.lruvec, walk.max_seq + 1, pmd)


def walk_page_range(lv: lruvec, mm: mm_struct, start: int, walk: lru_gen_mm_walk) -> int:
    """``walk_page_range()`` with the mm_walk_ops of the aging: stops once ``walk->batched``
    reaches MAX_LRU_BATCH, records ``next_addr`` and returns -EAGAIN."""
    pt = mm.pgtables
    max_batch = rt.world().config.MAX_LRU_BATCH
    for region in range(pt.region_of(start), pt.nr_regions):
        rt.trace("pmd_enter", walk=walk, mm=mm, region=region)
        walk_pmd_range(lv, mm, region, walk)
        rt.trace("pmd_exit", walk=walk, mm=mm, region=region)
        if walk.batched >= max_batch and region + 1 < pt.nr_regions:
            walk.next_addr = pt.addr_of(region + 1)
            return -EAGAIN
    walk.next_addr = 0
    return 0


def mmap_read_trylock(mm: mm_struct) -> bool:
    if rt.world().config.mmap_lock_contended and rt.choose(2):
        rt.trace("mmap_lock_busy", mm=mm)
        return False
    ok = down_read_trylock(mm.mmap_lock)
    if not ok:
        rt.trace("mmap_lock_busy", mm=mm)
    return ok


def walk_mm(lv: lruvec, mm: mm_struct, walk: lru_gen_mm_walk) -> None:
    """``walk_mm()``: walk ``mm``'s page tables in chunks, flushing promotions after each."""
    memcg = memcg_.lruvec_memcg(lv)

    rt.trace("walk_mm", lruvec=lv, mm=mm, max_seq=walk.max_seq)
    walk.next_addr = FIRST_USER_ADDRESS

    while True:
        err = -EBUSY

        # folio_update_gen() requires stable folio_memcg(): v6 tests moving_account under
        # rcu_read_lock() and flushes the batch before rcu_read_unlock(), so that
        # mem_cgroup_move_charge() (which raises moving_account, then waits for a grace period)
        # cannot move a page between lruvecs while its promotion is still batched
        rcu_read_lock()
        # atomic_read(&memcg->moving_account): a marked read, as the charge mover's writes are
        if memcg is None or not READ_ONCE(memcg, "moving_account"):
            # the caller might be holding the lock for write
            if mmap_read_trylock(mm):
                note_read(mm, "mmap_exited")
                if mm.mmap_exited:
                    cover("walk_mm:page-tables-gone")
                    rt.trace("walk_freed_mm", lruvec=lv, mm=mm)   # use-after-free in the C
                    err = 0
                else:
                    err = walk_page_range(lv, mm, walk.next_addr, walk)
                up_read(mm.mmap_lock)

                if walk.batched:
                    spin_lock_irq(lv.lru_lock)
                    reset_batch_size(lv, walk)
                    spin_unlock_irq(lv.lru_lock)
            else:
                cover("walk_mm:mmap-trylock-failed")     # goto contended
        else:
            cover("walk_mm:memcg-moving-charges")        # goto contended
        # contended:
        rcu_read_unlock()

        cond_resched()
        if not (err == -EAGAIN and walk.next_addr and not mm_is_oom_victim(mm)):
            if err == -EAGAIN and walk.next_addr:
                cover("walk_mm:oom-victim-stop")    # more to walk, but the OOM killer has it
            break
        cover("walk_mm:next-chunk")

    rt.trace("mm_stats", lruvec=lv, mm=mm, walk=walk, stats=tuple(walk.mm_stats))


# ---------------------------------------------------------------------------------------------
#                          rmap/PT walk feedback (patch 7/9)
# ---------------------------------------------------------------------------------------------

def lru_gen_look_around(lv: lruvec, mm: mm_struct, region: int, pte: int) -> None:
    """``lru_gen_look_around()``: the rmap found a young PTE; look at up to MIN_LRU_BATCH
    neighbours in the same PTE table, clear their accessed bit, and report a dense table to the
    Bloom filter of the current ``max_seq``. As in v6, only with a walk lent in
    ``current->reclaim_state`` (kswapd evicting, ``lru_gen_shrink_lruvec()``); without one it
    returns at once."""
    max_seq = READ_ONCE(lv.lrugen, "max_seq")           # DEFINE_MAX_SEQ(lruvec)

    reclaim_state = current().reclaim_state
    walk = reclaim_state.mm_walk if reclaim_state is not None else None
    # v6: the look-around batches into the walk that current->reclaim_state lends (kswapd's
    # preallocated one); without a lent walk it returns at once: no PTE is looked at, no page
    # promoted, no Bloom filter entry reported
    if walk is None:
        return

    walk.max_seq = max_seq                  # protocol.md section 3: the lent walk follows max_seq
    pt = mm.pgtables
    note_read(mm, "mmap_exited")
    if pt is None or mm.mmap_exited:
        return
    note_write(pt, "ptes")
    half = rt.world().config.MIN_LRU_BATCH // 2
    lo = max(0, pte - half)
    hi = min(pt.ptes_per_pmd, pte + half)
    sl = slice(lo, hi)
    memcg_id = lv.memcg.id if lv.memcg is not None else None
    mine = pt.present[region, sl] & (pt.node[region, sl] == lv.pgdat.node_id)
    if memcg_id is not None:
        mine &= pt.memcg[region, sl] == memcg_id
    hit = pt.young[region, sl] & mine
    young = int(hit.sum())
    pt.young[region, sl] &= ~hit
    old = pt.gen[region, sl][hit]
    moved = old != max_seq
    pt.gen[region, sl] = np.where(hit, max_seq, pt.gen[region, sl])
    if moved.any():
        # update_batch_size() for each promoted folio, then reset_batch_size() under lru_lock:
        # the pages leave their old generation and join max_seq's
        spin_lock_irq(lv.lru_lock)
        for gen, n in zip(*np.unique(old[moved], return_counts=True)):
            lv.lrugen.nr_pages[int(gen)] = lv.lrugen.nr_pages.get(int(gen), 0) - int(n)
        lv.lrugen.nr_pages[max_seq] = lv.lrugen.nr_pages.get(max_seq, 0) + int(moved.sum())
        spin_unlock_irq(lv.lru_lock)

    if suitable_to_scan(hi - lo, young):
        cover("lru_gen_look_around:report-dense")
        set_bloom_filter(lv, max_seq, pt.pmd_entry(region))


# ---------------------------------------------------------------------------------------------
#                          the three callers of the aging
# ---------------------------------------------------------------------------------------------

def age_lruvec(lv: lruvec, sc: scan_control) -> bool:
    """``age_lruvec()`` (kswapd). model: the aging is always needed (``should_run_aging`` is a
    page-count heuristic outside the protocol)."""
    max_seq = READ_ONCE(lv.lrugen, "max_seq")
    rt.trace("aging_request", lruvec=lv, max_seq=max_seq)
    return try_to_inc_max_seq(lv, max_seq, sc, sc.may_swap, False)


def lru_gen_age_node(pgdat: pglist_data, sc: scan_control) -> None:
    """``lru_gen_age_node()``: kswapd lends its preallocated walk, then ages every memcg."""
    task = current()

    VM_BUG_ON(not current_is_kswapd(), "!current_is_kswapd()")

    task.reclaim_state.mm_walk = pgdat.mm_walk

    memcg = memcg_.mem_cgroup_iter(None)
    while True:
        lv = memcg_.get_lruvec(memcg, pgdat.node_id)

        age_lruvec(lv, sc)

        cond_resched()
        memcg = memcg_.mem_cgroup_iter(memcg)
        if memcg is None:
            break

    task.reclaim_state.mm_walk = None


def lru_gen_shrink_lruvec(lv: lruvec, sc: scan_control, evict: Callable[[], None]) -> None:
    """``lru_gen_shrink_lruvec()`` (the eviction, patch 7) as far as the mm list needs it:
    kswapd lends its preallocated walk (``pgdat->mm_walk``) to ``current->reclaim_state`` while
    it evicts, so that ``lru_gen_look_around()``, called from the rmap walk of
    ``shrink_page_list()``, has one (later versions: ``set_mm_walk()``/``clear_mm_walk()``);
    direct reclaim lends none, and its look-around returns at once. ``evict`` stands for
    ``evict_pages()`` -> ``shrink_page_list()`` -> ``page_referenced()``."""
    task = current()

    if current_is_kswapd():
        task.reclaim_state.mm_walk = memcg_.lruvec_pgdat(lv).mm_walk

    evict()

    if current_is_kswapd():
        task.reclaim_state.mm_walk = None


def get_nr_to_scan(lv: lruvec, sc: scan_control, can_swap: bool) -> int:
    """``get_nr_to_scan()`` (direct reclaim): runs the aging itself when it must."""
    max_seq = READ_ONCE(lv.lrugen, "max_seq")
    if current_is_kswapd():
        return 0                            # leave the work to lru_gen_age_node()
    rt.trace("aging_request", lruvec=lv, max_seq=max_seq)
    if try_to_inc_max_seq(lv, max_seq, sc, can_swap, False):
        return 1
    return 0


def run_aging(lv: lruvec, seq: int, sc: scan_control, can_swap: bool, full_scan: bool) -> int:
    """``run_aging()``: the debugfs ``lru_gen`` interface, "+ memcg node seq [swap [full]]"."""
    max_seq = READ_ONCE(lv.lrugen, "max_seq")

    if seq < max_seq:
        return 0

    if seq > max_seq:
        return -22                          # -EINVAL

    rt.trace("aging_request", lruvec=lv, max_seq=max_seq)
    try_to_inc_max_seq(lv, max_seq, sc, can_swap, full_scan)

    return 0
