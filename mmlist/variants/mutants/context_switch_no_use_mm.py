"""Mutant: context_switch() lost the seed's hunk: lru_gen_use_mm(next->mm) is never called, so
an mm a CPU switched to since the last walk is skipped as unused once it is switched out

A one-line change to ``context_switch()`` from ``mmlist/model/sched.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = ("context_switch() without the seed's lru_gen_use_mm(next->mm) after "
               "switch_mm_irqs_off(): switching to a process never marks its mm used, so once "
               "it is switched out a walker skips it as unused although it ran")
EXPECTED_CHECK = 'usage_hint_skip'
SCENARIO = 'switch-two-memcgs'
NEEDS_INTERLEAVING = True

PATCHES = {
    'context_switch': [
        ('        lru_gen_use_mm(next.mm)\n',
         '        pass  # MUTANT: was lru_gen_use_mm(next->mm)\n'),
    ],
}
