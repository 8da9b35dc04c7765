DESCRIPTION = ("lru_gen_add_mm() does list_add_tail() before spin_lock(&mm_list->lock): the fifo "
               "is modified unlocked while a walker in get_next_mm() follows head->next under the "
               "lock (protocol.md 1: list node protected by the mm_list lock; 4: fifo well formed "
               "whenever the lock is free).")
PATCHES = {
    "lru_gen_add_mm": [
        ("    list_add_tail(mm.lru_gen.list, mm_list.fifo)\n", ""),
        ("    spin_lock(mm_list.lock)\n",
         "    list_add_tail(mm.lru_gen.list, mm_list.fifo)\n    spin_lock(mm_list.lock)\n"),
    ],
}
