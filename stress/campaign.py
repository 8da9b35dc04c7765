"""One shard of a long hunt campaign, or the merge of several shards' reports.

Shard i of n runs every scenario with seeds i, i+n, i+2n, ... until its budget is spent, so
n machines split a campaign deterministically without coordination.
"""
from __future__ import annotations

import os as _os
import sys as _sys

_sys.path.insert(0, _os.path.join(_os.path.dirname(__file__), ".."))  # run from a checkout

import argparse
import glob
import json
import os
import sys
import time


def run_shard(shard: int, nshards: int, budget: float, out: str, strategy: str,
              round_seconds: float) -> int:
    from mmlist.hunt import hunt
    from mmlist.scenarios import BUILTIN
    os.makedirs(out, exist_ok=True)
    deadline = time.monotonic() + budget
    seed = shard
    found = 0
    while time.monotonic() < deadline:
        report = hunt(list(BUILTIN.values()), budget=min(round_seconds,
                                                        deadline - time.monotonic()),
                      strategy=strategy, seed=seed, out_dir=os.path.join(out, f"seed{seed}"))
        report.write_json(os.path.join(out, f"report-shard{shard}-seed{seed}.json"))
        found += len(report.findings)
        print(f"shard {shard}/{nshards} seed {seed}: "
              f"{sum(r.executions for r in report.results)} executions, "
              f"{len(report.findings)} violation(s)", flush=True)
        if report.interrupted:
            break
        seed += nshards
    return 1 if found else 0


def merge(out: str) -> int:
    distinct: dict = {}
    executions = 0
    for path in sorted(glob.glob(os.path.join(out, "report-*.json"))):
        with open(path) as fh:
            rep = json.load(fh)
        executions += sum(r["executions"] for r in rep["results"])
        for f in rep["findings"]:
            v = f["violation"]
            key = (f["scenario"], v["check"], v.get("function"), v.get("condition"))
            distinct.setdefault(key, (f, path))
    print(f"{executions} executions over the shards; {len(distinct)} distinct violation(s)")
    for (scenario, check, function, _), (f, path) in sorted(distinct.items()):
        print(f"  {scenario}: {check} in {function}: {f['violation']['message']} "
              f"(replay: {f['replay']})")
    return 1 if distinct else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shard", default="0/1", help="i/n")
    ap.add_argument("--budget", type=float, default=600.0, help="seconds for this shard")
    ap.add_argument("--round", type=float, default=120.0, help="seconds per hunt round")
    ap.add_argument("--strategy", default="portfolio")
    ap.add_argument("--out", default="campaign-out")
    ap.add_argument("--merge", metavar="DIR", help="merge the reports under DIR and exit")
    args = ap.parse_args(argv)
    if args.merge:
        return merge(args.merge)
    try:
        i, n = (int(x) for x in args.shard.split("/"))
        if not 0 <= i < n:
            raise ValueError
    except ValueError:
        print(f"campaign: error: --shard must be i/n with 0 <= i < n, got {args.shard!r}",
              file=sys.stderr)
        return 2
    return run_shard(i, n, args.budget, args.out, args.strategy, args.round)


if __name__ == "__main__":
    sys.exit(main())
