DESCRIPTION = ("get_next_mm() case 2 clears the Bloom filter of walk->max_seq instead of "
               "walk->max_seq + 1: the first walker wipes the filter the current iteration is "
               "reading (test_bloom_filter(max_seq)) and the filter being filled for the next "
               "generation is never reset (seed comment: double buffering, flip to the other "
               "filter each generation; protocol.md 4: 'the Bloom filter for max_seq + 1 is "
               "cleared once, by the first walker of the iteration, before any walker sets a bit "
               "in it').")
PATCHES = {
    "get_next_mm": [
        ("        clear_bloom_filter(lv, walk.max_seq + 1)\n",
         "        clear_bloom_filter(lv, walk.max_seq)\n"),
    ],
}
