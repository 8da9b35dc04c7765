"""Free-running stress: every built-in scenario on real threads, every check listening."""
from __future__ import annotations

import os as _os
import sys as _sys

_sys.path.insert(0, _os.path.join(_os.path.dirname(__file__), ".."))  # run from a checkout

import argparse
import sys
import time

from mmlist.engines.free import run_free
from mmlist.scenarios import BUILTIN


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--scenario", action="append")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    try:
        from mmlist.checks import CheckSuite
    except ImportError:                      # checks not installed: kernel assertions only
        CheckSuite = None
    names = args.scenario or list(BUILTIN)
    for n in names:
        if n not in BUILTIN:
            print(f"free_stress: error: unknown scenario {n!r}", file=sys.stderr)
            return 2
    seen: dict = {}
    runs = ops = 0
    deadline = time.monotonic() + args.seconds
    try:
        while time.monotonic() < deadline:
            for name in names:
                world, specs = BUILTIN[name].build()
                listeners = []
                suite = None
                if CheckSuite is not None:
                    suite = CheckSuite(world, structural=False, races=True)
                    listeners.append(suite.on_event)
                r = run_free(world, specs, listeners=listeners, seed=args.seed + runs,
                             timeout=10)
                runs += 1
                ops += r.ops
                found = list(r.violations)
                if suite is not None:
                    suite.at_end(finished=not r.hung)
                    found += suite.violations
                for v in found:
                    key = (name, v.check, v.function, v.condition)
                    if key not in seen:
                        seen[key] = v
                        print(f"[{runs}] {name}: {v}", flush=True)
                if r.hung:
                    print(f"[{runs}] {name}: blocked after 10s: {', '.join(r.hung)}", flush=True)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
    print(f"{runs} executions, {ops} hook operations, {len(seen)} distinct violations")
    return 1 if seen else 0


if __name__ == "__main__":
    sys.exit(main())
