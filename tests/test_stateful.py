"""``mmlist.stateful``: the public state machine passes on the faithful model (what the checks
report there is labelled by the findings registry, never skipped), fails with a short printed
example on mutants it should catch sequentially, and checks a variant given by its path."""
from __future__ import annotations

import re
import textwrap
import unittest
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from mmlist.stateful import MMListMachine, machine_for

#: explicit, profile-independent: deterministic and fast (no explain phase: it traces
#: coverage, which costs more than the search)
FAST = settings(max_examples=60, stateful_step_count=30, deadline=None, derandomize=True,
                database=None, phases=[p for p in Phase if p is not Phase.explain],
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
#: enough for the mutants below to be found (each in well under 20 s)
HUNT = settings(FAST, max_examples=300)


def rule_calls(notes: list[str]) -> list[str]:
    """The rule calls of Hypothesis's printed example (invariants and set-up left out)."""
    return [line for line in notes if line.startswith("state.")
            and not re.match(r"state\.(agrees_with_reference|structural_checks_pass|teardown)"
                             r"\(", line)]


def test_the_machine_passes_on_the_faithful_model() -> None:
    run_state_machine_as_test(MMListMachine, settings=settings(FAST, max_examples=150,
                                                               stateful_step_count=40))


@pytest.mark.parametrize("mutant, why", [
    ("del-no-head-fixup", "the model and the reference disagree"),
    ("no-seq-inc-at-end", "[NEW] seq"),
    ("add-no-tail-move", "the model and the reference disagree"),
])
def test_a_mutant_fails_with_a_short_printed_example(mutant: str, why: str) -> None:
    with pytest.raises(AssertionError) as info:
        run_state_machine_as_test(machine_for(mutant), settings=HUNT)
    assert why in str(info.value)
    notes = getattr(info.value, "__notes__", [])
    assert any(n.startswith("state = MMListMachine_") for n in notes), notes
    calls = rule_calls(notes)
    assert 1 <= len(calls) <= 8, notes              # shrunk: a handful of operations


def test_the_b3_duplicate_hand_out_is_excused_by_the_registry_not_skipped() -> None:
    """An mm migrated out of A and back during an iteration is handed out twice: the history
    check reports ``handout_once``, the registry labels it B3, and the reference excuses its
    own second hand-out by B3 too."""
    state = MMListMachine()
    try:
        a = state.spawn(memcg="A", nr_regions=1, small=False)
        state.spawn(memcg="A", nr_regions=1, small=False)
        state.start_round(k="w0", memcg="A", nid=0, full_scan=False)
        for step in (lambda: state.next_mm(k="w0", memcg="A", nid=0, full_scan=False),
                     lambda: state.migrate(task=a, memcg="B"),
                     lambda: state.migrate(task=a, memcg="A"),
                     lambda: state.next_mm(k="w0", memcg="A", nid=0, full_scan=False),
                     lambda: state.next_mm(k="w0", memcg="A", nid=0, full_scan=False)):
            step()
            state.structural_checks_pass()
            state.agrees_with_reference()
        assert "B3" in state.excused
        assert "B3" in {e.id for e in state.ref.excused}
        assert state.walkers["w0"].it[0].label == "mm#1"      # a, handed out again
    finally:
        state.teardown()


def test_resync_follows_a_change_the_reference_did_not_see() -> None:
    """What a concurrent rule does: run model code the reference does not follow, then
    ``resync()``."""
    state = MMListMachine()
    try:
        state.spawn(memcg="A", nr_regions=1, small=False)
        state.world.spawn("B", comm="behind-its-back", nr_regions=1)
        with pytest.raises(AssertionError, match="disagree"):
            state.agrees_with_reference()
        state.resync()
        state.agrees_with_reference()
        state.start_round(k="w1", memcg="B", nid=1, full_scan=False)
        state.finish_round(k="w1")
        state.agrees_with_reference()
    finally:
        state.teardown()


FIX_BY_PATH = '''
DESCRIPTION = "lru_gen_use_mm(): the same test, its two halves swapped"
PATCHES = {{
    "lru_gen_use_mm": [
        ({old!r}, {new!r}),
    ],
}}
'''

BROKEN_BY_PATH = '''
DESCRIPTION = "get_next_mm() never counts a walker in"
PATCHES = {
    "get_next_mm": [
        ("        mm_state.nr_walkers = mm_state.nr_walkers + 1", "        pass"),
    ],
}
'''


def test_a_variant_given_by_path_is_checked(tmp_path: Path) -> None:
    """The three-line use: ``machine_for(variant=path).TestCase``, run by unittest."""
    broken = tmp_path / "my_change.py"
    broken.write_text(textwrap.dedent(BROKEN_BY_PATH))
    TestMyChange = machine_for(variant=str(broken), settings=HUNT).TestCase
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(TestMyChange).run(result)
    assert not result.wasSuccessful()
    assert "nr_walkers" in str(result.failures + result.errors)


def test_a_harmless_variant_given_by_path_passes(tmp_path: Path) -> None:
    """A variant that rewrites ``lru_gen_use_mm()``'s test into an equivalent one passes: the
    machine judges behaviour, not text."""
    harmless = tmp_path / "same_thing.py"
    harmless.write_text(textwrap.dedent(FIX_BY_PATH.format(
        old="not (current().flags & PF_KTHREAD) and not nodes_full(mm.lru_gen.nodes)",
        new="not nodes_full(mm.lru_gen.nodes) and not (current().flags & PF_KTHREAD)")))
    run_state_machine_as_test(machine_for(variant=str(harmless)), settings=FAST)


def test_a_lock_taken_twice_is_reported_as_a_deadlock_not_hung() -> None:
    """One rule at a time, nobody could release the lock: the machine reports and stops
    instead of blocking forever (migrate-double-lock takes the old list's lock twice)."""
    state = machine_for("migrate-double-lock")()
    try:
        task = state.spawn(memcg="A", nr_regions=1, small=False)
        with pytest.raises(AssertionError, match=r"\[NEW\] deadlock in lru_gen_del_mm\(\)"):
            state.migrate(task=task, memcg="B")
        assert state.dead
        state.migrate(task=task, memcg="A")         # a stopped machine does nothing more
    finally:
        state.teardown()


def test_reports_name_the_model_function_not_the_machines_engine() -> None:
    """lockdep names the function taking the lock by skipping the engine's frames: the
    machine's engine must count as one (registry signatures match on the function)."""
    state = machine_for("lock-order-inversion")()
    try:
        parent = state.spawn(memcg="A", nr_regions=1, small=False)
        state.fork(parent=parent, clone_vm=False)  # task_lock -> mm_list lock
        with pytest.raises(AssertionError, match=r"\[NEW\] lock_order in _task_lock\(\)"):
            state.next_mm(k="w0", memcg="A", nid=0, full_scan=False)
    finally:
        state.teardown()


@pytest.mark.parametrize("fix", ["fix-nowalk-seq", "fix-migrate-before-add",
                                 "fix-exec-add-after-irq-enable"])
def test_the_builtin_fixes_pass(fix: str) -> None:
    run_state_machine_as_test(machine_for(fix), settings=FAST)
