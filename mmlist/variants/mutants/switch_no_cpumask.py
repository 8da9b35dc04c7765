"""Mutant: context_switch() to a user task forgets switch_mm_irqs_off(): the CPU never joins the
next mm's mm_cpumask, so should_skip_mm() sees a running mm as idle (the usage checks take the
mask as given; the switch's own check does not)

A one-line change to ``context_switch()`` from ``mmlist/model/sched.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = ("context_switch(): switch_mm_irqs_off(prev->active_mm, next->mm) dropped: "
               "mm_cpumask never names the CPU that runs the mm")
EXPECTED_CHECK = 'switch_state'
SCENARIO = 'lazy-tlb'
NEEDS_INTERLEAVING = False

PATCHES = {
    'context_switch': [
        ('        switch_mm_irqs_off(prev.active_mm, next.mm, next, rq.cpu)\n',
         '        pass  # MUTANT: no switch_mm_irqs_off(prev.active_mm, next.mm, next, rq.cpu)\n'),
    ],
}
