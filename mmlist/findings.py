"""The findings on the faithful model, as recorded in docs/findings.md.

``hunt`` marks a violation that matches one of these as known, so a kernel developer checking
their own variant can tell new violations from the seed's known ones.
"""
from __future__ import annotations

from typing import Any

#: id -> one-line summary
KNOWN: dict[str, str] = {
    "F1": "no hardware accessed bit: inc_max_seq() without a walk leaves mm_state->seq behind "
          "max_seq",
    "F2": "no hardware accessed bit: another caller's walk-less inc_max_seq() races the last "
          "walker's VM_BUG_ON(max_seq != READ_ONCE(lrugen->max_seq))",
    "F3": "a fork child is migrated between cgroup_post_fork() and lru_gen_add_mm()",
    "F4": "PREEMPT_RT: exec_mmap() takes the mm_list spinlock (a sleeping lock) with IRQs off",
}

#: (id, check, function or None for any, condition or None for any): how each shows up.
SIGNATURES: list[tuple[str, str, str | None, str | None]] = [
    ("F1", "VM_BUG_ON", "get_next_mm", "walk->max_seq > mm_state->seq + 1"),
    ("F1", "seq", None, "max_seq - 1 <= seq <= max_seq"),
    ("F2", "VM_BUG_ON", "try_to_inc_max_seq", "max_seq != READ_ONCE(lrugen->max_seq)"),
    ("F3", "VM_BUG_ON_MM", "lru_gen_migrate_mm", "!mm->lru_gen.memcg"),
    ("F4", "sleep_in_atomic", "lru_gen_add_mm", None),
]


def match_known(violation: Any) -> str | None:
    """The id of the known finding ``violation`` matches, or None."""
    for fid, check, function, condition in SIGNATURES:
        if violation.check != check:
            continue
        if function is not None and violation.function != function:
            continue
        if condition is not None and violation.condition != condition:
            continue
        return fid
    return None
