"""Mutant: walk_pte_range() ages every young page of the table, also those charged to another
memcg or on another node: a walker of the new memcg promotes pages it does not own ("pages
mapped from a different memcg than the reclaimed one are considered effectively non-present",
the seed's review)

A one-line change to ``walk_pte_range()`` from ``mmlist/model/aging.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = ("walk_pte_range() ignores the page's memcg and node: misplaced pages are aged "
               "by the walker of another lruvec")
EXPECTED_CHECK = 'page_walk'
SCENARIO = 'two-nodes'
NEEDS_INTERLEAVING = False

PATCHES = {
    'walk_pte_range': [
        ('    hit = young_now & mine\n',
         '    hit = young_now & present  # MUTANT: was young_now & mine\n'),
    ],
}
