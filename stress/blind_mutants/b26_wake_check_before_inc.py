DESCRIPTION = ("try_to_inc_max_seq(): the last walker samples wq_has_sleeper() before "
               "inc_max_seq() instead of after: a walker that queues itself and tests "
               "'max_seq < READ_ONCE(lrugen->max_seq)' between the sample and the increment "
               "sleeps forever (lost wake-up; seed/v6 comment 'either this sees any waiters or "
               "they will see updated max_seq'; protocol.md 4: no walker waits forever).")
PATCHES = {
    "try_to_inc_max_seq": [
        ("    # either this sees any waiters or they will see updated max_seq\n"
         "    if wq_has_sleeper(lv.mm_state.wait):\n",
         "    if sleepers:\n"),
        ("    VM_BUG_ON(max_seq != READ_ONCE(lrugen, \"max_seq\"), \"max_seq != READ_ONCE(lrugen->max_seq)\")\n",
         "    VM_BUG_ON(max_seq != READ_ONCE(lrugen, \"max_seq\"), \"max_seq != READ_ONCE(lrugen->max_seq)\")\n"
         "    sleepers = wq_has_sleeper(lv.mm_state.wait)\n"),
    ],
}
