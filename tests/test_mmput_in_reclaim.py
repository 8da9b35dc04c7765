"""``mmput_in_reclaim``: the walker never runs ``__mmput()`` itself (seed: ``if (*iter)
mmput_async(*iter);``). The blind mutant b20 (``mmput()`` instead of ``mmput_async()`` in
``get_next_mm()``) is caught in the scenarios where a walker may hold the last reference; the
faithful model never trips it. Budgets in executions, seed fixed."""
from __future__ import annotations

from pathlib import Path

import pytest

from mmlist import sched
from mmlist.variants import load_variant

B20 = Path(__file__).resolve().parent.parent / "stress" / "blind_mutants" / "b20_gnm_mmput_sync.py"


def _checks(scenario, variant=None):
    r = sched.explore(scenario, strategy="portfolio", max_executions=150, shrink=False,
                      variant=variant)
    return {(f.violation.check, f.violation.function): f.violation for f in r.failures}


@pytest.mark.parametrize("scenario", ["exit", "exit-rmdir"])
def test_a_synchronous_mmput_in_the_walker_is_caught(scenario):
    found = _checks(scenario, load_variant(B20))
    v = found[("mmput_in_reclaim", "get_next_mm")]
    assert "ran synchronously in get_next_mm()" in v.message and "mmput_async()" in v.message
    assert ("mmput_in_reclaim", "get_next_mm") not in _checks(scenario)
