"""``mm/vmscan.c``, section "mm_struct list": the seed (MGLRU v6 5/9), function by function.

Same names, same order of steps as the C. ``*iter`` is a one-element list (``iter[0]``).
Comments marked "model:" say where the Python departs from the C; ``rt.trace`` lines are the
protocol events the history checks read (they are not scheduling points).
"""
from __future__ import annotations

from .. import runtime as rt
from ..config import (ANON_AND_FILE, BLOOM_FILTER_SHIFT, MM_ANONPAGES, MM_FILEPAGES,
                      MM_SHMEMPAGES, NR_BLOOM_FILTERS, NR_MM_STATS)
from ..kernel import (READ_ONCE, WRITE_ONCE, INIT_LIST_HEAD, VM_BUG_ON, VM_BUG_ON_MM,
                      bitmap_clear, bitmap_free, bitmap_zalloc, cover, covering, cpumask_empty,
                      hash_ptr, init_waitqueue_head, list_add_tail, list_del_init, list_empty,
                      list_entry, lockdep_assert_held, node_clear, node_isset, rcu_read_lock,
                      rcu_read_unlock, set_bit, spin_lock, spin_lock_init, spin_unlock, test_bit)
from ..kernel.list import raw_iter
from . import memcontrol as memcg_
from .structs import lru_gen_mm_list, lru_gen_mm_walk, lruvec, mem_cgroup, mm_cpumask, mm_struct

# ---------------------------------------------------------------------------------------------
#                          mm_struct list
# ---------------------------------------------------------------------------------------------


def get_mm_list(memcg: mem_cgroup | None) -> lru_gen_mm_list:
    """``get_mm_list()``: the memcg's list, or the static global one."""
    if rt.world().config.CONFIG_MEMCG and memcg is not None:
        return memcg.mm_list
    cover("get_mm_list:global")
    return rt.world().mm_list           # model: the function-local static lives in the World


def lru_gen_add_mm(mm: mm_struct) -> None:
    """``lru_gen_add_mm()``: append ``mm`` to its owner's memcg list."""
    w = rt.world()
    memcg = memcg_.get_mem_cgroup_from_mm(mm)
    mm_list = get_mm_list(memcg)

    VM_BUG_ON_MM(not list_empty(mm.lru_gen.list), mm, "!list_empty(&mm->lru_gen.list)")
    if w.config.CONFIG_MEMCG:
        VM_BUG_ON_MM(mm.lru_gen.memcg, mm, "mm->lru_gen.memcg")
        mm.lru_gen.memcg = memcg
    spin_lock(mm_list.lock)

    list_add_tail(mm.lru_gen.list, mm_list.fifo)

    for nid in w.for_each_node():
        lv = memcg_.get_lruvec(memcg, nid)

        if lv is None:
            continue

        if covering() and lv.mm_state.__dict__["_head"] is not mm_list.fifo:
            cover("lru_gen_add_mm:mid-iteration")       # raw read: no operation

        if lv.mm_state.tail is mm_list.fifo:
            cover("lru_gen_add_mm:tail-on-fifo")
            lv.mm_state.tail = lv.mm_state.tail.prev
        else:
            cover("lru_gen_add_mm:tail-on-mm")

    rt.trace("add", mm=mm, memcg=memcg)
    spin_unlock(mm_list.lock)


def lru_gen_del_mm(mm: mm_struct) -> None:
    """``lru_gen_del_mm()``: unlink ``mm``, first moving every cursor off it."""
    w = rt.world()
    memcg = None

    if list_empty(mm.lru_gen.list):
        cover("lru_gen_del_mm:not-on-list")
        return

    if w.config.CONFIG_MEMCG:
        memcg = mm.lru_gen.memcg
    mm_list = get_mm_list(memcg)

    spin_lock(mm_list.lock)

    for nid in w.for_each_node():
        lv = memcg_.get_lruvec(memcg, nid)

        if lv is None:
            continue

        if covering():
            _cover_lru_gen_del_mm(lv, mm, mm_list)      # raw reads: no operation

        if lv.mm_state.tail is mm.lru_gen.list:
            lv.mm_state.tail = lv.mm_state.tail.next

        if lv.mm_state.head is not mm.lru_gen.list:
            continue

        lv.mm_state.head = lv.mm_state.head.next
        if lv.mm_state.head is mm_list.fifo:
            cover("lru_gen_del_mm:head-to-fifo-seq-bumped")
            WRITE_ONCE(lv.mm_state, "seq", lv.mm_state.seq + 1)
            rt.trace("iter_end", lruvec=lv, seq=lv.mm_state.seq, by="lru_gen_del_mm")

    rt.trace("del", mm=mm, memcg=memcg)
    list_del_init(mm.lru_gen.list)

    spin_unlock(mm_list.lock)

    if w.config.CONFIG_MEMCG:
        memcg_.mem_cgroup_put(mm.lru_gen.memcg)
        mm.lru_gen.memcg = None


def _cover_lru_gen_del_mm(lv: lruvec, mm: mm_struct, mm_list: lru_gen_mm_list) -> None:
    """Coverage of ``lru_gen_del_mm()``'s fix-ups on one lruvec, from raw reads under the
    mm_list lock (the cursors cannot move under it): which cursors sit on ``mm``, where head
    goes, and how long the list is."""
    node = mm.lru_gen.list
    state = lv.mm_state.__dict__
    on_head, on_tail = state["_head"] is node, state["_tail"] is node
    if on_head and on_tail:
        cover("lru_gen_del_mm:head-and-tail-moved")
    elif on_head:
        cover("lru_gen_del_mm:head-moved")
    elif on_tail:
        cover("lru_gen_del_mm:tail-moved")
    else:
        cover("lru_gen_del_mm:neither-moved")
    if on_head and node.__dict__["_next"] is not mm_list.fifo:
        cover("lru_gen_del_mm:head-to-next-mm")
    n = sum(1 for _ in raw_iter(mm_list.fifo, 3))
    if n == 1:
        cover("lru_gen_del_mm:list-of-1")
    elif n == 2:
        cover("lru_gen_del_mm:list-of-2")
    else:
        cover("lru_gen_del_mm:list-of-3+")


def lru_gen_migrate_mm(mm: mm_struct) -> None:
    """``lru_gen_migrate_mm()`` (CONFIG_MEMCG): follow the owner to its new memcg."""
    if not rt.world().config.CONFIG_MEMCG:
        return
    memcg: mem_cgroup | None

    lockdep_assert_held(mm.owner.alloc_lock, "&mm->owner->alloc_lock")

    if memcg_.mem_cgroup_disabled():
        cover("lru_gen_migrate_mm:memcg-disabled")
        return

    rcu_read_lock()
    memcg = memcg_.mem_cgroup_from_task(mm.owner)
    rcu_read_unlock()
    if memcg is mm.lru_gen.memcg:
        cover("lru_gen_migrate_mm:same-memcg")
        return

    if covering() and mm.lru_gen.__dict__["_memcg"] is None:
        cover("lru_gen_migrate_mm:before-add")          # raw read: the VM_BUG_ON_MM below fires
    VM_BUG_ON_MM(not mm.lru_gen.memcg, mm, "!mm->lru_gen.memcg")
    VM_BUG_ON_MM(list_empty(mm.lru_gen.list), mm, "list_empty(&mm->lru_gen.list)")

    cover("lru_gen_migrate_mm:moved")
    rt.trace("migrate", mm=mm, src=mm.lru_gen.memcg, dst=memcg)
    lru_gen_del_mm(mm)
    lru_gen_add_mm(mm)


# ---------------------------------------------------------------------------------------------
#                          Bloom filters
# ---------------------------------------------------------------------------------------------
# Bloom filters with m=1<<15, k=2 and the false positive rates of ~1/5 when n=10,000 and ~1/2
# when n=20,000. Page table walkers use one of the two filters to reduce their search space; the
# aging flips to the other filter each time it creates a new generation (double buffering).


def filter_gen_from_seq(seq: int) -> int:
    return seq % NR_BLOOM_FILTERS


def get_item_key(item: int) -> tuple[int, int]:
    """``get_item_key()``: two 15-bit keys from ``hash_ptr(item, 30)``. model: returns the
    ``key[2]`` array instead of filling it."""
    h = hash_ptr(item, BLOOM_FILTER_SHIFT * 2)
    return h & ((1 << BLOOM_FILTER_SHIFT) - 1), h >> BLOOM_FILTER_SHIFT


def clear_bloom_filter(lv: lruvec, seq: int) -> None:
    gen = filter_gen_from_seq(seq)

    lockdep_assert_held(get_mm_list(memcg_.lruvec_memcg(lv)).lock,
                        "&get_mm_list(lruvec_memcg(lruvec))->lock")

    filt = lv.mm_state.filters[gen]
    if filt is not None:
        cover("clear_bloom_filter:cleared")
        bitmap_clear(filt, 0, 1 << BLOOM_FILTER_SHIFT)
        rt.trace("filter_clear", lruvec=lv, seq=seq, gen=gen, alloc=False)
        return

    filt = bitmap_zalloc(1 << BLOOM_FILTER_SHIFT, "GFP_ATOMIC", f"{lv.label}.filters[{gen}]")
    if filt is None:
        cover("clear_bloom_filter:alloc-failed")
    else:
        cover("clear_bloom_filter:allocated")
    WRITE_ONCE(lv.mm_state.filters, gen, filt)
    rt.trace("filter_clear", lruvec=lv, seq=seq, gen=gen, alloc=filt is not None)


def set_bloom_filter(lv: lruvec, seq: int, item: int) -> None:
    gen = filter_gen_from_seq(seq)

    filt = READ_ONCE(lv.mm_state.filters, gen)
    if filt is None:
        cover("set_bloom_filter:no-filter")
        return

    key = get_item_key(item)

    cover("set_bloom_filter:set")
    rt.trace("filter_set", lruvec=lv, seq=seq, gen=gen, item=item)
    if not test_bit(key[0], filt):
        set_bit(key[0], filt)
    if not test_bit(key[1], filt):
        set_bit(key[1], filt)


def test_bloom_filter(lv: lruvec, seq: int, item: int) -> bool:
    gen = filter_gen_from_seq(seq)

    filt = READ_ONCE(lv.mm_state.filters, gen)
    if filt is None:
        cover("test_bloom_filter:no-filter")
        return False

    key = get_item_key(item)

    if test_bit(key[0], filt) and test_bit(key[1], filt):
        cover("test_bloom_filter:hit")
        return True
    cover("test_bloom_filter:miss")
    return False


def reset_mm_stats(lv: lruvec, walk: lru_gen_mm_walk, last: bool) -> None:
    """``reset_mm_stats()``: flush the walker's batched stats into ``mm_state->stats``."""
    hist = lru_hist_from_seq(walk.max_seq)

    lockdep_assert_held(get_mm_list(memcg_.lruvec_memcg(lv)).lock,
                        "&get_mm_list(lruvec_memcg(lruvec))->lock")

    rt.trace("stats_flush", lruvec=lv, hist=hist, stats=tuple(walk.mm_stats), last=last)
    stats = lv.mm_state.stats[hist]
    for i in range(NR_MM_STATS):
        WRITE_ONCE(stats, i, stats[i] + walk.mm_stats[i])
        walk.mm_stats[i] = 0

    if rt.world().config.NR_HIST_GENS == 1 or not last:
        return

    hist = lru_hist_from_seq(walk.max_seq + 1)
    cover("reset_mm_stats:case4-clear-next-hist")
    rt.trace("stats_reset", lruvec=lv, hist=hist)
    for i in range(NR_MM_STATS):
        WRITE_ONCE(lv.mm_state.stats[hist], i, 0)


def lru_hist_from_seq(seq: int) -> int:
    """``lru_hist_from_seq()`` (mm_inline.h)."""
    return seq % rt.world().config.NR_HIST_GENS


def get_mm_counter(mm: mm_struct, member: int) -> int:
    return mm.rss_stat[member]


def mm_is_oom_victim(mm: mm_struct) -> bool:
    return mm.oom_victim


def should_skip_mm(mm: mm_struct, walk: lru_gen_mm_walk) -> bool:
    """``should_skip_mm()``: unused since the last walk on this node, too small, an OOM victim,
    or going away. The ``rt.trace`` before each ``return True`` names the reason."""
    from .fork import mmget_not_zero
    size = 0
    pgdat = memcg_.lruvec_pgdat(walk.lruvec)

    if (not walk.full_scan and (idle := cpumask_empty(mm_cpumask(mm)))
            and not node_isset(pgdat.node_id, mm.lru_gen.nodes)):
        cover("should_skip_mm:unused")
        rt.trace("skip", mm=mm, lruvec=walk.lruvec, reason="unused")
        return True
    if walk.full_scan:                  # coverage: why not skipped (`idle` names no new access)
        cover("should_skip_mm:full-scan")
    elif not idle:
        cover("should_skip_mm:on-cpu")
    else:
        cover("should_skip_mm:node-bit-set")

    for type_ in range(int(not walk.can_swap), ANON_AND_FILE):
        size += (get_mm_counter(mm, MM_FILEPAGES) if type_ else
                 get_mm_counter(mm, MM_ANONPAGES) + get_mm_counter(mm, MM_SHMEMPAGES))

    if size < rt.world().config.MIN_LRU_BATCH:
        cover("should_skip_mm:small")
        rt.trace("skip", mm=mm, lruvec=walk.lruvec, reason="small")
        return True

    if mm_is_oom_victim(mm):
        cover("should_skip_mm:oom-victim")
        rt.trace("skip", mm=mm, lruvec=walk.lruvec, reason="oom_victim")
        return True

    if not mmget_not_zero(mm):
        cover("should_skip_mm:mm-users-zero")
        rt.trace("skip", mm=mm, lruvec=walk.lruvec, reason="mm_users==0")
        return True

    node_clear(pgdat.node_id, mm.lru_gen.nodes)

    cover("should_skip_mm:walk")
    return False


def get_next_mm(lv: lruvec, walk: lru_gen_mm_walk, iter: list) -> bool:
    """``get_next_mm()``: hand back ``*iter`` and take the next mm of this iteration.

    There are four interesting cases for this page table walker:
    1) It tries to start a new iteration of this list with a stale max_seq; there is nothing
       to be done.
    2) It's the first of the current generation, and it needs to prepare the Bloom filter for
       the next generation.
    3) It reaches the end of this list, and it needs to increment mm_state->seq; the iteration
       is done.
    4) It's the last of the current generation, and it needs to clear the historical mm stats
       for the next generation.
    """
    from .fork import mmput_async
    first = False
    last = True
    mm = None
    memcg = memcg_.lruvec_memcg(lv)
    mm_list = get_mm_list(memcg)
    mm_state = lv.mm_state
    prev = iter[0]

    if iter[0] is not None:
        mmput_async(iter[0])
    elif walk.max_seq <= READ_ONCE(mm_state, "seq"):
        cover("get_next_mm:case1-stale")
        rt.trace("get_next_mm", lruvec=lv, walk=walk, max_seq=walk.max_seq, prev=None,
                 mm=None, last=False, first=False, case="stale")
        return False

    spin_lock(mm_list.lock)

    VM_BUG_ON(walk.max_seq > mm_state.seq + 1, "walk->max_seq > mm_state->seq + 1")
    VM_BUG_ON(iter[0] is not None and walk.max_seq < mm_state.seq,
              "*iter && walk->max_seq < mm_state->seq")
    VM_BUG_ON(iter[0] is not None and not mm_state.nr_walkers,
              "*iter && !mm_state->nr_walkers")

    while True:                         # model: a one-pass loop stands in for `goto done`
        if walk.max_seq <= mm_state.seq:
            if iter[0] is None:
                cover("get_next_mm:case1-stale-under-lock")
                last = False
            else:
                cover("get_next_mm:iteration-over-returning-mm")
            break

        if mm_state.head is mm_list.fifo:
            VM_BUG_ON(mm_state.nr_walkers, "mm_state->nr_walkers")
            mm_state.head = mm_state.head.next
            first = True
            cover("get_next_mm:case2-first-walker")
            rt.trace("iter_start", lruvec=lv, max_seq=walk.max_seq)

        while mm is None and mm_state.head is not mm_list.fifo:
            mm = list_entry(mm_state.head, mm_struct, "lru_gen.list")

            mm_state.head = mm_state.head.next

            # full scan for those added after the last iteration
            if mm_state.tail is mm.lru_gen.list:
                cover("get_next_mm:tail-full-scan")
                mm_state.tail = mm_state.tail.next
                walk.full_scan = True

            if should_skip_mm(mm, walk):
                mm = None

        if mm_state.head is mm_list.fifo:
            cover("get_next_mm:case3-end-of-list")
            WRITE_ONCE(mm_state, "seq", mm_state.seq + 1)
            rt.trace("iter_end", lruvec=lv, seq=mm_state.seq, by="get_next_mm")
        break
    # done:
    if iter[0] is not None and mm is None:
        mm_state.nr_walkers = mm_state.nr_walkers - 1
    if iter[0] is None and mm is not None:
        mm_state.nr_walkers = mm_state.nr_walkers + 1

    if mm_state.nr_walkers:
        last = False

    if mm is not None and first:
        cover("get_next_mm:case2-bloom-reset")
        clear_bloom_filter(lv, walk.max_seq + 1)

    if last:
        if iter[0] is not None:
            cover("get_next_mm:case4-last-walker")
        else:
            cover("get_next_mm:last-without-mm")
    elif iter[0] is None and mm is not None and not first:
        cover("get_next_mm:joins-running-iteration")
    elif iter[0] is not None and mm is None:
        cover("get_next_mm:leaves-not-last")

    if iter[0] is not None or last:
        reset_mm_stats(lv, walk, last)

    rt.trace("get_next_mm", lruvec=lv, walk=walk, max_seq=walk.max_seq, prev=prev, mm=mm,
             last=last, first=first, nr_walkers=mm_state.nr_walkers, case="locked")
    spin_unlock(mm_list.lock)

    iter[0] = mm

    return last


# ---------------------------------------------------------------------------------------------
#                          state change
# ---------------------------------------------------------------------------------------------


def lru_gen_init_state(memcg: mem_cgroup | None, lv: lruvec) -> None:
    """``lru_gen_init_state()``: patch 4's part reduced to ``max_seq``/``min_seq``; the seed's
    part (``mm_state``) as in the C."""
    from ..config import MIN_NR_GENS
    lrugen = lv.lrugen
    mm_list = get_mm_list(memcg)

    lrugen.max_seq = MIN_NR_GENS + 1
    lrugen.min_seq = [0, 0]
    lrugen.enabled = True

    lv.mm_state.seq = MIN_NR_GENS
    lv.mm_state.head = mm_list.fifo
    lv.mm_state.tail = mm_list.fifo
    init_waitqueue_head(lv.mm_state.wait)


def lru_gen_init_memcg(memcg: mem_cgroup) -> None:
    INIT_LIST_HEAD(memcg.mm_list.fifo)
    spin_lock_init(memcg.mm_list.lock)

    for nid in rt.world().for_each_node():
        lv = memcg_.get_lruvec(memcg, nid)

        lru_gen_init_state(memcg, lv)


def lru_gen_free_memcg(memcg: mem_cgroup) -> None:
    for nid in rt.world().for_each_node():
        lv = memcg.nodeinfo[nid].lruvec     # model: get_lruvec() refuses a freed memcg

        # model: VM_BUG_ON(memchr_inv(lruvec->lrugen.nr_pages, ...)) is patch 4's and is left
        # out: the model has no LRU lists to reparent, only the promotion counts of walk_mm.

        for i in range(NR_BLOOM_FILTERS):
            bitmap_free(lv.mm_state.filters[i])
            lv.mm_state.filters[i] = None
    rt.trace("free_memcg", memcg=memcg, fifo_empty=list_empty(memcg.mm_list.fifo))
