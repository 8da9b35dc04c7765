DESCRIPTION = ("lru_gen_del_mm() drops the mm's css reference (mem_cgroup_put) before taking the "
               "mm_list lock instead of after unlinking: the memcg, its mm_list and its lruvecs "
               "may be freed (css_free -> lru_gen_free_memcg) while del still locks the list and "
               "fixes up its lruvecs' head/tail: use-after-free (lifetimes: the mm's reference "
               "pins mm->lru_gen.memcg while the mm is on its list).")
PATCHES = {
    "lru_gen_del_mm": [
        ("        memcg_.mem_cgroup_put(mm.lru_gen.memcg)\n", ""),
        ("    spin_lock(mm_list.lock)\n",
         "    if w.config.CONFIG_MEMCG:\n"
         "        memcg_.mem_cgroup_put(memcg)\n"
         "    spin_lock(mm_list.lock)\n"),
    ],
}
