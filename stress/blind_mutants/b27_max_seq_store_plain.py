DESCRIPTION = ("inc_max_seq() updates lrugen->max_seq with a plain store instead of "
               "smp_store_release(): walkers read max_seq locklessly (READ_ONCE in "
               "try_to_inc_max_seq's wait condition and return value, get_nr_to_scan, "
               "lru_gen_look_around): a data race, and the preceding generation bookkeeping is "
               "no longer ordered before the new max_seq (v6 comment 'make sure preceding "
               "modifications appear').")
PATCHES = {
    "inc_max_seq": [
        ("    smp_store_release(lrugen, \"max_seq\", lrugen.max_seq + 1)\n",
         "    lrugen.max_seq = lrugen.max_seq + 1\n"),
    ],
}
