DESCRIPTION = ("get_next_mm() clears the next generation's Bloom filter on every hand-out "
               "('if (mm)' instead of 'if (mm && first)'): PMDs that earlier walkers of the same "
               "iteration (and lru_gen_look_around) already added are wiped (protocol.md 4: the "
               "filter for max_seq + 1 is cleared once, by the first walker, before any set).")
PATCHES = {
    "get_next_mm": [
        ("    if mm is not None and first:\n", "    if mm is not None:\n"),
    ],
}
