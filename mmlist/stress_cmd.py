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
#: seconds (at least; the run's --duration if longer) all the searches for finds may take
REPLAY_SECONDS = 30.0


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
    p.add_argument("--memcg-cycles", type=_non_negative_int, default=64, metavar="N",
                   help="mkdir/rmdir cycles of the cgroup thread (default 64; 0: no such "
                        "thread): each leaves a freed memcg in the World")
    p.add_argument("--no-debugfs", action="store_true",
                   help="no debugfs full-scan aging thread")
    p.add_argument("--noise", type=_noise, default="low",
                   help="none, low, high, or a probability: yield or spin at a scheduling "
                        "point with this probability, and shorten the switch interval "
                        "(default low)")
    p.add_argument("--seed", type=_non_negative_int, default=0)
    p.add_argument("--jobs", type=_positive_int, default=1, metavar="N",
                   help="N stress runs at once in worker processes, on seeds SEED..SEED+N-1, "
                        "merged into one report (default 1)")
    p.add_argument("--config", action="append", default=[], metavar="KEY=VALUE",
                   help="change the modelled kernel's configuration, e.g. PREEMPT_RT=1, "
                        "arch_has_hw_pte_young=0 (repeatable; keys: "
                        + ", ".join(churn.STRESS_CONFIG) + ")")
    p.add_argument("--variant", help="a built-in variant name or a path to a variant module")
    p.add_argument("--mutant", help="a built-in mutant name")
    p.add_argument("--no-checks", action="store_true",
                   help="only the kernel's own assertions (to measure the checks' cost)")
    p.add_argument("--strict", action="store_true",
                   help="known findings count as failures (exit 1, not 3)")
    p.add_argument("--json", dest="json_path", help="write the report as JSON here")
    p.add_argument("--no-progress", action="store_true", help="no progress line")
    p.add_argument("--out", default="mmlist-out",
                   help="directory for the replay files of stress finds (default mmlist-out)")
    p.add_argument("--no-replay", action="store_true",
                   help="do not turn new violations into replay files")
    p.add_argument("--replay-known", action="store_true",
                   help="turn known findings into replay files too (new ones always are)")
    p.add_argument("--replay-budget", type=_positive_int, default=40, metavar="N",
                   help="controlled executions per window size when searching for a stress "
                        "find again (default 40)")


@dataclass
class Distinct:
    """One distinct violation of the run, and how many reports it had."""

    violation: Any
    label: Label
    count: int = 1
    first_seconds: float = 0.0
    #: what became of it under the controlled scheduler (``mmlist.stress_replay``)
    replay: Any = None

    def to_dict(self) -> dict[str, Any]:
        v = self.violation.to_dict()
        v.pop("snapshot", None)         # large; the message and the stack say what happened
        return {"label": self.label.kind, "finding_id": self.label.id, "count": self.count,
                "first_seconds": round(self.first_seconds, 3), "violation": v,
                "replay": self.replay.to_dict() if self.replay is not None else None}


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
    #: why some finds were not searched for again (interrupted, --no-replay)
    replay_note: str = ""
    #: threads that oopsed (a kernel BUG): those left running are blocked behind them
    oopsed: list[str] = field(default_factory=list)

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
                         f"{', '.join(self.threads_left)}"
                         + (f" (after the oops of {', '.join(self.oopsed)}: what an oopsed "
                            f"thread holds is never given back, as in the kernel)"
                            if self.oopsed else ""))
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
                if f.replay is not None:
                    lines.append(f"         {f.replay.line()}")
        if self.replay_note:
            lines.append(self.replay_note)
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
                "threads_left": self.threads_left, "oopsed": self.oopsed,
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
        self.cov: Any = None                # the run's coverage.Coverage, once recording

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
        cov = (f"{len(self.cov.hit & coverage.POINTS.keys())}/{len(coverage.POINTS)} "
               "points " if self.cov is not None else "")
        line = (f"\r{now:6.1f}s {rate:9,.0f} ops/s {state.churn.rounds:6} agings "
                f"max_seq [{seqs}] {cov}{len(found)} violations ")
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
    config = _config(args)
    if args.jobs > 1:
        report = stress_jobs(args, config)
    else:
        report = stress_report(args, variant, config, _Progress(not args.no_progress))
    print(report.render())
    if args.json_path:
        from .cli import EXIT_INTERNAL, _write_json
        if _write_json(report, args.json_path) != EXIT_OK:
            return EXIT_INTERNAL
    return report.exit_code


def _config(args: argparse.Namespace) -> dict[str, Any]:
    try:
        return churn.parse_config(args.config)
    except ValueError as e:
        from .cli import UsageError
        raise UsageError(str(e)) from None


def stress_report(args: argparse.Namespace, variant: Any, config: dict[str, Any],
                  progress: "_Progress") -> StressReport:
    """One stress run as ``args`` says, its finds searched for again: its report."""
    cfg = churn.ChurnConfig(duration=args.duration, walkers=args.walkers, tasks=args.tasks,
                            memcgs=args.memcgs, nodes=args.nodes, seed=args.seed,
                            lifecycle=args.lifecycle,
                            noise=args.noise, checks=not args.no_checks, config=config,
                            memcg_cycles=args.memcg_cycles, debugfs=not args.no_debugfs)
    with coverage.recording() as cov:
        progress.cov = cov
        if variant is not None:
            with variant.applied():
                state = _run(cfg, progress)
        else:
            state = _run(cfg, progress)
    progress(state)                         # the first-seen times of late violations
    findings = distinct(state.violations, state.churn.world.config, progress.seen)
    note = ""
    if not args.no_replay and not state.interrupted:
        note = replay_finds(state, findings, args, variant)
    elif state.interrupted and any(f.label.kind == "new" for f in findings):
        note = "stress finds not searched for again: the run was interrupted"
    report = StressReport(
        args={k: getattr(args, k) for k in ("duration", "walkers", "tasks", "memcgs", "nodes",
                                            "lifecycle", "noise", "seed", "config",
                                            "memcg_cycles", "no_debugfs")},
        variant=getattr(variant, "name", None), seconds=state.seconds,
        interrupted=state.interrupted, ops=state.counter.named(),
        lifecycle=dict(state.churn.ops), rounds=state.churn.rounds,
        checks_run=state.churn.checks_run, checks_skipped=state.churn.checks_skipped,
        checks=cfg.checks,
        noise_events=state.engine.noise_events, max_seq=state.max_seqs(),
        threads_left=[n for n in state.threads if n not in state.finished],
        oopsed=state.oopsed,
        findings=findings, strict=args.strict, coverage=sorted(cov.hit), replay_note=note)
    return report


def stress_jobs(args: argparse.Namespace, config: dict[str, Any]) -> StressReport:
    """``--jobs N``: N stress runs at once, in worker processes (``mmlist.parallel``), on
    seeds seed..seed+N-1, each searching its own finds again; merged into one report: counts
    summed, max_seq the largest, findings once (``finding_key``) with their counts summed and
    the replay file of the first job that reproduced them."""
    from .parallel import _raise_errors, run_jobs
    tasks = [{"kind": "stress", "part": (k, args.jobs), "args": args,
              "variant": getattr(args, "variant", None) or getattr(args, "mutant", None)}
             for k in range(args.jobs)]
    run = run_jobs(tasks, None)
    _raise_errors(run)
    reports = [j.result for j in run.jobs if j.result is not None]
    if not reports:
        from .cli import UsageError
        raise UsageError("stress --jobs: no job sent a report (interrupted before any ended)")
    merged = merge(reports, world_config=churn.world_config(
        churn.ChurnConfig(nodes=args.nodes, config=config)))
    merged.args["jobs"] = args.jobs
    merged.args["seeds"] = [r.args["seed"] for r in reports]
    merged.interrupted = run.interrupted or merged.interrupted
    lost = [f"job {j.k + 1}" for j in run.jobs if j.result is None]
    if lost:
        merged.replay_note = (merged.replay_note + "; " if merged.replay_note else "") + \
            f"no report from {', '.join(lost)} (interrupted)"
    return merged


def merge(reports: list[StressReport], world_config: Any) -> StressReport:
    """One report of several runs (``--jobs``)."""
    first = reports[0]
    out = StressReport(args=dict(first.args), variant=first.variant,
                       seconds=max(r.seconds for r in reports),
                       interrupted=any(r.interrupted for r in reports), ops={}, lifecycle={},
                       rounds=0, checks_run=0, checks_skipped=0, checks=first.checks,
                       noise_events=0, max_seq={}, threads_left=[], strict=first.strict)
    found: dict[tuple, Distinct] = {}
    for r in reports:
        for part, whole in ((r.ops, out.ops), (r.lifecycle, out.lifecycle)):
            for k, n in part.items():
                whole[k] = whole.get(k, 0) + n
        out.rounds += r.rounds
        out.checks_run += r.checks_run
        out.checks_skipped += r.checks_skipped
        out.noise_events += r.noise_events
        for k, s in r.max_seq.items():
            out.max_seq[k] = max(s, out.max_seq.get(k, 0))
        out.threads_left += [f"{t} (seed {r.args['seed']})" for t in r.threads_left]
        out.oopsed += [f"{t} (seed {r.args['seed']})" for t in r.oopsed]
        out.coverage = sorted(set(out.coverage) | set(r.coverage))
        notes = [n for n in (out.replay_note, r.replay_note) if n]
        out.replay_note = "; ".join(dict.fromkeys(notes))
        for f in r.findings:
            f.label = classify(f.violation, world_config)
            key = finding_key(f.violation, world_config)
            d = found.get(key)
            if d is None:
                found[key] = f
                continue
            d.count += f.count
            d.first_seconds = min(d.first_seconds, f.first_seconds)
            if f.replay is not None and f.replay.reproduced and not (
                    d.replay is not None and d.replay.reproduced):
                d.replay = f.replay
    out.findings = list(found.values())
    return out


def replay_finds(state: churn.RunState, findings: list[Distinct], args: argparse.Namespace,
                 variant: Any) -> str:
    """Search for each new find (and known ones with ``--replay-known``) under the controlled
    scheduler and write its replay file (``mmlist.stress_replay``). A Ctrl-C stops the
    search; what was written stays, and the note says what was not searched for."""
    from . import runtime as rt
    from .errors import SetupError
    from .stress_replay import Reproduction, reproduce
    from .sched.suite import variant_applied
    kinds = ("new", "known") if args.replay_known else ("new",)
    # one search per (check, function, registry entry): the distinct violations that share
    # them (other threads, other mms) are most often the same bug seen again
    todo: dict[tuple, Distinct] = {}
    for f in sorted(findings, key=lambda f: f.first_seconds):
        if f.label.kind in kinds:
            todo.setdefault((f.violation.check, f.violation.function, f.label.id), f)
    if not state.churn.cfg.checks:
        return ("stress finds not searched for again: checks off (--no-checks): the "
                "controlled scheduler judges by the checks") if todo else ""
    deadline = time.monotonic() + max(REPLAY_SECONDS, args.duration)
    for i, f in enumerate(todo.values()):
        name = f"stress-{f.violation.check}-{f.violation.function or 'any'}-seed{args.seed}"
        try:
            with variant_applied(variant):
                f.replay = reproduce(state, f.violation, budget=args.replay_budget,
                                     out_dir=args.out, variant=variant, name=name,
                                     deadline=deadline)
        except (SetupError, rt.KernelPanic) as e:
            # the history did not replay serially (an operation that oopses or hangs alone)
            f.replay = Reproduction(f.violation, False,
                                    reason=f"its set-up did not run: {_one_line(str(e), 200)}")
        except KeyboardInterrupt:
            return (f"interrupted while searching for stress finds again: {len(todo) - i} of "
                    f"{len(todo)} not searched for")
    return ""


def _run(cfg: churn.ChurnConfig, progress: _Progress) -> churn.RunState:
    state = churn.start(cfg)
    try:
        return churn.run(state, on_tick=progress)
    finally:
        progress.done()
