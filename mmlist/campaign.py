"""``mmlist campaign FILE``: hunt and stress tasks on a Dask cluster, merged into one report.

A campaign file (TOML, ``stress/campaigns/``) is a list of tasks, each the flags of ``mmlist
hunt`` or ``mmlist stress`` written as TOML keys. A hunt task's ``seeds`` and ``strategies``
(lists) expand into one unit per (strategy, seed); a stress task's ``seeds`` into one unit per
seed. Every unit's flags are checked on load by the commands' own parser, so a bad file is one
error line and exit 2 before anything is submitted.

Each unit is one ``client.submit(run_unit, ..., retries=2, pure=False)``: Dask places it,
runs it again on another worker if its worker is lost (the scheduler's ``allowed-failures``)
and again if an exception escapes it (``retries``); nothing here schedules. A unit runs
in a worker process (threads_per_worker=1 for a local cluster: a search patches the model
process-wide and wants its GIL) and returns a JSON-ready dict: its report, its exit code, and
the contents of the replay files it wrote in the worker's temporary directory, so the parent
writes them under ``--out`` even when the worker is on another machine.

The merged report (``--out/campaign.json``, and ``--json``) lists every unit with its verdict
and exit code, and every finding once, merged as ``hunt`` merges them (``finding_key``: the
registry entry, or a new violation's ``Violation.key``), counts summed, with the units that saw
it and their replay files; ``--out/summary.md`` says the same in markdown. Exit code: 1 if a
unit found a new violation, else 4 if a unit failed inside mmlist or its worker was lost, else
2 if a unit's input was bad, else 3 if only known findings and benign judgements, else 0.
Ctrl-C cancels the units not yet finished and still writes the report of those that finished.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import re
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from typing import Any

from .files import write_json_atomic
from .hunt import EXIT_INTERNAL, EXIT_KNOWN, EXIT_NEW, EXIT_OK, EXIT_USAGE

SCHEMA_VERSION = 1
NEEDS_DASK = "mmlist campaign needs the dask extra: pip install -e '.[dask]'"
#: how often Dask runs a unit again after an exception escaped it (a lost worker: the
#: scheduler's ``distributed.scheduler.allowed-failures``)
RETRIES = 2

#: the TOML keys of a task of each kind (besides name and kind), as the command's flags; the
#: plural forms expand into units
_KEYS = {
    "hunt": {"scenarios", "strategy", "strategies", "seed", "seeds", "budget", "variant",
             "mutant", "strict", "every_access", "no_structural", "watchdog",
             "stop_at_first"},
    "stress": {"duration", "walkers", "tasks", "lifecycle", "memcgs", "nodes", "noise", "seed",
               "seeds", "variant", "mutant", "strict", "no_checks", "config", "no_replay",
               "replay_known", "replay_budget", "memcg_cycles", "no_debugfs"},
}
_BOOLS = {"strict", "every_access", "no_structural", "stop_at_first", "no_checks",
          "no_replay", "replay_known", "no_debugfs"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


# --- the campaign file -----------------------------------------------------------------------------

@dataclass
class Unit:
    """One Dask task: a task of the file at one (strategy, seed); ``argv`` is the command line
    of ``mmlist hunt`` or ``mmlist stress`` it runs (without outputs)."""

    id: str
    task: str
    kind: str
    argv: list[str]


@dataclass
class Campaign:
    name: str
    description: str
    path: str
    units: list[Unit] = field(default_factory=list)


def _usage(message: str) -> Exception:
    from .cli import UsageError
    return UsageError(message)


def load(path: str) -> Campaign:
    """Read and check a campaign file; a bad one raises ``cli.UsageError`` (one line)."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as e:
        raise _usage(f"campaign {path}: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise _usage(f"campaign {path}: not valid TOML: {e}") from None
    extra = set(data) - {"name", "description", "task"}
    if extra:
        raise _usage(f"campaign {path}: unknown key(s) {', '.join(sorted(extra))} (expected "
                     f"name, description and [[task]] tables)")
    tasks = data.get("task")
    if not isinstance(tasks, list) or not tasks or not all(isinstance(t, dict) for t in tasks):
        raise _usage(f"campaign {path}: no [[task]] tables")
    name = data.get("name", os.path.splitext(os.path.basename(path))[0])
    camp = Campaign(str(name), str(data.get("description", "")), path)
    seen: set[str] = set()
    for i, task in enumerate(tasks):
        where = f"campaign {path}: task {task.get('name', i + 1)!r}"
        units = _task_units(task, where)
        if task["name"] in seen:
            raise _usage(f"{where}: a second task of that name")
        seen.add(task["name"])
        camp.units.extend(units)
    return camp


def _task_units(task: dict[str, Any], where: str) -> list[Unit]:
    """The units of one ``[[task]]`` table, each checked by the command's parser."""
    name, kind = task.get("name"), task.get("kind")
    if not isinstance(name, str) or not _NAME.match(name):
        raise _usage(f"{where}: 'name' must be a word of letters, digits, '_', '.', '-'")
    if kind not in _KEYS:
        raise _usage(f"{where}: 'kind' must be \"hunt\" or \"stress\", got {kind!r}")
    keys = set(task) - {"name", "kind"}
    unknown = keys - _KEYS[kind]
    if unknown:
        raise _usage(f"{where}: unknown key(s) for a {kind} task: {', '.join(sorted(unknown))} "
                     f"(allowed: {', '.join(sorted(_KEYS[kind]))})")
    for single, plural in (("seed", "seeds"), ("strategy", "strategies")):
        if single in task and plural in task:
            raise _usage(f"{where}: give {single!r} or {plural!r}, not both")
    seeds = _list(task, "seeds", "seed", 0, int, where)
    strategies = _list(task, "strategies", "strategy", "portfolio", str, where) \
        if kind == "hunt" else [None]
    flags = _flags(task, where)
    units = []
    for strategy in strategies:
        for seed in seeds:
            argv = [kind] + flags + ["--seed", str(seed)]
            uid = f"{name}-s{seed}"
            if strategy is not None:
                argv += ["--strategy", strategy]
                uid = f"{name}-{strategy}-s{seed}"
            _check_argv(argv, where)
            units.append(Unit(uid, name, kind, argv))
    return units


def _list(task: dict[str, Any], plural: str, single: str, default: Any, typ: type,
          where: str) -> list[Any]:
    values = task[plural] if plural in task else [task.get(single, default)]
    if not isinstance(values, list) or not values:
        raise _usage(f"{where}: {plural!r} must be a non-empty list")
    for v in values:
        # bool is an int in Python; a seed of `true` is a mistake in the file
        if not isinstance(v, typ) or isinstance(v, bool):
            raise _usage(f"{where}: {single} {v!r} must be a{'n integer' if typ is int else ' string'}")
    return list(dict.fromkeys(values))


def _flags(task: dict[str, Any], where: str) -> list[str]:
    """The task's other keys as command-line flags (``every_access`` -> ``--every-access``)."""
    out: list[str] = []
    for key, value in task.items():
        if key in ("name", "kind", "seed", "seeds", "strategy", "strategies"):
            continue
        flag = "--" + key.replace("_", "-")
        if key in _BOOLS:
            if not isinstance(value, bool):
                raise _usage(f"{where}: {key!r} must be true or false")
            out += [flag] if value else []
        elif key == "scenarios":
            if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
                raise _usage(f"{where}: 'scenarios' must be a list of scenario names")
            for s in value:
                out += ["--scenario", s]
        elif key == "config":
            if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
                raise _usage(f"{where}: 'config' must be a list of \"KEY=VALUE\" strings")
            for s in value:
                out += ["--config", s]
        elif isinstance(value, (int, float, str)) and not isinstance(value, bool):
            out += [flag, str(value)]
        else:
            raise _usage(f"{where}: {key!r} must be a number or a string")
    return out


def _check_argv(argv: list[str], where: str) -> argparse.Namespace:
    """Parse ``argv`` with mmlist's own parser and check names a run would reject late."""
    from .cli import UsageError, _scenarios, _variant, build_parser
    try:
        ns = build_parser().parse_args(argv)
        if ns.cmd == "hunt":
            _scenarios(ns.scenario)
        _variant(ns)
    except UsageError as e:
        raise _usage(f"{where}: {e}") from None
    return ns


# --- a unit, in a worker process ---------------------------------------------------------------------

def run_unit(unit: dict[str, Any], out_dir: str) -> dict[str, Any]:
    """Run one unit (in a Dask worker); its JSON-ready result. Replay files are written in a
    temporary directory and returned as text, their paths in the report rewritten to where the
    parent writes them (``out_dir``: the unit's directory under the parent's ``--out``)."""
    import socket
    import traceback
    from .errors import SetupError
    t0 = time.monotonic()
    base = {"id": unit["id"], "task": unit["task"], "kind": unit["kind"],
            "argv": unit["argv"], "host": socket.gethostname(), "pid": os.getpid()}
    with tempfile.TemporaryDirectory(prefix="mmlist-campaign-") as tmp:
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # the table is in the report
                report = _run_command(unit["argv"], tmp)
        except (SetupError, _usage_type()) as e:
            return {**base, "exit_code": EXIT_USAGE, "error": str(e), "report": None,
                    "files": {}, "seconds": time.monotonic() - t0}
        except Exception as e:          # noqa: BLE001 - told to the parent, never lost
            return {**base, "exit_code": EXIT_INTERNAL, "report": None, "files": {},
                    "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(),
                    "seconds": time.monotonic() - t0}
        files = _collect(tmp)
        report = _rewrite(report, tmp, out_dir)
    return {**base, "exit_code": report["exit_code"], "error": None, "report": report,
            "files": files, "seconds": time.monotonic() - t0}


def _usage_type() -> type:
    from .cli import UsageError
    return UsageError


def _run_command(argv: list[str], tmp: str) -> dict[str, Any]:
    """``mmlist hunt`` or ``mmlist stress`` as ``argv`` says, outputs in ``tmp``; its report
    as a dict."""
    from .cli import _scenarios, _variant, build_parser
    ns = build_parser().parse_args(argv + ["--no-progress"])
    if ns.cmd == "hunt":
        from .hunt import hunt
        rep = hunt(_scenarios(ns.scenario), budget=ns.budget, strategy=ns.strategy,
                   seed=ns.seed, variant=_variant(ns), out_dir=os.path.join(tmp, "replays"),
                   structural=not ns.no_structural, strict=ns.strict,
                   every_access=ns.every_access, watchdog=ns.watchdog,
                   stop_at_first=ns.stop_at_first)
        return rep.to_dict()
    from .stress_cmd import run
    ns.json_path = os.path.join(tmp, "stress.json")
    ns.out = os.path.join(tmp, "replays")
    run(ns)
    with open(ns.json_path) as fh:
        data = json.load(fh)
    os.unlink(ns.json_path)             # the report travels as the result, not as a file
    return data


def _collect(tmp: str) -> dict[str, str]:
    """Every file under ``tmp`` (the replay files), by path relative to it."""
    files = {}
    for root, _dirs, names in os.walk(tmp):
        for n in names:
            path = os.path.join(root, n)
            with open(path, encoding="utf-8", errors="replace") as fh:
                files[os.path.relpath(path, tmp)] = fh.read()
    return files


def _rewrite(value: Any, old: str, new: str) -> Any:
    """``value`` with every ``old`` directory in its strings replaced by ``new``."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [_rewrite(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _rewrite(v, old, new) for k, v in value.items()}
    return value


# --- the parent ----------------------------------------------------------------------------------------

@dataclass
class Outcome:
    """What the cluster gave: each finished unit's result, and what did not finish."""

    results: list[dict[str, Any]] = field(default_factory=list)
    not_finished: list[str] = field(default_factory=list)
    interrupted: bool = False


def _client(scheduler: str | None, local: int) -> tuple[Any, Any, str]:
    """A Dask client (and the local cluster it owns, or None), and how to name it."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise _usage(NEEDS_DASK) from None
    if scheduler:
        try:
            return Client(scheduler, timeout="10s"), None, f"scheduler {scheduler}"
        except (OSError, TimeoutError) as e:
            raise _usage(f"cannot reach the Dask scheduler {scheduler}: {e}") from None
    # processes: each unit needs its own interpreter (its own GIL, a process-wide variant
    # patch); no dashboard: a campaign needs no port of its own; the workers' warnings (a
    # task cancelled at Ctrl-C, a worker killed at close) would bury the report: errors only
    cluster = LocalCluster(n_workers=local, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)
    return Client(cluster), cluster, f"a local Dask cluster of {local} worker processes"


def _submit_all(client: Any, camp: Campaign, out: str) -> Outcome:
    """Submit every unit, gather results as they finish; Ctrl-C cancels the rest."""
    from dask.distributed import as_completed
    futures = {client.submit(run_unit, {"id": u.id, "task": u.task, "kind": u.kind,
                                        "argv": u.argv},
                             os.path.abspath(os.path.join(out, "units", u.id)),
                             retries=RETRIES, pure=False): u for u in camp.units}
    outcome = Outcome()
    done: set[str] = set()
    try:
        for fut in as_completed(list(futures)):
            res = _result(fut, futures[fut])
            done.add(res["id"])
            outcome.results.append(res)
            print(f"[{len(done)}/{len(futures)}] {res['id']}: exit {res['exit_code']}: "
                  f"{_verdict(res)}", flush=True)
    except KeyboardInterrupt:
        outcome.interrupted = True
        client.cancel([f for f, u in futures.items() if u.id not in done])
    outcome.not_finished = [u.id for u in camp.units if u.id not in done]
    return outcome


def _result(fut: Any, unit: Unit) -> dict[str, Any]:
    """A unit's result; one Dask gave up on (``KilledWorker``: its workers kept dying) is an
    internal error."""
    try:
        return fut.result()
    except Exception as e:              # noqa: BLE001 - KilledWorker and the like
        return {"id": unit.id, "task": unit.task, "kind": unit.kind, "argv": unit.argv,
                "exit_code": EXIT_INTERNAL, "report": None, "files": {}, "seconds": None,
                "error": f"{type(e).__name__}: {e} (Dask gave up on it)"}


def _verdict(res: dict[str, Any]) -> str:
    """One line: the hunt's verdict line, the stress's counts, or the error."""
    if res.get("error"):
        return f"error: {res['error']}"
    rep = res["report"]
    if res["kind"] == "hunt":
        return (rep.get("verdict") or "").removeprefix("verdict: ") or "-"
    c = rep["counts"]
    return (f"{c['new']} new, {c['known']} known, {c['benign']} benign violation(s)"
            if rep["findings"] else "no violation")


def _write_files(out: str, res: dict[str, Any]) -> list[str]:
    """Write a unit's replay files and report under ``out/units/ID``; the replay paths."""
    udir = os.path.join(out, "units", res["id"])
    paths = []
    for rel, text in sorted(res.get("files", {}).items()):
        path = os.path.join(udir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as fh:
            fh.write(text)
        paths.append(os.path.abspath(path))
    if res.get("traceback"):            # mmlist's own failure in the worker: exit 4
        os.makedirs(udir, exist_ok=True)
        with open(os.path.join(udir, "error.log"), "w") as fh:
            fh.write(res["traceback"])
    if res.get("report") is not None:
        write_json_atomic(os.path.join(udir, "report.json"), res["report"],
                          prefix=".mmlist-unit-")
    return paths


def _key(finding: dict[str, Any]) -> str:
    """``findings.finding_key`` from a report's finding: its registry entry, else the
    violation's meaning (``Violation.key``); a string, as JSON keys must be."""
    from .violation import Violation
    if finding.get("finding_id"):
        return repr(("registry", finding["finding_id"]))
    v = dict(finding["violation"])
    v.pop("trace", None)
    try:
        return repr(("new",) + Violation.from_dict(v).key)
    except (ValueError, TypeError):     # another schema: its own words, still merged once
        return repr(("new", v.get("check"), v.get("function"), v.get("condition"),
                     v.get("message")))


def merge_findings(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every finding of the units once (by ``_key``), counts summed, with the units that saw
    it and their replay files."""
    merged: dict[str, dict[str, Any]] = {}
    for res in results:
        for f in (res.get("report") or {}).get("findings", []):
            key = _key(f)
            v = f["violation"]
            m = merged.setdefault(key, {
                "key": key, "label": f["label"], "finding_id": f.get("finding_id"),
                "check": v["check"], "function": v.get("function"),
                "message": " ".join(str(v.get("message", "")).split())[:300],
                "scenario": f.get("scenario"), "count": 0, "units": [], "replays": []})
            m["count"] += int(f.get("count", 1))
            if res["id"] not in m["units"]:
                m["units"].append(res["id"])
            for p in [f.get("replay")] + [a.get("replay") for a in f.get("also", [])]:
                if p and p not in m["replays"]:
                    m["replays"].append(p)
    order = {"new": 0, "known": 1, "benign": 2}
    return sorted(merged.values(), key=lambda m: (order.get(m["label"], 3), -m["count"]))


def exit_code(results: list[dict[str, Any]]) -> int:
    """The campaign's: 1 a new violation; else 4 mmlist failed (or a worker was lost); else
    2 bad input; else 3 only known findings and benign judgements; else 0."""
    codes = {r["exit_code"] for r in results}
    for code in (EXIT_NEW, EXIT_INTERNAL, EXIT_USAGE, EXIT_KNOWN):
        if code in codes:
            return code
    return EXIT_OK


def report(camp: Campaign, outcome: Outcome, cluster: str, seconds: float) -> dict[str, Any]:
    """The merged, JSON-ready report of a campaign."""
    by_id = {r["id"]: r for r in outcome.results}
    units = []
    for u in camp.units:
        r = by_id.get(u.id)
        row: dict[str, Any] = {"id": u.id, "task": u.task, "kind": u.kind,
                               "command": "mmlist " + " ".join(u.argv)}
        if r is None:
            row.update(exit_code=None, verdict="not finished (interrupted)")
        else:
            rep = r.get("report") or {}
            row.update(exit_code=r["exit_code"], verdict=_verdict(r), error=r.get("error"),
                       seconds=None if r.get("seconds") is None else round(r["seconds"], 3),
                       host=r.get("host"), counts=rep.get("counts"),
                       replays=r.get("replays", []),
                       report=os.path.join(r["dir"], "report.json") if rep else None)
        units.append(row)
    return {"schema_version": SCHEMA_VERSION, "command": "campaign", "campaign": camp.name,
            "description": camp.description, "file": camp.path, "cluster": cluster,
            "seconds": round(seconds, 3), "interrupted": outcome.interrupted,
            "exit_code": exit_code(outcome.results), "units": units,
            "not_finished": outcome.not_finished,
            "findings": merge_findings(outcome.results)}


_EXIT_TEXT = {EXIT_OK: "nothing found", EXIT_NEW: "violations that no registry entry explains",
              EXIT_USAGE: "a unit's input was bad", EXIT_KNOWN:
              "only known findings and benign judgements", EXIT_INTERNAL:
              "a unit failed inside mmlist or lost its worker"}


def summary(rep: dict[str, Any]) -> str:
    """The merged report as markdown (``--out/summary.md``)."""
    lines = [f"# Campaign {rep['campaign']}", ""]
    if rep["description"]:
        lines += [rep["description"], ""]
    done = [u for u in rep["units"] if u["exit_code"] is not None]
    lines += [f"{len(done)} of {len(rep['units'])} unit(s) finished on {rep['cluster']} in "
              f"{rep['seconds']:.1f} s" + (" (interrupted)" if rep["interrupted"] else "")
              + f"; exit status {rep['exit_code']}: {_EXIT_TEXT[rep['exit_code']]}.", "",
              "| unit | kind | exit | verdict |", "|---|---|---|---|"]
    for u in rep["units"]:
        code = "-" if u["exit_code"] is None else str(u["exit_code"])
        lines.append(f"| {u['id']} | {u['kind']} | {code} | {_md(u['verdict'])} |")
    lines += ["", f"## Findings ({len(rep['findings'])} distinct)", ""]
    if not rep["findings"]:
        lines.append("none")
    for f in rep["findings"]:
        label = f["label"].upper() + (f" {f['finding_id']}" if f["finding_id"] else "")
        where = f" in {f['function']}()" if f["function"] else ""
        lines.append(f"- **[{label}]** {f['check']}{where}: {_md(f['message'][:160])} "
                     f"({f['count']} occurrence(s) in {', '.join(f['units'])})")
        for p in f["replays"][:3]:
            lines.append(f"  - `mmlist replay {p}`")
        if len(f["replays"]) > 3:
            lines.append(f"  - and {len(f['replays']) - 3} more replay file(s)")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


# --- the command -----------------------------------------------------------------------------------------

def add_arguments(p: argparse.ArgumentParser) -> None:
    from .cli import _positive_int
    p.add_argument("file", help="a campaign file (TOML; see stress/campaigns/)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="a Dask scheduler (tcp://host:8786) whose workers have mmlist")
    where.add_argument("--local", type=_positive_int, default=2, metavar="N",
                       help="a local Dask cluster of N worker processes (default 2)")
    p.add_argument("--out", default="campaign-out",
                   help="directory for the merged report, summary.md and every unit's report "
                        "and replay files (default campaign-out)")
    p.add_argument("--json", dest="json_path", help="also write the merged report here")


def run(args: argparse.Namespace) -> int:
    """The ``campaign`` command."""
    from .cli import _check_outputs
    import importlib
    try:        # before the file is read: without the extra nothing else matters
        importlib.import_module("dask.distributed")
    except ImportError:
        raise _usage(NEEDS_DASK) from None
    camp = load(args.file)
    _check_outputs(args)
    print(f"campaign {camp.name}: {len(camp.units)} unit(s)", flush=True)
    t0 = time.monotonic()
    client, cluster, where = _client(args.scheduler, args.local)
    os.makedirs(args.out, exist_ok=True)        # once there is a cluster to run on
    try:
        outcome = _submit_all(client, camp, args.out)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    for res in outcome.results:
        res["dir"] = os.path.abspath(os.path.join(args.out, "units", res["id"]))
        res["replays"] = _write_files(args.out, res)
    rep = report(camp, outcome, where, time.monotonic() - t0)
    return _write_outputs(rep, args)


def _write_outputs(rep: dict[str, Any], args: argparse.Namespace) -> int:
    text = summary(rep)
    print(text)
    try:
        write_json_atomic(os.path.join(args.out, "campaign.json"), rep,
                          prefix=".mmlist-campaign-")
        if args.json_path:
            write_json_atomic(args.json_path, rep, prefix=".mmlist-campaign-")
        with open(os.path.join(args.out, "summary.md"), "w") as fh:
            fh.write(text)
    except OSError as e:
        print(f"mmlist: internal error: cannot write the campaign's report: {e}",
              file=sys.stderr)
        return EXIT_INTERNAL
    print(f"report written to {os.path.join(args.out, 'campaign.json')}"
          + (f" and {args.json_path}" if args.json_path else ""))
    return rep["exit_code"]
