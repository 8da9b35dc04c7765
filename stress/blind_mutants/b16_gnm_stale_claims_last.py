DESCRIPTION = ("get_next_mm() case 1 (a walker starting with a stale max_seq, "
               "walk->max_seq <= READ_ONCE(mm_state->seq)) returns true instead of false: the "
               "stale walker believes it is the last walker of an iteration it never joined and "
               "calls inc_max_seq() too (protocol.md 4: 'exactly one walker per iteration gets "
               "last == true, and max_seq goes up by one per iteration'). Needs a walker to read "
               "max_seq before another finishes the iteration.")
PATCHES = {
    "get_next_mm": [
        ("mm=None, last=False, first=False, case=\"stale\")", "mm=None, last=True, first=False, case=\"stale\")"),
        ("        return False\n", "        return True\n"),
    ],
}
