"""The ``mmlist`` command: hunt, check, replay, scenarios, mutants, variants, demo.

Exit codes: 0 nothing found (or the search passed), 1 a violation found, 2 bad input.
Bad input gets one line on stderr; an interrupted run still writes its report and every
reproducer found so far.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, NoReturn

EXIT_OK, EXIT_FOUND, EXIT_USAGE = 0, 1, 2


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


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"must be >= 1: {text!r}")
    return value


STRATEGIES = ("portfolio", "random", "pct", "dfs", "dfs-plain")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="mmlist", description="A model checker for the MGLRU mm_struct list "
                                           "(MGLRU v6 5/9) and its callers.")
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)

    h = sub.add_parser("hunt", help="search every built-in scenario for violations (main job)")
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

    c = sub.add_parser("check", help="exhaustive bounded search of one scenario")
    c.add_argument("--scenario", required=True)
    c.add_argument("--strategy", choices=STRATEGIES, default="dfs")
    c.add_argument("--preemption-bound", type=_non_negative_int, default=2)
    c.add_argument("--max-executions", type=_positive_int, default=None)
    c.add_argument("--budget", type=_positive_float, default=None, help="seconds")
    c.add_argument("--seed", type=_non_negative_int, default=0)
    c.add_argument("--variant")
    c.add_argument("--mutant")
    c.add_argument("--json", dest="json_path")
    c.add_argument("--out", default="mmlist-out")

    r = sub.add_parser("replay", help="re-run a saved counterexample")
    r.add_argument("file")

    sub.add_parser("scenarios", help="list the built-in scenarios")
    sub.add_parser("mutants", help="list the built-in mutants")
    sub.add_parser("variants", help="list the built-in variants")

    d = sub.add_parser("demo", help="walker and life-cycle threads on free-running threads")
    d.add_argument("--seconds", type=_positive_float, default=5.0)
    d.add_argument("--seed", type=_non_negative_int, default=0)
    return p


# --- helpers -------------------------------------------------------------------------------------

def _scenarios(names: list[str] | None) -> list[Any]:
    from . import scenarios as S
    if not names:
        return list(S.BUILTIN.values())
    out = []
    for n in names:
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


def _known(violation: Any) -> str | None:
    from .findings import match_known
    return match_known(violation)


# --- commands ------------------------------------------------------------------------------------

def cmd_hunt(args: argparse.Namespace) -> int:
    from .hunt import hunt
    scenarios = _scenarios(args.scenario)
    variant = _variant(args)
    progress = _Progress(args.budget, not args.no_progress)
    try:
        report = hunt(scenarios, budget=args.budget, strategy=args.strategy, seed=args.seed,
                      variant=variant, out_dir=args.out, structural=not args.no_structural,
                      on_progress=progress)
    finally:
        progress.done()
    print(report.render())
    if args.json_path:
        report.write_json(args.json_path)
        print(f"report written to {args.json_path}")
    return EXIT_FOUND if report.violations else EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from .hunt import check
    (scenario,) = _scenarios([args.scenario])
    variant = _variant(args)
    report = check(scenario, strategy=args.strategy, bound=args.preemption_bound,
                   max_executions=args.max_executions, budget=args.budget, seed=args.seed,
                   variant=variant, out_dir=args.out)
    print(report.render())
    if args.json_path:
        report.write_json(args.json_path)
    return EXIT_FOUND if report.violations else EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    from .hunt import replay_file
    return replay_file(args.file)


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
    demo(args.seconds, args.seed)
    return EXIT_OK


COMMANDS = {"hunt": cmd_hunt, "check": cmd_check, "replay": cmd_replay,
            "scenarios": cmd_scenarios, "mutants": cmd_mutants, "variants": cmd_variants,
            "demo": cmd_demo}


def main(argv: list[str] | None = None) -> int:
    args = None
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.cmd](args)
    except UsageError as e:
        print(f"mmlist: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:                  # noqa: BLE001
        # A user's variant that does not run (a NameError in a patch, say) is bad input; any
        # other exception is a bug of mmlist and keeps its traceback.
        user_code = getattr(args, "variant", None)
        if not user_code:
            raise
        print(f"mmlist: error: variant {user_code} failed: {type(e).__name__}: {e}",
              file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
