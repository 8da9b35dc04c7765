"""The ``mmlist`` command: hunt, check, replay, mutate, scenarios, mutants, variants, findings,
coverage, demo, stress (free-running threads on a world under churn), campaign (hunt and stress
tasks on a Dask cluster).

Exit codes (``EXIT_CODES``): 0 nothing found; 1 a violation that no registry entry explains
(``replay``: reproduced); 3 only known findings and benign judgements; 2 bad input (one line on
stderr); 4 an internal error of mmlist (one line on stderr naming a log file with the
traceback). An interrupted run still writes its report and every reproducer found so far.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from typing import Any, NoReturn

from .errors import SetupError

EXIT_OK, EXIT_FOUND, EXIT_USAGE, EXIT_KNOWN, EXIT_INTERNAL = 0, 1, 2, 3, 4

EXIT_CODES = """exit status:
  0  nothing found (check: the search passed or found nothing; replay: not reproduced)
  1  at least one violation that no findings-registry entry explains (replay: reproduced)
  2  bad input: a wrong option, an unknown scenario, a bad variant or replay file
  3  only known findings of the seed and benign judgements, all listed
     (--strict makes known findings count as failures: exit 1)
  4  internal error of mmlist: one line on stderr names a log file with the traceback"""


class UsageError(Exception):
    """Bad input: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one clear line, not a usage dump
        raise UsageError(message)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


def _bound(text: str) -> int | None:
    if text.strip().lower() in ("none", "unbounded"):
        return None
    return _non_negative_int(text)


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"must be >= 1: {text!r}")
    return value


STRATEGIES = ("portfolio", "random", "pct", "dfs", "dfs-plain")
WATCHDOG_HELP = ("a model thread that runs this long without reaching a kernel primitive (a "
                 "loop, a sleep, a plain Python lock) is reported as stuck_thread and "
                 "abandoned, and the run stops there (default 5)")
STOP_HELP = ("end at the first violation that makes the exit status 1 (like pytest -x): a new "
             "one, or a known finding under --strict; benign judgements and (without "
             "--strict) known findings do not stop it. The report, JSON and replay files are "
             "still written, and say that it stopped and where")
JOBS_HELP = {
    "hunt": ("worker processes (default 1). Each gets the whole budget; the scenarios are dealt "
             "to them round-robin, and with fewer scenarios than jobs a scenario is shared: "
             "each job searches its part of the DFS tree, its random and PCT members on seed + "
             "part. Their results are merged into one report, with the same verdicts"),
    "check": ("worker processes (default 1): the search is split into N parts (job k explores "
              "part k of the DFS tree; a randomised strategy runs seed + k), merged into one "
              "report: \"passed\" only when every part completed; --max-executions is "
              "divided among them"),
}
EVERY_ACCESS_HELP = ("make every plain access to shared state a scheduling point too (by default "
                     "only marked accesses, locks, atomics and waits are; the race check stands "
                     "for the plain ones): far more interleavings, recorded in replay files")


def build_parser() -> argparse.ArgumentParser:
    from .sched.controller import WATCHDOG
    fmt = argparse.RawDescriptionHelpFormatter
    p = _Parser(prog="mmlist", description="A model checker for the MGLRU mm_struct list "
                                           "(MGLRU v6 5/9) and its callers.",
                epilog=EXIT_CODES, formatter_class=fmt)
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)

    h = sub.add_parser("hunt", help="search every built-in scenario for violations (main job)",
                       epilog=EXIT_CODES, formatter_class=fmt)
    h.add_argument("--budget", type=_positive_float, default=40.0,
                   help="seconds in all (default 40)")
    h.add_argument("--scenario", action="append", default=None,
                   help="a built-in scenario name (repeatable); default: all")
    h.add_argument("--strategy", choices=STRATEGIES, default="portfolio")
    h.add_argument("--seed", type=_non_negative_int, default=0)
    h.add_argument("--variant", help="a built-in variant name or a path to a variant module")
    h.add_argument("--mutant", help="a built-in mutant name")
    h.add_argument("--json", dest="json_path", help="write the report as JSON here")
    h.add_argument("--out", default="mmlist-out", help="directory for replay files")
    h.add_argument("--no-progress", action="store_true", help="no progress bar")
    h.add_argument("--no-structural", action="store_true",
                   help="skip the structural checks at every step (faster)")
    h.add_argument("--strict", action="store_true",
                   help="known findings count as failures (exit 1, not 3)")
    h.add_argument("--every-access", action="store_true", help=EVERY_ACCESS_HELP)
    h.add_argument("--watchdog", type=_positive_float, default=WATCHDOG, metavar="SECONDS",
                   help=WATCHDOG_HELP)
    h.add_argument("--stop-at-first", action="store_true", help=STOP_HELP)
    h.add_argument("--jobs", type=_positive_int, default=1, metavar="N", help=JOBS_HELP["hunt"])

    c = sub.add_parser("check", help="exhaustive bounded search of one scenario",
                       epilog=EXIT_CODES, formatter_class=fmt)
    c.add_argument("--scenario", required=True)
    c.add_argument("--strategy", choices=STRATEGIES, default="dfs",
                   help="dfs: bounded DFS with a sound reduction (default); dfs-plain: no "
                        "reduction; others sample and never pass")
    c.add_argument("--preemption-bound", type=_bound, default=2,
                   help="preemptions per execution (default 2); 'none': every interleaving")
    c.add_argument("--strict", action="store_true",
                   help="known findings count as failures (exit 1, not 3)")
    c.add_argument("--max-executions", type=_positive_int, default=None)
    c.add_argument("--budget", type=_positive_float, default=None, help="seconds")
    c.add_argument("--seed", type=_non_negative_int, default=0)
    c.add_argument("--variant")
    c.add_argument("--mutant")
    c.add_argument("--json", dest="json_path")
    c.add_argument("--out", default="mmlist-out")
    c.add_argument("--every-access", action="store_true", help=EVERY_ACCESS_HELP)
    c.add_argument("--watchdog", type=_positive_float, default=WATCHDOG, metavar="SECONDS",
                   help=WATCHDOG_HELP)
    c.add_argument("--stop-at-first", action="store_true", help=STOP_HELP)
    c.add_argument("--jobs", type=_positive_int, default=1, metavar="N",
                   help=JOBS_HELP["check"])

    r = sub.add_parser("replay", help="re-run a saved counterexample",
                       epilog=EXIT_CODES, formatter_class=fmt)
    r.add_argument("file")
    r.add_argument("--variant", help="the variant file the replay was written under (a replay "
                                     "file never names code to run; its sha256 must match)")

    from .mutate import add_arguments as mutate_arguments
    mu = sub.add_parser("mutate", help="generate mutants of the model's seed functions and "
                                       "callers, hunt each, report the mutation score")
    mutate_arguments(mu)

    cv = sub.add_parser("coverage", help="run the scenarios briefly and list the coverage "
                                         "points of the protocol they never reach")
    cv.add_argument("--scenario", action="append", default=None,
                    help="a built-in scenario (repeatable); default: all")
    cv.add_argument("--executions", type=_positive_int, default=300,
                    help="executions per scenario (default 300)")
    cv.add_argument("--strategy", choices=STRATEGIES, default="portfolio")
    cv.add_argument("--seed", type=_non_negative_int, default=0)
    cv.add_argument("--variant")
    cv.add_argument("--mutant")
    cv.add_argument("--every-access", action="store_true", help=EVERY_ACCESS_HELP)

    sub.add_parser("scenarios", help="list the built-in scenarios")
    sub.add_parser("findings", help="the findings registry: known bugs of the seed and the "
                                    "behaviours it accepts")
    sub.add_parser("mutants", help="list the built-in mutants")
    sub.add_parser("variants", help="list the built-in variants")

    d = sub.add_parser("demo", help="walker and life-cycle threads on free-running threads")
    d.add_argument("--seconds", type=_positive_float, default=5.0)
    d.add_argument("--seed", type=_non_negative_int, default=0)

    from .stress_cmd import add_arguments as stress_arguments
    st = sub.add_parser("stress", help="a long-lived world under churn on free-running real "
                                       "threads, every check listening (docs/stress.md)",
                        epilog=EXIT_CODES, formatter_class=fmt)
    stress_arguments(st)

    from .campaign import add_arguments as campaign_arguments
    ca = sub.add_parser("campaign", help="hunt and stress tasks of a campaign file on a Dask "
                                         "cluster, merged into one report (docs/stress.md)",
                        epilog=EXIT_CODES, formatter_class=fmt)
    campaign_arguments(ca)
    return p


# --- helpers -------------------------------------------------------------------------------------

def _scenarios(names: list[str] | None) -> list[Any]:
    from . import scenarios as S
    if not names:
        return list(S.BUILTIN.values())
    out = []
    for n in dict.fromkeys(names):          # `--scenario X --scenario X` runs X once
        if n not in S.BUILTIN:
            raise UsageError(f"unknown scenario {n!r} (try `mmlist scenarios`)")
        out.append(S.BUILTIN[n])
    return out


def _variant(args: argparse.Namespace) -> Any:
    variant = getattr(args, "variant", None)
    mutant = getattr(args, "mutant", None)
    if variant and mutant:
        raise UsageError("give --variant or --mutant, not both")
    if not variant and not mutant:
        return None
    if variant:
        looks_like_path = variant.endswith(".py") or os.sep in variant
        if looks_like_path and not os.path.isfile(variant):
            raise UsageError(f"variant file not found: {variant}")
    from .variants import list_mutants, list_variants, load_variant
    if mutant:
        names = {m.name for m in list_mutants()}
        if mutant not in names:
            raise UsageError(f"unknown mutant {mutant!r} (try `mmlist mutants`)")
        return load_variant(mutant)
    if not looks_like_path and variant not in {v.name for v in list_variants()}:
        raise UsageError(f"unknown variant {variant!r} (try `mmlist variants`)")
    try:
        return load_variant(variant)
    except (ValueError, ImportError, SyntaxError) as e:
        raise UsageError(f"cannot load variant {variant}: {e}") from None
    except (Exception, SystemExit, KeyboardInterrupt) as e:     # its module-level code ran
        raise UsageError(f"variant {variant} failed while loading: {type(e).__name__}: "
                         f"{e}") from None


def _nearest_dir(path: str) -> str:
    """The nearest existing ancestor of ``path`` (what must let us create it)."""
    d = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(d):
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    return d


def _check_outputs(args: argparse.Namespace) -> None:
    """``--out`` and ``--json`` must be usable before a long search starts, not after it."""
    out = getattr(args, "out", None)
    if out is not None:
        if not out.strip():
            raise UsageError("--out: an empty path")
        if os.path.exists(out) and not os.path.isdir(out):
            raise UsageError(f"--out {out}: exists and is not a directory")
        where = out if os.path.isdir(out) else _nearest_dir(os.path.join(out, "x"))
        if not os.path.isdir(where):
            raise UsageError(f"--out {out}: {where} is not a directory")
        if not os.access(where, os.W_OK | os.X_OK):
            raise UsageError(f"--out {out}: {where} is not writable")
    path = getattr(args, "json_path", None)
    if path is not None:
        if not path.strip():
            raise UsageError("--json: an empty path")
        if os.path.isdir(path):
            raise UsageError(f"--json {path}: is a directory")
        if os.path.exists(path) and not os.access(path, os.W_OK):
            raise UsageError(f"--json {path}: not writable")
        where = _nearest_dir(path)
        if not os.path.isdir(where):
            raise UsageError(f"--json {path}: {where} is not a directory")
        if not os.access(where, os.W_OK | os.X_OK) and not os.path.exists(path):
            raise UsageError(f"--json {path}: {where} is not writable")


def _write_json(report: Any, path: str) -> int:
    """Write the JSON report; a failure at the end (a full disk) is exit 4, the report having
    been printed to stdout already."""
    try:
        report.write_json(path)
    except OSError as e:
        print(f"mmlist: internal error: cannot write the JSON report to {path}: {e} (the report "
              f"is printed above)", file=sys.stderr)
        return EXIT_INTERNAL
    print(f"report written to {path}")
    return EXIT_OK


class _Progress:
    """A one-line progress bar on stderr (only on a terminal unless forced)."""

    def __init__(self, total: float, enabled: bool):
        self.total = total
        self.t0 = time.monotonic()
        self.enabled = enabled and sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, label: str, executions: int, found: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < 0.1:
            return
        self.last = now
        frac = min(1.0, (now - self.t0) / self.total) if self.total else 0.0
        bar = "#" * int(frac * 30)
        sys.stderr.write(f"\r[{bar:<30}] {frac:4.0%} {label:16} {executions:6} execs "
                         f"{found} found ")
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 80 + "\r")
            sys.stderr.flush()


# --- commands ------------------------------------------------------------------------------------

def cmd_hunt(args: argparse.Namespace) -> int:
    from .hunt import hunt
    scenarios = _scenarios(args.scenario)
    _check_outputs(args)
    variant = _variant(args)
    progress = _Progress(args.budget, not args.no_progress)
    try:
        report = hunt(scenarios, budget=args.budget, strategy=args.strategy, seed=args.seed,
                      variant=variant, out_dir=args.out, structural=not args.no_structural,
                      on_progress=progress, strict=args.strict,
                      every_access=args.every_access, watchdog=args.watchdog,
                      stop_at_first=args.stop_at_first, jobs=args.jobs)
    finally:
        progress.done()
    print(report.render())
    if args.json_path and _write_json(report, args.json_path) != EXIT_OK:
        return EXIT_INTERNAL
    if report.errors:
        more = f" (and {len(report.errors) - 1} more, listed above)" if len(report.errors) > 1 else ""
        print(f"mmlist: error: {report.errors[0]}{more}", file=sys.stderr)
    return report.exit_code


def cmd_check(args: argparse.Namespace) -> int:
    from .hunt import check
    (scenario,) = _scenarios([args.scenario])
    _check_outputs(args)
    variant = _variant(args)
    report = check(scenario, strategy=args.strategy, bound=args.preemption_bound,
                   max_executions=args.max_executions, budget=args.budget, seed=args.seed,
                   variant=variant, out_dir=args.out, strict=args.strict,
                   every_access=args.every_access, watchdog=args.watchdog,
                   stop_at_first=args.stop_at_first, jobs=args.jobs)
    print(report.render())
    if args.json_path and _write_json(report, args.json_path) != EXIT_OK:
        return EXIT_INTERNAL
    return report.exit_code


def cmd_replay(args: argparse.Namespace) -> int:
    from .hunt import replay_file
    return replay_file(args.file, variant=_variant(args))


def cmd_scenarios(args: argparse.Namespace) -> int:
    from .scenarios import BUILTIN
    width = max(len(n) for n in BUILTIN)
    for name, s in BUILTIN.items():
        cfg = s.config
        tags = [f"nodes={cfg.nr_nodes}"]
        if not cfg.CONFIG_MEMCG:
            tags.append("!MEMCG")
        if cfg.PREEMPT_RT:
            tags.append("PREEMPT_RT")
        if not cfg.arch_has_hw_pte_young:
            tags.append("!hw_pte_young")
        print(f"{name:{width}}  {s.description} [{', '.join(tags)}]")
    return EXIT_OK


def cmd_mutate(args: argparse.Namespace) -> int:
    from .mutate import main_mutate
    return main_mutate(args)


def cmd_coverage(args: argparse.Namespace) -> int:
    from . import coverage
    scenarios = _scenarios(args.scenario)
    variant = _variant(args)
    per = coverage.measure(scenarios, strategy=args.strategy, seed=args.seed,
                           max_executions=args.executions, variant=variant, shrink=False,
                           every_access=args.every_access)
    print(coverage.render(per))
    union = set().union(*per.values()) if per else set()
    for p in coverage.unreached(union):
        print(f"  {p}: {coverage.POINTS[p]}")
    for p, why in coverage.UNREACHABLE.items():
        print(f"  (unreachable by design) {p}: {why}")
    return EXIT_OK


def cmd_findings(args: argparse.Namespace) -> int:
    from .findings import REGISTRY
    for e in REGISTRY:
        print(f"{e.id}  [{e.judgement}] {e.title}")
        print(f"    configuration: {e.config_text}; judged: {e.reason}")
        for sig in e.signatures:
            print(f"    recognised by: {sig.describe()}")
        if not e.signatures:
            print("    recognised by: nothing (no check fires on it; documented only)")
        if e.fix:
            print(f"    fix variant: {e.fix}")
        print(f"    {e.link}")
    return EXIT_OK


def cmd_mutants(args: argparse.Namespace) -> int:
    from .variants import list_mutants
    ms = list_mutants()
    width = max(len(m.name) for m in ms)
    for m in ms:
        how = "needs an interleaving" if m.needs_interleaving else "sequential"
        print(f"{m.name:{width}}  {m.description}  [caught by {m.expected_check} "
              f"in {m.scenario}; {how}]")
    return EXIT_OK


def cmd_variants(args: argparse.Namespace) -> int:
    from .variants import list_variants
    vs = list_variants()
    width = max(len(v.name) for v in vs)
    for v in vs:
        print(f"{v.name:{width}}  {v.description}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import demo
    try:
        demo(args.seconds, args.seed)
    except KeyboardInterrupt:                # Ctrl-C ends the demo, quietly
        print("interrupted")
    return EXIT_OK


def cmd_stress(args: argparse.Namespace) -> int:
    from .stress_cmd import run
    return run(args)


def cmd_campaign(args: argparse.Namespace) -> int:
    from .campaign import run
    return run(args)


COMMANDS = {"hunt": cmd_hunt, "check": cmd_check, "replay": cmd_replay,
            "scenarios": cmd_scenarios, "mutants": cmd_mutants, "variants": cmd_variants,
            "findings": cmd_findings, "mutate": cmd_mutate, "coverage": cmd_coverage,
            "demo": cmd_demo, "stress": cmd_stress,
            "campaign": cmd_campaign}


def _in_variant(exc: BaseException, variant: str) -> bool:
    """Whether ``exc`` was raised in the variant's own code: a frame of its file, or of a
    function a PATCH rebuilt (compiled as ``<variant NAME: function>``)."""
    import traceback
    path = os.path.abspath(variant) if variant.endswith(".py") else None
    for fs in traceback.extract_tb(exc.__traceback__):
        if fs.filename.startswith("<variant "):
            return True
        if path is not None and os.path.abspath(fs.filename) == path:
            return True
    return False


def _crash_log(exc: BaseException, detail: str = "") -> str:
    """Write the traceback of an internal error (``detail``: a job's, told by the job) to a
    log file; its path."""
    import tempfile
    import traceback
    fd, path = tempfile.mkstemp(prefix="mmlist-crash-", suffix=".log")
    with os.fdopen(fd, "w") as fh:
        fh.write(f"mmlist {' '.join(sys.argv[1:])}\n")
        fh.write(detail or "".join(traceback.format_exception(type(exc), exc,
                                                               exc.__traceback__)))
    return path


def _sigterm(signum: int, frame: Any) -> None:
    """SIGTERM (timeout, batch schedulers, CI) is a Ctrl-C; both say that they came from a
    signal (``errors.signalled``), so that one raised by model code is not taken for one."""
    from . import errors
    errors.signalled = True
    raise KeyboardInterrupt


def _setup_streams() -> None:
    """A terminal or pipe that cannot encode the table's characters gets replacements, not a
    UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="replace")    # type: ignore[union-attr]


def main(argv: list[str] | None = None) -> int:
    import signal
    import threading

    from .parallel import WorkerError
    args = None
    old_term = None
    if threading.current_thread() is threading.main_thread():
        old_term = signal.signal(signal.SIGTERM, _sigterm)
        old_int = signal.signal(signal.SIGINT, _sigterm)
    _setup_streams()
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.cmd](args)
    except UsageError as e:
        print(f"mmlist: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except SetupError as e:                 # a broken set-up (a variant's lock bug): bad input
        print(f"mmlist: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except WorkerError as e:                # a --jobs worker's failure, as the worker told it
        if e.usage:
            print(f"mmlist: error: {e}", file=sys.stderr)
            return EXIT_USAGE
        try:
            where = _crash_log(e, e.detail)
        except OSError as log_error:
            where = f"(no log file: {log_error})"
        print(f"mmlist: internal error in a --jobs worker: {e}; traceback in {where}",
              file=sys.stderr)
        return EXIT_INTERNAL
    except BrokenPipeError:
        # `mmlist replay F | head`: the reader left; nothing more to say, and nothing to flush
        with contextlib.suppress(Exception):
            sys.stdout = open(os.devnull, "w")
        return EXIT_OK
    except Exception as e:                  # noqa: BLE001
        # A user's variant that does not run (a NameError in a patch, say) is bad input, but
        # only when the exception comes from the variant's own code; anything else is a bug of
        # mmlist: exit 4 with the traceback in a log file.
        user_code = getattr(args, "variant", None) or getattr(args, "mutant", None)
        if user_code and _in_variant(e, user_code):
            print(f"mmlist: error: variant {user_code} failed: {type(e).__name__}: {e}",
                  file=sys.stderr)
            return EXIT_USAGE
        try:
            where = _crash_log(e)
        except OSError as log_error:
            where = f"(no log file: {log_error})"
        print(f"mmlist: internal error: {type(e).__name__}: {e}; traceback in {where}",
              file=sys.stderr)
        return EXIT_INTERNAL
    except SystemExit as e:
        user_code = getattr(args, "variant", None) or getattr(args, "mutant", None)
        if user_code and _in_variant(e, user_code):
            print(f"mmlist: error: variant {user_code} failed: it called sys.exit({e.code!r})",
                  file=sys.stderr)
            return EXIT_USAGE
        raise
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
            signal.signal(signal.SIGINT, old_int)


def entry() -> None:
    """The ``mmlist`` command: ``main()``, then exit without waiting for a non-daemon thread
    that model code (a variant) started and left running: a run must end when it is done."""
    import threading
    code = main()
    left = [t.name for t in threading.enumerate()
            if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    if left:
        print(f"mmlist: warning: not waiting for thread(s) the model started and left "
              f"running: {', '.join(left)}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
