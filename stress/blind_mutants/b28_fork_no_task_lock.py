DESCRIPTION = ("kernel_clone() calls lru_gen_add_mm(p->mm) without task_lock(p): a cgroup "
               "migration of the (already visible) child runs mem_cgroup_attach -> "
               "lru_gen_migrate_mm concurrently with the add, e.g. between the add setting "
               "mm->lru_gen.memcg and its list_add_tail, or re-adding the mm (seed: '/* lock the "
               "task to synchronize with memcg migration */').")
PATCHES = {
    "kernel_clone": [
        ("        task_lock(p)\n", ""),
        ("        task_unlock(p)\n", ""),
    ],
}
