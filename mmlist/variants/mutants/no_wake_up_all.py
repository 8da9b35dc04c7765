"""Mutant: the last walker creates the generation but does not wake_up_all() the waiters

A copy of ``try_to_inc_max_seq()`` from ``mmlist/model/aging.py`` with the change marked
``# MUTANT:``.
"""
from mmlist.model.aging import *  # noqa: F401,F403  (the names the copied code uses)
from mmlist.model.aging import rt  # noqa: F401

DESCRIPTION = 'the last walker creates the generation but does not wake_up_all() the waiters'
EXPECTED_CHECK = 'liveness'
SCENARIO = 'walkers'
NEEDS_INTERLEAVING = True


def try_to_inc_max_seq(lv: lruvec, max_seq: int, sc: scan_control, can_swap: bool,
                       full_scan: bool) -> bool:
    """``try_to_inc_max_seq()`` (v6): join the iteration for ``max_seq``; the last walker out
    creates the new generation; others may wait for it."""
    lrugen = lv.lrugen
    iter_: list = [None]                    # struct mm_struct *mm = NULL

    VM_BUG_ON(max_seq > READ_ONCE(lrugen, "max_seq"), "max_seq > READ_ONCE(lrugen->max_seq)")
    rt.trace("aging_start", lruvec=lv, max_seq=max_seq, full_scan=full_scan)

    # If the hardware doesn't automatically set the accessed bit, fallback to
    # lru_gen_look_around(), which only clears the accessed bit in a handful of PTEs.
    if not full_scan and not arch_has_hw_pte_young():
        inc_max_seq(lv, max_seq, can_swap)
        rt.trace("aging_end", lruvec=lv, max_seq=max_seq, result=True, how="no_walk")
        return True

    walk = alloc_mm_walk()
    if walk is None:
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
            wait_event_killable(lv.mm_state.wait,
                                lambda: max_seq < READ_ONCE(lrugen, "max_seq"))

        result = max_seq < READ_ONCE(lrugen, "max_seq")
        rt.trace("aging_end", lruvec=lv, max_seq=max_seq, result=result, how="not_last")
        return result

    VM_BUG_ON(max_seq != READ_ONCE(lrugen, "max_seq"), "max_seq != READ_ONCE(lrugen->max_seq)")

    inc_max_seq(lv, max_seq, can_swap)
    # either this sees any waiters or they will see updated max_seq
    if wq_has_sleeper(lv.mm_state.wait):
        pass  # MUTANT: was wake_up_all(&mm_state->wait)

    rt.trace("aging_end", lruvec=lv, max_seq=max_seq, result=True, how="last")
    return True
