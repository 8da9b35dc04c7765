"""Re-run the blind mutants (``stress/blind_mutants/b*.py``) and count what escapes.

The mutants were written by a tester who read only the seed, protocol.md and the model's source
(never ``mmlist/checks``), to test the checks with bugs they were not designed for
(docs/mutants.md). Each is hunted with the default portfolio; a mutant is caught when the hunt
reports a violation labelled new (exit status 1), masked when it shows only known findings or
benign judgements (exit 3), and escapes when nothing is found (exit 0).

    python stress/blind_mutants.py [--budget 20] [--out blind.md] [b04 b10 ...]
"""
from __future__ import annotations

import argparse
import glob
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from mmlist.hunt import EXIT_KNOWN, EXIT_NEW, hunt  # noqa: E402
from mmlist.scenarios import BUILTIN  # noqa: E402
from mmlist.variants import load_variant  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "blind_mutants")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=float, default=20.0, help="hunt seconds per mutant")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="write the markdown table here")
    ap.add_argument("only", nargs="*", help="mutant ids (b04 ...); default all")
    args = ap.parse_args()
    files = sorted(glob.glob(os.path.join(HERE, "b*.py")))
    if args.only:
        files = [f for f in files if os.path.basename(f).split("_")[0] in args.only]
    rows = ["| mutant | what | result | checks (new) | exit |", "|---|---|---|---|---|"]
    tally = {"caught": 0, "masked": 0, "escaped": 0}
    for path in files:
        v = load_variant(path)
        t0 = time.monotonic()
        rep = hunt(list(BUILTIN.values()), budget=args.budget, seed=args.seed, variant=v,
                   out_dir=None)
        code = rep.exit_code
        result = {EXIT_NEW: "caught", EXIT_KNOWN: "masked"}.get(code, "escaped")
        tally[result] += 1
        checks = sorted({f.violation.check for f in rep.of_kind("new")})
        name = os.path.basename(path)[:-3]
        desc = " ".join(v.description.split())[:110]
        rows.append(f"| {name} | {desc} | {result} | {', '.join(checks) or '-'} | {code} |")
        print(f"{name:40} {result:8} exit {code} {time.monotonic() - t0:5.1f}s "
              f"{', '.join(checks)}", flush=True)
    total = sum(tally.values())
    summary = (f"{tally['caught']}/{total} caught, {tally['masked']} masked, "
               f"{tally['escaped']} escaped (hunt budget {args.budget:g}s, seed {args.seed})")
    print(summary)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write("\n".join(rows) + "\n\n" + summary + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
