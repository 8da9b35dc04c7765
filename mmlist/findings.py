"""The findings on the faithful model, as recorded in docs/findings.md.

``hunt`` marks a violation that matches one of these as known, so a kernel developer checking
their own variant can tell new violations from the seed's known ones.
"""
from __future__ import annotations

from typing import Any

#: id -> (check, function, condition or None for any, one-line summary)
KNOWN: dict[str, tuple[str, str | None, str | None, str]] = {
    "F1": ("VM_BUG_ON", "get_next_mm", "walk->max_seq > mm_state->seq + 1",
           "no hardware accessed bit: inc_max_seq without a walk leaves mm_state->seq behind"),
    "F2": ("VM_BUG_ON", "try_to_inc_max_seq", "max_seq != READ_ONCE(lrugen->max_seq)",
           "no hardware accessed bit: another caller's walk-less inc_max_seq races the last "
           "walker"),
    "F3": ("VM_BUG_ON_MM", "lru_gen_migrate_mm", "!mm->lru_gen.memcg",
           "a fork child is migrated between cgroup_post_fork() and lru_gen_add_mm()"),
    "F4": ("sleep_in_atomic", None, None,
           "PREEMPT_RT: exec_mmap() takes the mm_list spinlock (a sleeping lock) with IRQs off"),
}


def match_known(violation: Any) -> str | None:
    """The id of the known finding ``violation`` matches, or None."""
    for fid, (check, function, condition, _) in KNOWN.items():
        if violation.check != check:
            continue
        if function is not None and violation.function != function:
            continue
        if condition is not None and violation.condition != condition:
            continue
        return fid
    return None
