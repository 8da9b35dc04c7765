"""docs/findings.md: each finding reproduces on the faithful model, and its fix variant passes
the same exhaustive bounded search."""
from __future__ import annotations

import pytest

from mmlist import sched
from mmlist.findings import classify
from mmlist.scenarios import BUILTIN
from mmlist.variants import load_variant

CASES = [
    ("debugfs", {"F1", "F2"}, "fix-nowalk-seq"),
    ("fork-migrate", {"F3"}, "fix-migrate-before-add"),
    ("preempt-rt-exec", {"F4"}, "fix-exec-add-after-irq-enable"),
]


@pytest.mark.parametrize("scenario, known, fix", CASES, ids=[c[0] for c in CASES])
def test_finding_reproduces_on_the_faithful_model(scenario, known, fix):
    r = sched.explore(scenario, strategy="dfs", preemption_bound=1, shrink=False)
    config = BUILTIN[scenario].config
    labels = [classify(f.violation, config) for f in r.failures]
    assert known <= {lab.id for lab in labels}, r.summary()
    assert all(lab.kind == "known" for lab in labels), r.summary()   # nothing unexplained


@pytest.mark.parametrize("scenario, known, fix", CASES, ids=[c[2] for c in CASES])
def test_fix_variant_passes_the_bounded_search(scenario, known, fix):
    r = sched.explore(scenario, strategy="dfs", preemption_bound=1, variant=load_variant(fix),
                      shrink=False)
    assert r.completed and r.verdict == "passed" and not r.failures, r.summary()
