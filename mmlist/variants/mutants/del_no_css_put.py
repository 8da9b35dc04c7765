"""Mutant: lru_gen_del_mm() unlinks the mm but forgets mem_cgroup_put(mm->lru_gen.memcg): the
css reference lru_gen_add_mm() took leaks, and an offlined memcg is never freed

A one-line change to ``lru_gen_del_mm()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = "lru_gen_del_mm() forgets mem_cgroup_put(mm->lru_gen.memcg): the css reference leaks and an offlined memcg is never freed"
EXPECTED_CHECK = 'offline_memcg_freed'
SCENARIO = 'rmdir'
NEEDS_INTERLEAVING = False

PATCHES = {
    'lru_gen_del_mm': [
        ('        memcg_.mem_cgroup_put(mm.lru_gen.memcg)',
         '        pass  # MUTANT: was mem_cgroup_put(mm->lru_gen.memcg)'),
    ],
}
