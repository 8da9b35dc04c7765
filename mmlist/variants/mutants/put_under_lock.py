"""Mutant: get_next_mm() drops the previous mm's reference under the mm_list lock

A one-line change to ``get_next_mm()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = "get_next_mm() drops the previous mm's reference under the mm_list lock"
EXPECTED_CHECK = 'put_under_lock'
SCENARIO = 'exit'
NEEDS_INTERLEAVING = True

PATCHES = {
    'get_next_mm': [
        ('        mmput_async(iter[0])',
         '        pass  # MUTANT: mmput_async(*iter) moved under the lock'),
        ('    spin_lock(mm_list.lock)',
         '    spin_lock(mm_list.lock)\n    if iter[0] is not None:  # MUTANT: moved here\n        mmput_async(iter[0])'),
    ],
}
