"""Mutant: __mmput() drops mm_count (mmdrop) before lru_gen_del_mm(): the mm_struct is freed while
still on its list

A one-line change to ``__mmput()`` from ``mmlist/model/fork.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = '__mmput() drops mm_count (mmdrop) before lru_gen_del_mm(): the mm_struct is freed while still on its list'
EXPECTED_CHECK = 'mm_freed_on_list'
SCENARIO = 'exec'
NEEDS_INTERLEAVING = False

PATCHES = {
    '__mmput': [
        ('    mm_list.lru_gen_del_mm(mm)\n    mmdrop(mm)',
         '    mmdrop(mm)  # MUTANT: swapped with lru_gen_del_mm(mm)\n    mm_list.lru_gen_del_mm(mm)'),
    ],
}
