"""mmlist.interleave: Hypothesis draws every scheduling decision, on the test's own thread, and
shrinks the interleaving; the faithful model passes (registry-known findings aside), a mutant
fails with a small, replayable schedule."""
from __future__ import annotations

import threading
from typing import Any

import pytest
from hypothesis import Phase, given, settings, strategies as st
from hypothesis.errors import InvalidArgument

from mmlist import interleave, programs as P, sched
from mmlist.kernel.list import raw_iter
from mmlist.scenarios import get as get_scenario

#: deterministic and quick: CI never depends on luck or the clock
FAST = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                phases=[Phase.generate, Phase.shrink])


def _mms_on(world: Any, memcg: str) -> list[str]:
    return [n.container.label for n in raw_iter(world.memcg(memcg).mm_list.fifo)]


# --- (c) where the draws happen ---------------------------------------------------------------
def test_drawing_on_another_thread_is_refused() -> None:
    """Why the draws cannot happen on the model thread that reached the scheduling point:
    Hypothesis' build context is thread-local, and ``data.draw`` refuses to run without it."""
    errors: list[BaseException] = []

    @settings(max_examples=1, deadline=None, database=None)
    @given(st.data())
    def draw_elsewhere(data: Any) -> None:
        def other() -> None:
            try:
                data.draw(st.integers(0, 1))
            except BaseException as e:
                errors.append(e)
        t = threading.Thread(target=other)
        t.start()
        t.join()

    draw_elsewhere()
    assert errors and isinstance(errors[0], InvalidArgument), errors


class _Spy:
    """A ``data`` that records on which thread each draw happens, and delegates."""

    def __init__(self, data: Any):
        self.data = data
        self.threads: set[int] = set()

    def draw(self, strategy: Any, label: Any = None) -> Any:
        self.threads.add(threading.get_ident())
        return self.data.draw(strategy, label=label)


def test_every_draw_happens_on_the_test_thread() -> None:
    seen: list[tuple[set[int], int, int]] = []

    @FAST
    @given(st.data())
    def run(data: Any) -> None:
        spy = _Spy(data)
        ex = interleave.run_scenario("walkers", spy, encoding="steps")
        seen.append((spy.threads, threading.get_ident(), ex.draws))
        assert not interleave.unexpected(ex), interleave.explain(ex)

    run()
    assert any(n > 0 for _, _, n in seen)
    for threads, me, n in seen:
        assert threads == ({me} if n else set())


class _Failing:
    """A ``data`` whose third draw raises (as Hypothesis' ``StopTest`` does when a shrunk
    example runs out of choices): the error must reach the caller, the execution must end."""

    def __init__(self) -> None:
        self.n = 0

    def draw(self, strategy: Any, label: Any = None) -> int:
        self.n += 1
        if self.n == 3:
            raise _Boom()
        return 1


class _Boom(Exception):
    pass


def test_an_error_while_drawing_reaches_the_caller_and_ends_the_execution() -> None:
    with pytest.raises(_Boom):
        interleave.run_scenario("walkers", _Failing(), encoding="steps")
    # the controller and its threads were unwound: the next execution runs normally
    ex = interleave.run_scenario("walkers", _Zero())
    assert ex.status == "finished" and not ex.violations


class _Zero(_Failing):
    def draw(self, strategy: Any, label: Any = None) -> int:
        return 0


# --- (a) the faithful model -------------------------------------------------------------------
@pytest.mark.parametrize("name", ["exit-head", "debugfs", "fork-migrate"])
def test_faithful_model_shows_only_registry_findings(name: str) -> None:
    labels: list[str] = []

    @FAST
    @given(st.data())
    def run(data: Any) -> None:
        ex = interleave.run_scenario(name, data)
        assert ex.status in ("finished", "deadlock"), interleave.explain(ex)
        assert not interleave.unexpected(ex), interleave.explain(ex)
        labels.extend(interleave.labelled(v, ex.scenario).kind for v in ex.violations)

    run()
    assert set(labels) <= {"known", "benign"}
    if name == "debugfs":
        # the seed's F1/F2 (no hardware accessed bit): seen, and labelled from the registry
        assert "known" in labels


# --- (b) a mutant fails, shrunk to a small schedule -------------------------------------------
def _shrunk_failure(scenario: str, variant: str, check: str
                    ) -> tuple[interleave.Interleaving, list[str]]:
    """Run a property test that fails on ``variant``; return the execution of the example
    Hypothesis reports (the last one it runs) and the notes it printed."""
    runs: list[interleave.Interleaving] = []

    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              phases=[Phase.generate, Phase.shrink])
    @given(st.data())
    def prop(data: Any) -> None:
        ex = interleave.run_scenario(scenario, data, variant=variant)
        runs.append(ex)
        assert not [v for v in interleave.unexpected(ex) if v.check == check], \
            interleave.explain(ex)

    with pytest.raises(AssertionError) as err:
        prop()
    return runs[-1], list(getattr(err.value, "__notes__", []))


def test_mutant_fails_with_a_shrunk_printed_schedule(tmp_path: Any) -> None:
    ex, notes = _shrunk_failure("exit-head", "del-head-restarts", "handout_once")
    assert any(v.check == "handout_once" for v in ex.violations)
    # a few decisions drawn, at most a couple of preemptions (most runs found had more)
    assert ex.preemptions <= 2 and ex.draws <= 6, interleave.explain(ex)
    printed = "\n".join(notes)
    assert "Draw 1 (" in printed and "mmlist: finished" in printed, printed
    assert "handout_once" in printed
    # the failing example as an mmlist replay file: it reproduces
    path = interleave.save_replay(ex, str(tmp_path / "fail.json"))
    result = sched.replay(path)
    assert result.reproduced, result
    assert result.expected is not None and result.expected.check == "handout_once"


def test_preemption_bound_zero_keeps_every_thread_running() -> None:
    seen: list[int] = []

    @FAST
    @given(st.data())
    def run(data: Any) -> None:
        ex = interleave.run_scenario("fork", data, max_preemptions=0, encoding="steps")
        seen.append(ex.preemptions)

    run()
    assert seen and set(seen) == {0}


# --- (d) run_batch continues a World ----------------------------------------------------------
def test_run_batch_continues_a_built_world() -> None:
    results: list[tuple[list[str], list[str], list[str], str]] = []

    @FAST
    @given(st.data())
    def run(data: Any) -> None:
        world, _ = get_scenario("fork").build()
        before = _mms_on(world, "A")
        flags = world.kworker_present, world.walkers_left
        ex = interleave.run_batch(world, [P.direct_reclaim("reclaim0", "A"),
                                          P.forker("app1")], data)
        assert not interleave.unexpected(ex), interleave.explain(ex)
        assert interleave.continuable(ex)
        # the batch's walker bookkeeping was the batch's own
        assert (world.kworker_present, world.walkers_left) == flags
        after = _mms_on(world, "A")
        # a second batch on the same World: the child forks in turn
        child = world.all_tasks[-1].label
        ex2 = interleave.run_batch(world, [P.forker(child),
                                           P.direct_reclaim("reclaim1", "A")], data)
        assert not interleave.unexpected(ex2), interleave.explain(ex2)
        results.append((before, after, _mms_on(world, "A"), ex.status))

    run()
    for before, after, again, status in results:
        assert status == "finished"
        assert after[:len(before)] == before and len(after) == len(before) + 1
        assert again[:len(after)] == after and len(again) == len(after) + 1


def test_run_batch_runs_every_check() -> None:
    """A race of the ``add-no-lock`` mutant, seen in a batch on a World built beforehand."""
    from mmlist.variants import load_variant
    found: list[str] = []

    @FAST
    @given(st.data())
    def run(data: Any) -> None:
        variant = load_variant("add-no-lock")
        with variant.applied():
            world, _ = get_scenario("fork").build()
            ex = interleave.run_batch(world, [P.direct_reclaim("reclaim0", "A"),
                                              P.forker("app1")], data)
        found.extend(v.check for v in interleave.unexpected(ex))

    run()
    assert "data_race" in found


def test_schedule_text_names_runs_and_preemptions() -> None:
    ex = interleave.run_scenario("walkers", _Zero())
    text = interleave.schedule_text(ex)
    assert text.startswith("reclaim0 x") and "!" not in text


def test_a_first_gap_of_zero_means_no_switch_ever() -> None:
    """The gaps encoding's shrink target: one draw, and every thread runs to its end."""
    ex = interleave.run_scenario("exit-head", _Zero())
    assert ex.draws == 1 and ex.preemptions == 0 and ex.status == "finished"


def test_a_source_not_driven_refuses_loudly() -> None:
    """Outside ``drive`` the controller would ask on model threads: refused at the first
    decision, with a message that says what to use instead."""
    from mmlist.sched.strategies.hypothesis import HypothesisSource, HypothesisSourceError

    class State:
        current, nthreads, preemptions, steps = None, 2, 0, 0

        def names(self) -> list[str]:
            return ["a", "b"]

    with pytest.raises(HypothesisSourceError, match="run_scenario"):
        HypothesisSource(_Zero()).pick([0, 1], State())
    with pytest.raises(ValueError, match="encoding"):
        HypothesisSource(_Zero(), encoding="bogus")
