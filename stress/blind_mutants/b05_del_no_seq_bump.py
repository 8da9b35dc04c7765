DESCRIPTION = ("lru_gen_del_mm() moves head past the deleted mm onto the sentinel but forgets "
               "WRITE_ONCE(mm_state->seq, seq + 1): the iteration that just ended is never counted "
               "as done, the next walker with the same max_seq sees head == &fifo and starts the "
               "same iteration again (second hand-out of every mm, clear of a live Bloom filter) "
               "and the last walker never gets last (seq/max_seq relation, 'exactly one last per "
               "iteration', 'each mm at most once per iteration').")
PATCHES = {
    "lru_gen_del_mm": [
        ("            WRITE_ONCE(lv.mm_state, \"seq\", lv.mm_state.seq + 1)\n", "            pass\n"),
        ("            rt.trace(\"iter_end\", lruvec=lv, seq=lv.mm_state.seq, by=\"lru_gen_del_mm\")\n",
         "            pass\n"),
    ],
}
