"""How often does a stress find become a replay file that reproduces?

    python stress/stress_replay_rate.py [--duration 2] [--seeds 2] [--mutants a,b,...|all]

For each mutant (default: a dozen that ``mmlist stress`` catches, of different checks), runs
``mmlist stress --mutant M --seed S --duration D --json`` and reads, per find searched for
again (``replay`` in the JSON), whether it reproduced, with how many executions, how large a
set-up and how many preemptions. Then every replay file written is run with ``mmlist replay``
to confirm it reproduces. Prints a markdown table (docs/stress.md quotes it).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

DEFAULT = ["stats-no-add", "add-no-tail-move", "first-walker-skips-first-mm",
           "del-no-head-fixup", "no-nr-walkers-inc", "no-seq-inc-at-end", "add-no-lock",
           "del-no-tail-fixup", "inc-max-seq-by-two", "no-filter-clear", "skip-no-node-clear",
           "put-under-lock"]


def _mmlist(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mmlist", *args], capture_output=True,
                          text=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=2.0)
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--mutants", default=",".join(DEFAULT))
    a = p.parse_args(argv)
    if a.mutants == "all":
        from mmlist.variants import list_mutants
        mutants = [m.name for m in list_mutants()]
    else:
        mutants = a.mutants.split(",")
    rows = []
    reasons_all: dict[str, int] = {}
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for m in mutants:
            searched = reproduced = replayed = 0
            execs, setups, preempts, secs = [], [], [], []
            for seed in range(a.seeds):
                out = os.path.join(tmp, f"{m}-{seed}")
                js = out + ".json"
                _mmlist("stress", "--mutant", m, "--seed", str(seed), "--duration",
                        str(a.duration), "--no-progress", "--out", out, "--json", js)
                if not os.path.exists(js):
                    reasons_all[f"{m}: seed {seed}: no report"] = 1
                    continue
                with open(js) as fh:
                    rep = json.load(fh)
                for f in rep["findings"]:
                    r = f.get("replay")
                    if not r:
                        continue
                    searched += 1
                    secs.append(r["seconds"])
                    if r["reproduced"]:
                        reproduced += 1
                        execs.append(r["executions"])
                        setups.append(r["setup_ops"])
                        preempts.append(r["preemptions"])
                        done = _mmlist("replay", r["replay_path"])
                        replayed += done.returncode == 1 and "reproduced:" in done.stdout
                    else:
                        why = f"{m}: {r['reason'][:110]}"
                        reasons_all[why] = reasons_all.get(why, 0) + 1
            med = (lambda xs: f"{statistics.median(xs):g}" if xs else "-")
            rows.append(f"| {m} | {searched} | {reproduced} | {replayed} | {med(execs)} | "
                        f"{med(setups)} | {med(preempts)} | {med(secs)} |")
            print(rows[-1], file=sys.stderr)
    print(f"`python stress/stress_replay_rate.py --duration {a.duration:g} --seeds {a.seeds}`"
          f" ({time.monotonic() - t0:.0f} s): per mutant, the finds searched for again over "
          f"seeds 0-{a.seeds - 1}, how many reproduced, how many of those files `mmlist "
          f"replay` ran to the same violation, and medians over the reproduced ones.\n")
    print("| mutant | finds searched | reproduced | replay file reproduces | executions | "
          "set-up operations | preemptions | seconds per search |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    if reasons_all:
        print("\nWhy not, for the finds that did not reproduce (count, reason):\n")
        for why, n in sorted(reasons_all.items(), key=lambda kv: -kv[1]):
            print(f"- {n}x {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
