"""Do two revisions find the same counterexamples? For changes that must not change them.

    python stress/same_counterexamples.py --base REV [--executions 40]

Runs, in a git worktree of ``REV`` and in this tree, the same searches: every built-in mutant in
its scenario under the random walk (seed 0) and the bounded DFS, and the scenarios of the known
findings on the faithful model (random walk, 300 executions), each failure shrunk; then compares
every failure's check, message and counterexample table. Prints the searches that differ and
exits 1 if any does. A speed-up of the scheduler or the checks (issue 11) must leave them all
identical; a change of the default strategy changes what a hunt finds first, not these.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

_DUMP = r'''
import json, sys
from mmlist import sched
from mmlist.variants import list_mutants, load_variant
n = int(sys.argv[2])
out = {}
for m in list_mutants():
    for strat in ("random", "dfs"):
        rep = sched.explore(m.scenario, strategy=strat, seed=0, max_executions=n,
                            variant=load_variant(m.name), max_shrink_attempts=60)
        out[f"{m.name}/{strat}"] = [(f.violation.check, f.violation.message, f.table_text)
                                   for f in rep.failures]
for scen in ("fork-migrate", "debugfs", "preempt-rt-exec"):
    rep = sched.explore(scen, strategy="random", seed=0, max_executions=300,
                        max_shrink_attempts=60)
    out[f"{scen}/random"] = [(f.violation.check, f.violation.message, f.table_text)
                             for f in rep.failures]
json.dump(out, open(sys.argv[1], "w"), sort_keys=True)
'''


def dump(tree: str, path: str, executions: int) -> dict:
    env = dict(os.environ, PYTHONPATH=tree)      # that tree's mmlist, not the installed one
    subprocess.run([sys.executable, "-c", _DUMP, path, str(executions)], cwd=tree, env=env,
                   check=True)
    with open(path) as fh:
        return json.load(fh)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="the revision to compare with (git rev)")
    ap.add_argument("--executions", type=int, default=40)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wt = os.path.join(tmp, "base")
        subprocess.run(["git", "worktree", "add", "-q", "--detach", wt, args.base], cwd=ROOT,
                       check=True)
        try:
            old = dump(wt, os.path.join(tmp, "old.json"), args.executions)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", wt], cwd=ROOT, check=False)
        new = dump(ROOT, os.path.join(tmp, "new.json"), args.executions)
    differ = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    found = sum(len(v) for v in new.values())
    print(f"{len(new)} searches, {found} counterexamples; "
          f"{'identical to ' + args.base if not differ else f'{len(differ)} differ'}")
    for k in differ:
        print(f"  {k}: {len(old.get(k) or [])} counterexample(s) at {args.base}, "
              f"{len(new.get(k) or [])} here")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
