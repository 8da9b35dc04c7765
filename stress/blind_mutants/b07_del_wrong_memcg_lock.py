DESCRIPTION = ("lru_gen_del_mm() derives the memcg from the owner task (mem_cgroup_from_task("
               "mm->owner), falling back to mm->lru_gen.memcg only when there is no owner) instead "
               "of mm->lru_gen.memcg: during migration the owner is already in the destination "
               "memcg, so del takes the wrong mm_list lock, fixes up the wrong lruvecs' "
               "head/tail and unlinks the mm from the source list unlocked (protocol.md 1: list "
               "node and memcg protected by *that* memcg's mm_list lock; cursors moved off first).")
PATCHES = {
    "lru_gen_del_mm": [
        ("        memcg = mm.lru_gen.memcg\n",
         "        owner = mm.owner\n"
         "        memcg = (memcg_.mem_cgroup_from_task(owner) if owner is not None\n"
         "                 else mm.lru_gen.memcg)\n"),
    ],
}
