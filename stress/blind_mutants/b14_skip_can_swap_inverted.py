DESCRIPTION = ("should_skip_mm() starts the size loop at type = walk->can_swap instead of "
               "!walk->can_swap: when swap is allowed only file pages are counted, so an mm full "
               "of anon pages is skipped as 'small' (< MIN_LRU_BATCH), and never walked (seed: "
               "'for (type = !walk->can_swap; type < ANON_AND_FILE; type++)').")
PATCHES = {
    "should_skip_mm": [
        ("range(int(not walk.can_swap), ANON_AND_FILE)", "range(int(walk.can_swap), ANON_AND_FILE)"),
    ],
}
