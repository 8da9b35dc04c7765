DESCRIPTION = ("exec_mmap() calls lru_gen_use_mm(mm) right after tsk->mm = mm, before "
               "lru_gen_add_mm(mm): the seed's VM_WARN_ON(list_empty(&mm->lru_gen.list)) fires on "
               "every exec, with no migration anywhere (the seed says the warning is 'unlikely but "
               "not a bug when racing with lru_gen_migrate_mm()' only; seed exec hunk order: add, "
               "activate_mm, use).")
PATCHES = {
    "exec_mmap": [
        ("    tsk.mm = mm\n    mm_list.lru_gen_add_mm(mm)\n",
         "    tsk.mm = mm\n    lru_gen_use_mm(mm)\n    mm_list.lru_gen_add_mm(mm)\n"),
        ("    activate_mm(active_mm, mm)\n    lru_gen_use_mm(mm)\n",
         "    activate_mm(active_mm, mm)\n"),
    ],
}
