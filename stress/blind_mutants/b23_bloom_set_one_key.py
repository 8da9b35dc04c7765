DESCRIPTION = ("set_bloom_filter() sets only key[0] (the second hash's bit is forgotten): "
               "test_bloom_filter() requires both bits, so a PMD just added is reported absent "
               "(a false negative) and the next generation's walk skips it (seed: Bloom filter "
               "with k=2; protocol.md 5).")
PATCHES = {
    "set_bloom_filter": [
        ("        set_bit(key[1], filt)\n", "        pass\n"),
    ],
}
