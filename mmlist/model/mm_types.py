"""``include/linux/mm_types.h``: the seed's inline helpers."""
from __future__ import annotations

from .. import runtime as rt
from ..kernel import (INIT_LIST_HEAD, VM_WARN_ON, cover, covering, current, list_empty,
                      nodes_clear, nodes_full, nodes_setall)
from .structs import PF_KTHREAD, mm_struct


def lru_gen_init_mm(mm: mm_struct) -> None:
    """``lru_gen_init_mm()``: called from ``mm_init()`` on a still private mm."""
    INIT_LIST_HEAD(mm.lru_gen.list)
    if rt.world().config.CONFIG_MEMCG:
        mm.lru_gen.memcg = None
    nodes_clear(mm.lru_gen.nodes)


def lru_gen_use_mm(mm: mm_struct) -> None:
    """``lru_gen_use_mm()``: mark ``mm`` used on every node since the walkers last looked."""
    # unlikely but not a bug when racing with lru_gen_migrate_mm()
    VM_WARN_ON(list_empty(mm.lru_gen.list), "list_empty(&mm->lru_gen.list)")
    if covering() and mm.lru_gen.list.__dict__["_next"] is mm.lru_gen.list:
        cover("lru_gen_use_mm:off-list")        # raw read: what list_empty() just saw

    if not (current().flags & PF_KTHREAD) and not nodes_full(mm.lru_gen.nodes):
        cover("lru_gen_use_mm:set")
        nodes_setall(mm.lru_gen.nodes)
    elif current().flags & PF_KTHREAD:
        cover("lru_gen_use_mm:kthread")
    else:
        cover("lru_gen_use_mm:already-full")
