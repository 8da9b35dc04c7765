"""Mutant: lru_gen_migrate_mm() holds the old list's lock around lru_gen_del_mm(), which takes it
again: a self-deadlock

A one-line change to ``lru_gen_migrate_mm()`` from ``mmlist/model/mm_list.py``,
applied to the model's current source (the change is marked ``# MUTANT:``).
"""

DESCRIPTION = "lru_gen_migrate_mm() holds the old list's lock around lru_gen_del_mm(), which takes it again: a self-deadlock"
EXPECTED_CHECK = 'lock_recursion'
SCENARIO = 'migrate'
NEEDS_INTERLEAVING = False

PATCHES = {
    'lru_gen_migrate_mm': [
        ('    rt.trace("migrate", mm=mm, src=mm.lru_gen.memcg, dst=memcg)',
         '    rt.trace("migrate", mm=mm, src=mm.lru_gen.memcg, dst=memcg)\n    spin_lock(get_mm_list(mm.lru_gen.memcg).lock)  # MUTANT: keep walkers off the old list'),
    ],
}
