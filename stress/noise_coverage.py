"""Which noise setting of `mmlist stress` reaches more of the protocol's branches?

    python stress/noise_coverage.py [--duration 10] [--seeds 3] [--noise none low high]

Runs `mmlist stress --json` once per noise setting and seed (a process each), and prints a
markdown table: per setting, the coverage points (mmlist.coverage) the model threads reached
(median and range over the seeds, and the union), hook operations per second and aging calls.
docs/stress.md quotes a run of it.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def one(noise: str, seed: int, duration: float, tmp: str) -> dict:
    path = os.path.join(tmp, f"{noise}-{seed}.json")
    subprocess.run([sys.executable, "-m", "mmlist", "stress", "--duration", str(duration),
                    "--noise", noise, "--seed", str(seed), "--no-progress", "--json", path],
                   cwd=os.path.dirname(HERE), stdout=subprocess.DEVNULL, check=False)
    with open(path) as fh:
        return json.load(fh)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--noise", nargs="+", default=["none", "low", "high"])
    args = ap.parse_args(argv)
    rows = ["| noise | points reached (median, min-max) | union over seeds | hook ops/s "
            "(median) | aging calls (median) | exit codes |", "|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for noise in args.noise:
            runs = [one(noise, s, args.duration, tmp) for s in range(args.seeds)]
            points = [len(r["coverage"]) for r in runs]
            union = set().union(*(set(r["coverage"]) for r in runs))
            rate = [sum(r["hook_operations"].values()) / r["seconds"] for r in runs]
            rows.append(f"| {noise} | {statistics.median(points):g} ({min(points)}-"
                        f"{max(points)}) | {len(union)} | {statistics.median(rate):,.0f} | "
                        f"{statistics.median(r['aging_calls'] for r in runs):g} | "
                        f"{', '.join(str(r['exit_code']) for r in runs)} |")
            print(rows[-1], file=sys.stderr)
    print(f"`python stress/noise_coverage.py --duration {args.duration:g} --seeds "
          f"{args.seeds}`: {args.duration:g} s runs of `mmlist stress`, seeds 0-{args.seeds - 1}.")
    print()
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
