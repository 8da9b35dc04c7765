DESCRIPTION = ("set_bloom_filter() loads lruvec->mm_state.filters[gen] with a plain load "
               "instead of READ_ONCE(): it runs without the mm_list lock (walk_pmd_range, "
               "lru_gen_look_around) while clear_bloom_filter() publishes a new bitmap with "
               "WRITE_ONCE under the lock: a data race (protocol.md 1: filters[] read without the "
               "lock only with READ_ONCE).")
PATCHES = {
    "set_bloom_filter": [
        ("    filt = READ_ONCE(lv.mm_state.filters, gen)\n", "    filt = lv.mm_state.filters[gen]\n"),
    ],
}
