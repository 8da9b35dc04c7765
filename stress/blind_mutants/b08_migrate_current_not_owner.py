DESCRIPTION = ("lru_gen_migrate_mm() compares mm->lru_gen.memcg with mem_cgroup_from_task(current) "
               "instead of mem_cgroup_from_task(mm->owner): from mm_update_next_owner() current is "
               "the exiting old owner, still in the old memcg, so the mm does not follow its new "
               "owner into the new memcg (commit message: 'an mm_struct follows its owner task to "
               "the new memcg').")
PATCHES = {
    "lru_gen_migrate_mm": [
        ("    memcg = memcg_.mem_cgroup_from_task(mm.owner)\n",
         "    memcg = memcg_.mem_cgroup_from_task(current())\n"),
    ],
}
