"""Mutant: lru_gen_migrate_mm() holds the old list's lock around lru_gen_del_mm(), which takes it
again: a self-deadlock

A copy of ``lru_gen_migrate_mm()`` from ``mmlist/model/mm_list.py`` with the change marked
``# MUTANT:``.
"""
from mmlist.model.mm_list import *  # noqa: F401,F403  (the names the copied code uses)
from mmlist.model.mm_list import rt  # noqa: F401

DESCRIPTION = "lru_gen_migrate_mm() holds the old list's lock around lru_gen_del_mm(), which takes it again: a self-deadlock"
EXPECTED_CHECK = 'lock_recursion'
SCENARIO = 'migrate'
NEEDS_INTERLEAVING = False


def lru_gen_migrate_mm(mm: mm_struct) -> None:
    """``lru_gen_migrate_mm()`` (CONFIG_MEMCG): follow the owner to its new memcg."""
    if not rt.world().config.CONFIG_MEMCG:
        return
    memcg: mem_cgroup | None

    lockdep_assert_held(mm.owner.alloc_lock, "&mm->owner->alloc_lock")

    if memcg_.mem_cgroup_disabled():
        return

    rcu_read_lock()
    memcg = memcg_.mem_cgroup_from_task(mm.owner)
    rcu_read_unlock()
    if memcg is mm.lru_gen.memcg:
        return

    VM_BUG_ON_MM(not mm.lru_gen.memcg, mm, "!mm->lru_gen.memcg")
    VM_BUG_ON_MM(list_empty(mm.lru_gen.list), mm, "list_empty(&mm->lru_gen.list)")

    rt.trace("migrate", mm=mm, src=mm.lru_gen.memcg, dst=memcg)
    spin_lock(get_mm_list(mm.lru_gen.memcg).lock)  # MUTANT: keep walkers off the old list
    lru_gen_del_mm(mm)
    lru_gen_add_mm(mm)
