"""Mutant: kswapd's aging gives up before joining the iteration, as if its walk could not be
allocated (it is preallocated and lent, so it always is): the generation kswapd asked for is
never created, and nothing else goes wrong (kswapd never waits, so no one hangs)

A one-line change to ``try_to_inc_max_seq()`` from ``mmlist/model/aging.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = ("try_to_inc_max_seq(): kswapd returns false as if alloc_mm_walk() had failed: "
               "the aging it asked for is lost")
EXPECTED_CHECK = 'aging_progress'
SCENARIO = 'kswapd-direct'
NEEDS_INTERLEAVING = False

PATCHES = {
    'try_to_inc_max_seq': [
        ('    if walk is None:\n',
         '    if walk is None or current_is_kswapd():  # MUTANT: was (walk is None)\n'),
    ],
}
