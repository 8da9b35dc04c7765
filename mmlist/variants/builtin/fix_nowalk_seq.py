"""Fix: without a page-table walk, the aging still steps the mm list's bookkeeping.

When ``arch_has_hw_pte_young()`` is false (and no full scan is asked for), the seed's
``try_to_inc_max_seq()`` calls ``inc_max_seq()`` directly: ``max_seq`` moves on and
``mm_state->seq`` stays behind, so a later walker (debugfs ``full_scan``) trips
``VM_BUG_ON(walk->max_seq > mm_state->seq + 1)``. Upstream later added
``iterate_mm_list_nowalk()``: under the mm_list lock, if no walker is in an iteration for this
``max_seq``, count the iteration as done (``seq + 1``, reset the next generation's stats), and only
then create the generation.
"""
from mmlist.model.aging import *  # noqa: F401,F403  (the names the copied code uses)
from mmlist.model.aging import rt  # noqa: F401
from mmlist.model.mm_list import get_mm_list, lru_hist_from_seq
from mmlist.config import NR_MM_STATS
from mmlist.kernel import WRITE_ONCE, VM_WARN_ON, spin_lock, spin_unlock

DESCRIPTION = ("try_to_inc_max_seq(): with no page-table walk, advance mm_state->seq under the "
               "mm_list lock before inc_max_seq() (upstream's iterate_mm_list_nowalk())")


def _iterate_mm_list_nowalk(lv: lruvec, max_seq: int) -> bool:
    """``iterate_mm_list_nowalk()`` in the v6 structures: finish the iteration for ``max_seq``
    without walking it, unless walkers are in it or it is already over."""
    success = False
    mm_list = get_mm_list(memcg_.lruvec_memcg(lv))
    mm_state = lv.mm_state

    spin_lock(mm_list.lock)

    VM_WARN_ON(mm_state.seq + 1 < max_seq, "mm_state->seq + 1 < max_seq")

    if max_seq > mm_state.seq and not mm_state.nr_walkers:
        VM_WARN_ON(mm_state.head is not mm_list.fifo, "mm_state->head != &mm_list->fifo")

        WRITE_ONCE(mm_state, "seq", mm_state.seq + 1)
        rt.trace("iter_end", lruvec=lv, seq=mm_state.seq, by="iterate_mm_list_nowalk")
        # reset_mm_stats(lruvec, NULL, true): the walkerless part, the next generation's stats
        if rt.world().config.NR_HIST_GENS > 1:
            hist = lru_hist_from_seq(max_seq + 1)
            rt.trace("stats_reset", lruvec=lv, hist=hist)
            for i in range(NR_MM_STATS):
                WRITE_ONCE(mm_state.stats[hist], i, 0)
        success = True

    spin_unlock(mm_list.lock)

    return success


PATCHES = {
    "try_to_inc_max_seq": [
        ("""    if not full_scan and not arch_has_hw_pte_young():
        inc_max_seq(lv, max_seq, can_swap)
        rt.trace("aging_end", lruvec=lv, max_seq=max_seq, result=True, how="no_walk")
        return True
""", """    if not full_scan and not arch_has_hw_pte_young():
        if not _iterate_mm_list_nowalk(lv, max_seq):
            # walkers are in this iteration: the last of them creates the generation
            rt.trace("aging_end", lruvec=lv, max_seq=max_seq, result=False, how="no_walk")
            return False
        inc_max_seq(lv, max_seq, can_swap)
        # upstream reaches the common tail (`done:`): either this sees any waiters or they
        # will see updated max_seq
        if wq_has_sleeper(lv.mm_state.wait):
            wake_up_all(lv.mm_state.wait)
        rt.trace("aging_end", lruvec=lv, max_seq=max_seq, result=True, how="no_walk")
        return True
"""),
    ],
}
