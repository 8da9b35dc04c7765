"""The outcome-set comparison of ``tests/test_outcome_sets.py`` for the pairs too slow for the
test suite: plain bounded DFS against the reduced one (trace caching), scenario by scenario,
bound by bound (pitfalls.md #9). Prints a markdown table; exits 1 if some pair differs.

    python stress/outcome_sets.py                       # every pair the test suite leaves out
    python stress/outcome_sets.py --all --bounds 0 1 2  # every pair
    python stress/outcome_sets.py --scenario exit --bounds 1 --max-seconds 600

A pair where either search does not complete within ``--max-seconds`` is reported as such
(its outcome sets are not comparable).
"""
from __future__ import annotations

import argparse
import time

from _suite import test_module


def suite_cases() -> set:
    """The (scenario, bound) pairs ``tests/test_outcome_sets.py`` runs itself."""
    mod = test_module("test_outcome_sets.py")    # None: pytest missing, no pair covered
    return set(mod.cases()) if mod is not None else set()


def run_pair(name: str, bound: int | None, max_seconds: float) -> dict:
    from mmlist import sched
    from mmlist.sched.strategies.dfs import DFS
    t0 = time.perf_counter()
    plain = sched.explore(name, strategy="dfs-plain", preemption_bound=bound, shrink=False,
                          collect_outcomes=True, max_seconds=max_seconds)
    t1 = time.perf_counter()
    dfs = DFS(bound)
    reduced = sched.explore(name, strategy=dfs, shrink=False, collect_outcomes=True,
                            max_seconds=max_seconds)
    t2 = time.perf_counter()
    done = plain.completed and reduced.completed
    same = done and plain.outcomes == reduced.outcomes
    fewer = reduced.executions + reduced.pruned <= plain.executions
    if not done:
        status = "not completed"
    elif same and fewer and not (plain.nondeterministic or reduced.nondeterministic):
        status = "same"
    elif not same:
        status = "DIFFERENT"
    else:
        status = "MORE EXECUTIONS" if not fewer else "NONDETERMINISM"
    return {"scenario": name, "bound": bound, "plain": plain.executions,
            "plain_done": plain.completed, "plain_s": t1 - t0,
            "reduced": reduced.executions, "pruned": reduced.pruned, "skipped": dfs.skipped,
            "reduced_done": reduced.completed, "reduced_s": t2 - t1,
            "outcomes_plain": len(plain.outcomes or ()),
            "outcomes_reduced": len(reduced.outcomes or ()),
            "verdict_plain": plain.verdict, "verdict_reduced": reduced.verdict,
            "status": status,
            "missing": sorted(str(sorted(c)) for _, c in
                              (plain.outcomes or set()) - (reduced.outcomes or set()))[:3]
            if done else []}


def main(argv: list[str] | None = None) -> int:
    from mmlist.scenarios import BUILTIN
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bounds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--scenario", action="append", help="only these scenarios (repeatable)")
    ap.add_argument("--all", action="store_true",
                    help="also the pairs the test suite runs")
    ap.add_argument("--max-seconds", type=float, default=900.0,
                    help="per search (default 900)")
    args = ap.parse_args(argv)
    skip = set() if args.all else suite_cases()
    names = args.scenario or list(BUILTIN)
    pairs = [(n, b) for b in args.bounds for n in names if (n, b) not in skip]
    print("| scenario | bound | plain: executions | s | reduced: executions | pruned | "
          "skipped | s | outcomes (plain / reduced) | verdict | result |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    bad = 0
    for name, bound in pairs:
        r = run_pair(name, bound, args.max_seconds)
        mark = lambda done: "" if done else " (not completed)"
        verdict = (r["verdict_plain"] if r["verdict_plain"] == r["verdict_reduced"]
                   else f"{r['verdict_plain']} / {r['verdict_reduced']}")
        print(f"| {name} | {bound} | {r['plain']}{mark(r['plain_done'])} | "
              f"{r['plain_s']:.1f} | {r['reduced']}{mark(r['reduced_done'])} | {r['pruned']} | "
              f"{r['skipped']} | {r['reduced_s']:.1f} | {r['outcomes_plain']} / "
              f"{r['outcomes_reduced']} | {verdict} | {r['status']} |", flush=True)
        if r["status"] not in ("same", "not completed"):
            bad += 1
            if r["missing"]:
                print(f"<!-- {name} bound {bound}: outcomes only the plain search reached "
                      f"(violated checks): {r['missing']} -->", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
