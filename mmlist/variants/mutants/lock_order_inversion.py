"""Mutant: should_skip_mm() looks at the owner under task_lock() while holding the mm_list lock
(mm_list lock -> task_lock, against fork/exec/migration's task_lock -> mm_list lock)

A copy of ``should_skip_mm()`` from ``mmlist/model/mm_list.py`` with the change marked
``# MUTANT:``.
"""
from mmlist.model.mm_list import *  # noqa: F401,F403  (the names the copied code uses)
from mmlist.model.mm_list import rt  # noqa: F401

DESCRIPTION = "should_skip_mm() looks at the owner under task_lock() while holding the mm_list lock (mm_list lock -> task_lock, against fork/exec/migration's task_lock -> mm_list lock)"
EXPECTED_CHECK = 'lock_order'
SCENARIO = 'exec'
NEEDS_INTERLEAVING = False


def _owner_exiting(mm):
    """Helper of the mutant: is the owner exiting? (looked at under its task_lock)"""
    from mmlist.model.memcontrol import task_lock, task_unlock
    from mmlist.model.structs import PF_EXITING
    owner = READ_ONCE(mm, "owner")
    if owner is None:
        return False
    task_lock(owner)
    exiting = bool(owner.flags & PF_EXITING)
    task_unlock(owner)
    return exiting


def should_skip_mm(mm: mm_struct, walk: lru_gen_mm_walk) -> bool:
    """``should_skip_mm()``: unused since the last walk on this node, too small, an OOM victim,
    or going away. The ``rt.trace`` before each ``return True`` names the reason."""
    from mmlist.model.fork import mmget_not_zero
    size = 0
    pgdat = memcg_.lruvec_pgdat(walk.lruvec)

    if (not walk.full_scan and cpumask_empty(mm_cpumask(mm))
            and not node_isset(pgdat.node_id, mm.lru_gen.nodes)):
        rt.trace("skip", mm=mm, lruvec=walk.lruvec, reason="unused")
        return True

    for type_ in range(int(not walk.can_swap), ANON_AND_FILE):
        size += (get_mm_counter(mm, MM_FILEPAGES) if type_ else
                 get_mm_counter(mm, MM_ANONPAGES) + get_mm_counter(mm, MM_SHMEMPAGES))

    if size < rt.world().config.MIN_LRU_BATCH:
        rt.trace("skip", mm=mm, lruvec=walk.lruvec, reason="small")
        return True

    if mm_is_oom_victim(mm) or _owner_exiting(mm):  # MUTANT: task_lock under mm_list lock
        rt.trace("skip", mm=mm, lruvec=walk.lruvec, reason="oom_victim")
        return True

    if not mmget_not_zero(mm):
        rt.trace("skip", mm=mm, lruvec=walk.lruvec, reason="mm_users==0")
        return True

    node_clear(pgdat.node_id, mm.lru_gen.nodes)

    return False
