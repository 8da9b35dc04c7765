DESCRIPTION = ("__mmput() calls mmdrop() before lru_gen_del_mm(): when the mm_count reference "
               "dropped is the last one (the owner already exited and the last mm_users "
               "reference was a walker's, put via mmput_async), the mm_struct is freed while still "
               "on the memcg's list and lru_gen_del_mm() then touches freed memory (seed hunk in "
               "kernel/fork.c: lru_gen_del_mm(mm); mmdrop(mm)).")
PATCHES = {
    "__mmput": [
        ("    mmdrop(mm)\n", ""),
        ("    mm_list.lru_gen_del_mm(mm)\n", "    mmdrop(mm)\n    mm_list.lru_gen_del_mm(mm)\n"),
    ],
}
