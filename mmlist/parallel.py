"""``--jobs N``: a hunt or a check in N worker processes, merged into one report.

Processes, not threads: a search runs the model's real threads under one controller, so jobs
in threads would share one GIL (and one process-wide variant patch). Workers are started with
``forkserver`` (the model preloaded) where the platform has it, else ``spawn``; never a plain
``fork`` of a process whose scheduler threads may hold locks.

The split depends only on the scenarios, their order and N (never on timing):

* ``hunt``: with at least N scenarios, job k hunts the scenarios k, k+N, k+2N... (its own hunt,
  with the whole budget); with fewer, job k searches scenario ``k % S`` as part ``k // S`` of
  the jobs that share it (``part_strategy``): the DFS member explores its part of the tree
  (``DFS.partition``: the branches at the tree's first choice points dealt round-robin), the
  random and PCT members run on seed + part.
* ``check``: job k runs part k of N of the one search: the DFS's part of the tree, seed + k for
  a randomised strategy; ``--max-executions`` is divided among the parts.

Merging keeps the verdict semantics of one process: a scenario (a check's search) is "passed"
only when every part of it passed (together the DFS's parts cover its tree, see
``mmlist/sched/strategies/dfs.py``), "failed" when a part failed, else "inconclusive" with each
part's reason; executions, cut-offs, slices and distinct interleavings are summed; findings are
merged by the key the one-process report uses (``finding_key``): once, counts summed, the other
replay files under ``also``. Hunt jobs write their replay files into the same ``--out``, each
name claimed exclusively (``-2``, ``-3``...); a check's are written by the parent, from the
merged search.

Ctrl-C or SIGTERM: the parent passes SIGTERM on to each job, which ends its search as
interrupted and sends what it has; the report is merged from those (a job that has not answered
within ``GRACE`` seconds, or every job at a second Ctrl-C, is killed and named in the report).
Under --stop-at-first the first job that stops at a finding makes the parent stop the others
(SIGUSR1): their searches end as "stopped early", not as interrupted.
"""
from __future__ import annotations

import os
import re
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

#: seconds the jobs get to send what they have after Ctrl-C or SIGTERM
GRACE = 20.0
#: a job sends its progress at most this often (seconds)
PROGRESS_EVERY = 0.25
#: why a job's search ended when another job stopped at its first finding
PEER_STOPPED = "stopped early: another job stopped at its first finding (--stop-at-first)"
#: the head of a failed search's reason (``sched.explore``): the parts' own counts are not the
#: merged one's
_FAILED = re.compile(r"^\d+ distinct violation\(s\)(; and )?")
_PRELOAD = ["mmlist.hunt", "mmlist.sched", "mmlist.checks", "mmlist.scenarios",
            "mmlist.variants", "mmlist.programs"]


class WorkerError(Exception):
    """A job could not run its search. ``kind``: "setup" (a scenario whose set-up cannot
    complete) or "usage" (a variant's own code failed): bad input, exit 2; "internal":
    mmlist's own error (exit 4), ``detail`` holding the job's traceback."""

    def __init__(self, message: str, kind: str = "internal", detail: str = ""):
        super().__init__(message)
        self.kind = kind
        self.detail = detail

    @property
    def usage(self) -> bool:
        return self.kind != "internal"


# --- the split -----------------------------------------------------------------------------------

def part_strategy(name: str, seed: int, k: int, n: int, bound: int | None = 2) -> Any:
    """Part ``k`` of ``n`` of the search ``make(name, seed)`` runs: its DFS (alone or in the
    portfolio) explores part k of the tree; randomised strategies and members run on seed + k."""
    from .sched.strategies import make
    from .sched.strategies.dfs import DFS
    strat = make(name, seed=seed + k, preemption_bound=bound)
    for member in getattr(strat, "members", [strat]):
        if isinstance(member, DFS):
            member.partition(k, n)
    return strat


def deal(names: list[str], jobs: int) -> list[tuple[list[str], tuple[int, int]]]:
    """Each job's scenarios and its part ``(k, n)`` of each: round-robin when there are at
    least ``jobs`` scenarios (each whole), else scenario ``k % S`` split among its jobs."""
    s = len(names)
    if s >= jobs:
        return [(names[k::jobs], (0, 1)) for k in range(jobs)]
    shares = [jobs // s + (1 if i < jobs % s else 0) for i in range(s)]
    return [([names[k % s]], (k // s, shares[k % s])) for k in range(jobs)]


def _shares(total: int | None, n: int) -> list[int | None]:
    """``--max-executions`` divided among ``n`` parts (at least one execution each)."""
    if total is None:
        return [None] * n
    return [max(1, total // n + (1 if k < total % n else 0)) for k in range(n)]


def _builtin_names(scenarios: list[Any]) -> list[str]:
    """A job looks its scenarios up by name: only built-in ones can be sent."""
    from .scenarios import BUILTIN
    for sc in scenarios:
        if BUILTIN.get(sc.name) is not sc:
            raise ValueError(f"--jobs runs built-in scenarios only (a job looks them up by "
                             f"name): {sc.name!r} is not one")
    return [sc.name for sc in scenarios]


def _variant_spec(variant: Any) -> str | None:
    """What a job loads the variant from: its file (a built-in one's too), or its name."""
    if variant is None or isinstance(variant, str):
        return variant
    return os.path.abspath(str(variant.path))


def _listing(names: list[str], most: int = 4) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _hunt_split(deals: list[tuple[list[str], tuple[int, int]]], seed: int) -> str:
    n = len(deals)
    if all(part == (0, 1) for _, part in deals):
        return (f"{n} jobs, each with the whole budget: "
                + "; ".join(f"job {k + 1}: {_listing(names)}"
                            for k, (names, _) in enumerate(deals)))
    shared: dict[str, list[int]] = {}
    for k, (names, _) in enumerate(deals):
        shared.setdefault(names[0], []).append(k + 1)
    return (f"{n} jobs, each with the whole budget: "
            + "; ".join(f"{name} in {len(ks)} parts (jobs {', '.join(map(str, ks))}: the DFS "
                        f"tree dealt at its first choices, random and PCT on seeds "
                        f"{seed}..{seed + len(ks) - 1})" if len(ks) > 1 else f"{name} (job {ks[0]})"
                        for name, ks in shared.items()))


def _check_split(strategy: str, seed: int, n: int, max_executions: int | None) -> str:
    what = []
    if strategy in ("dfs", "dfs-plain", "portfolio"):
        what.append("job k explores part k of the DFS tree (its branches at the first choice "
                    "points dealt round-robin: mmlist/sched/strategies/dfs.py)")
    if strategy in ("random", "pct", "portfolio"):
        what.append(f"the random and PCT schedules of job k use seed {seed} + k")
    if max_executions is not None:
        what.append(f"--max-executions {max_executions} divided among them")
    return f"{n} jobs: " + "; ".join(what)


# --- signals ---------------------------------------------------------------------------------------

def _signals() -> list[int]:
    return [s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGUSR1", None))
            if s is not None]


@dataclass
class _Flags:
    """What a process was told by signal. A job raises ``KeyboardInterrupt`` at the first
    SIGINT or SIGTERM (its search ends as at Ctrl-C) unless it is sending a message (``hold``:
    a message cut in the middle would leave the pipe unreadable), then right after; at SIGUSR1
    (another job's first finding), after the execution under way (``_JobProgress``: a
    counterexample being shrunk is finished first); never twice."""
    interrupted: bool = False       # SIGINT or SIGTERM: the user's, or passed on by the parent
    peer_stop: bool = False         # SIGUSR1: another job stopped at its first finding
    count: int = 0
    raised: bool = False
    hold: bool = False
    pending: bool = False


def _job_handler(flags: _Flags) -> Callable[[int, Any], None]:
    def handler(signum: int, frame: Any) -> None:
        from . import errors
        errors.signalled = True     # a real signal, not model code's KeyboardInterrupt
        flags.count += 1
        if signum == getattr(signal, "SIGUSR1", None):
            flags.peer_stop = True
            return                  # acted on between two executions
        flags.interrupted = True
        if flags.raised:
            return
        if flags.hold:
            flags.pending = True
            return
        flags.raised = True
        raise KeyboardInterrupt
    return handler


def _send(conn: Any, msg: Any, flags: _Flags) -> None:
    flags.hold = True
    try:
        conn.send(msg)
    finally:
        flags.hold = False
    if flags.pending and not flags.raised:
        flags.pending, flags.raised = False, True
        raise KeyboardInterrupt


# --- a job -------------------------------------------------------------------------------------------

class _JobProgress:
    """A hunt's progress callback in a job: its executions so far (every scenario's search),
    sent to the parent now and then. Under --stop-at-first it is called after every execution
    (``hunt``), and ends the search there when another job has stopped (``stop``)."""

    def __init__(self, conn: Any, flags: _Flags):
        self.conn, self.flags = conn, flags
        self.executions: dict[str, int] = {}
        self.last = 0.0

    def stop(self, *_: Any) -> None:
        if self.flags.peer_stop and not self.flags.raised:
            self.flags.raised = True
            raise KeyboardInterrupt

    def __call__(self, name: str, executions: int, found: int) -> None:
        self.stop()
        self.executions[name] = executions
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY:
            return
        self.last = now
        try:
            _send(self.conn, ("progress", sum(self.executions.values()), found), self.flags)
        except OSError:
            pass                        # the parent is gone: the search goes on, unseen


def _job(conn: Any, task: dict[str, Any], index: int = 0) -> None:
    """A worker process: runs ``task`` (a hunt or a check's part), sends its progress and then
    one ``("result", payload)`` or ``("error", kind, message, traceback)``. Job ``index``
    explores on CPU ``index`` of the allowed ones (``mmlist.sched.affinity``): two jobs pinned
    to one CPU would share it."""
    os.environ.setdefault("MMLIST_CPU", str(index))
    flags = _Flags()
    handler = _job_handler(flags)
    for sig in _signals():
        signal.signal(sig, handler)
    msg: Any = ("result", None)
    try:
        msg = _attempt(conn, task, flags)
    except KeyboardInterrupt:           # the one interrupt came between two searches
        pass
    for sig in _signals():
        signal.signal(sig, signal.SIG_IGN)      # from here on the result must get out whole
    try:
        try:
            conn.send(msg)
        except Exception as e:          # noqa: BLE001 - an unpicklable result is our bug
            conn.send(("error", "internal", f"a job's result could not be sent: {e}",
                       traceback.format_exc()))
    except OSError:
        pass                            # the parent is gone
    finally:
        conn.close()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(0)     # a thread the watchdog abandoned must not keep the job alive


def _attempt(conn: Any, task: dict[str, Any], flags: _Flags) -> Any:
    """``("result", payload)``, or ``("error", ...)`` for an exception the search raised."""
    from .errors import SetupError
    try:
        return ("result", _run(conn, task, flags))
    except SetupError as e:
        return ("error", "setup", str(e), "")
    except KeyboardInterrupt:
        raise
    except BaseException as e:          # noqa: BLE001 - told to the parent, never lost
        spec = task.get("variant")
        if spec and isinstance(e, Exception):
            from .cli import _in_variant
            if _in_variant(e, spec):
                return ("error", "usage", f"variant {spec} failed: {type(e).__name__}: {e}",
                        "")
        return ("error", "internal", f"{type(e).__name__}: {e}", traceback.format_exc())


def _run(conn: Any, task: dict[str, Any], flags: _Flags) -> Any:
    from .scenarios import BUILTIN
    variant = None
    if task.get("variant"):
        from .variants import load_variant
        variant = load_variant(task["variant"])
    k, n = task["part"]
    if task["kind"] == "stress":
        return _stress(task, k, variant)
    if task["kind"] == "hunt":
        from .hunt import hunt
        rep = hunt([BUILTIN[name] for name in task["scenarios"]], variant=variant,
                   on_progress=_JobProgress(conn, flags), part=(k, n), **task["args"])
        if flags.peer_stop and not flags.interrupted:
            _peer_stopped(rep)
        for f in rep.findings:
            f.label = None      # a registry entry may hold a lambda: the parent labels again
        return rep
    from .hunt import check_search
    args = dict(task["args"])
    strat = part_strategy(args.pop("strategy"), args["seed"], k, n, args["bound"])
    args["seed"] += k
    r, hit, stopped = check_search(BUILTIN[task["scenario"]], strategy=strat, variant=variant,
                                   on_progress=_JobProgress(conn, flags).stop, **args)
    if flags.peer_stop and not flags.interrupted and r.interrupted and not stopped:
        r.interrupted, r.verdict_reason = False, PEER_STOPPED
    return {"report": r, "coverage": hit, "stopped": stopped}


def _stress(task: dict[str, Any], k: int, variant: Any) -> Any:
    """Job k of ``stress --jobs``: a stress run on seed + k; its report, without what does not
    travel (registry labels hold lambdas: the parent labels again; the shrunk failures)."""
    import copy
    from .stress_cmd import _config, stress_report, _Progress
    args = copy.copy(task["args"])
    args.seed += k
    rep = stress_report(args, variant, _config(args), _Progress(False))
    for f in rep.findings:
        f.label = None
        if f.replay is not None:
            f.replay.failure = None
    return rep


def _peer_stopped(rep: Any) -> None:
    """A hunt that another job's first finding stopped: not interrupted, stopped early."""
    rep.interrupted = False
    for r in rep.results:
        if r.interrupted:
            r.interrupted, r.reason = False, PEER_STOPPED


# --- the parent ------------------------------------------------------------------------------------

@dataclass
class _Running:
    k: int
    proc: Any
    conn: Any
    result: Any = None
    error: WorkerError | None = None
    progress: tuple[int, int] = (0, 0)


@dataclass
class _Run:
    """What the jobs gave: each job's payload (None: none), and what happened to the run."""
    jobs: list[_Running] = field(default_factory=list)
    interrupted: bool = False
    stopping: bool = False
    #: a line per job that ended without a result (killed, died while the run was ending)
    lost: list[str] = field(default_factory=list)


def mp_context(preload: list[str] = _PRELOAD) -> Any:
    """The multiprocessing context of mmlist's worker processes: ``forkserver`` with
    ``preload`` imported once where the platform has it, else ``spawn``; never a plain fork of
    a process whose scheduler threads may hold locks."""
    import multiprocessing as mp
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(preload)
        return ctx
    return mp.get_context("spawn")


def _signal(jobs: list[_Running], sig: int) -> None:
    for j in jobs:
        if j.conn is not None and j.proc.is_alive():
            try:
                os.kill(j.proc.pid, sig)
            except OSError:
                pass                    # it ended meanwhile


def run_jobs(tasks: list[dict[str, Any]], on_progress: Callable[[str, int, int], None] | None,
             stops: Callable[[Any], bool] | None = None) -> _Run:
    """Run one job per task and collect what each sends. ``stops(payload)``: whether that job
    stopped at its first finding (--stop-at-first): the others are then stopped too. Ctrl-C
    and SIGTERM are passed on to the jobs (see the module doc); the run is marked interrupted."""
    import threading
    flags = _Flags()
    main = threading.current_thread() is threading.main_thread()
    old = {}
    if main:
        def handler(signum: int, frame: Any) -> None:
            flags.count += 1            # dealt with by the loop below, between two messages
        old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    run = _Run()
    try:
        ctx = mp_context()
        for k, task in enumerate(tasks):
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_job, args=(send, task, k), daemon=True,
                               name=f"mmlist-job-{k + 1}")
            proc.start()
            send.close()
            run.jobs.append(_Running(k, proc, recv))
        _collect(run, flags, on_progress, stops)
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)
        for j in run.jobs:
            _reap(j)
    run.interrupted = run.interrupted or flags.count > 0
    return run


def _collect(run: _Run, flags: _Flags, on_progress: Callable[[str, int, int], None] | None,
             stops: Callable[[Any], bool] | None) -> None:
    from multiprocessing.connection import wait
    seen = 0
    deadline: float | None = None
    while any(j.conn is not None for j in run.jobs):
        if flags.count > seen:
            seen = flags.count
            if not run.interrupted:     # the first: every job ends its search and reports
                run.interrupted = True
                deadline = time.monotonic() + GRACE
                _signal(run.jobs, signal.SIGTERM)
            else:                       # the second: no more waiting
                _give_up(run, "killed at the second interrupt")
                return
        if deadline is not None and time.monotonic() > deadline:
            _give_up(run, f"no result within {GRACE:g}s of the interrupt: killed")
            return
        by_conn = {j.conn: j for j in run.jobs if j.conn is not None}
        for conn in wait(list(by_conn), timeout=0.2):
            _receive(run, by_conn[conn], on_progress, stops)


def _receive(run: _Run, j: _Running, on_progress: Callable[[str, int, int], None] | None,
             stops: Callable[[Any], bool] | None) -> None:
    try:
        msg = j.conn.recv()
    except (EOFError, OSError):
        j.proc.join(5)
        _close(j)
        if run.interrupted or run.stopping:
            run.lost.append(f"job {j.k + 1}: ended without a result (exit code "
                            f"{j.proc.exitcode})")
        else:
            j.error = WorkerError(f"job {j.k + 1} died without a result (exit code "
                                  f"{j.proc.exitcode})")
        return
    if msg[0] == "progress":
        j.progress = (msg[1], msg[2])
        if on_progress is not None:
            on_progress(f"{len(run.jobs)} jobs", sum(x.progress[0] for x in run.jobs),
                        sum(x.progress[1] for x in run.jobs))
        return
    _close(j)
    if msg[0] == "error":                # the run fails with it: the others need not go on
        j.error = WorkerError(msg[2], kind=msg[1], detail=msg[3])
        run.stopping = True
        _signal(run.jobs, signal.SIGTERM)
        return
    j.result = msg[1]
    if j.result is None:
        run.lost.append(f"job {j.k + 1}: interrupted before it could report")
    elif stops is not None and not run.stopping and stops(j.result):
        run.stopping = True
        if hasattr(signal, "SIGUSR1"):
            _signal(run.jobs, signal.SIGUSR1)


def _give_up(run: _Run, why: str) -> None:
    for j in run.jobs:
        if j.conn is not None:
            j.proc.kill()
            run.lost.append(f"job {j.k + 1}: {why}")
            _close(j)


def _close(j: _Running) -> None:
    if j.conn is not None:
        j.conn.close()
        j.conn = None


def _reap(j: _Running) -> None:
    _close(j)
    if j.proc.is_alive():
        j.proc.join(2)
    if j.proc.is_alive():
        j.proc.kill()
        j.proc.join(5)


def _raise_errors(run: _Run) -> None:
    """A job's own failure is the run's: bad input first (exit 2), else mmlist's (exit 4)."""
    from .errors import SetupError
    errors = [j.error for j in run.jobs if j.error is not None]
    usage = [e for e in errors if e.usage]
    if usage:
        if usage[0].kind == "setup":
            raise SetupError(str(usage[0]))     # as without --jobs
        raise usage[0]
    if errors:
        raise errors[0]


# --- hunt --------------------------------------------------------------------------------------------

def hunt_jobs(scenarios: list[Any], budget: float, jobs: int, *, strategy: str, seed: int,
              variant: Any, out_dir: str | None, structural: bool,
              on_progress: Callable[[str, int, int], None] | None, progress_interval: float,
              strict: bool, every_access: bool, watchdog: float | None,
              stop_at_first: bool) -> Any:
    """``hunt(..., jobs=N)``: the scenarios dealt to N jobs (``deal``), each job a hunt with
    the whole budget, their reports merged (``merge_hunt``)."""
    from .hunt import HuntReport, _hunt_verdict, _variant_name
    names = _builtin_names(scenarios)
    deals = deal(names, jobs)
    args = dict(budget=budget, strategy=strategy, seed=seed, out_dir=out_dir,
                structural=structural, progress_interval=progress_interval, strict=strict,
                every_access=every_access, watchdog=watchdog, stop_at_first=stop_at_first)
    spec = _variant_spec(variant)
    tasks = [{"kind": "hunt", "scenarios": mine, "part": part, "variant": spec, "args": args}
             for mine, part in deals]
    t0 = time.monotonic()
    run = run_jobs(tasks, on_progress, stops=lambda rep: rep.stopped_at_first)
    _raise_errors(run)
    report = HuntReport(title=f"mmlist hunt: {len(scenarios)} scenario(s), strategy {strategy}, "
                              f"seed {seed}, budget {budget:g}s, {jobs} jobs"
                              + (", every plain access a scheduling point" if every_access
                                 else ""),
                        variant=_variant_name(variant), strict=strict, jobs=jobs,
                        split=_hunt_split(deals, seed))
    merge_hunt(report, [(deals[j.k][1][0], j.result) for j in run.jobs], deals, scenarios)
    report.interrupted = report.interrupted or run.interrupted
    if run.lost:
        report.stopped = "\n".join(filter(None, [report.stopped] + run.lost))
    report.seconds = time.monotonic() - t0
    report.verdict_line = _hunt_verdict(report)
    return report


def merge_hunt(report: Any, reports: list[tuple[int, Any]],
               deals: list[tuple[list[str], tuple[int, int]]], scenarios: list[Any]) -> None:
    """Merge the jobs' hunt reports (``(part, report or None)`` in job order) into
    ``report``: one row per scenario (its parts summed), each finding once."""
    from .findings import classify
    planned: dict[str, int] = {}
    for mine, (_k, n) in deals:
        for name in mine:
            planned[name] = n
    rows: dict[str, list[tuple[int, Any]]] = {}
    for part, rep in reports:
        if rep is None:
            continue
        for r in rep.results:
            rows.setdefault(r.scenario, []).append((part, r))
        for key, count in rep.benign_races.items():
            report.benign_races[key] = report.benign_races.get(key, 0) + count
        report.errors.extend(e for e in rep.errors if e not in report.errors)
        report.not_run.extend(n for n in rep.not_run if n not in report.not_run)
        report.interrupted = report.interrupted or rep.interrupted
        report.stopped_at_first = report.stopped_at_first or rep.stopped_at_first
    for sc in scenarios:
        if sc.name in rows:
            report.results.append(merge_rows(rows[sc.name], planned[sc.name]))
    configs = {sc.name: sc.config for sc in scenarios}
    for _, rep in reports:
        for f in (rep.findings if rep is not None else ()):
            f.label = classify(f.violation, configs[f.scenario])    # as the job did
    report.findings = merge_findings([rep for _, rep in reports if rep is not None], configs)
    stops = []
    for _, rep in reports:
        if rep is not None and rep.stopped and rep.stopped not in stops:
            stops.append(rep.stopped)
    report.stopped = "\n".join(stops)
    # stopped first, or their job gave no result: never a quiet gap in a "passed"
    report.not_searched = [sc.name for sc in scenarios
                           if sc.name not in rows and sc.name not in report.not_run]


def merge_rows(rows: list[tuple[int, Any]], planned: int) -> Any:
    """One scenario's row from its parts' (``(part, ScenarioResult)``): "passed" only when
    all ``planned`` parts passed, "failed" when one failed; counts summed."""
    from .hunt import ScenarioResult
    if planned == 1 and len(rows) == 1:
        return rows[0][1]
    parts = [r for _, r in rows]
    missing = planned - len(parts)
    verdicts = {r.verdict for r in parts}
    verdict = ("failed" if "failed" in verdicts else
               "passed" if verdicts == {"passed"} and not missing else "inconclusive")
    reasons = [f"part {k + 1}/{planned}: {_FAILED.sub('', r.reason)}" for k, r in rows
               if r.verdict != "passed" and _FAILED.sub("", r.reason)]
    if missing:
        reasons.append(f"{missing} of its {planned} parts gave no result")
    found = [r for r in parts if r.first_seconds is not None]
    first = min(found, key=lambda r: r.first_seconds) if found else None
    bounds = [r.pct_bound for r in parts]
    pct = None
    if bounds and all(b is not None for b in bounds):
        pct = 1.0
        for b in bounds:                # independent seeds: every part must miss it
            pct *= b
    return ScenarioResult(
        parts[0].scenario, parts[0].strategy, verdict, sum(r.executions for r in parts),
        sum(r.distinct for r in parts), all(r.completed for r in parts) and not missing, pct,
        max(r.seconds for r in parts), any(r.interrupted for r in parts),
        reason="; ".join(reasons), cutoffs=sum(r.cutoffs for r in parts),
        first_execution=first.first_execution if first else None,
        first_seconds=first.first_seconds if first else None,
        coverage=sorted(set().union(*(r.coverage for r in parts))),
        slices=sum(r.slices for r in parts),
        cutoff_replay=next((r.cutoff_replay for r in parts if r.cutoff_replay), None),
        parts=planned)


def merge_findings(reports: list[Any], configs: dict[str, Any]) -> list[Any]:
    """The jobs' findings, each distinct one once (``finding_key``, as in one hunt): the first
    seen leads, the others' counts are added and their replay files listed under ``also``."""
    from .findings import finding_key
    from .hunt import _what
    groups: dict[Any, list[Any]] = {}
    for rep in reports:
        for f in rep.findings:
            groups.setdefault(finding_key(f.violation, configs[f.scenario]), []).append(f)
    merged = []
    for fs in groups.values():
        fs.sort(key=lambda f: f.first_seconds)      # stable: job order on ties
        head = fs[0]
        for other in fs[1:]:
            head.count += other.count
            head.also.append((other.scenario, other.replay_path, _what(other.violation)))
            head.also.extend(other.also)
            head.sources.extend(other.sources)
        merged.append(head)
    merged.sort(key=lambda f: f.first_seconds)
    return merged


# --- check -------------------------------------------------------------------------------------------

def check_jobs(scenario: Any, jobs: int, *, strategy: str, bound: int | None,
               max_executions: int | None, budget: float | None, seed: int, variant: Any,
               every_access: bool, watchdog: float | None, stop_at_first: bool,
               strict: bool) -> tuple[Any, set[str], str, str]:
    """``check(..., jobs=N)``: part k of the search in job k; returns the merged search
    (``merge_reports``), the coverage points reached, the --stop-at-first line, and the split."""
    (name,) = _builtin_names([scenario])
    shares = _shares(max_executions, jobs)
    spec = _variant_spec(variant)
    tasks = [{"kind": "check", "scenario": name, "part": (k, jobs), "variant": spec,
              "args": dict(strategy=strategy, bound=bound, max_executions=shares[k],
                           budget=budget, seed=seed, every_access=every_access,
                           watchdog=watchdog, stop_at_first=stop_at_first, strict=strict)}
             for k in range(jobs)]
    run = run_jobs(tasks, None, stops=lambda p: bool(p["stopped"]))
    _raise_errors(run)
    parts = [(j.k, j.result) for j in run.jobs if j.result is not None]
    space = (f"bounded search (preemption bound {bound})" if bound is not None
             else "search of every interleaving")
    r = merge_reports([(k, p["report"]) for k, p in parts], jobs, name, seed, space)
    r.interrupted = r.interrupted or run.interrupted
    if run.lost:
        r.notes.extend(run.lost)
    hit: set[str] = set().union(*(p["coverage"] for _, p in parts)) if parts else set()
    stopped = next((p["stopped"] for _, p in parts if p["stopped"]), "")
    return r, hit, stopped, _check_split(strategy, seed, jobs, max_executions)


def merge_reports(parts: list[tuple[int, Any]], n: int, scenario: str, seed: int,
                  space: str) -> Any:
    """One search's ``sched.Report`` from its ``n`` parts' (``(k, Report)``, some may be
    missing): "passed" only when all ``n`` passed; failures merged by ``Violation.key``
    (counts summed, the lowest part's counterexample kept); counts summed."""
    from .sched import Report
    reps = [r for _, r in parts]
    out = Report(scenario=scenario, strategy="; ".join(r.strategy for r in reps) or "-",
                 seed=seed, variant=reps[0].variant if reps else None)
    for attr in ("executions", "distinct_interleavings", "pruned", "cutoffs",
                 "nondeterministic", "diverged"):
        setattr(out, attr, sum(getattr(r, attr) for r in reps))
    out.completed = bool(reps) and len(reps) == n and all(r.completed for r in reps)
    out.interrupted = any(r.interrupted for r in reps)
    out.stuck = any(r.stuck for r in reps)
    out.elapsed = max((r.elapsed for r in reps), default=0.0)
    out.cutoff = next((r.cutoff for r in reps if r.cutoff is not None), None)
    if reps and all(r.outcomes is not None for r in reps):
        out.outcomes = set().union(*(r.outcomes for r in reps))
    for r in reps:
        for key, count in r.statuses.items():
            out.statuses[key] = out.statuses.get(key, 0) + count
        for key, count in r.benign_races.items():
            out.benign_races[key] = out.benign_races.get(key, 0) + count
    out.notes = [f"part {k + 1}/{n}: {note}" for k, r in parts for note in r.notes]
    out.pct_bound = _pct(reps)
    by_key: dict[Any, Any] = {}
    for r in reps:
        for f in r.failures:
            head = by_key.get(f.violation.key)
            if head is None:
                by_key[f.violation.key] = f
                out.failures.append(f)
            else:
                head.count += f.count
                head.first_seconds = min(head.first_seconds, f.first_seconds)
    out.verdict, out.verdict_reason = _merged_verdict(out, parts, n, space)
    return out


def _pct(reps: list[Any]) -> dict[str, Any] | None:
    """The parts' PCT bounds together: independent seeds, so all must miss a bug."""
    bounds = [r.pct_bound for r in reps]
    if not bounds or any(b is None for b in bounds):
        return None
    out = dict(bounds[0])
    out["runs"] = sum(b["runs"] for b in bounds)
    miss = 1.0
    for b in bounds:
        miss *= b["miss_probability"]
    out["miss_probability"] = miss
    return out


def _merged_verdict(out: Any, parts: list[tuple[int, Any]], n: int,
                    space: str) -> tuple[str, str]:
    reasons = []
    if len(parts) < n:
        reasons.append(f"{n - len(parts)} of the {n} parts gave no result")
    for k, r in parts:
        if r.verdict != "passed":
            why = _FAILED.sub("", r.verdict_reason or "")
            if why:
                reasons.append(f"part {k + 1}/{n}: {why}")
    if out.failures:
        return "failed", (f"{len(out.failures)} distinct violation(s)"
                          + ("; and " + "; ".join(reasons) if reasons else ""))
    if reasons:
        return "inconclusive", "; ".join(reasons)
    return "passed", (f"the {n} parts of the {space} completed: {out.executions} executions "
                      f"in all, none cut off, no nondeterminism")
