"""Mutant: reset_mm_stats() overwrites mm_state->stats with the walker's batch instead of adding it

A copy of ``reset_mm_stats()`` from ``mmlist/model/mm_list.py`` with the change marked
``# MUTANT:``.
"""
from mmlist.model.mm_list import *  # noqa: F401,F403  (the names the copied code uses)
from mmlist.model.mm_list import rt  # noqa: F401

DESCRIPTION = "reset_mm_stats() overwrites mm_state->stats with the walker's batch instead of adding it"
EXPECTED_CHECK = 'mm_stats'
SCENARIO = 'walkers'
NEEDS_INTERLEAVING = False


def reset_mm_stats(lv: lruvec, walk: lru_gen_mm_walk, last: bool) -> None:
    """``reset_mm_stats()``: flush the walker's batched stats into ``mm_state->stats``."""
    hist = lru_hist_from_seq(walk.max_seq)

    lockdep_assert_held(get_mm_list(memcg_.lruvec_memcg(lv)).lock,
                        "&get_mm_list(lruvec_memcg(lruvec))->lock")

    rt.trace("stats_flush", lruvec=lv, hist=hist, stats=tuple(walk.mm_stats), last=last)
    stats = lv.mm_state.stats[hist]
    for i in range(NR_MM_STATS):
        WRITE_ONCE(stats, i, walk.mm_stats[i])  # MUTANT: was stats[i] + walk->mm_stats[i]
        walk.mm_stats[i] = 0

    if rt.world().config.NR_HIST_GENS == 1 or not last:
        return

    hist = lru_hist_from_seq(walk.max_seq + 1)
    rt.trace("stats_reset", lruvec=lv, hist=hist)
    for i in range(NR_MM_STATS):
        WRITE_ONCE(lv.mm_state.stats[hist], i, 0)
