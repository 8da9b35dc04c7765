"""``mmlist.stateful.ConcurrentMMListMachine``: batches on real threads inside the state machine,
every scheduling decision drawn from Hypothesis on the test's thread. It passes on the faithful
model, and on a mutant that only an interleaving shows it fails with an example in which
Hypothesis shrank the operations and the interleaving together."""
from __future__ import annotations

import re

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from mmlist.stateful import ConcurrentMMListMachine, machine_for
from test_stateful import FAST as SEQUENTIAL, rule_calls as calls

FAST = settings(SEQUENTIAL, max_examples=25, stateful_step_count=12)
HUNT = settings(FAST, max_examples=200)


def test_the_concurrent_machine_passes_on_the_faithful_model(monkeypatch) -> None:
    """...and really runs batches, with preemptions: counted, so that a precondition that
    never holds cannot make this pass by running none."""
    from mmlist import interleave
    seen = {"batches": 0, "preemptions": 0, "threads": 0}
    run_batch = interleave.run_batch

    def counting(*args, **kwargs):
        ex = run_batch(*args, **kwargs)
        seen["batches"] += 1
        seen["preemptions"] += ex.preemptions
        seen["threads"] = max(seen["threads"], len(ex.threads))
        return ex
    monkeypatch.setattr(interleave, "run_batch", counting)
    run_state_machine_as_test(ConcurrentMMListMachine,
                              settings=settings(FAST, max_examples=100, stateful_step_count=25))
    assert seen["batches"] >= 15 and seen["preemptions"] >= 5 and seen["threads"] == 3, seen


@pytest.mark.parametrize("mutant", ["add-no-lock", "reclaim-never-waits"])
def test_an_interleaving_mutant_shrinks_to_a_few_operations_and_preemptions(mutant: str) -> None:
    """The mutant needs two threads at once (NEEDS_INTERLEAVING): the sequential machine
    cannot show it. The shrunk failure is a short program whose last step is a batch, with at
    most two preemptions, printed as code (rule calls and the batch's draws)."""
    with pytest.raises(AssertionError) as info:
        run_state_machine_as_test(machine_for(mutant, concurrent=True), settings=HUNT)
    text = str(info.value)
    assert text.startswith("a concurrent batch: "), text
    m = re.search(r"(\d+) preemption\(s\)", text)
    assert m and int(m.group(1)) <= 2, text
    notes = getattr(info.value, "__notes__", [])
    steps = calls(notes)
    assert steps and steps[-1].startswith("state.concurrently("), notes
    assert len(steps) <= 6, notes
    assert any(re.match(r"Draw \d+", n) for n in notes), notes      # the interleaving, printed
