"""``mmlist stress``: a long-lived World under churn on free-running real threads, every check
listening (``mmlist.churn``), for ``--duration`` seconds; a table of what ran and of every
distinct violation, labelled by the findings registry as ``hunt`` labels them.

Exit codes are ``hunt``'s: 0 nothing found, 1 a violation no registry entry explains, 3 only
known findings and benign judgements, 2 bad input (one line), 4 an internal error.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from . import churn, coverage
from .findings import Label, classify, finding_key
from .hunt import EXIT_KNOWN, EXIT_NEW, EXIT_OK

SCHEMA_VERSION = 1


def _noise(text: str) -> str:
    """``none``, ``low``, ``high`` or a probability in [0, 1]."""
    if text in churn.NOISE_LEVELS:
        return text
    try:
        p = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a noise level (none, low, high) nor a probability: {text!r}") from None
    if not 0.0 <= p <= 1.0:
        raise argparse.ArgumentTypeError(f"a noise probability must be in [0, 1]: {text!r}")
    return text


def add_arguments(p: argparse.ArgumentParser) -> None:
    from .cli import _non_negative_int, _positive_float, _positive_int
    p.add_argument("--duration", type=_positive_float, default=10.0, metavar="SECONDS",
                   help="how long the world churns (default 10)")
    p.add_argument("--walkers", type=_non_negative_int, default=2, metavar="N",
                   help="direct reclaimers (default 2; kswapd runs on every node besides)")
    p.add_argument("--tasks", type=_positive_int, default=8, metavar="N",
                   help="churned tasks the life cycle keeps around: it forks below N/2 and "
                        "exits above 3N/2 (default 8)")
    p.add_argument("--lifecycle", type=_positive_int, default=2, metavar="N",
                   help="life-cycle threads (fork, exec, exit), each with its own tasks "
                        "(default 2)")
    p.add_argument("--memcgs", type=_positive_int, default=2, metavar="N",
                   help="memcgs the tasks live and migrate in (default 2)")
    p.add_argument("--nodes", type=_positive_int, default=1, metavar="N",
                   help="NUMA nodes (default 1)")
    p.add_argument("--noise", type=_noise, default="low",
                   help="none, low, high, or a probability: yield or spin at a scheduling "
                        "point with this probability, and shorten the switch interval "
                        "(default low)")
    p.add_argument("--seed", type=_non_negative_int, default=0)
    p.add_argument("--variant", help="a built-in variant name or a path to a variant module")
    p.add_argument("--mutant", help="a built-in mutant name")
    p.add_argument("--no-checks", action="store_true",
                   help="only the kernel's own assertions (to measure the checks' cost)")
    p.add_argument("--strict", action="store_true",
                   help="known findings count as failures (exit 1, not 3)")
    p.add_argument("--json", dest="json_path", help="write the report as JSON here")
    p.add_argument("--no-progress", action="store_true", help="no progress line")


@dataclass
class Distinct:
    """One distinct violation of the run, and how many reports it had."""

    violation: Any
    label: Label
    count: int = 1
    first_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        v = self.violation.to_dict()
        v.pop("snapshot", None)         # large; the message and the stack say what happened
        return {"label": self.label.kind, "finding_id": self.label.id, "count": self.count,
                "first_seconds": round(self.first_seconds, 3), "violation": v}


@dataclass
class StressReport:
    args: dict[str, Any]
    variant: str | None
    seconds: float
    interrupted: bool
    ops: dict[str, int]
    lifecycle: dict[str, int]
    rounds: int
    checks_run: int
    checks_skipped: int
    checks: bool
    noise_events: int
    max_seq: dict[str, int]
    threads_left: list[str]
    findings: list[Distinct] = field(default_factory=list)
    strict: bool = False
    #: the coverage points (mmlist.coverage) the model threads reached
    coverage: list[str] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Distinct]:
        return [f for f in self.findings if f.label.kind == kind]

    @property
    def exit_code(self) -> int:
        if self.of_kind("new") or (self.strict and self.of_kind("known")):
            return EXIT_NEW
        return EXIT_KNOWN if self.findings else EXIT_OK

    def render(self) -> str:
        total = sum(self.ops.values())
        rate = total / self.seconds if self.seconds else 0.0
        lines = [f"mmlist stress{' of ' + self.variant if self.variant else ''}: "
                 f"{self.seconds:.1f} s{' (interrupted)' if self.interrupted else ''}, "
                 f"{total} hook operations ({rate:,.0f}/s), checks "
                 f"{'on' if self.checks else 'off'}, noise {self.args['noise']} "
                 f"({self.noise_events} noise events), seed {self.args['seed']}",
                 "", "operations by kind:"]
        for name, n in sorted(self.ops.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {name:14} {n:10}")
        lines.append("life cycle:     " + ", ".join(f"{k} {n}"
                                                    for k, n in self.lifecycle.items()))
        lines.append(f"aging calls completed: {self.rounds}; max_seq: "
                     + ", ".join(f"{k} {v}" for k, v in self.max_seq.items()))
        lines.append(coverage.summary(self.coverage) + " reached by the model threads; "
                     "never reached: " + (", ".join(coverage.unreached(self.coverage))
                                          or "none"))
        lines.append(f"structural checks run: {self.checks_run} (world stopped every "
                     f"{churn.ChurnConfig.check_interval * 1000:.0f} ms"
                     + (f"; {self.checks_skipped} skipped: it did not stop in time)"
                        if self.checks_skipped else ")")
                     if self.checks else "structural checks: off (--no-checks)")
        if self.threads_left:
            lines.append(f"threads left running after the deadline: "
                         f"{', '.join(self.threads_left)}")
        if not self.checks and self.findings:
            lines.append("checks off: no protocol trace is recorded, and the registry judges a "
                         "kernel assertion by its trace: known and benign ones show as [NEW]")
        lines.append("")
        if not self.findings:
            lines.append("violations: none")
        else:
            lines.append(f"violations: {len(self.findings)} distinct "
                         f"({len(self.of_kind('new'))} new, {len(self.of_kind('known'))} "
                         f"known, {len(self.of_kind('benign'))} benign)")
            for f in sorted(self.findings, key=lambda f: (f.label.kind != "new", f.label.id
                                                          or "", -f.count)):
                v = f.violation
                where = f" in {v.function}()" if v.function else ""
                lines.append(f"  {f.count:5}x {v.check}{where} [{v.thread}]: "
                             f"{_one_line(v.message)} {f.label.text()}")
        lines.append("")
        lines.append(f"exit status {self.exit_code}: {_EXIT_TEXT[self.exit_code]}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "command": "stress", "args": self.args,
                "variant": self.variant, "seconds": round(self.seconds, 3),
                "interrupted": self.interrupted, "hook_operations": self.ops,
                "lifecycle": self.lifecycle, "aging_calls": self.rounds,
                "structural_checks": self.checks_run,
                "structural_checks_skipped": self.checks_skipped, "checks": self.checks,
                "noise_events": self.noise_events, "max_seq": self.max_seq,
                "threads_left": self.threads_left,
                "coverage": sorted(self.coverage),
                "coverage_unreached": coverage.unreached(self.coverage),
                "counts": {k: len(self.of_kind(k)) for k in ("new", "known", "benign")},
                "findings": [f.to_dict() for f in self.findings],
                "exit_code": self.exit_code}

    def write_json(self, path: str) -> None:
        """Atomically: a temporary file in the same directory, renamed into place."""
        d = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".mmlist-stress-", suffix=".json", dir=d)
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(self.to_dict(), fh, indent=2, default=str)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


_EXIT_TEXT = {EXIT_OK: "nothing found", EXIT_NEW: "violations that no registry entry explains",
              EXIT_KNOWN: "only known findings and benign judgements (listed above)"}


def _one_line(text: str, width: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[:width - 3] + "..."


def distinct(violations: list[Any], config: Any, seconds: dict[int, float]) -> list[Distinct]:
    """Every distinct violation once (``findings.finding_key``, as ``hunt`` groups them)."""
    out: dict[tuple, Distinct] = {}
    for v in violations:
        key = finding_key(v, config)
        d = out.get(key)
        if d is None:
            out[key] = Distinct(v, classify(v, config), 1, seconds.get(id(v), 0.0))
        else:
            d.count += 1
    return list(out.values())


class _Progress:
    """The live line on stderr (on a terminal, unless --no-progress); it also notes when each
    violation was first seen."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self.seen: dict[int, float] = {}
        self.last_ops = 0
        self.last_t = 0.0

    def __call__(self, state: churn.RunState) -> None:
        now = time.monotonic() - state.t0
        found = state.violations
        for v in found:
            self.seen.setdefault(id(v), now)
        if not self.enabled:
            return
        ops = state.counter.total
        rate = (ops - self.last_ops) / max(1e-6, now - self.last_t)
        self.last_ops, self.last_t = ops, now
        seqs = " ".join(str(s) for s in state.max_seqs().values())
        line = (f"\r{now:6.1f}s {rate:9,.0f} ops/s {state.churn.rounds:6} agings "
                f"max_seq [{seqs}] {len(found)} violations ")
        sys.stderr.write(line[:200])
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 100 + "\r")
            sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    """The ``stress`` command (``cli`` has checked the flags' syntax)."""
    from .cli import _check_outputs, _variant
    _check_outputs(args)
    variant = _variant(args)
    cfg = churn.ChurnConfig(duration=args.duration, walkers=args.walkers, tasks=args.tasks,
                            memcgs=args.memcgs, nodes=args.nodes, seed=args.seed,
                            lifecycle=args.lifecycle,
                            noise=args.noise, checks=not args.no_checks)
    progress = _Progress(not args.no_progress)
    with coverage.recording() as cov:
        if variant is not None:
            with variant.applied():
                state = _run(cfg, progress)
        else:
            state = _run(cfg, progress)
    progress(state)                         # the first-seen times of late violations
    report = StressReport(
        args={k: getattr(args, k) for k in ("duration", "walkers", "tasks", "memcgs", "nodes",
                                            "lifecycle", "noise", "seed")},
        variant=getattr(variant, "name", None), seconds=state.seconds,
        interrupted=state.interrupted, ops=state.counter.named(),
        lifecycle=dict(state.churn.ops), rounds=state.churn.rounds,
        checks_run=state.churn.checks_run, checks_skipped=state.churn.checks_skipped,
        checks=cfg.checks,
        noise_events=state.engine.noise_events, max_seq=state.max_seqs(),
        threads_left=[n for n in state.threads if n not in state.finished],
        findings=distinct(state.violations, state.churn.world.config, progress.seen),
        strict=args.strict, coverage=sorted(cov.hit))
    print(report.render())
    if args.json_path:
        from .cli import EXIT_INTERNAL, _write_json
        if _write_json(report, args.json_path) != EXIT_OK:
            return EXIT_INTERNAL
    return report.exit_code


def _run(cfg: churn.ChurnConfig, progress: _Progress) -> churn.RunState:
    state = churn.start(cfg)
    try:
        return churn.run(state, on_tick=progress)
    finally:
        progress.done()
