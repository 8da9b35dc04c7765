DESCRIPTION = ("lru_gen_free_memcg() bitmap_free()s both Bloom filters but leaves "
               "lruvec->mm_state.filters[i] pointing at the freed bitmaps (seed: "
               "'lruvec->mm_state.filters[i] = NULL'): any later reader of the filter, or a "
               "second free, touches freed memory.")
PATCHES = {
    "lru_gen_free_memcg": [
        ("            lv.mm_state.filters[i] = None\n", "            pass\n"),
    ],
}
