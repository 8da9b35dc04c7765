"""The search loop: executions under a strategy, failures recorded, replayed, shrunk and
rendered; the verdict.

Verdicts (``Report.verdict``, with ``Report.verdict_reason`` spelling out why):

* ``failed``: some check failed; each distinct violation, by ``Violation.key``, comes with its
  first minimal counterexample, how many executions showed it and when it was first seen;
* ``passed``: only when a *sound* exhaustive strategy (``Strategy.sound``: plain bounded DFS,
  bounded DFS with trace caching, unbounded DFS with sleep sets) completed its space, with no
  execution cut off by the step budget (pitfalls.md #12), no interrupt, no divergence, and no
  nondeterminism (a DFS prefix that did not replay, a failing schedule that did not reproduce);
* ``inconclusive`` otherwise: a budget that ran out before the search completed (pitfalls.md
  #2), a randomised strategy (a sample, not the space), cut-offs, an interrupt, nondeterminism.

``collect_outcomes=True`` also gathers ``Report.outcomes``: the set of distinct
``Execution.outcome`` (final state digest, violated checks) of the executions run; the tests
compare those sets between the plain and the reduced searches (pitfalls.md #9).
"""
from __future__ import annotations

import dataclasses
import json
import os
import shlex
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from ..scenarios import Scenario, get as get_scenario, scenario_without
from ..violation import Violation
from .affinity import one_cpu
from .controller import WATCHDOG, Controller, Execution, WorkerPool
from .decisions import Decision, count_preemptions
from .restore import Built
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
    #: every plain access (READ/WRITE) is a scheduling point too (``--every-access``)
    every_access: bool = False
    #: seconds a model thread may run without reaching the hook (``--watchdog``; None: off)
    watchdog: float | None = WATCHDOG

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
    #: executions that showed a violation with this key (``execution_index`` is the first)
    count: int = 1
    #: seconds from the start of ``explore`` to the end of the first execution that showed it
    first_seconds: float = 0.0
    #: Ctrl-C (or SIGTERM) came while shrinking: the counterexample is the unshrunk one
    shrink_interrupted: bool = False

    def __str__(self) -> str:
        return str(self.violation)

    def to_dict(self) -> dict[str, Any]:
        return _clean({"violation": self.violation.to_dict(), "count": self.count,
                       "first_execution": self.execution_index,
                       "first_seconds": round(self.first_seconds, 3),
                       "preemptions": self.preemptions, "steps": self.steps,
                       "dropped": self.dropped, "original": list(self.original),
                       "nondeterministic": self.nondeterministic,
                       "replay_path": self.replay_path,
                       "shrink_interrupted": self.shrink_interrupted or None,
                       "schedule": [d.to_dict() for d in self.schedule]})


@dataclass
class Report:
    scenario: str
    strategy: str
    seed: int
    verdict: str = "inconclusive"
    verdict_reason: str = ""
    executions: int = 0
    distinct_interleavings: int = 0
    completed: bool = False
    pct_bound: dict[str, Any] | None = None
    failures: list[Failure] = field(default_factory=list)
    elapsed: float = 0.0
    interrupted: bool = False
    pruned: int = 0
    #: executions cut off by the step budget (a possible livelock): never a quiet pass
    cutoffs: int = 0
    #: races the race check's allowlist judged intended, by (field, why): how many executions
    benign_races: dict[tuple[str, str], int] = field(default_factory=dict)
    #: executions abandoned because a DFS prefix did not replay (nondeterminism)
    nondeterministic: int = 0
    #: executions that diverged (a decision source that gave no valid answer)
    diverged: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    variant: str | None = None
    notes: list[str] = field(default_factory=list)
    #: ``collect_outcomes=True``: the distinct ``Execution.outcome`` seen; else None
    outcomes: set | None = None
    #: the search stopped at an execution whose model thread got stuck (the watchdog)
    stuck: bool = False
    #: the first execution cut off at the step budget, as a replayable ``Failure`` whose
    #: violation is the pseudo-check ``step_budget`` (not a finding: a possible livelock)
    cutoff: "Failure | None" = None

    @property
    def executions_per_second(self) -> float:
        return (self.executions + self.pruned) / self.elapsed if self.elapsed else 0.0

    def summary(self) -> str:
        lines = [f"{self.scenario}: {self.verdict.upper()} with {self.strategy}"
                 f"{' (variant ' + self.variant + ')' if self.variant else ''}",
                 f"  {self.executions} executions ({self.distinct_interleavings} distinct "
                 f"interleavings, {self.pruned} pruned as equivalent), {self.elapsed:.1f}s, "
                 f"{self.executions_per_second:.0f} executions/s"]
        if self.verdict_reason:
            lines.append(f"  {self.verdict}: {self.verdict_reason}")
        if self.completed:
            lines.append("  bounded search completed")
        elif self.verdict == "inconclusive":
            lines.append("  bounded search not completed (budget, interrupt, or a randomised "
                         "strategy): no verdict of absence")
        if self.cutoffs:
            lines.append(f"  {self.cutoffs} execution(s) cut off by the step budget "
                         "(a possible livelock)")
        if self.nondeterministic:
            lines.append(f"  NONDETERMINISM: {self.nondeterministic} execution(s) abandoned: "
                         "a schedule prefix did not replay")
        if self.diverged:
            lines.append(f"  {self.diverged} execution(s) diverged")
        if self.outcomes is not None:
            lines.append(f"  {len(self.outcomes)} distinct outcome(s) (final state, violated "
                         "checks)")
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
                         f"steps{', dropped ' + ', '.join(f.dropped) if f.dropped else ''}; "
                         f"in {f.count} execution(s), first #{f.execution_index} after "
                         f"{f.first_seconds:.1f}s]")
            if f.nondeterministic:
                lines.append(f"    NONDETERMINISM: {f.nondeterministic}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Everything but the counterexample tables, JSON-ready (outcomes as sorted lists)."""
        d = {k: getattr(self, k) for k in (
            "scenario", "strategy", "seed", "verdict", "verdict_reason", "executions",
            "distinct_interleavings", "completed", "pct_bound", "elapsed", "interrupted",
            "pruned", "cutoffs", "nondeterministic", "diverged", "statuses", "variant",
            "notes")}
        d["executions_per_second"] = self.executions_per_second
        d["failures"] = [f.to_dict() for f in self.failures]
        d["outcomes"] = (None if self.outcomes is None else
                         sorted([state, sorted(map(list, checks))]
                                for state, checks in self.outcomes))
        return _clean(d)


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


class Session:
    """Runs executions of scenarios on one controller and worker pool.

    ``restore``: build a scenario once and restore its World in place before each further
    execution of it (``mmlist.sched.restore``), instead of running its set-up again; the
    executions are identical either way (tests/test_restore.py)."""

    def __init__(self, pool: WorkerPool, restore: bool = True):
        self.ctl = Controller(pool)
        self.restore = restore
        self._built: Built | None = None        # the scenario run again and again, built once
        self._last: Scenario | None = None

    def run(self, scenario: Scenario, source: Strategy, cfg: RunConfig,
            record: int = 0, outcome: bool = False) -> Execution:
        if self._built is not None and self._built.scenario is scenario:
            world, specs = self._built.get()
        elif self.restore and self._last is scenario:
            # the second execution of this scenario: from now on, build once and restore (a
            # scenario run once, as a shrinking attempt, is not worth its snapshot)
            self._built = Built(scenario)
            world, specs = self._built.get()
        else:
            world, specs = scenario.build()
        self._last = scenario
        suite = make_suite(world, cfg.structural)
        ex = self.ctl.run(world, specs, source, suite, structural=cfg.structural,
                          fair=cfg.fair, step_budget=cfg.step_budget, record=record,
                          footprints=source.wants_footprints,
                          stop_on_violation=cfg.stop_on_violation, outcome=outcome,
                          every_access=cfg.every_access, watchdog=cfg.watchdog)
        if ex.interrupted:
            raise KeyboardInterrupt
        return ex


def _variant_name(variant: Any) -> str | None:
    if variant is None or isinstance(variant, str):
        return variant
    return getattr(variant, "name", str(variant))


def _clean(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))


def _user_variant(variant: Any) -> tuple[str | None, str | None]:
    """``(path, sha256)`` of a variant loaded from a user's file; (None, None) for a built-in
    one or none (built-ins are named, and replays load them by name)."""
    path = getattr(variant, "path", None)
    if path is None or _is_builtin(getattr(variant, "name", "")):
        return None, None
    return os.path.abspath(str(path)), _sha256(str(path))


def _is_builtin(name: str) -> bool:
    """A built-in variant or mutant's name (by its file: loading variants while one is
    applied would read the patched model)."""
    from ..variants import _builtin_path
    return bool(name) and "/" not in name and _builtin_path(name) is not None


def _sha256(path: str) -> str:
    import hashlib
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def replay_variant(data: dict[str, Any], where: str, variant: Any = None) -> Any:
    """The variant a replay runs under. A data file never names code to run: a built-in
    variant is loaded by name; a user's variant must be given by the caller (``mmlist replay
    FILE --variant PATH``), and must have the content the file was written with."""
    from ..variants import load_variant
    named = data.get("variant")
    if variant is None:
        if named is None:
            return None
        if isinstance(named, str) and _is_builtin(named) and not data.get("variant_path"):
            return load_variant(named)
        raise ReplayFileError(f"replay file {where} was written under the user variant "
                              f"{named!r} ({data.get('variant_path') or 'a file'}): run "
                              f"`mmlist replay {where} --variant PATH`")
    v = load_variant(variant) if isinstance(variant, str) else variant
    want = data.get("variant_sha256")
    if want:
        path = getattr(v, "path", None)
        got = _sha256(str(path)) if path is not None else None
        if got != want:
            raise ReplayFileError(f"stale replay file {where}: variant {getattr(v, 'name', v)}"
                                  f" is not the file it was written with (sha256 "
                                  f"{(got or 'none')[:12]}..., the file has {want[:12]}...)")
    elif named is None:
        raise ReplayFileError(f"replay file {where} was written without a variant; run it "
                              f"without --variant")
    return v


def make_replay_dict(scenario: Scenario, threads: list[str], dropped: list[str],
                     decisions: list[Decision], violation: Violation, cfg: RunConfig,
                     variant: Any, strategy: str, seed: int) -> dict[str, Any]:
    vpath, vsha = _user_variant(variant)
    return _clean({
        "schema_version": SCHEMA_VERSION, "kind": KIND, "scenario": scenario.name,
        **({"stress_scenario": scenario.definition} if scenario.definition else {}),
        "threads": threads, "dropped": list(dropped), "variant": _variant_name(variant),
        "variant_path": vpath, "variant_sha256": vsha,
        "structural": cfg.structural, "fair": cfg.fair, "step_budget": cfg.step_budget,
        **({"every_access": True} if cfg.every_access else {}),
        "strategy": strategy, "seed": seed, "violation": violation.to_dict(),
        "decisions": [d.to_dict() for d in decisions]})


def _every_access(data: dict[str, Any], where: str) -> bool:
    """A replay file's ``every_access`` (absent: False): the schedule was recorded with every
    plain access a scheduling point, and only replays that way."""
    value = data.get("every_access", False)
    if not isinstance(value, bool):
        raise ReplayFileError(f"corrupt replay file {where}: field every_access: expected "
                              f"true or false, got {type(value).__name__}")
    return value


def record_failure(session: Session, scenario: Scenario, ex: Execution, v: Violation,
                   cfg: RunConfig, *, variant: Any = None, strategy: str = "", seed: int = 0,
                   index: int = 0, do_shrink: bool = True,
                   max_shrink_attempts: int = 300,
                   shrink_deadline: float | None = None) -> Failure:
    """Replay the failing schedule twice (nondeterminism check), shrink it, render it."""
    target = (v.check, v.function)
    cfg = cfg.stopping_at(v)
    notes = []
    decisions = ex.decisions
    # a stuck thread costs a watchdog period and a thread per run: replayed once, to render it
    stuck = v.check == "stuck_thread"
    for k in range(0 if stuck else 2):
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
    shrink_interrupted = False
    if do_shrink and not notes and not stuck:
        try:
            sr: ShrinkResult = shrink_schedule(session, scenario, decisions, target, cfg,
                                               max_attempts=max_shrink_attempts,
                                               deadline=shrink_deadline)
            decisions, dropped = sr.decisions, sr.dropped
        except KeyboardInterrupt:
            # nothing found is lost: keep the unshrunk schedule; the caller records this
            # failure, then stops as interrupted
            shrink_interrupted = True
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
    if shrink_interrupted:
        table = ("(not shrunk: interrupted while shrinking; this is the schedule as first "
                 "found)\n" + table)
    return Failure(violation=fv, schedule=list(decisions), table_text=table, replay_dict=rd,
                   execution_index=index, preemptions=count_preemptions(decisions),
                   steps=sum(1 for d in decisions if d.kind == "thread"), dropped=dropped,
                   original=(ex.preemptions, ex.steps),
                   nondeterministic="; ".join(notes) if notes else None,
                   shrink_interrupted=shrink_interrupted)


#: the pseudo-check a cut-off's replay file records (``record_cutoff``): never a finding
CUTOFF_CHECK = "step_budget"


def cutoff_violation(step_budget: int) -> Violation:
    """The pseudo-violation a cut-off replay file records: not a check, a possible livelock."""
    return Violation(check=CUTOFF_CHECK, severity="liveness", condition="step budget",
                     message=f"cut off after {step_budget} scheduling steps with threads "
                             f"still running: a possible livelock (or a budget too small)")


def record_cutoff(session: Session, scenario: Scenario, ex: Execution, cfg: RunConfig, *,
                  variant: Any = None, strategy: str = "", seed: int = 0,
                  index: int = 0) -> Failure:
    """A cut-off execution as a replay (``mmlist replay`` re-runs it to the same cut-off) and
    a table of its steps, so that a possible livelock can be looked at."""
    v = cutoff_violation(cfg.step_budget)
    final = session.run(scenario, Replay(ex.decisions, strict=True), cfg, record=2)
    rd = make_replay_dict(scenario, final.threads, [], ex.decisions, v, cfg, variant,
                          strategy, seed)
    table = counterexample_table(final, v, scenario.name, _FILE)
    return Failure(violation=v, schedule=list(ex.decisions), table_text=table, replay_dict=rd,
                   execution_index=index, preemptions=ex.preemptions, steps=ex.steps,
                   original=(ex.preemptions, ex.steps))


def _pct_member(strat: Strategy) -> Any:
    from .strategies.pct import PCT
    from .strategies.portfolio import Portfolio
    if isinstance(strat, PCT):
        return strat
    if isinstance(strat, Portfolio):
        return next((m for m in strat.members if isinstance(m, PCT)), None)
    return None


def _exhaustive_member(strat: Strategy) -> Strategy | None:
    for m in getattr(strat, "members", [strat]):
        if m.exhaustive:
            return m
    return None


def _nondet(strat: Strategy) -> str | None:
    members = getattr(strat, "members", [strat])
    for m in members:
        msg = getattr(m, "nondeterminism", None)
        if msg:
            m.nondeterminism = None
            return msg
    return None


@dataclass
class Resume:
    """A search to continue in slices: pass the same ``Resume`` to successive ``explore()``
    calls and each picks up where the last stopped (the strategy's DFS tree, trace cache and
    random streams, the failures found, the interleavings seen). The ``Report`` is cumulative;
    a slice's ``max_executions``/``max_seconds`` bound that slice only. The hunt uses it to
    spend its budget where coverage and findings still grow."""
    strategy: Strategy | None = None
    report: Report | None = None
    by_key: dict = field(default_factory=dict)
    hashes: set = field(default_factory=set)
    statuses: Counter = field(default_factory=Counter)
    nondet_first: list[str] = field(default_factory=list)
    diverged_first: list[str] = field(default_factory=list)
    runs: int = 0


def explore(scenario: Scenario | str, strategy: str | Strategy = "portfolio", seed: int = 0,
            max_executions: int | None = None, max_seconds: float | None = None,
            preemption_bound: int | None = 2, pct_depth: int = 3, variant: Any = None,
            structural: bool = True, fair: bool = False, step_budget: int = 5000,
            on_progress: Callable[[Report], None] | None = None, stop_on_first: bool = False,
            reduction: bool = True, shrink: bool = True, replay_dir: str | None = None,
            max_shrink_attempts: int = 300, progress_interval: float = 0.5,
            collect_outcomes: bool = False, resume: Resume | None = None,
            every_access: bool = False, watchdog: float | None = WATCHDOG) -> Report:
    """Explore the interleavings of ``scenario`` under ``strategy``; see the module doc.
    ``preemption_bound=None``: the DFS strategies cover every interleaving (no bound).
    ``every_access``: every plain access to shared state is a scheduling point too (by
    default plain accesses are only recorded, and the race check stands for their
    interleavings); replay files record it.
    ``max_executions`` counts the executions of ``Report.executions``: a branch the reduction
    prunes (it stops where its trace was already expanded) does not use up the budget, as in
    the portfolio's rotation."""
    sc = resolve(scenario)
    if resume is not None and resume.strategy is not None and resume.report is not None:
        strat, rep = resume.strategy, resume.report     # continue: strategy arguments unused
        rep.interrupted = False
    else:
        strat = strategy if isinstance(strategy, Strategy) else make(
            strategy, seed=seed, preemption_bound=preemption_bound, pct_depth=pct_depth,
            reduction=reduction)
        rep = Report(scenario=sc.name, strategy=strat.describe(), seed=seed,
                     variant=_variant_name(variant))
        if collect_outcomes:
            rep.outcomes = set()
    st = resume if resume is not None else Resume()
    st.strategy, st.report = strat, rep
    unbounded = max_executions is None and max_seconds is None
    if unbounded and not strat.exhaustive:
        max_executions = 1000
    cfg = RunConfig(structural=structural, fair=fair, step_budget=step_budget,
                    every_access=every_access, watchdog=watchdog)
    by_key, hashes, statuses = st.by_key, st.hashes, st.statuses
    nondet_first, diverged_first = st.nondet_first, st.diverged_first
    t_call = time.perf_counter()
    t0 = t_call - rep.elapsed                   # elapsed and first_seconds are cumulative
    last_progress = t_call
    runs = st.runs                              # every execution run, pruned ones included
    counted = 0                                 # those this call's budget counts
    try:
        with one_cpu(), variant_applied(variant), WorkerPool() as pool:
            session = Session(pool)
            while True:
                if max_executions is not None and counted >= max_executions:
                    break
                if (max_seconds is not None and runs > st.runs
                        and time.perf_counter() - t_call >= max_seconds):
                    break                   # a call runs at least one execution
                if unbounded and strat.completed and getattr(strat, "members", None):
                    break                   # portfolio: the bounded member is done
                if not strat.new_execution():
                    break
                ex = session.run(sc, strat, cfg, outcome=collect_outcomes)
                strat.end_execution(ex)
                runs += 1
                counted += 1
                msg = _nondet(strat)
                if msg:
                    rep.nondeterministic += 1
                    statuses["nondeterministic"] += 1
                    if not nondet_first:
                        nondet_first.append(msg)
                        rep.notes.append(f"nondeterminism: a DFS schedule prefix did not "
                                         f"replay: {msg}")
                else:
                    statuses[ex.status] += 1
                    if ex.status == "pruned":
                        rep.pruned += 1
                        counted -= 1
                    else:
                        rep.executions += 1
                        hashes.add(ex.trail_hash)
                        if ex.outcome is not None and rep.outcomes is not None:
                            rep.outcomes.add(ex.outcome)
                for b in {(b.get("field", "?"), b.get("why", "")) for b in ex.benign}:
                    rep.benign_races[b] = rep.benign_races.get(b, 0) + 1
                if ex.status == "step_budget":
                    rep.cutoffs += 1
                    if rep.cutoff is None:
                        rep.cutoff = record_cutoff(session, sc, ex, cfg, variant=variant,
                                                   strategy=strat.describe(), seed=seed,
                                                   index=runs)
                        if replay_dir:
                            os.makedirs(replay_dir, exist_ok=True)
                            save_replay(rep.cutoff, os.path.join(
                                replay_dir, f"{sc.name}-step_budget.json"))
                if ex.status == "diverged":
                    rep.diverged += 1
                    if not diverged_first:
                        diverged_first.append(ex.divergence or "?")
                        rep.notes.append(f"divergence: {ex.divergence}")
                now = time.perf_counter() - t0
                keys_here: set = set()
                for v in ex.violations:
                    k = v.key
                    if k in keys_here:
                        continue
                    keys_here.add(k)
                    if k in by_key:
                        by_key[k].count += 1
                        continue
                    f = record_failure(session, sc, ex, v, cfg, variant=variant,
                                       strategy=strat.describe(), seed=seed, index=runs,
                                       do_shrink=shrink,
                                       max_shrink_attempts=max_shrink_attempts)
                    f.first_seconds = now
                    by_key[k] = f
                    if replay_dir:
                        os.makedirs(replay_dir, exist_ok=True)
                        path = os.path.join(replay_dir, f"{sc.name}-{v.check}-"
                                                        f"{len(rep.failures) + 1}.json")
                        save_replay(f, path)
                    rep.failures.append(f)
                    if f.nondeterministic:
                        rep.notes.append(f"{v.check}: {f.nondeterministic}")
                    if f.shrink_interrupted:
                        rep.notes.append(f"{v.check}: interrupted while shrinking; the "
                                         f"counterexample kept is the unshrunk one")
                        raise KeyboardInterrupt
                if (on_progress is not None
                        and time.perf_counter() - last_progress >= progress_interval):
                    last_progress = time.perf_counter()
                    _finish(rep, strat, hashes, statuses, t0, nondet_first, diverged_first)
                    on_progress(rep)
                if stop_on_first and rep.failures:
                    break
                if ex.status == "stuck":
                    # the next executions would get stuck the same way, each leaving a thread
                    rep.stuck = True
                    rep.notes.append("a model thread got stuck (stuck_thread): the search "
                                     "stopped there")
                    break
    except KeyboardInterrupt:
        rep.interrupted = True
    st.runs = runs
    _finish(rep, strat, hashes, statuses, t0, nondet_first, diverged_first)
    return rep


def _finish(rep: Report, strat: Strategy, hashes: set, statuses: Counter, t0: float,
            nondet_first: list[str] = (), diverged_first: list[str] = ()) -> None:
    rep.elapsed = time.perf_counter() - t0
    rep.distinct_interleavings = len(hashes)
    rep.statuses = dict(statuses)
    rep.completed = bool(strat.completed)
    pct = _pct_member(strat)
    rep.pct_bound = pct.bound() if pct is not None and pct.runs else None
    rep.verdict, rep.verdict_reason = _verdict(rep, strat, nondet_first, diverged_first)


def _verdict(rep: Report, strat: Strategy, nondet_first: Any,
             diverged_first: Any) -> tuple[str, str]:
    """The verdict and why: "passed" only for a sound exhaustive search that completed, with
    nothing cut off, interrupted, diverged or nondeterministic."""
    member = _exhaustive_member(strat)
    bound = getattr(member, "bound", None)
    space = ("bounded search (preemption bound " + str(bound) + ")" if bound is not None
             else "search of every interleaving")
    reasons = []
    if rep.interrupted:
        reasons.append("interrupted")
    if member is None:
        reasons.append(f"randomised strategy: a sample, not the space ({rep.executions} "
                       "executions)")
    elif not strat.sound:
        reasons.append(f"{strat.describe()} is not sound: its completion proves nothing")
    elif not rep.completed:
        reasons.append(f"budget ran out before the {space} completed ({rep.executions} "
                       "executions)")
    if rep.cutoffs:
        reasons.append(f"{rep.cutoffs} execution(s) cut off at the step limit (a possible "
                       "livelock)")
    if rep.nondeterministic:
        first = nondet_first[0] if nondet_first else "?"
        reasons.append(f"nondeterminism: {rep.nondeterministic} execution(s) abandoned because "
                       f"the schedule prefix did not replay: {first}")
    if rep.diverged:
        first = diverged_first[0] if diverged_first else "?"
        reasons.append(f"{rep.diverged} execution(s) diverged: {first}")
    bad = [f for f in rep.failures if f.nondeterministic]
    if bad:
        reasons.append(f"nondeterminism: {len(bad)} failing schedule(s) did not replay the "
                       f"same way ({bad[0].violation.check}: {bad[0].nondeterministic})")
    if rep.failures:
        why = f"{len(rep.failures)} distinct violation(s)"
        return "failed", why + ("; and " + "; ".join(reasons) if reasons else "")
    if reasons:
        return "inconclusive", "; ".join(reasons)
    return "passed", (f"the {space} completed: {rep.executions} executions, none cut off, "
                      "no nondeterminism")


# ---------------------------------------------------------------------------------------------
# Replay files.
# ---------------------------------------------------------------------------------------------
def save_replay(failure: Failure, path: str, exclusive: bool = False) -> str:
    """Write the failure's replay file; ``exclusive``: never overwrite, take ``stem-2.json``...
    instead. Returns the path written (commands in the table are shell-quoted)."""
    path = dump(failure.replay_dict, path, exclusive=exclusive)
    failure.replay_path = path
    failure.table_text = failure.table_text.replace(f"mmlist replay {_FILE}",
                                                    f"mmlist replay {shlex.quote(path)}")
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
        if scenario is None and "stress_scenario" in data:
            from ..stress_replay import scenario_from_definition
            sc = scenario_from_definition(data["stress_scenario"], data["scenario"])
        else:
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
           record: bool = True, variant: Any = None) -> ReplayResult:
    """Run a saved schedule once (strictly); report whether the violation reproduces, or the
    first divergence (expected vs observed op). ``variant``: the user's variant file the
    replay was written under (never taken from the file itself)."""
    data, where = _open(replay_dict_or_path)
    the_variant = replay_variant(data, where, variant)
    sc, sc2 = _scenario_for(data, scenario, where)
    try:
        expected = Violation.from_dict(data["violation"])
    except (TypeError, ValueError) as e:
        raise ReplayFileError(f"stale replay file {where}: {e}") from None
    cfg = RunConfig(structural=bool(data.get("structural", True)),
                    fair=bool(data.get("fair", False)),
                    step_budget=int(data.get("step_budget", 5000)),
                    every_access=_every_access(data, where))
    cutoff = expected.check == CUTOFF_CHECK         # a cut-off's replay: reproduced by status
    if not cutoff:
        cfg = cfg.stopping_at(expected)
    with one_cpu(), variant_applied(the_variant), WorkerPool() as pool:
        ex = Session(pool).run(sc2, Replay(data["_decisions"], strict=True), cfg,
                               record=2 if record else 0)
    got = (expected if ex.status == "step_budget" else None) if cutoff else \
        match(ex.violations, (expected.check, expected.function))
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
                    step_budget=int(data.get("step_budget", 5000)),
                    every_access=_every_access(data, where)).stopping_at(v)
    target = (v.check, v.function)
    with one_cpu(), variant_applied(replay_variant(data, where)), \
            WorkerPool() as pool:
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
    with one_cpu(), WorkerPool() as pool:
        session = Session(pool)

        def run() -> Execution:
            return session.run(resolve(scenario), source, cfg, record=record)
        # a source that must draw on this thread (HypothesisSource) runs the execution itself
        drive = getattr(source, "drive", None)
        ex = drive(run) if drive is not None else run()
    source.end_execution(ex)
    return ex
