DESCRIPTION = ("get_next_mm() peeks at the chosen mm's owner under task_lock(mm->owner) while "
               "holding the mm_list lock: lock order mm_list lock -> task_lock, the inverse of "
               "kernel_clone/mem_cgroup_attach/mm_update_next_owner (task_lock -> mm_list lock in "
               "lru_gen_add_mm/lru_gen_del_mm): ABBA deadlock with a migration (protocol.md 4: "
               "'the lock order task_lock -> mm_list lock are respected').")
PATCHES = {
    "get_next_mm": [
        ("            if should_skip_mm(mm, walk):\n                mm = None\n",
         "            if should_skip_mm(mm, walk):\n                mm = None\n"
         "            else:\n"
         "                owner = mm.owner\n"
         "                if owner is not None:\n"
         "                    memcg_.task_lock(owner)     # peek at the owner\n"
         "                    memcg_.task_unlock(owner)\n"),
    ],
}
