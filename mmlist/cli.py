"""The ``mmlist`` command."""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mmlist", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("demo", help="walker and life-cycle threads on free-running threads")
    d.add_argument("--seconds", type=float, default=5.0)
    d.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.cmd == "demo":
        from .demo import demo
        if args.seconds <= 0:
            parser.error("--seconds must be positive")
        demo(args.seconds, args.seed)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
