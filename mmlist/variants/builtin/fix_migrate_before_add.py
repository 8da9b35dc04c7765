"""Fix: "migration can happen before addition".

A forked child becomes visible to a cgroup migration in ``cgroup_post_fork()``, before
``kernel_clone()`` calls ``lru_gen_add_mm()``; the seed's ``lru_gen_migrate_mm()`` then trips
``VM_BUG_ON_MM(!mm->lru_gen.memcg)``. Upstream (the merged MGLRU, mm/vmscan.c) returns early:
the later ``lru_gen_add_mm()`` reads the owner's new memcg and adds the mm there.
"""
from mmlist.model.mm_list import *  # noqa: F401,F403  (the names the copied code uses)
from mmlist.model.mm_list import rt  # noqa: F401

DESCRIPTION = ("lru_gen_migrate_mm() returns early when !mm->lru_gen.memcg: migration can "
               "happen before addition (as upstream later did)")


def lru_gen_migrate_mm(mm: mm_struct) -> None:
    """``lru_gen_migrate_mm()`` (CONFIG_MEMCG): follow the owner to its new memcg."""
    if not rt.world().config.CONFIG_MEMCG:
        return
    memcg: mem_cgroup | None

    lockdep_assert_held(mm.owner.alloc_lock, "&mm->owner->alloc_lock")

    if memcg_.mem_cgroup_disabled():
        return

    # migration can happen before addition
    if not mm.lru_gen.memcg:
        return

    rcu_read_lock()
    memcg = memcg_.mem_cgroup_from_task(mm.owner)
    rcu_read_unlock()
    if memcg is mm.lru_gen.memcg:
        return

    VM_BUG_ON_MM(list_empty(mm.lru_gen.list), mm, "list_empty(&mm->lru_gen.list)")

    rt.trace("migrate", mm=mm, src=mm.lru_gen.memcg, dst=memcg)
    lru_gen_del_mm(mm)
    lru_gen_add_mm(mm)
