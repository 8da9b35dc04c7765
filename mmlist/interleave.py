"""Concurrency inside Hypothesis: run thread programs under the controlled scheduler with every
scheduling decision drawn from a Hypothesis ``data`` object, so that Hypothesis generates,
stores and shrinks the interleaving together with whatever else the test drew (the operations
of a stateful test, a configuration).

    from hypothesis import given, settings, strategies as st
    from mmlist import interleave

    @settings(max_examples=50, deadline=None)
    @given(st.data())
    def test_fork_against_walkers(data):
        ex = interleave.run_scenario("fork", data, variant="add-no-lock")
        assert not interleave.unexpected(ex), interleave.explain(ex)

* ``run_scenario(scenario, data)``: a whole scenario (built-in by name, or a user's
  ``Scenario``), built fresh, like ``mmlist.sched.run_once`` with Hypothesis as the source;
* ``run_batch(world, threads, data)``: thread programs (``mmlist.programs``) on a World that
  already exists (built by a scenario's set-up, or left by earlier operations of a stateful
  test), which the batch continues; the stateful machine's concurrent rule;
* ``unexpected(ex)``: the violations the findings registry does not know (neither a known
  finding of the seed nor a benign judgement): what a property test asserts is empty;
* ``replay_dict(ex)`` / ``save_replay(ex, path)``: a failing example as an mmlist replay file
  (``mmlist replay FILE``, ``mmlist.sched.replay``), with its counterexample table.

Every check of the ``CheckSuite`` is on (structural at each step, races, history, lockdep).
The draws happen on the test's own thread (``HypothesisSource.drive``: why, and how the draws
are encoded so that shrinking removes preemptions, is in ``sched/strategies/hypothesis.py``).

Limits: an execution cut off (a violation with ``stop_on_violation``, the step budget, a
deadlock) leaves its threads unwound mid-operation; the World is then torn (locks owned by
the cut-off threads stay owned) and must not be continued: ``continuable(ex)`` says so. A
replay file names a scenario that ``replay`` rebuilds: a World continued by ``run_batch`` is
replayable only through a ``Scenario`` whose set-up rebuilds it (pass it as ``scenario``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Iterator

from .findings import Label, classify
from .model.world import World
from .programs import ThreadSpec
from .scenarios import Scenario, get as get_scenario
from .sched.affinity import one_cpu
from .sched.controller import WATCHDOG, Controller, Execution, WorkerPool
from .sched.explore import RunConfig, Session, make_replay_dict
from .sched.replayfile import dump
from .sched.strategies.hypothesis import DEFAULT_MAX_GAP, HypothesisSource
from .sched.suite import make_suite, variant_applied
from .sched.table import counterexample_table
from .violation import Violation

__all__ = ["run_scenario", "run_batch", "Interleaving", "unexpected", "labelled", "explain",
           "continuable", "replay_dict", "save_replay", "table", "schedule_text",
           "DEFAULT_STEP_BUDGET"]

#: scheduling decisions per execution before it is cut off (status ``step_budget``); every
#: drawn decision is one Hypothesis choice, and Hypothesis caps a test case's choices
DEFAULT_STEP_BUDGET = 2000


@dataclass(eq=False)
class Interleaving(Execution):
    """An ``Execution`` run by this module, with what a replay file needs to rebuild it."""

    #: the scenario it ran (``run_scenario``), or the one the caller named (``run_batch``)
    scenario: Scenario | None = None
    config: RunConfig = dataclasses.field(default_factory=RunConfig)
    variant: Any = None
    #: decisions drawn from Hypothesis (decisions with a single option are never drawn)
    draws: int = 0


def run_scenario(scenario: Scenario | str, data: Any, *, variant: Any = None,
                 step_budget: int = DEFAULT_STEP_BUDGET, max_preemptions: int | None = None,
                 stop_on_violation: bool = False, structural: bool = True,
                 record: int = 0, encoding: str = "gaps",
                 max_gap: int = DEFAULT_MAX_GAP) -> Interleaving:
    """One execution of ``scenario`` (a built-in's name or a ``Scenario``), built fresh under
    ``variant`` (a name, a path, a loaded variant; None: the faithful model), every
    scheduling decision drawn from ``data`` (``st.data()``) on the calling thread.

    ``max_preemptions``: after that many preemptions the running thread keeps running
    (None: unbounded; the draws shrink toward none anyway). ``stop_on_violation``: cut the
    execution at its first violation (fewer draws; the World is then torn). ``record``: 1
    records the event log, 2 also the state before each event (``Execution.events``).
    ``encoding``, ``max_gap``: how decisions are drawn (``"gaps"``: a few draws that shrink to
    few preemptions; ``"steps"``: one draw per decision; see ``sched/strategies/hypothesis.py``).
    """
    sc = get_scenario(scenario) if isinstance(scenario, str) else scenario
    cfg = RunConfig(structural=structural, step_budget=step_budget,
                    stop_on_violation=stop_on_violation)
    source = HypothesisSource(data, max_preemptions=max_preemptions, encoding=encoding,
                              max_gap=max_gap)
    with one_cpu(), variant_applied(variant), WorkerPool() as pool:
        session = Session(pool, restore=False)
        ex = source.drive(lambda: session.run(sc, source, cfg, record=record))
    return _finish(ex, source, sc, cfg, variant)


def run_batch(world: World, threads: list[ThreadSpec], data: Any, *,
              step_budget: int = DEFAULT_STEP_BUDGET, max_preemptions: int | None = None,
              stop_on_violation: bool = False, structural: bool = True, record: int = 0,
              variant: Any = None, scenario: Scenario | None = None,
              encoding: str = "gaps", max_gap: int = DEFAULT_MAX_GAP) -> Interleaving:
    """Run ``threads`` concurrently on ``world``, which they continue (nothing is rebuilt or
    restored), every scheduling decision drawn from ``data`` on the calling thread.

    The World is whatever the caller built: a scenario's ``build()`` (or ``setup``), or the
    result of earlier operations and batches. As ``Scenario.build`` does, the World is told
    which walkers and kworker this batch has (``walkers_left``, ``kworker_present``: queued
    ``mmput_async`` work runs in the kworker if there is one, else at the end of each aging
    call), for the batch only (restored afterwards). A fresh ``CheckSuite`` judges the batch. ``variant``: applied around the batch
    (None: whatever is applied now; the World must have been built under the same one).
    ``scenario``: the ``Scenario`` that rebuilds this World with these threads, if there is
    one: recorded for ``replay_dict``. Check ``continuable(ex)`` before running another
    batch on the same World. The other arguments are ``run_scenario``'s."""
    cfg = RunConfig(structural=structural, step_budget=step_budget,
                    stop_on_violation=stop_on_violation)
    source = HypothesisSource(data, max_preemptions=max_preemptions, encoding=encoding,
                              max_gap=max_gap)
    specs = list(threads)
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"run_batch: thread names must be unique: {names}")
    # Scenario.build's bookkeeping, for this batch's threads only (harness facts, not model
    # state): afterwards the World is back to what its own set-up said, so that code run on
    # it sequentially does not wait for a kworker that is gone
    saved = world.kworker_present, world.walkers_left
    world.kworker_present = any(s.kind == "kworker" for s in specs)
    world.walkers_left = sum(s.kind == "walker" for s in specs)
    try:
        with one_cpu(), variant_applied(variant), WorkerPool() as pool:
            ctl = Controller(pool)
            suite = make_suite(world, structural)
            ex = source.drive(lambda: ctl.run(
                world, specs, source, suite, structural=structural, step_budget=step_budget,
                record=record, stop_on_violation=stop_on_violation, watchdog=WATCHDOG))
    finally:
        world.kworker_present, world.walkers_left = saved
    if ex.interrupted:
        raise KeyboardInterrupt
    return _finish(ex, source, scenario, cfg, variant)


def _finish(ex: Execution, source: HypothesisSource, scenario: Scenario | None,
            cfg: RunConfig, variant: Any) -> Interleaving:
    """The Execution with its run's facts, and a note for Hypothesis' failing-example
    report (printed only for the final, shrunk example)."""
    out = Interleaving(**{f.name: getattr(ex, f.name) for f in dataclasses.fields(Execution)},
                       scenario=scenario, config=cfg, variant=variant, draws=source.draws)
    if _noting():
        from hypothesis import note
        note(f"mmlist: {explain(out)}")
    return out


def _noting() -> bool:
    """Will ``hypothesis.note`` print? Inside a Hypothesis test, for the final (shrunk)
    example or in verbose mode; never outside a test (where ``note`` refuses to run)."""
    from hypothesis.errors import InvalidArgument
    try:
        from hypothesis.control import should_note
    except ImportError:                 # an older Hypothesis: note whenever inside a test
        from hypothesis.control import current_build_context as should_note  # type: ignore
    try:
        return bool(should_note())
    except InvalidArgument:             # not inside a test
        return False


# --- judging an execution ------------------------------------------------------------------------
def labelled(v: Violation, scenario: Scenario | None = None, config: Any = None) -> Label:
    """The findings registry's label of ``v`` (``known``, ``benign`` or ``new``) under the
    configuration of ``scenario`` (or ``config``; default: the scenarios' default Config)."""
    if config is None:
        config = scenario.config if scenario is not None else _default_config()
    return classify(v, config)


def unexpected(ex: Execution, config: Any = None) -> list[Violation]:
    """The violations of ``ex`` the findings registry does not label known or benign: a
    property test on the faithful model asserts this is empty (registry-known findings of
    the seed and its accepted behaviours are not failures; everything else is)."""
    sc = getattr(ex, "scenario", None)
    return [v for v in ex.violations if labelled(v, sc, config).kind == "new"]


def explain(ex: Execution, config: Any = None) -> str:
    """A few lines for an assertion message: status, schedule, each violation and its label."""
    sc = getattr(ex, "scenario", None)
    lines = [f"{ex.status}, {ex.steps} steps, {ex.preemptions} preemption(s): "
             f"{schedule_text(ex)}"]
    lines += [f"  {v}  {labelled(v, sc, config).text()}" for v in ex.violations]
    return "\n".join(lines)


def continuable(ex: Execution) -> bool:
    """May the World this batch ran on be used again? Only when every thread returned: a
    cut-off execution leaves threads unwound mid-operation (locks still owned by them)."""
    return ex.status == "finished" and all(o == "done" for o in ex.outcomes.values())


def _default_config() -> Any:
    return Scenario("-", "-", setup=lambda w: None, threads=lambda w: []).config


# --- a failing example as a replay file -------------------------------------------------------
def replay_dict(ex: Execution, scenario: Scenario | str | None = None,
                violation: Violation | None = None, *, variant: Any = None,
                config: RunConfig | None = None) -> dict[str, Any]:
    """The mmlist replay file (as a dict; ``mmlist.sched.replayfile.dump`` writes it) of
    ``ex``'s schedule, reproducing ``violation`` (default: the first unexpected one, else the
    first). ``scenario``, ``variant`` and ``config`` default to what ``run_scenario`` /
    ``run_batch`` recorded in the ``Interleaving``. ``mmlist replay FILE`` (a built-in
    scenario) or ``mmlist.sched.replay(FILE, scenario=...)`` (a user's) runs it again."""
    sc = scenario if scenario is not None else getattr(ex, "scenario", None)
    if sc is None:
        raise ValueError("replay_dict: no scenario: a World continued by run_batch is "
                         "replayable only through a Scenario that rebuilds it (pass scenario=)")
    sc = get_scenario(sc) if isinstance(sc, str) else sc
    v = violation or next(iter(unexpected(ex) or ex.violations), None)
    if v is None:
        raise ValueError("replay_dict: the execution has no violation to reproduce")
    cfg = config or getattr(ex, "config", None) or RunConfig()
    cfg = dataclasses.replace(cfg, stop_on_violation=False)
    var = variant if variant is not None else getattr(ex, "variant", None)
    if isinstance(var, str):
        from .variants import load_variant
        var = load_variant(var)
    return make_replay_dict(sc, ex.threads, [], ex.decisions, v, cfg, var, "hypothesis", 0)


def save_replay(ex: Execution, path: str, scenario: Scenario | str | None = None,
                violation: Violation | None = None, *, variant: Any = None,
                exclusive: bool = False) -> str:
    """Write ``replay_dict(ex, ...)`` to ``path`` (atomically; ``exclusive``: never replace a
    file, take ``stem-2.json``... instead); returns the path written."""
    return dump(replay_dict(ex, scenario, violation, variant=variant), path,
                exclusive=exclusive)


def table(ex: Execution, violation: Violation | None = None) -> str:
    """The counterexample table of ``ex`` (run with ``record=2`` for the state column)."""
    v = violation or next(iter(unexpected(ex) or ex.violations), None)
    if v is None:
        raise ValueError("table: the execution has no violation")
    name = ex.scenario.name if getattr(ex, "scenario", None) is not None else "batch"
    return counterexample_table(ex, v, name, "FILE")


# --- the schedule as one line ---------------------------------------------------------------------
def _runs(ex: Execution) -> Iterator[tuple[str, int, bool, list[str]]]:
    """``(thread, steps, preempted, chooses)`` for each run of consecutive steps of one
    thread; ``preempted``: the run began by preempting a runnable thread."""
    cur: list[Any] | None = None
    for d in ex.decisions:
        if d.kind == "choose":
            if cur is not None:
                cur[3].append(f"{d.value}/{d.n}")
            continue
        if cur is None or d.thread != cur[0]:
            if cur is not None:
                yield tuple(cur)  # type: ignore[misc]
            cur = [d.thread, 0, d.preempt, []]
        cur[1] += 1
    if cur is not None:
        yield tuple(cur)  # type: ignore[misc]


def schedule_text(ex: Execution) -> str:
    """The schedule as runs of one thread: ``reclaim0 x12, !app1 x3, reclaim0 x5``; ``!``
    marks a preemption, ``[1/2]`` a CHOOSE's answer."""
    parts = []
    for name, steps, pre, chooses in _runs(ex):
        ch = f" [{', '.join(chooses)}]" if chooses else ""
        parts.append(f"{'!' if pre else ''}{name} x{steps}{ch}")
    return ", ".join(parts) or "(no decision)"
