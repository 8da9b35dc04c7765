"""Mutant: should_skip_mm() takes an mm without clearing this node's bit: the mm stays marked
used, and a process sleeping since is walked at every iteration

A one-line change to ``should_skip_mm()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = ("should_skip_mm() forgets node_clear(pgdat->node_id, mm->lru_gen.nodes) when it "
               "takes the mm: the usage hint never goes back to unused, so a sleeping process "
               "is walked at every iteration")
EXPECTED_CHECK = 'usage_hint_walk'
SCENARIO = 'walkers'
NEEDS_INTERLEAVING = False

PATCHES = {
    'should_skip_mm': [
        ('    node_clear(pgdat.node_id, mm.lru_gen.nodes)\n',
         '    pass  # MUTANT: was node_clear(pgdat->node_id, mm->lru_gen.nodes)\n'),
    ],
}
