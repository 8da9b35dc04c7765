"""Mutant: __mmput() drops mm_count (mmdrop) before lru_gen_del_mm(): the mm_struct is freed while
still on its list

A copy of ``__mmput()`` from ``mmlist/model/fork.py`` with the change marked
``# MUTANT:``.
"""
from mmlist.model.fork import *  # noqa: F401,F403  (the names the copied code uses)
from mmlist.model.fork import rt  # noqa: F401

DESCRIPTION = '__mmput() drops mm_count (mmdrop) before lru_gen_del_mm(): the mm_struct is freed while still on its list'
EXPECTED_CHECK = 'mm_freed_on_list'
SCENARIO = 'exec'
NEEDS_INTERLEAVING = False


def __mmput(mm: mm_struct) -> None:
    """``__mmput()``: the last user is gone."""
    VM_BUG_ON(atomic_read(mm.mm_users), "atomic_read(&mm->mm_users)")

    rt.trace("__mmput", mm=mm)
    exit_mmap(mm)
    mmdrop(mm)  # MUTANT: swapped with the next line
    mm_list.lru_gen_del_mm(mm)
