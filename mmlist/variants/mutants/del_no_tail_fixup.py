"""Mutant: lru_gen_del_mm() forgets to move mm_state->tail off the mm it unlinks

A copy of ``lru_gen_del_mm()`` from ``mmlist/model/mm_list.py`` with the change marked
``# MUTANT:``.
"""
from mmlist.model.mm_list import *  # noqa: F401,F403  (the names the copied code uses)
from mmlist.model.mm_list import rt  # noqa: F401

DESCRIPTION = 'lru_gen_del_mm() forgets to move mm_state->tail off the mm it unlinks'
EXPECTED_CHECK = 'cursor'
SCENARIO = 'exit-new-owner'
NEEDS_INTERLEAVING = False


def lru_gen_del_mm(mm: mm_struct) -> None:
    """``lru_gen_del_mm()``: unlink ``mm``, first moving every cursor off it."""
    w = rt.world()
    memcg = None

    if list_empty(mm.lru_gen.list):
        return

    if w.config.CONFIG_MEMCG:
        memcg = mm.lru_gen.memcg
    mm_list = get_mm_list(memcg)

    spin_lock(mm_list.lock)

    for nid in w.for_each_node():
        lv = memcg_.get_lruvec(memcg, nid)

        if lv is None:
            continue

        if lv.mm_state.tail is mm.lru_gen.list:
            pass  # MUTANT: was lv.mm_state.tail = lv.mm_state.tail.next

        if lv.mm_state.head is not mm.lru_gen.list:
            continue

        lv.mm_state.head = lv.mm_state.head.next
        if lv.mm_state.head is mm_list.fifo:
            WRITE_ONCE(lv.mm_state, "seq", lv.mm_state.seq + 1)
            rt.trace("iter_end", lruvec=lv, seq=lv.mm_state.seq, by="lru_gen_del_mm")

    rt.trace("del", mm=mm, memcg=memcg)
    list_del_init(mm.lru_gen.list)

    spin_unlock(mm_list.lock)

    if w.config.CONFIG_MEMCG:
        memcg_.mem_cgroup_put(mm.lru_gen.memcg)
        mm.lru_gen.memcg = None
