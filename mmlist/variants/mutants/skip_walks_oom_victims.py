"""Mutant: should_skip_mm() no longer skips an OOM victim: walkers take the mm the OOM killer is
tearing down and keep it busy (the seed: "if (mm_is_oom_victim(mm)) return true;")

A one-line change to ``should_skip_mm()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = "should_skip_mm(): the mm_is_oom_victim() test is gone: OOM victims are walked"
EXPECTED_CHECK = 'skip_oom'
SCENARIO = 'skips'
NEEDS_INTERLEAVING = True

PATCHES = {
    'should_skip_mm': [
        ('    if mm_is_oom_victim(mm):\n',
         '    if False:  # MUTANT: was mm_is_oom_victim(mm)\n'),
    ],
}
