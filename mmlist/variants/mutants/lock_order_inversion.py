"""Mutant: should_skip_mm() looks at the owner under task_lock() while holding the mm_list lock
(mm_list lock -> task_lock, against fork/exec/migration's task_lock -> mm_list lock)

A one-line change to ``should_skip_mm()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = "should_skip_mm() looks at the owner under task_lock() while holding the mm_list lock (mm_list lock -> task_lock, against fork/exec/migration's task_lock -> mm_list lock)"
EXPECTED_CHECK = 'lock_order'
SCENARIO = 'exec'
NEEDS_INTERLEAVING = False

PATCHES = {
    'should_skip_mm': [
        ('    if mm_is_oom_victim(mm):',
         '    owner = mm.owner  # MUTANT: look at the owner under its task_lock, mm_list lock held\n    if owner is not None:\n        memcg_.task_lock(owner)\n        memcg_.task_unlock(owner)\n    if mm_is_oom_victim(mm):'),
    ],
}
