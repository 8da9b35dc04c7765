"""Mutant: lru_gen_add_mm() takes the memcg of current's mm instead of mm->owner's: an mm added by
another task (a migration, a new owner) lands on the wrong memcg's list

A one-line change to ``lru_gen_add_mm()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = "lru_gen_add_mm() uses get_mem_cgroup_from_mm(current->mm) instead of the mm's own owner: an mm added by another task lands on the wrong memcg's list"
EXPECTED_CHECK = 'ownership'
SCENARIO = 'migrate'
NEEDS_INTERLEAVING = False

PATCHES = {
    'lru_gen_add_mm': [
        ('    memcg = memcg_.get_mem_cgroup_from_mm(mm)',
         '    memcg = memcg_.get_mem_cgroup_from_mm(current().mm)  # MUTANT: was (mm)'),
    ],
}
