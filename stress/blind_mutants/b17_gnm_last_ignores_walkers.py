DESCRIPTION = ("get_next_mm() forgets 'if (mm_state->nr_walkers) last = false': a walker that "
               "runs out of mms while another walker still holds one of the same iteration also "
               "returns last, so two walkers call inc_max_seq() for one iteration (protocol.md 4: "
               "'exactly one walker per iteration gets last == true'; try_to_inc_max_seq's "
               "VM_BUG_ON(max_seq != READ_ONCE(lrugen->max_seq))).")
PATCHES = {
    "get_next_mm": [
        ("    if mm_state.nr_walkers:\n", "    if False:\n"),
    ],
}
