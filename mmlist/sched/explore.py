"""The search loop: executions under a strategy, failures recorded, replayed, shrunk and
rendered; the verdict.

Verdicts: ``failed`` (some check failed; each distinct violation, by ``Violation.key``, comes
with its first minimal counterexample), ``passed`` (only when a bounded exhaustive search
completed, and no execution was cut off by the step budget), ``inconclusive`` otherwise: a
budget that ran out, a randomised search (which covers a sample, not the space), an interrupt
(pitfalls.md #2).
"""
from __future__ import annotations

import dataclasses
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from ..scenarios import Scenario, get as get_scenario
from ..violation import Violation
from .controller import Controller, Execution, WorkerPool
from .decisions import Decision, count_preemptions
from .replayfile import KIND, SCHEMA_VERSION, ReplayFileError, dump, load, validate
from .shrink import ShrinkResult, match, shrink_schedule
from .strategies import Strategy, make
from .strategies.replay import Replay
from .suite import make_suite, variant_applied
from .table import counterexample_table

_FILE = "FILE"


@dataclass
class RunConfig:
    structural: bool = True
    fair: bool = False
    step_budget: int = 5000
    #: False: run on after a violation (explore: every violation of the execution is seen);
    #: (check, function): stop at that violation (replays and shrinking)
    stop_on_violation: Any = False

    def stopping_at(self, v: Violation) -> "RunConfig":
        return dataclasses.replace(self, stop_on_violation=(v.check, v.function))


@dataclass
class Failure:
    """One distinct violation and its (shrunk) counterexample."""

    violation: Violation
    schedule: list[Decision]
    table_text: str
    replay_dict: dict[str, Any]
    execution_index: int = 0
    preemptions: int = 0
    steps: int = 0
    dropped: list[str] = field(default_factory=list)
    original: tuple[int, int] = (0, 0)          # (preemptions, steps) before shrinking
    nondeterministic: str | None = None
    replay_path: str | None = None

    def __str__(self) -> str:
        return str(self.violation)


@dataclass
class Report:
    scenario: str
    strategy: str
    seed: int
    verdict: str = "inconclusive"
    executions: int = 0
    distinct_interleavings: int = 0
    completed: bool = False
    pct_bound: dict[str, Any] | None = None
    failures: list[Failure] = field(default_factory=list)
    elapsed: float = 0.0
    interrupted: bool = False
    pruned: int = 0
    cutoffs: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    variant: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def executions_per_second(self) -> float:
        return (self.executions + self.pruned) / self.elapsed if self.elapsed else 0.0

    def summary(self) -> str:
        lines = [f"{self.scenario}: {self.verdict.upper()} with {self.strategy}"
                 f"{' (variant ' + self.variant + ')' if self.variant else ''}",
                 f"  {self.executions} executions ({self.distinct_interleavings} distinct "
                 f"interleavings, {self.pruned} pruned as equivalent), {self.elapsed:.1f}s, "
                 f"{self.executions_per_second:.0f} executions/s"]
        if self.completed:
            lines.append("  bounded search completed")
        elif self.verdict == "inconclusive":
            lines.append("  bounded search not completed (budget, interrupt, or a randomised "
                         "strategy): no verdict of absence")
        if self.cutoffs:
            lines.append(f"  {self.cutoffs} execution(s) cut off by the step budget")
        if self.pct_bound:
            b = self.pct_bound
            lines.append(f"  PCT depth {b['depth']}: a depth-{b['depth']} bug is hit with "
                         f"p >= 1/(n*k^(d-1)) = {b['per_run']:.2e} per run (n={b['threads']}, "
                         f"k={b['steps']}); missed after {b['runs']} runs with p <= "
                         f"{b['miss_probability']:.3f}")
        if self.interrupted:
            lines.append("  interrupted")
        for f in self.failures:
            lines.append(f"  FAIL {f.violation}  [{f.preemptions} preemption(s), {f.steps} "
                         f"steps{', dropped ' + ', '.join(f.dropped) if f.dropped else ''}]")
            if f.nondeterministic:
                lines.append(f"    NONDETERMINISM: {f.nondeterministic}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


@dataclass
class ReplayResult:
    reproduced: bool
    violations: list[Violation]
    divergence: str | None
    table_text: str
    execution: Execution
    expected: Violation | None

    def __str__(self) -> str:
        if self.divergence:
            return f"replay diverged: {self.divergence}"
        return ("reproduced: " if self.reproduced else "NOT reproduced: expected ") + \
            str(self.expected)


# ---------------------------------------------------------------------------------------------
def resolve(scenario: Scenario | str) -> Scenario:
    return get_scenario(scenario) if isinstance(scenario, str) else scenario


def scenario_without(scenario: Scenario, dropped: list[str] | tuple = ()) -> Scenario:
    """The scenario minus some threads (by name): what shrinking drops."""
    if not dropped:
        return scenario
    gone = set(dropped)
    orig = scenario.threads
    return dataclasses.replace(scenario,
                               threads=lambda w: [s for s in orig(w) if s.name not in gone])


class Session:
    """Runs executions of scenarios on one controller and worker pool."""

    def __init__(self, pool: WorkerPool):
        self.ctl = Controller(pool)

    def run(self, scenario: Scenario, source: Strategy, cfg: RunConfig,
            record: int = 0) -> Execution:
        world, specs = scenario.build()
        suite = make_suite(world, cfg.structural)
        ex = self.ctl.run(world, specs, source, suite, structural=cfg.structural,
                          fair=cfg.fair, step_budget=cfg.step_budget, record=record,
                          footprints=source.wants_footprints,
                          stop_on_violation=cfg.stop_on_violation)
        if ex.interrupted:
            raise KeyboardInterrupt
        return ex


def _variant_name(variant: Any) -> str | None:
    if variant is None or isinstance(variant, str):
        return variant
    return getattr(variant, "name", str(variant))


def _clean(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))


def make_replay_dict(scenario: Scenario, threads: list[str], dropped: list[str],
                     decisions: list[Decision], violation: Violation, cfg: RunConfig,
                     variant: Any, strategy: str, seed: int) -> dict[str, Any]:
    return _clean({
        "schema_version": SCHEMA_VERSION, "kind": KIND, "scenario": scenario.name,
        "threads": threads, "dropped": list(dropped), "variant": _variant_name(variant),
        "structural": cfg.structural, "fair": cfg.fair, "step_budget": cfg.step_budget,
        "strategy": strategy, "seed": seed, "violation": violation.to_dict(),
        "decisions": [d.to_dict() for d in decisions]})


def record_failure(session: Session, scenario: Scenario, ex: Execution, v: Violation,
                   cfg: RunConfig, *, variant: Any = None, strategy: str = "", seed: int = 0,
                   index: int = 0, do_shrink: bool = True,
                   max_shrink_attempts: int = 300) -> Failure:
    """Replay the failing schedule twice (nondeterminism check), shrink it, render it."""
    target = (v.check, v.function)
    cfg = cfg.stopping_at(v)
    notes = []
    decisions = ex.decisions
    for k in range(2):
        r = session.run(scenario, Replay(ex.decisions, strict=True), cfg)
        if r.divergence and not r.divergence.startswith(f"decision #{len(r.decisions)}: "):
            notes.append(f"replay {k + 1} diverged: {r.divergence}")
        elif match(r.violations, target) is None:
            notes.append(f"replay {k + 1} did not fail with {v.check}: "
                         f"{[str(x) for x in r.violations] or 'no violation'}")
        elif r.decisions != ex.decisions[:len(r.decisions)]:
            notes.append(f"replay {k + 1} took other decisions")
        else:
            decisions = r.decisions             # the schedule up to the violation
    dropped: list[str] = []
    if do_shrink and not notes:
        try:
            sr: ShrinkResult = shrink_schedule(session, scenario, decisions, target, cfg,
                                               max_attempts=max_shrink_attempts)
            decisions, dropped = sr.decisions, sr.dropped
        except Exception as e:          # shrinking is best effort: keep the original
            notes.append(f"shrinking failed: {type(e).__name__}: {e}")
    sc = scenario_without(scenario, dropped)
    final = session.run(sc, Replay(decisions, strict=True), cfg, record=2)
    fv = match(final.violations, target)
    if fv is None or final.divergence:
        notes.append("the recorded replay did not reproduce the violation: "
                     f"{final.divergence or [str(x) for x in final.violations]}")
        fv = v
    rd = make_replay_dict(scenario, final.threads, dropped, decisions, fv, cfg, variant,
                          strategy, seed)
    table = counterexample_table(final, fv, scenario.name, _FILE)
    return Failure(violation=fv, schedule=list(decisions), table_text=table, replay_dict=rd,
                   execution_index=index, preemptions=count_preemptions(decisions),
                   steps=sum(1 for d in decisions if d.kind == "thread"), dropped=dropped,
                   original=(ex.preemptions, ex.steps),
                   nondeterministic="; ".join(notes) if notes else None)


def _pct_member(strat: Strategy) -> Any:
    from .strategies.pct import PCT
    from .strategies.portfolio import Portfolio
    if isinstance(strat, PCT):
        return strat
    if isinstance(strat, Portfolio):
        return next((m for m in strat.members if isinstance(m, PCT)), None)
    return None


def _nondet(strat: Strategy) -> str | None:
    members = getattr(strat, "members", [strat])
    for m in members:
        msg = getattr(m, "nondeterminism", None)
        if msg:
            m.nondeterminism = None
            return msg
    return None


def explore(scenario: Scenario | str, strategy: str | Strategy = "portfolio", seed: int = 0,
            max_executions: int | None = None, max_seconds: float | None = None,
            preemption_bound: int = 2, pct_depth: int = 3, variant: Any = None,
            structural: bool = True, fair: bool = False, step_budget: int = 5000,
            on_progress: Callable[[Report], None] | None = None, stop_on_first: bool = False,
            reduction: bool = True, shrink: bool = True, replay_dir: str | None = None,
            max_shrink_attempts: int = 300, progress_interval: float = 0.5) -> Report:
    """Explore the interleavings of ``scenario`` under ``strategy``; see the module doc."""
    sc = resolve(scenario)
    strat = strategy if isinstance(strategy, Strategy) else make(
        strategy, seed=seed, preemption_bound=preemption_bound, pct_depth=pct_depth,
        reduction=reduction)
    unbounded = max_executions is None and max_seconds is None
    if unbounded and not strat.exhaustive:
        max_executions = 1000
    cfg = RunConfig(structural=structural, fair=fair, step_budget=step_budget)
    rep = Report(scenario=sc.name, strategy=strat.describe(), seed=seed,
                 variant=_variant_name(variant))
    seen: set = set()
    hashes: set = set()
    statuses: Counter = Counter()
    t0 = time.perf_counter()
    last_progress = t0
    runs = 0
    try:
        with variant_applied(variant), WorkerPool() as pool:
            session = Session(pool)
            while True:
                if max_executions is not None and runs >= max_executions:
                    break
                if max_seconds is not None and time.perf_counter() - t0 >= max_seconds:
                    break
                if unbounded and strat.completed and getattr(strat, "members", None):
                    break                   # portfolio: the bounded member is done
                if not strat.new_execution():
                    break
                ex = session.run(sc, strat, cfg)
                strat.end_execution(ex)
                runs += 1
                statuses[ex.status] += 1
                msg = _nondet(strat)
                if msg:
                    rep.notes.append(f"nondeterminism while replaying a DFS prefix: {msg}")
                if ex.status == "pruned":
                    rep.pruned += 1
                else:
                    rep.executions += 1
                    hashes.add(ex.trail_hash)
                if ex.status == "step_budget":
                    rep.cutoffs += 1
                for v in ex.violations:
                    if v.key in seen:
                        continue
                    seen.add(v.key)
                    f = record_failure(session, sc, ex, v, cfg, variant=variant,
                                       strategy=strat.describe(), seed=seed, index=runs,
                                       do_shrink=shrink,
                                       max_shrink_attempts=max_shrink_attempts)
                    if replay_dir:
                        os.makedirs(replay_dir, exist_ok=True)
                        path = os.path.join(replay_dir, f"{sc.name}-{v.check}-"
                                                        f"{len(rep.failures) + 1}.json")
                        save_replay(f, path)
                    rep.failures.append(f)
                    if f.nondeterministic:
                        rep.notes.append(f"{v.check}: {f.nondeterministic}")
                if (on_progress is not None
                        and time.perf_counter() - last_progress >= progress_interval):
                    last_progress = time.perf_counter()
                    _finish(rep, strat, hashes, statuses, t0)
                    on_progress(rep)
                if stop_on_first and rep.failures:
                    break
    except KeyboardInterrupt:
        rep.interrupted = True
    _finish(rep, strat, hashes, statuses, t0)
    return rep


def _finish(rep: Report, strat: Strategy, hashes: set, statuses: Counter, t0: float) -> None:
    rep.elapsed = time.perf_counter() - t0
    rep.distinct_interleavings = len(hashes)
    rep.statuses = dict(statuses)
    rep.completed = bool(strat.completed)
    pct = _pct_member(strat)
    rep.pct_bound = pct.bound() if pct is not None and pct.runs else None
    if rep.failures:
        rep.verdict = "failed"
    elif rep.completed and not rep.cutoffs and not rep.interrupted:
        rep.verdict = "passed"
    else:
        rep.verdict = "inconclusive"


# ---------------------------------------------------------------------------------------------
# Replay files.
# ---------------------------------------------------------------------------------------------
def save_replay(failure: Failure, path: str) -> str:
    dump(failure.replay_dict, path)
    failure.replay_path = path
    failure.table_text = failure.table_text.replace(f"mmlist replay {_FILE}",
                                                    f"mmlist replay {path}")
    return path


def load_replay(path: str) -> dict[str, Any]:
    return load(path)


def _open(replay_dict_or_path: Any) -> tuple[dict[str, Any], str]:
    if isinstance(replay_dict_or_path, (str, os.PathLike)):
        path = os.fspath(replay_dict_or_path)
        data = replay_dict_or_path if isinstance(replay_dict_or_path, dict) else load(path)
        return data, path
    if "_decisions" in replay_dict_or_path:
        return replay_dict_or_path, _FILE
    return validate(dict(replay_dict_or_path)), _FILE


def _scenario_for(data: dict[str, Any], scenario: Scenario | str | None,
                  where: str) -> tuple[Scenario, Scenario]:
    try:
        sc = resolve(scenario if scenario is not None else data["scenario"])
    except KeyError:
        raise ReplayFileError(f"stale replay file {where}: unknown scenario "
                              f"{data['scenario']!r}") from None
    sc2 = scenario_without(sc, data.get("dropped") or [])
    world, specs = sc2.build()
    names = [s.name for s in specs]
    if names != list(data["threads"]):
        raise ReplayFileError(f"stale replay file {where}: scenario {sc.name!r} now has "
                              f"threads {names}, the file has {list(data['threads'])}")
    return sc, sc2


def replay(replay_dict_or_path: Any, scenario: Scenario | str | None = None,
           record: bool = True) -> ReplayResult:
    """Run a saved schedule once (strictly); report whether the violation reproduces, or the
    first divergence (expected vs observed op)."""
    data, where = _open(replay_dict_or_path)
    sc, sc2 = _scenario_for(data, scenario, where)
    try:
        expected = Violation.from_dict(data["violation"])
    except (TypeError, ValueError) as e:
        raise ReplayFileError(f"stale replay file {where}: {e}") from None
    cfg = RunConfig(structural=bool(data.get("structural", True)),
                    fair=bool(data.get("fair", False)),
                    step_budget=int(data.get("step_budget", 5000))).stopping_at(expected)
    with variant_applied(data.get("variant")), WorkerPool() as pool:
        ex = Session(pool).run(sc2, Replay(data["_decisions"], strict=True), cfg,
                               record=2 if record else 0)
    got = match(ex.violations, (expected.check, expected.function))
    table = counterexample_table(ex, got or expected, sc.name, where) if record else ""
    if ex.divergence:
        table += f"\nDIVERGED: {ex.divergence}"
    return ReplayResult(reproduced=got is not None and not ex.divergence,
                        violations=ex.violations, divergence=ex.divergence, table_text=table,
                        execution=ex, expected=expected)


def shrink(failure_or_replay: Any, scenario: Scenario | str | None = None,
           max_attempts: int = 300) -> tuple[Failure, ShrinkResult]:
    """Shrink a ``Failure`` (or a replay dict/path) further; returns the new Failure and the
    shrink statistics (``fixed_point``, ``before``/``after`` as (preemptions, steps,
    life-cycle threads))."""
    data, where = _open(failure_or_replay.replay_dict if isinstance(failure_or_replay, Failure)
                        else failure_or_replay)
    sc, sc2 = _scenario_for(data, scenario, where)
    v = Violation.from_dict(data["violation"])
    cfg = RunConfig(structural=bool(data.get("structural", True)),
                    fair=bool(data.get("fair", False)),
                    step_budget=int(data.get("step_budget", 5000))).stopping_at(v)
    target = (v.check, v.function)
    with variant_applied(data.get("variant")), WorkerPool() as pool:
        session = Session(pool)
        sr = shrink_schedule(session, sc, data["_decisions"], target, cfg,
                             dropped=list(data.get("dropped") or []), max_attempts=max_attempts)
        final = session.run(scenario_without(sc, sr.dropped),
                            Replay(sr.decisions, strict=True), cfg, record=2)
    fv = match(final.violations, target) or v
    rd = make_replay_dict(sc, final.threads, sr.dropped, sr.decisions, fv, cfg,
                          data.get("variant"), str(data.get("strategy", "")),
                          int(data.get("seed", 0)))
    f = Failure(violation=fv, schedule=sr.decisions,
                table_text=counterexample_table(final, fv, sc.name, _FILE), replay_dict=rd,
                preemptions=count_preemptions(sr.decisions),
                steps=sum(1 for d in sr.decisions if d.kind == "thread"), dropped=sr.dropped,
                original=sr.before[:2])
    return f, sr


def run_once(scenario: Scenario | str, source: Strategy, structural: bool = True,
             fair: bool = False, step_budget: int = 5000, record: int = 0) -> Execution:
    """One controlled execution with any decision source (e.g. ``HypothesisSource``)."""
    cfg = RunConfig(structural=structural, fair=fair, step_budget=step_budget)
    source.new_execution()
    with WorkerPool() as pool:
        ex = Session(pool).run(resolve(scenario), source, cfg, record=record)
    source.end_execution(ex)
    return ex
