"""Mutant: inc_max_seq() creates two generations at once: max_seq + 2

A one-line change to ``inc_max_seq()`` from ``mmlist/model/aging.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = ("inc_max_seq(): smp_store_release(&lrugen->max_seq, lrugen->max_seq + 2): the "
               "last walker of an iteration moves max_seq two generations on")
EXPECTED_CHECK = 'max_seq'
SCENARIO = 'walkers'
NEEDS_INTERLEAVING = False

PATCHES = {
    'inc_max_seq': [
        ('    smp_store_release(lrugen, "max_seq", lrugen.max_seq + 1)',
         '    smp_store_release(lrugen, "max_seq", lrugen.max_seq + 2)  # MUTANT: was + 1'),
    ],
}
