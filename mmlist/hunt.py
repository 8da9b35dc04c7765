"""``mmlist hunt`` and ``mmlist check``: campaigns over scenarios, on top of ``mmlist.sched``.

The hunt splits its time budget over the scenarios, runs the chosen strategy (the portfolio by
default) on each, and gathers every distinct violation with its minimal counterexample and a
replay file. Interrupting it (Ctrl-C) ends the current search early; the report and every
reproducer found so far are still written.
"""
from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .findings import KNOWN, match_known

SCHEMA_VERSION = 1


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


@dataclass
class Finding:
    scenario: str
    violation: Any
    table: str
    replay_path: str | None
    known: str | None


@dataclass
class HuntReport:
    title: str
    results: list[ScenarioResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    variant: str | None = None
    interrupted: bool = False
    seconds: float = 0.0

    @property
    def violations(self) -> list[Any]:
        return [f.violation for f in self.findings]

    def render(self) -> str:
        lines = [self.title]
        if self.variant:
            lines.append(f"variant: {self.variant}")
        lines.append("")
        lines.append(f"{'scenario':18} {'strategy':10} {'executions':>10} {'distinct':>9} "
                     f"{'verdict':13} notes")
        for r in self.results:
            notes = []
            if r.completed:
                notes.append("bounded search completed")
            if r.pct_bound is not None and r.pct_bound < 0.99:
                notes.append(f"PCT: P(missed a depth-3 bug) <= {r.pct_bound:.2g}")
            if r.interrupted:
                notes.append("interrupted")
            lines.append(f"{r.scenario:18} {r.strategy:10} {r.executions:10} {r.distinct:9} "
                         f"{r.verdict:13} {'; '.join(notes)}")
        total = sum(r.executions for r in self.results)
        lines.append("")
        lines.append(f"{total} executions in {self.seconds:.1f}s"
                     + (" (interrupted)" if self.interrupted else ""))
        if not self.findings:
            lines.append("no violation found")
            verdicts = {r.verdict for r in self.results}
            if verdicts != {"passed"}:
                lines.append("verdict: inconclusive (no bounded search was exhausted on every "
                             "scenario; `mmlist check` runs one to completion)")
            return "\n".join(lines)
        lines.append(f"{len(self.findings)} distinct violation(s):")
        for i, f in enumerate(self.findings, 1):
            known = (f" [known finding {f.known}: {KNOWN[f.known]}; see docs/findings.md]"
                     if f.known else " [NEW]")
            lines.append("")
            lines.append(f"=== {i}. {f.scenario}: {f.violation}{known}")
            lines.append(f.table.rstrip())
            if f.replay_path and f.replay_path not in f.table:
                lines.append(f"replay: mmlist replay {f.replay_path}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "title": self.title,
            "variant": self.variant,
            "interrupted": self.interrupted,
            "seconds": round(self.seconds, 3),
            "results": [r.__dict__ for r in self.results],
            "findings": [{"scenario": f.scenario, "violation": f.violation.to_dict(),
                          "known": f.known, "replay": f.replay_path, "table": f.table}
                         for f in self.findings],
        }

    def write_json(self, path: str) -> None:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as fh:
            json.dump(self.to_dict(), fh, indent=2, sort_keys=True, default=str)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:60]


def _record(report: HuntReport, scenario: Any, sched_report: Any, out_dir: str | None,
            seen: set) -> None:
    from . import sched
    for failure in sched_report.failures:
        v = failure.violation
        key = (scenario.name, v.check, v.function, v.condition)
        if key in seen:
            continue
        seen.add(key)
        path = None
        if out_dir:
            os.makedirs(out_dir, exist_ok=True)
            path = os.path.join(out_dir, f"{_slug(scenario.name)}-{_slug(v.check)}"
                                         f"-{len(seen)}.json")
            sched.save_replay(failure, path)
        report.findings.append(Finding(scenario.name, v, failure.table_text, path,
                                       match_known(v)))


def _result(scenario: Any, r: Any, strategy: str) -> ScenarioResult:
    bound = r.pct_bound.get("miss_probability") if r.pct_bound else None
    return ScenarioResult(scenario.name, strategy, r.verdict, r.executions,
                          r.distinct_interleavings, r.completed, bound, r.elapsed,
                          r.interrupted)


def _variant_name(variant: Any) -> str | None:
    return getattr(variant, "name", None) if variant is not None else None


def hunt(scenarios: list[Any], budget: float, strategy: str = "portfolio", seed: int = 0,
         variant: Any = None, out_dir: str | None = "mmlist-out", structural: bool = True,
         on_progress: Callable[[str, int, int], None] | None = None,
         progress_interval: float = 0.5) -> HuntReport:
    from . import sched
    report = HuntReport(title=f"mmlist hunt: {len(scenarios)} scenario(s), strategy {strategy}, "
                              f"seed {seed}, budget {budget:g}s",
                        variant=_variant_name(variant))
    seen: set = set()
    t0 = time.monotonic()
    for i, scenario in enumerate(scenarios):
        remaining = budget - (time.monotonic() - t0)
        share = max(0.2, remaining / (len(scenarios) - i))

        def progress(rep: Any, _name: str = scenario.name) -> None:
            if on_progress is not None:
                on_progress(_name, rep.executions, len(report.findings) + len(rep.failures))

        r = sched.explore(scenario, strategy=strategy, seed=seed, max_seconds=share,
                          variant=variant, structural=structural, on_progress=progress,
                          progress_interval=progress_interval)
        report.results.append(_result(scenario, r, strategy))
        _record(report, scenario, r, out_dir, seen)
        if r.interrupted:
            report.interrupted = True
            break
    report.seconds = time.monotonic() - t0
    return report


def check(scenario: Any, strategy: str = "dfs", bound: int = 2, max_executions: int | None = None,
          budget: float | None = None, seed: int = 0, variant: Any = None,
          out_dir: str | None = "mmlist-out") -> HuntReport:
    from . import sched
    report = HuntReport(title=f"mmlist check: {scenario.name}, strategy {strategy}, "
                              f"preemption bound {bound}", variant=_variant_name(variant))
    t0 = time.monotonic()
    r = sched.explore(scenario, strategy=strategy, seed=seed, preemption_bound=bound,
                      max_executions=max_executions, max_seconds=budget, variant=variant)
    report.results.append(_result(scenario, r, strategy))
    report.interrupted = r.interrupted
    _record(report, scenario, r, out_dir, set())
    report.seconds = time.monotonic() - t0
    verdict = r.verdict
    if verdict == "passed" and r.completed:
        report.title += (f"\nverdict: passed: the exhaustive search at preemption bound {bound} "
                         f"completed ({r.executions} executions, {r.distinct_interleavings} "
                         f"distinct interleavings)")
    elif verdict == "failed":
        report.title += "\nverdict: failed"
    else:
        report.title += (f"\nverdict: inconclusive: {r.executions} executions, bound "
                         f"{bound} not exhausted")
    return report


def replay_file(path: str) -> int:
    """``mmlist replay FILE``: 1 if the violation reproduces, 0 if not, 2 on a bad file."""
    import sys

    from . import sched
    try:
        result = sched.replay(path)
    except sched.ReplayFileError as e:
        print(f"mmlist: error: {e}", file=sys.stderr)
        return 2
    if result.divergence:
        print(f"mmlist: error: stale replay file {path}: {result.divergence} (the model, the "
              f"scenario or the variant changed since it was written)", file=sys.stderr)
        return 2
    print(result.table_text.rstrip())
    print(str(result))
    return 1 if result.reproduced else 0
