"""The ``--every-access`` comparison of ``tests/test_every_access.py`` for the scenarios too big
for the test suite: the bounded DFS at preemption bound 1 run to completion both ways (plain
accesses recording ops only, and every plain access a scheduling point), scenario by scenario.
The verdicts must be of the same kind, the same checks must fire, and the every-access coverage
must be a superset. Prints a markdown table; exits 1 if some scenario disagrees.

    python stress/every_access.py                          # the scenarios the suite caps
    python stress/every_access.py --scenario exec --max-seconds 1200

A scenario whose search does not complete within ``--max-seconds`` (either way) is reported as
such: its results are not comparable.
"""
from __future__ import annotations

import argparse
import time

from _suite import test_module


def suite_full() -> tuple:
    """The scenarios ``tests/test_every_access.py`` compares completely itself."""
    mod = test_module("test_every_access.py")
    return tuple(mod.FULL) if mod is not None else ()


def search(name: str, every_access: bool, max_seconds: float) -> tuple:
    from mmlist import coverage, sched
    with coverage.recording() as cov:
        r = sched.explore(name, strategy="dfs", preemption_bound=1, every_access=every_access,
                          max_seconds=max_seconds, shrink=False)
    return r, set(cov.hit)


def compare(name: str, max_seconds: float) -> dict:
    t0 = time.perf_counter()
    d, cov_d = search(name, False, max_seconds)
    e, cov_e = search(name, True, max_seconds)
    checks = lambda r: {(f.violation.check, f.violation.function) for f in r.failures}  # noqa
    row = {"scenario": name, "default": d.executions, "every": e.executions,
           "completed": d.completed and e.completed, "seconds": time.perf_counter() - t0}
    if not row["completed"]:
        row["result"] = "not completed"
    elif d.verdict != e.verdict:
        row["result"] = f"DIFFERENT verdicts: {d.verdict} / {e.verdict}"
    elif checks(d) != checks(e):
        row["result"] = f"DIFFERENT checks: {sorted(checks(d) ^ checks(e))}"
    elif not cov_e >= cov_d:
        row["result"] = f"every-access misses {sorted(cov_d - cov_e)}"
    else:
        row["result"] = f"same ({d.verdict}); +{len(cov_e - cov_d)} points"
    return row


def main(argv: list[str] | None = None) -> int:
    from mmlist.scenarios import BUILTIN
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", action="append", help="default: those the suite caps")
    ap.add_argument("--max-seconds", type=float, default=600.0, help="per search")
    args = ap.parse_args(argv)
    names = args.scenario or [n for n in BUILTIN if n not in suite_full()]
    print("| scenario | executions (default / every access) | completed | result | seconds |")
    print("|---|---|---|---|---|")
    bad = 0
    for n in names:
        row = compare(n, args.max_seconds)
        bad += row["completed"] and not row["result"].startswith("same")
        print(f"| {n} | {row['default']} / {row['every']} | {row['completed']} | "
              f"{row['result']} | {row['seconds']:.0f} |", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
