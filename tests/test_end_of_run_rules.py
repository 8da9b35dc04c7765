"""End-of-run rules. ``rcu_balance``: a thread that ends inside an RCU read-side section (a missing
``rcu_read_unlock()``), or after more unlocks than locks, is reported; the faithful model never
is. The mutant drops ``lru_gen_migrate_mm()``'s ``rcu_read_unlock()`` (issue 9: RCU balance)."""
from __future__ import annotations

import textwrap

from mmlist import sched
from mmlist.variants import load_variant

NO_RCU_UNLOCK = textwrap.dedent('''\
    """Mutant: lru_gen_migrate_mm() returns inside rcu_read_lock()"""

    DESCRIPTION = "lru_gen_migrate_mm(): rcu_read_unlock() dropped"
    EXPECTED_CHECK = "rcu_balance"
    SCENARIO = "migrate"
    NEEDS_INTERLEAVING = False

    PATCHES = {
        "lru_gen_migrate_mm": [
            ("    rcu_read_unlock()\\n", "    pass  # MUTANT: no rcu_read_unlock()\\n"),
        ],
    }
    ''')


def _checks(variant=None):
    r = sched.explore("migrate", strategy="random", max_executions=20, shrink=False,
                      variant=variant)
    return {f.violation.check: f.violation for f in r.failures}


def test_a_thread_ending_inside_rcu_read_lock_is_reported(tmp_path):
    path = tmp_path / "no_rcu_unlock.py"
    path.write_text(NO_RCU_UNLOCK)
    found = _checks(load_variant(path))
    v = found["rcu_balance"]
    assert "ends inside 1 rcu_read_lock() section(s) never unlocked" in v.message
    assert "rcu_balance" not in _checks()


CLONE_NO_ADD = textwrap.dedent('''\
    """Mutant: kernel_clone() never adds the child's mm to a list"""

    DESCRIPTION = "kernel_clone(): lru_gen_add_mm(p->mm) dropped"
    EXPECTED_CHECK = "mm_on_list"
    SCENARIO = "fork"
    NEEDS_INTERLEAVING = False

    PATCHES = {
        "kernel_clone": [
            ("        mm_list.lru_gen_add_mm(p.mm)\\n", "        pass  # MUTANT: no lru_gen_add_mm\\n"),
        ],
    }
    ''')


def test_a_live_user_mm_on_no_list_is_reported(tmp_path):
    """``mm_on_list`` (issue 9: every live user mm is on a list), in the same file as its
    sibling end-of-run rule."""
    path = tmp_path / "clone_no_add.py"
    path.write_text(CLONE_NO_ADD)
    r = sched.explore("fork", strategy="random", max_executions=10, shrink=False,
                      variant=load_variant(path))
    msgs = [f.violation.message for f in r.failures if f.violation.check == "mm_on_list"]
    assert msgs and "is on no mm_struct list at the end" in msgs[0], r.summary()
    clean = sched.explore("fork", strategy="random", max_executions=10, shrink=False)
    assert not [f for f in clean.failures if f.violation.check == "mm_on_list"]
