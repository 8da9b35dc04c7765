DESCRIPTION = ("get_next_mm() calls reset_mm_stats() only when last ('if (last)' instead of "
               "'if (*iter || last)'): a walker that is not the last one of its iteration never "
               "flushes walk->mm_stats into mm_state->stats, and its batched stats are lost with "
               "its walk (protocol.md 4: 'what walkers batch in walk->mm_stats all ends up in "
               "mm_state->stats').")
PATCHES = {
    "get_next_mm": [
        ("    if iter[0] is not None or last:\n", "    if last:\n"),
    ],
}
