"""Mutant: get_next_mm() takes the next mm without mmput_async() of the previous one (a leak)

A copy of ``get_next_mm()`` from ``mmlist/model/mm_list.py`` with the change marked
``# MUTANT:``.
"""
from mmlist.model.mm_list import *  # noqa: F401,F403  (the names the copied code uses)
from mmlist.model.mm_list import rt  # noqa: F401

DESCRIPTION = 'get_next_mm() takes the next mm without mmput_async() of the previous one (a leak)'
EXPECTED_CHECK = 'walker_reference'
SCENARIO = 'walkers'
NEEDS_INTERLEAVING = False


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
    from mmlist.model.fork import mmput_async
    first = False
    last = True
    mm = None
    memcg = memcg_.lruvec_memcg(lv)
    mm_list = get_mm_list(memcg)
    mm_state = lv.mm_state
    prev = iter[0]

    if iter[0] is not None:
        pass  # MUTANT: was mmput_async(*iter)
    elif walk.max_seq <= READ_ONCE(mm_state, "seq"):
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
                last = False
            break

        if mm_state.head is mm_list.fifo:
            VM_BUG_ON(mm_state.nr_walkers, "mm_state->nr_walkers")
            mm_state.head = mm_state.head.next
            first = True
            rt.trace("iter_start", lruvec=lv, max_seq=walk.max_seq)

        while mm is None and mm_state.head is not mm_list.fifo:
            mm = list_entry(mm_state.head, mm_struct, "lru_gen.list")

            mm_state.head = mm_state.head.next

            # full scan for those added after the last iteration
            if mm_state.tail is mm.lru_gen.list:
                mm_state.tail = mm_state.tail.next
                walk.full_scan = True

            if should_skip_mm(mm, walk):
                mm = None

        if mm_state.head is mm_list.fifo:
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
        clear_bloom_filter(lv, walk.max_seq + 1)

    if iter[0] is not None or last:
        reset_mm_stats(lv, walk, last)

    rt.trace("get_next_mm", lruvec=lv, walk=walk, max_seq=walk.max_seq, prev=prev, mm=mm,
             last=last, first=first, nr_walkers=mm_state.nr_walkers, case="locked")
    spin_unlock(mm_list.lock)

    iter[0] = mm

    return last
