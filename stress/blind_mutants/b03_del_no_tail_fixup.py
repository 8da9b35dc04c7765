DESCRIPTION = ("lru_gen_del_mm() no longer moves mm_state->tail off the mm it unlinks: tail is "
               "left dangling on a list_del_init'ed node (protocol.md 1: 'Every place that unlinks "
               "an mm must move them off it first'; 4: head and tail are the sentinel or a node on "
               "the list).")
PATCHES = {
    "lru_gen_del_mm": [
        ("            lv.mm_state.tail = lv.mm_state.tail.next\n", "            pass\n"),
    ],
}
