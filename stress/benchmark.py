"""The benchmark: measures the engines and the strategies, writes docs/benchmarks.md.

    python stress/benchmark.py [--quick] [--out docs/benchmarks.md]

Figures are measured on the machine that runs it and written with the date, the Python version
and the CPU count; tests never assert a wall-clock time, this file only reports.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from mmlist import runtime as rt  # noqa: E402
from mmlist import sched  # noqa: E402
from mmlist.engines.free import run_free  # noqa: E402
from mmlist.scenarios import BUILTIN  # noqa: E402


def hook_cost(n: int = 200_000) -> tuple[float, float]:
    """ns per hook call on the default engine, and per tracked-field read through it."""
    from mmlist.kernel.fields import tracked

    class S:
        f = tracked()

        def __init__(self) -> None:
            self.__dict__["_f"] = 0

    s = S()
    h = rt.hook
    t0 = time.perf_counter()
    for _ in range(n):
        h(rt.READ_ONCE, s, "f")
    t1 = time.perf_counter()
    for _ in range(n):
        s.f
    t2 = time.perf_counter()
    return (t1 - t0) / n * 1e9, (t2 - t1) / n * 1e9


def free_rate(names: list[str], seconds: float) -> list[tuple[str, float, float]]:
    out = []
    for name in names:
        runs = ops = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            w, specs = BUILTIN[name].build()
            r = run_free(w, specs, seed=runs, timeout=10)
            runs += 1
            ops += r.ops
        dt = time.perf_counter() - t0
        out.append((name, runs / dt, ops / dt))
    return out


def controlled_rate(names: list[str], seconds: float, structural: bool) -> list[tuple]:
    out = []
    for name in names:
        rep = sched.explore(name, strategy="random", seed=1, max_seconds=seconds,
                            structural=structural, shrink=False)
        out.append((name, rep.executions, rep.executions / rep.elapsed, rep.verdict))
    return out


def dfs_table(names: list[str], bound: int, max_seconds: float) -> list[tuple]:
    """Plain bounded DFS against the reduced one (trace caching): executions, verdict, time,
    and whether both reached the same set of outcomes (final state and violated checks)."""
    out = []
    for name in names:
        row: list[Any] = [name]
        outcomes = []
        for strategy in ("dfs-plain", "dfs"):
            rep = sched.explore(name, strategy=strategy, preemption_bound=bound,
                                max_seconds=max_seconds, shrink=False, collect_outcomes=True)
            row += [rep.executions + rep.pruned, rep.completed, rep.verdict,
                    round(rep.elapsed, 1)]
            outcomes.append(rep.outcomes if rep.completed else None)
        same = ("-" if None in outcomes else
                ("same" if outcomes[0] == outcomes[1] else "DIFFERENT"))
        out.append(tuple(row + [same]))
    return out


def mutant_table(strategies: list[str], max_executions: int) -> list[tuple]:
    from mmlist.variants import list_mutants, load_variant
    out = []
    for m in list_mutants():
        row: list[Any] = [m.name, "interleaving" if m.needs_interleaving else "sequential"]
        for strat in strategies:
            rep = sched.explore(m.scenario, strategy=strat, seed=0, preemption_bound=2,
                                max_executions=max_executions, variant=load_variant(m.name),
                                stop_on_first=True, shrink=False)
            hit = [f for f in rep.failures if f.violation.check == m.expected_check]
            row.append(f"{rep.executions}" if hit else
                       (f"other:{rep.failures[0].violation.check}" if rep.failures else "-"))
        out.append(tuple(row))
    return out


def md_table(header: list[str], rows: list[tuple]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        lines.append("| " + " | ".join(f"{x:.1f}" if isinstance(x, float) else str(x)
                                       for x in r) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="shorter measurements")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "docs",
                                                   "benchmarks.md"))
    args = ap.parse_args(argv)
    secs = 1.0 if args.quick else 4.0
    small = ["walkers", "exit", "fork", "migrate", "fork-migrate", "context-switch"]
    t_start = time.perf_counter()
    hook_ns, field_ns = hook_cost()
    free = free_rate(["walkers", "exit", "migrate"], secs)
    ctl = controlled_rate(small, secs, structural=True)
    ctl_fast = controlled_rate(small[:3], secs, structural=False)
    dfs = dfs_table(["walkers", "exit", "fork-migrate"], 2, 60.0 if not args.quick else 20.0)
    strategies = ["random", "pct", "dfs", "portfolio"]
    mut = mutant_table(strategies, 300 if not args.quick else 100)

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    doc = [
        "# Benchmarks",
        "",
        f"Measured by `python stress/benchmark.py{' --quick' if args.quick else ''}` on {now}: "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}. "
        f"The whole run took {time.perf_counter() - t_start:.0f}s. Figures vary with the "
        "machine; rerun to compare.",
        "",
        "## The runtime hook",
        "",
        f"- one `hook()` call on the default engine with no listener: {hook_ns:.0f} ns",
        f"- one plain read of a tracked field (descriptor + hook): {field_ns:.0f} ns",
        "",
        "## Free-running real threads (`run_free`, kernel assertions only)",
        "",
        md_table(["scenario", "executions/s", "hook ops/s"], free),
        "",
        "## Controlled scheduler, random walk (structural checks at every step, all checks on)",
        "",
        md_table(["scenario", "executions", "executions/s", "verdict"], ctl),
        "",
        "Without the structural checks at every step (`--no-structural`):",
        "",
        md_table(["scenario", "executions", "executions/s", "verdict"], ctl_fast),
        "",
        "pitfalls.md #6 reports 1 to 50 complete executions per second for the Python tools "
        "measured on this protocol.",
        "",
        "## Exhaustive search at preemption bound 2: plain DFS vs DFS with trace caching",
        "",
        md_table(["scenario", "plain: executions", "completed", "verdict", "s",
                  "reduced: executions (incl. pruned)", "completed", "verdict", "s",
                  "outcome sets"], dfs),
        "",
        "The reduced search must reach the same outcomes with fewer executions (pitfalls.md "
        "#1, #9); `-`: a search did not complete within the time limit. Every scenario at "
        "bounds 0 and 1 is compared in `tests/test_outcome_sets.py`; `python "
        "stress/outcome_sets.py --all --bounds 0 1 2` prints the full table.",
        "",
        "## Mutants: executions until the expected check fires (seed 0, budget "
        f"{300 if not args.quick else 100} executions)",
        "",
        "Mutants that break every run (\"sequential\") say nothing about search; those that need "
        "an interleaving do (pitfalls.md #5). `-` means not found within the budget; "
        "`other:X` means a different check fired first.",
        "",
        md_table(["mutant", "kind", *strategies], mut),
        "",
    ]
    with open(args.out, "w") as fh:
        fh.write("\n".join(doc))
    print("\n".join(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
