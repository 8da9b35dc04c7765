"""Fix: "migration can happen before addition".

A forked child becomes visible to a cgroup migration in ``cgroup_post_fork()``, before
``kernel_clone()`` calls ``lru_gen_add_mm()``; the seed's ``lru_gen_migrate_mm()`` then trips
``VM_BUG_ON_MM(!mm->lru_gen.memcg)``. Upstream (the merged MGLRU, mm/vmscan.c) returns early:
the later ``lru_gen_add_mm()`` reads the owner's new memcg and adds the mm there.
"""
DESCRIPTION = ("lru_gen_migrate_mm() returns early when !mm->lru_gen.memcg: migration can "
               "happen before addition (as upstream later did)")

PATCHES = {
    "lru_gen_migrate_mm": [
        ("    rcu_read_lock()\n",
         "    # migration can happen before addition\n"
         "    if not mm.lru_gen.memcg:\n"
         "        return\n"
         "\n"
         "    rcu_read_lock()\n"),
        ('    VM_BUG_ON_MM(not mm.lru_gen.memcg, mm, "!mm->lru_gen.memcg")\n', ""),
    ],
}
