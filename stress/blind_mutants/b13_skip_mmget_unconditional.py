DESCRIPTION = ("should_skip_mm() pins the mm with mmget() (atomic_inc) instead of "
               "mmget_not_zero(): an mm whose mm_users already hit zero (its __mmput pending or "
               "running, lru_gen_del_mm not yet done) is resurrected and walked after exit_mmap(), "
               "and the walker's mmput_async() runs __mmput a second time (protocol.md 4: "
               "'__mmput never runs on an mm a walker holds'; seed: 'if (!mmget_not_zero(mm))').")
PATCHES = {
    "should_skip_mm": [
        ("    from .fork import mmget_not_zero\n", "    from .fork import mmget_not_zero, mmget\n"),
        ("    if not mmget_not_zero(mm):\n", "    mmget(mm)\n    if False:\n"),
    ],
}
