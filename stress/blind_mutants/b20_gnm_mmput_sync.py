DESCRIPTION = ("get_next_mm() hands the previous mm back with mmput() instead of mmput_async(): "
               "when the walker holds the last reference, __mmput() (exit_mmap, "
               "lru_gen_del_mm, mmdrop) runs synchronously in the reclaim path, which may sleep "
               "and recurse into reclaim; the seed defers it (seed: 'if (*iter) "
               "mmput_async(*iter)').")
PATCHES = {
    "get_next_mm": [
        ("    from .fork import mmput_async\n", "    from .fork import mmput_async, mmput\n"),
        ("        mmput_async(iter[0])\n", "        mmput(iter[0])\n"),
    ],
}
