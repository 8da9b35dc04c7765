"""Mutant: lru_gen_add_mm() leaves mm_state->tail on the sentinel: new mms lose their full scan

A copy of ``lru_gen_add_mm()`` from ``mmlist/model/mm_list.py`` with the change marked
``# MUTANT:``.
"""
from mmlist.model.mm_list import *  # noqa: F401,F403  (the names the copied code uses)
from mmlist.model.mm_list import rt  # noqa: F401

DESCRIPTION = 'lru_gen_add_mm() leaves mm_state->tail on the sentinel: new mms lose their full scan'
EXPECTED_CHECK = 'full_scan_new_mm'
SCENARIO = 'walkers'
NEEDS_INTERLEAVING = False


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

        if lv.mm_state.tail is mm_list.fifo:
            pass  # MUTANT: was lv.mm_state.tail = lv.mm_state.tail.prev

    rt.trace("add", mm=mm, memcg=memcg)
    spin_unlock(mm_list.lock)
