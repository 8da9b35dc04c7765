DESCRIPTION = ("inc_max_seq() drops its re-check 'if (max_seq != lrugen->max_seq) goto unlock': a "
               "caller with a stale max_seq (the walk-less aging path, or a racing last walker) "
               "creates a second generation for the same iteration, so max_seq runs ahead of "
               "mm_state->seq by more than one (protocol.md 3 inc_max_seq 'someone else got there "
               "first'; 4: max_seq - 1 <= seq <= max_seq, max_seq goes up by one per iteration).")
PATCHES = {
    "inc_max_seq": [
        ("    if max_seq != lrugen.max_seq:\n", "    if False:\n"),
    ],
}
