DESCRIPTION = ("lru_gen_add_mm() forgets to pull mm_state->tail back onto the new mm when tail is "
               "the sentinel: an mm added after the last iteration ended is not full-scanned "
               "(seed: 'full scan for those added after the last iteration'; mmzone.h: tail is "
               "'where the last iteration ends'). A freshly forked child (nodes cleared, "
               "cpumask empty) is then skipped as 'unused' by should_skip_mm.")
PATCHES = {
    "lru_gen_add_mm": [
        ("            lv.mm_state.tail = lv.mm_state.tail.prev\n",
         "            pass  # tail fix-up forgotten\n"),
    ],
}
