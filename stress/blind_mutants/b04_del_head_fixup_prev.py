DESCRIPTION = ("lru_gen_del_mm() moves mm_state->head to head->prev instead of head->next when the "
               "deleted mm is the next one to hand out: head steps back onto an mm already handed "
               "out in this iteration (duplicate hand-out) or onto the sentinel (iteration ends "
               "early, seq bumped, remaining mms never walked). Breaks 'get_next_mm hands each mm "
               "to at most one walker, at most once' and 'an mm that stays on the list ... is "
               "handed to some walker'.")
PATCHES = {
    "lru_gen_del_mm": [
        ("        lv.mm_state.head = lv.mm_state.head.next\n",
         "        lv.mm_state.head = lv.mm_state.head.prev\n"),
    ],
}
