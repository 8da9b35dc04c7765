"""``mmlist hunt`` and ``mmlist check``: campaigns over scenarios, on top of ``mmlist.sched``.

The hunt splits its time budget over the scenarios, runs the chosen strategy (the portfolio by
default) on each, and gathers every distinct finding with its minimal counterexample and a
replay file. Each violation is labelled by the findings registry (``mmlist.findings``): new, a
known finding of the seed, or a behaviour the seed accepts (benign); two violations are the
same finding only when they match the same registry entry or, for new ones, the same meaning
(``Violation.key``). Interrupting it (Ctrl-C) ends the current search early; the report and
every reproducer found so far are still written.

``stop_at_first`` (``--stop-at-first``) ends a hunt or a check at its first violation that
makes the exit status 1 (a new one; a known one too under ``strict``); ``jobs`` (``--jobs N``)
runs it in N worker processes and merges their reports (``mmlist.parallel``).
"""
from __future__ import annotations

import os
import re
import shlex
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .files import write_json_atomic
from .findings import BY_ID, Label, benign_race_entry, classify, finding_key
from .sched.controller import WATCHDOG
from .errors import SetupError

SCHEMA_VERSION = 2

#: exit codes (``mmlist --help``, docs/usage.md)
EXIT_OK, EXIT_NEW, EXIT_USAGE, EXIT_KNOWN, EXIT_INTERNAL = 0, 1, 2, 3, 4


@dataclass
class ScenarioResult:
    scenario: str
    strategy: str
    verdict: str
    executions: int
    distinct: int
    completed: bool
    pct_bound: float | None
    seconds: float
    interrupted: bool = False
    reason: str = ""
    cutoffs: int = 0
    #: executions and seconds of this scenario's search until its first violation (None: none)
    first_execution: int | None = None
    first_seconds: float | None = None
    #: the coverage points (mmlist.coverage) this scenario's search reached
    coverage: list[str] = field(default_factory=list)
    #: how many time slices the hunt gave this scenario (one search, continued each time)
    slices: int = 1
    #: the replay file of its first execution cut off at the step limit (a possible livelock)
    cutoff_replay: str | None = None
    #: how many jobs' searches (``--jobs``: parts of its DFS tree, other seeds) this row sums
    parts: int = 1


@dataclass
class Finding:
    """One distinct finding of a hunt: its first counterexample and how often it showed."""

    scenario: str
    violation: Any
    table: str
    replay_path: str | None
    label: Label
    count: int = 1
    first_execution: int = 0
    first_seconds: float = 0.0
    #: every other (scenario, replay file, check and function) that showed the same finding
    also: list[tuple[str, str | None, str]] = field(default_factory=list)
    #: the searches' failures behind it: their counts keep growing while the hunt goes on
    sources: list[Any] = field(default_factory=list, repr=False)

    @property
    def known(self) -> str | None:
        """The registry id (known or benign), None for a new violation."""
        return self.label.id

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "violation": self.violation.to_dict(),
                "label": self.label.kind, "finding_id": self.label.id,
                "judgement": self.label.entry.judgement if self.label.entry else None,
                "count": self.count, "first_execution": self.first_execution,
                "first_seconds": round(self.first_seconds, 3), "replay": self.replay_path,
                "also": [{"scenario": s, "replay": p, "as": what} for s, p, what in self.also],
                "table": self.table}


@dataclass
class HuntReport:
    title: str
    results: list[ScenarioResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    variant: str | None = None
    interrupted: bool = False
    seconds: float = 0.0
    strict: bool = False
    #: races the race check's allowlist judged intended: {(field, why): executions}
    benign_races: dict[tuple, int] = field(default_factory=dict)
    verdict_line: str = ""
    #: scenarios that could not run (``SetupError``: a broken set-up), one line each, and
    #: their names
    errors: list[str] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)
    #: why the hunt stopped before its budget ran out (a stuck model thread, the first finding
    #: under --stop-at-first), or ""
    stopped: str = ""
    #: --stop-at-first ended it at a finding
    stopped_at_first: bool = False
    #: scenarios never searched: --stop-at-first ended the hunt first, or (--jobs) their job
    #: gave no result
    not_searched: list[str] = field(default_factory=list)
    #: worker processes (--jobs) and how the work was split among them ("" for one)
    jobs: int = 1
    split: str = ""

    # --- what was found --------------------------------------------------------------------------
    @property
    def violations(self) -> list[Any]:
        return [f.violation for f in self.findings]

    def of_kind(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.label.kind == kind]

    @property
    def exit_code(self) -> int:
        """0 nothing found; 1 a violation no registry entry explains (or, with ``strict``, a
        known finding); 3 only known findings and benign judgements."""
        if self.of_kind("new") or (self.strict and self.of_kind("known")):
            return EXIT_NEW
        if self.errors:
            return EXIT_USAGE
        if self.findings:
            return EXIT_KNOWN
        return EXIT_OK

    # --- rendering -------------------------------------------------------------------------------
    def render(self) -> str:
        lines = [self.title]
        if self.split:
            lines.append(self.split)
        if self.variant:
            lines.append(f"variant: {self.variant}")
        lines.append("")
        lines.append(f"{'scenario':22} {'strategy':10} {'executions':>10} {'slices':>6} "
                     f"{'distinct':>9} {'cut off':>7} {'first find':>14} {'verdict':13} notes")
        for r in self.results:
            notes = []
            if r.completed:
                notes.append("bounded search completed")
            if r.pct_bound is not None and r.pct_bound < 0.99:
                notes.append(f"PCT: P(missed a depth-3 bug) <= {r.pct_bound:.2g}")
            if r.verdict == "inconclusive" and r.reason:
                notes.append(r.reason)
            if r.interrupted:
                notes.append("interrupted")
            if r.parts > 1:
                notes.append(f"the sum of {r.parts} jobs' searches")
            if r.cutoff_replay:
                notes.append(f"a cut-off execution: mmlist replay {shlex.quote(r.cutoff_replay)}")
            first = ("-" if r.first_execution is None
                     else f"#{r.first_execution} {r.first_seconds:.2f}s")
            lines.append(f"{r.scenario:22} {_short(r.strategy):10} {r.executions:10} "
                         f"{r.slices:6} {r.distinct:9} {r.cutoffs:7} {first:>14} {r.verdict:13} "
                         f"{'; '.join(notes)}")
        lines.append("")
        lines.extend(self.coverage_lines())
        total = sum(r.executions for r in self.results)
        cut = sum(r.cutoffs for r in self.results)
        lines.append("")
        lines.append(f"{total} executions in {self.seconds:.1f}s"
                     + (f"; {cut} cut off at the step limit (a possible livelock)" if cut else "")
                     + (" (interrupted)" if self.interrupted else ""))
        new, known, benign = self.of_kind("new"), self.of_kind("known"), self.of_kind("benign")
        if not self.findings:
            lines.append("no violation found")
        else:
            lines.append(f"{len(new)} new violation(s), {len(known)} known finding(s), "
                         f"{len(benign)} benign judgement(s)")
        n = 0
        for title, group in (("NEW", new), ("KNOWN", known)):
            for f in group:
                n += 1
                lines.append("")
                lines.append(f"=== {n}. {f.scenario}: {f.violation} {f.label.text()}")
                lines.append(f"    {f.count} occurrence(s); first in execution "
                             f"{f.first_execution} of {f.scenario}, {f.first_seconds:.2f}s into "
                             f"the run" + _also(f))
                lines.append(f.table.rstrip())
                if f.replay_path and f.replay_path not in f.table:
                    lines.append(f"replay: mmlist replay {shlex.quote(f.replay_path)}")
        if benign or self.benign_races:
            lines.append("")
            lines.append("benign judgements (behaviours the seed accepts; not bugs):")
            for f in benign:
                e = f.label.entry
                assert e is not None
                lines.append(f"  {e.id} x{f.count} in {f.scenario}: {f.violation.check} in "
                             f"{f.violation.function}(): benign (judged: {e.reason}, {e.link})"
                             + (f"; replay: mmlist replay {shlex.quote(f.replay_path)}"
                                if f.replay_path else ""))
            for (fld, why), count in sorted(self.benign_races.items()):
                e = benign_race_entry(fld, why) or BY_ID["B1"]
                lines.append(f"  {e.id} in {count} execution(s): a lockless access to {fld}: "
                             f"benign (judged: {why.split('; ')[0].strip().rstrip('.')}; "
                             f"allowlist of "
                             f"registry entry {e.id}, {e.link})")
        if self.errors:
            lines.append("")
            lines.extend(f"not run: {e}" for e in self.errors)
        if self.stopped or self.not_searched:
            lines.append("")
        if self.stopped:
            lines.append(self.stopped)
        if self.not_searched:
            lines.append(f"not searched: {len(self.not_searched)} scenario(s): "
                         f"{', '.join(self.not_searched)}")
        if self.verdict_line:
            lines.append("")
            lines.append(self.verdict_line)
        lines.append(f"exit status {self.exit_code}: {_EXIT_TEXT[self.exit_code]}"
                     + (" (--strict: known findings count)" if self.strict else ""))
        return "\n".join(lines)

    def coverage_union(self) -> set[str]:
        return {p for r in self.results for p in r.coverage}

    def coverage_lines(self) -> list[str]:
        """One line per scenario and the union: points of the protocol reached / total."""
        from . import coverage
        total = len(coverage.reachable())
        lines = ["coverage (points of the seed's branches and the callers' windows reached; "
                 "`mmlist coverage` lists the rest):"]
        for r in self.results:
            lines.append(f"  {r.scenario:22} {len(r.coverage):3}/{total}")
        union = self.coverage_union()
        lines.append(f"  {'all':22} {len(union):3}/{total}"
                     + (f"; never reached: {len(coverage.unreached(union))}"
                        if len(union) < total else ""))
        return lines

    def to_dict(self) -> dict[str, Any]:
        from . import coverage
        union = self.coverage_union()
        return {
            "schema_version": SCHEMA_VERSION,
            "coverage": {"total": len(coverage.reachable()), "reached": len(union),
                         "per_scenario": {r.scenario: len(r.coverage) for r in self.results},
                         "unreached": coverage.unreached(union)},
            "title": self.title,
            "variant": self.variant,
            "interrupted": self.interrupted,
            "seconds": round(self.seconds, 3),
            "exit_code": self.exit_code,
            "strict": self.strict,
            "verdict": self.verdict_line,
            "errors": list(self.errors),
            "not_run": list(self.not_run),
            "stopped": self.stopped or None,
            "stopped_at_first": self.stopped_at_first,
            "not_searched": list(self.not_searched),
            "jobs": self.jobs,
            "split": self.split or None,
            "results": [r.__dict__ for r in self.results],
            "counts": {k: len(self.of_kind(k)) for k in ("new", "known", "benign")},
            "findings": [f.to_dict() for f in self.findings],
            "benign_races": [{"field": fld, "why": why, "executions": c}
                             for (fld, why), c in sorted(self.benign_races.items())],
        }

    def write_json(self, path: str) -> None:
        """Written to a temporary file beside ``path`` and renamed: never a partial report."""
        write_json_atomic(path, self.to_dict(), prefix=".mmlist-report-")


_EXIT_TEXT = {EXIT_OK: "nothing found", EXIT_USAGE: "a scenario could not run (listed above)",
              EXIT_NEW: "violations that no registry entry explains",
              EXIT_KNOWN: "only known findings and benign judgements (listed above)"}


def _short(strategy: str) -> str:
    return strategy.split("[")[0].split("(")[0]


def _also(f: Finding) -> str:
    if not f.also:
        return ""
    where = sorted({s for s, _, _ in f.also} - {f.scenario})
    first = _what(f.violation)
    shapes = sorted({w for _, _, w in f.also} - {first})
    return ((f"; also seen in {', '.join(where)}" if where else "")
            + (f"; also as {', '.join(shapes)}" if shapes else "")
            + f"; {len(f.also)} more replay file(s): "
            + ", ".join(p for _, p, _ in f.also if p))


def _what(v: Any) -> str:
    return f"{v.check} in {v.function}()" if v.function else v.check


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:60]


def _record(report: HuntReport, scenario: Any, failures: list[Any], out_dir: str | None,
            index: dict, t_scenario: float) -> None:
    """Label and merge ``failures`` (a search's new ones) into ``report``; write a replay file
    for every distinct violation (nothing found is lost). ``t_scenario``: the hunt's clock when
    that search's clock was at 0."""
    from . import sched
    for failure in failures:
        v = failure.violation
        path = None
        if out_dir:
            os.makedirs(out_dir, exist_ok=True)
            path = sched.save_replay(failure, os.path.join(
                out_dir, f"{_slug(scenario.name)}-{_slug(v.check)}.json"), exclusive=True)
        count = int(getattr(failure, "count", 1) or 1)
        first_s = float(getattr(failure, "first_seconds", 0.0) or 0.0)
        key = finding_key(v, scenario.config)
        prev = index.get(key)
        if prev is not None:
            prev.count += count
            prev.sources.append(failure)
            prev.also.append((scenario.name, path, _what(v)))
            continue
        f = Finding(scenario.name, v, failure.table_text, path, classify(v, scenario.config),
                    count=count, first_execution=failure.execution_index,
                    first_seconds=t_scenario + first_s, sources=[failure])
        index[key] = f
        report.findings.append(f)


def _save_cutoff(scenario: Any, sched_report: Any, out_dir: str | None) -> str | None:
    """Write the replay file of the search's first cut-off execution, if any (once)."""
    from . import sched
    if sched_report.cutoff is None or not out_dir:
        return None
    os.makedirs(out_dir, exist_ok=True)
    return sched.save_replay(sched_report.cutoff, os.path.join(
        out_dir, f"{_slug(scenario.name)}-step_budget.json"), exclusive=True)


def _livelock_probe(scenario: Any, sched_report: Any, variant: Any, structural: bool,
                    every_access: bool, watchdog: float | None) -> list[Any]:
    """A cut-off execution is a possible livelock: replay its schedule under fair scheduling
    (CHESS: no runnable thread is passed over more than FAIR_LIMIT times in a row). If the
    threads still have not finished when the step budget runs out, no scheduler can save them:
    that is a ``liveness`` failure ("no progress under fair scheduling"), kept with its replay
    file. A schedule that only starved a thread finishes under fairness and is no finding."""
    from . import sched
    from .sched.strategies.replay import Replay
    cut = sched_report.cutoff
    if cut is None:
        return []
    probe = sched.explore(scenario, strategy=Replay(list(cut.schedule), strict=False),
                          max_executions=1, variant=variant, structural=structural, fair=True,
                          every_access=every_access, watchdog=watchdog,
                          max_shrink_attempts=40)
    return [f for f in probe.failures if f.violation.check == "liveness"]


def _benign_races(report: HuntReport, sched_report: Any) -> None:
    for k, n in (getattr(sched_report, "benign_races", None) or {}).items():
        report.benign_races[k] = report.benign_races.get(k, 0) + n


def _result(scenario: Any, r: Any, strategy: str, hit: Any = ()) -> ScenarioResult:
    bound = r.pct_bound.get("miss_probability") if r.pct_bound else None
    firsts = [(f.execution_index, float(getattr(f, "first_seconds", 0.0) or 0.0))
              for f in r.failures]
    first = min(firsts) if firsts else (None, None)
    return ScenarioResult(scenario.name, strategy, r.verdict, r.executions,
                          r.distinct_interleavings, r.completed, bound, r.elapsed,
                          r.interrupted, reason=getattr(r, "verdict_reason", "") or "",
                          cutoffs=r.cutoffs, first_execution=first[0], first_seconds=first[1],
                          coverage=sorted(hit))


def _variant_name(variant: Any) -> str | None:
    return getattr(variant, "name", None) if variant is not None else None


#: the share of the budget the first pass gives every scenario alike; the rest goes, slice by
#: slice, where coverage or findings still grow (see ``hunt``)
BREADTH = 0.5
#: the shortest slice worth starting a search for (seconds)
MIN_SLICE = 0.25


#: --stop-at-first: how a search it stopped explains its verdict (``ScenarioResult.reason``)
STOPPED_REASON = ("{n} distinct violation(s); stopped at the first finding (--stop-at-first) "
                  "before the search completed")


class _Stopped(KeyboardInterrupt):
    """Raised by ``_FirstStop``'s progress callback: ``explore()`` ends a search at a
    ``KeyboardInterrupt`` between two executions, keeping everything it found."""


class _FirstStop:
    """``--stop-at-first``: which violations end the run (those that make the exit status 1:
    a new one, and a known one under ``strict``; never a benign judgement, which is no bug), and
    the progress callback that ends an ``explore()`` right after the execution that showed one
    (its counterexample shrunk and recorded first)."""

    def __init__(self, strict: bool):
        self.strict = strict
        self.fired = False

    def stops(self, label: Label) -> bool:
        return label.kind == "new" or (self.strict and label.kind == "known")

    def first(self, scenario: Any, failures: list[Any]) -> Any:
        """The first of ``failures`` that stops the run, or None."""
        return next((f for f in failures
                     if self.stops(classify(f.violation, scenario.config))), None)

    def watch(self, scenario: Any, seen: int,
              inner: Callable[[Any], None] | None = None) -> Callable[[Any], None]:
        """A callback for ``explore(..., on_progress=..., progress_interval=0)`` (called after
        every execution): it looks at the search's failures from index ``seen`` on."""
        def callback(rep: Any) -> None:
            nonlocal seen
            if self.first(scenario, rep.failures[seen:]) is not None:
                self.fired = True
                raise _Stopped
            seen = len(rep.failures)
            if inner is not None:
                inner(rep)
        return callback

    def settle(self, r: Any) -> bool:
        """After ``explore()``: whether this stopped it; a stop is no interrupt (the reason
        says why the search ended)."""
        if not self.fired:
            return False
        r.interrupted = False
        r.verdict_reason = STOPPED_REASON.format(n=len(r.failures))
        return True


def _stop_line(where: str, v: Any, label: Label) -> str:
    return f"stopped at the first finding (--stop-at-first): {where}{_what(v)} {label.text()}"


@dataclass
class _Plan:
    """One scenario's search across the hunt's slices."""
    scenario: Any
    resume: Any
    #: the strategy's name, or (a job's part of a search shared by several jobs) its object
    strategy: Any = "portfolio"
    seed: int = 0
    hit: set[str] = field(default_factory=set)
    slices: int = 0
    grew: bool = True               # the last slice reached a new point or a new finding
    exhausted: bool = False         # the strategy has nothing left to run
    started: float = 0.0            # the hunt's clock when this search's clock was at 0
    cutoff_replay: str | None = None
    livelock_probed: bool = False


def _plan(scenario: Any, strategy: str, seed: int, part: tuple[int, int]) -> _Plan:
    """``part`` (k, n) with n > 1: job k's share of a search that n jobs split (its own part
    of the DFS tree, the random members on seed + k); n == 1: the whole search, by name."""
    from . import sched
    k, n = part
    if n == 1:
        return _Plan(scenario, sched.Resume(), strategy, seed)
    from .parallel import part_strategy
    return _Plan(scenario, sched.Resume(), part_strategy(strategy, seed, k, n), seed + k)


def hunt(scenarios: list[Any], budget: float, strategy: str = "portfolio", seed: int = 0,
         variant: Any = None, out_dir: str | None = "mmlist-out", structural: bool = True,
         on_progress: Callable[[str, int, int], None] | None = None,
         progress_interval: float = 0.5, strict: bool = False,
         every_access: bool = False, watchdog: float | None = WATCHDOG,
         stop_at_first: bool = False, jobs: int = 1,
         part: tuple[int, int] = (0, 1)) -> HuntReport:
    """Search every scenario within ``budget`` seconds.

    The budget is spent in two passes. The first gives every scenario the same share of
    ``BREADTH`` of it (what a fast scenario leaves over goes to the ones after it). The second
    spends the rest in rounds of slices on the scenarios still worth it: those whose last slice
    reached a new coverage point or a new finding, and those whose bounded search has not
    completed (its verdict is still open); a scenario whose bounded search completed and that
    stopped growing gets no more, unless no other is left. A search with nothing left to run
    (exhausted) gets none. Every slice *continues* its scenario's search (``sched.Resume``):
    the DFS goes on down its tree, the random members on their streams, so nothing is run
    twice and a scenario's verdict is that of one search.

    ``stop_at_first``: end right after the first violation that makes the exit status 1 (a
    new one; a known one too under ``strict``): no further slice or scenario is started.
    ``jobs > 1``: the scenarios (or parts of their searches) dealt to that many worker
    processes, each with the whole budget, their reports merged (``mmlist.parallel``).
    ``part``: set by ``mmlist.parallel`` in a job that searches its part of every scenario."""
    if jobs > 1:
        from .parallel import hunt_jobs
        return hunt_jobs(scenarios, budget, jobs, strategy=strategy, seed=seed,
                         variant=variant, out_dir=out_dir, structural=structural,
                         on_progress=on_progress, progress_interval=progress_interval,
                         strict=strict, every_access=every_access, watchdog=watchdog,
                         stop_at_first=stop_at_first)
    from . import coverage, sched
    report = HuntReport(title=f"mmlist hunt: {len(scenarios)} scenario(s), strategy {strategy}, "
                              f"seed {seed}, budget {budget:g}s"
                              + (", every plain access a scheduling point" if every_access
                                 else ""),
                        variant=_variant_name(variant), strict=strict)
    index: dict = {}
    t0 = time.monotonic()
    plans = [_plan(sc, strategy, seed, part) for sc in scenarios]
    stop = _FirstStop(strict) if stop_at_first else None

    def run_slice(plan: _Plan, seconds: float) -> bool:
        """One slice of ``plan``'s search; False when the hunt must end (interrupted, a stuck
        thread, or --stop-at-first's finding)."""
        rep0 = plan.resume.report
        before = (len(rep0.failures), rep0.executions + rep0.pruned, rep0.elapsed) \
            if rep0 is not None else (0, 0, 0.0)
        plan.started = (time.monotonic() - t0) - before[2]

        def progress(rep: Any, _name: str = plan.scenario.name) -> None:
            if on_progress is not None:
                on_progress(_name, rep.executions, len(report.findings) + len(rep.failures)
                            - before[0])

        watch = progress if stop is None else stop.watch(plan.scenario, before[0], progress)
        try:
            with coverage.recording() as cov:
                r = sched.explore(plan.scenario, strategy=plan.strategy, seed=plan.seed,
                                  max_seconds=seconds, variant=variant, structural=structural,
                                  on_progress=watch, resume=plan.resume,
                                  progress_interval=progress_interval if stop is None else 0.0,
                                  every_access=every_access, watchdog=watchdog)
        except SetupError as e:             # bad input: that scenario cannot run at all
            report.errors.append(str(e))
            report.not_run.append(plan.scenario.name)
            plan.grew, plan.exhausted = False, True
            return True
        stopped = stop is not None and stop.settle(r)
        new_points = cov.hit - plan.hit
        plan.hit |= cov.hit
        plan.slices += 1
        new_failures = r.failures[before[0]:]
        plan.grew = bool(new_points or new_failures)
        plan.exhausted = r.executions + r.pruned == before[1] and not r.interrupted \
            and not stopped
        _record(report, plan.scenario, new_failures, out_dir, index, plan.started)
        if plan.cutoff_replay is None:
            plan.cutoff_replay = _save_cutoff(plan.scenario, r, out_dir)
        if r.cutoff is not None and not plan.livelock_probed:
            plan.livelock_probed = True
            _record(report, plan.scenario,
                    _livelock_probe(plan.scenario, r, variant, structural, every_access,
                                    watchdog), out_dir, index, plan.started)
        if r.stuck:
            report.stopped = (f"stopped after {plan.scenario.name}: a model thread got stuck "
                              f"(stuck_thread, above); the rest of the run would hang the "
                              f"same way")
        if stop is not None and _stopped_at_first(report, stop):
            return False
        return not (r.interrupted or r.stuck)

    def left() -> float:
        return budget - (time.monotonic() - t0)

    going = True
    # pass 1: breadth, every scenario alike
    for i, plan in enumerate(plans):
        # no floor: a slice runs at least one execution however short it is, so a tiny
        # budget overshoots by at most one execution per scenario
        share = max(0.0, (budget * BREADTH - (time.monotonic() - t0)) / (len(plans) - i))
        if not run_slice(plan, share):
            going = False
            break
    # pass 2: where it grows
    while going and left() >= MIN_SLICE:
        live = [p for p in plans if not p.exhausted]
        pool = [p for p in live if p.grew or not p.resume.report.completed] or live
        if not pool:
            break
        share = max(MIN_SLICE, left() / len(pool))
        for plan in pool:
            if left() < MIN_SLICE / 2:
                break
            if not run_slice(plan, min(share, left())):
                going = False
                break

    for plan in plans:
        r = plan.resume.report
        if r is None:
            continue                                        # interrupted before it started
        res = _result(plan.scenario, r, strategy, plan.hit)
        res.slices = plan.slices
        res.cutoff_replay = plan.cutoff_replay
        report.results.append(res)
        _benign_races(report, r)
        if r.interrupted:
            report.interrupted = True
    if report.stopped_at_first:
        report.not_searched = [p.scenario.name for p in plans if p.resume.report is None]
    for f in report.findings:                 # later slices kept counting the same failures
        f.count = sum(int(getattr(s, "count", 1) or 1) for s in f.sources)
    report.seconds = time.monotonic() - t0
    report.verdict_line = _hunt_verdict(report)
    return report


def _stopped_at_first(report: HuntReport, stop: _FirstStop) -> bool:
    """Whether the hunt holds a finding that ends it under --stop-at-first (one found by the
    search or by the livelock probe); the first such ends it, and the report says so."""
    if report.stopped_at_first:
        return True
    hit = next((f for f in report.findings if stop.stops(f.label)), None)
    if hit is None:
        return False
    report.stopped_at_first = True
    report.stopped = _stop_line(f"{hit.scenario}: ", hit.violation, hit.label)
    return True


def _hunt_verdict(report: HuntReport) -> str:
    if report.findings:
        return "verdict: failed" if report.of_kind("new") else \
            "verdict: only known findings and benign judgements"
    if report.results and not report.not_searched \
            and all(r.verdict == "passed" for r in report.results):
        return "verdict: passed (every scenario's bounded search completed)"
    reasons = sorted({r.reason for r in report.results if r.verdict != "passed" and r.reason})
    if report.not_searched:
        reasons.append(f"{len(report.not_searched)} scenario(s) not searched")
    return ("verdict: inconclusive: no violation found, but not every scenario's bounded "
            "search completed" + (f" ({'; '.join(reasons)})" if reasons else "")
            + "; `mmlist check` runs one to completion")


def check_search(scenario: Any, strategy: Any = "dfs", bound: int | None = 2,
                 max_executions: int | None = None, budget: float | None = None,
                 seed: int = 0, variant: Any = None, every_access: bool = False,
                 watchdog: float | None = WATCHDOG, stop_at_first: bool = False,
                 strict: bool = False,
                 on_progress: Callable[[Any], None] | None = None) -> tuple[Any, set[str], str]:
    """A check's search in this process (``strategy``: a name, or a job's part of the search
    as a strategy object): the ``sched.Report``, the coverage points reached, and the line
    saying why --stop-at-first stopped it ("" when it did not). ``on_progress(report)``:
    called after every execution under --stop-at-first (else never)."""
    from . import coverage, sched
    stop = _FirstStop(strict) if stop_at_first else None
    extra: dict[str, Any] = {} if stop is None else {
        "on_progress": stop.watch(scenario, 0, on_progress), "progress_interval": 0.0}
    with coverage.recording() as cov:
        r = sched.explore(scenario, strategy=strategy, seed=seed, preemption_bound=bound,
                          max_executions=max_executions, max_seconds=budget, variant=variant,
                          every_access=every_access, watchdog=watchdog, **extra)
    line = ""
    if stop is not None and stop.settle(r):
        f = stop.first(scenario, r.failures)
        line = _stop_line("", f.violation, classify(f.violation, scenario.config))
    return r, cov.hit, line


def check(scenario: Any, strategy: str = "dfs", bound: int | None = 2,
          max_executions: int | None = None, budget: float | None = None, seed: int = 0,
          variant: Any = None, out_dir: str | None = "mmlist-out",
          strict: bool = False, every_access: bool = False,
          watchdog: float | None = WATCHDOG, stop_at_first: bool = False,
          jobs: int = 1) -> HuntReport:
    """Search one scenario (by default: the bounded DFS, to completion). ``stop_at_first``:
    end at the first violation that makes the exit status 1 (see ``hunt``). ``jobs > 1``: the
    search split among that many worker processes (``mmlist.parallel.check_jobs``: parts of
    the DFS tree, seeds + k of the random ones), merged into one search's report first, so
    that the rest is the same as with one."""
    shown = "none (every interleaving)" if bound is None else str(bound)
    report = HuntReport(title=f"mmlist check: {scenario.name}, strategy {strategy}, "
                              f"preemption bound {shown}"
                              + (", every plain access a scheduling point" if every_access
                                 else ""),
                        variant=_variant_name(variant), strict=strict)
    t0 = time.monotonic()
    args = dict(strategy=strategy, bound=bound, max_executions=max_executions, budget=budget,
                seed=seed, variant=variant, every_access=every_access, watchdog=watchdog,
                stop_at_first=stop_at_first, strict=strict)
    if jobs > 1:
        from .parallel import check_jobs
        r, hit, stopped, report.split = check_jobs(scenario, jobs, **args)
        report.jobs = jobs
    else:
        r, hit, stopped = check_search(scenario, **args)
    report.stopped_at_first, report.stopped = bool(stopped), stopped
    report.results.append(_result(scenario, r, strategy, hit))
    report.results[-1].cutoff_replay = _save_cutoff(scenario, r, out_dir)
    report.results[-1].parts = jobs
    report.interrupted = r.interrupted
    index: dict = {}
    _record(report, scenario, r.failures, out_dir, index, 0.0)
    livelock = [] if r.interrupted else _livelock_probe(scenario, r, variant, True, every_access,
                                                         watchdog)
    _record(report, scenario, livelock, out_dir, index, 0.0)
    _benign_races(report, r)
    report.seconds = time.monotonic() - t0
    report.verdict_line = _check_verdict(report, r, bound, livelock)
    return report


def _check_verdict(report: HuntReport, r: Any, bound: int | None, livelock: list[Any]) -> str:
    reason = getattr(r, "verdict_reason", "") or ""
    if livelock or r.verdict == "failed":
        return "verdict: failed" if report.of_kind("new") else \
            "verdict: failed, only known findings and benign judgements"
    if r.verdict == "passed":
        what = (f"the exhaustive search at preemption bound {bound}" if bound is not None
                else "the exhaustive search of every interleaving")
        return (f"verdict: passed: {what} completed ({r.executions} executions, "
                f"{r.distinct_interleavings} distinct interleavings)"
                + (f"; {reason}" if reason else ""))
    return f"verdict: inconclusive: {reason or 'bound not exhausted'} ({r.executions} executions)"


def replay_file(path: str, variant: Any = None) -> int:
    """``mmlist replay FILE``: 1 if the violation reproduces, 0 if not, 2 on a bad file."""
    import sys

    from . import sched
    from .scenarios import BUILTIN
    try:
        result = sched.replay(path, variant=variant)
        scenario = BUILTIN.get(str(sched.load_replay(path).get("scenario")))
    except sched.ReplayFileError as e:
        print(f"mmlist: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    if result.divergence:
        # valid file, other model: after a fix this is the expected answer, so say what
        # happened (not reproduced, and where the run left the recorded schedule)
        print(f"mmlist: error: {path}: not reproduced: the run diverged at {result.divergence} "
              f"(the model, the scenario or the variant changed since the file was written; "
              f"after a fix, that is expected)", file=sys.stderr)
        return EXIT_USAGE
    print(result.table_text.rstrip())
    if result.expected is not None and result.expected.check == sched.CUTOFF_CHECK:
        print("reproduced: the run is cut off at the step limit again (a possible livelock; "
              "the table shows its steps)" if result.reproduced else
              "NOT reproduced: the run was not cut off at the step limit this time")
    elif result.reproduced and scenario is not None and result.expected is not None:
        got = next((v for v in result.violations
                    if (v.check, v.function) == (result.expected.check,
                                                 result.expected.function)), result.expected)
        print(f"{result} {classify(got, scenario.config).text()}")
    else:
        print(str(result))
    return EXIT_NEW if result.reproduced else EXIT_OK
