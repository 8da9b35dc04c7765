"""The mutation score of the checker: generated mutants of the model's seed functions, the
aging and the seed's callers, each hunted for a short budget; the table goes into a markdown
file (pasted into docs/benchmarks.md and docs/spec.md).

    python stress/mutation_score.py OUT.md [--function F ...] [--budget 3] [--jobs 2]
                                    [--out mmlist-out/mutation-score] [--limit N]
                                    [--rerun REPORT] [--from-report REPORT] [--triage FILE]

``--rerun REPORT`` hunts only the survivors of an earlier report again with ``--budget``;
``--from-report REPORT`` runs nothing and writes the table of a report; ``--triage
docs/spec.md`` adds the score over the non-equivalent mutants (survivors triaged
``equivalent`` or ``model-only`` leave the denominator).

Every mutant is also written as a variant file (``--out``/mutants/, the survivors again in
``--out``/survivors/), so ``mmlist hunt --variant FILE`` reruns one; ``--out``/
mutation-report.json has everything. A full run (all of ``mmlist.mutate.FUNCTIONS``, about
1100 mutants) takes about an hour at ``--budget 3 --jobs 2``: killed mutants stop at their
first new violation, survivors use their whole budget. Figures are measured on the machine that
runs it and written with the date, the Python version and the CPU count.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))  # run from a checkout


def markdown(report, argv: list[str], triage=None) -> str:
    from mmlist.mutate import NOT_APPLICABLE, SURVIVED, triaged_counts
    c = report.counts()
    lines = [
        "## Mutation score",
        "",
        f"Measured {datetime.date.today().isoformat()} with `python stress/mutation_score.py "
        f"{' '.join(argv)}` (Python {platform.python_version()}, {os.cpu_count()} CPUs): "
        f"{c['generated']} generated mutants of {len(report.functions)} function(s), a hunt "
        f"of {report.budget:g}s per mutant (seed {report.seed}, {report.jobs} job(s)), "
        f"{report.seconds / 60:.1f} min in all"
        + (" (interrupted: partial)" if report.interrupted else "") + ".",
        "",
        "A mutant is killed when its hunt reports a violation that the findings registry "
        "labels new; known findings of the faithful model do not count. Not applicable: its "
        "patch did not apply, it did not load, it raised while every scenario's World was "
        "built, or it hung (timeout). Score = killed / (killed + survived).",
        "",
        report.table(),
        "",
    ]
    if len(report.passes) > 1:
        lines += ["Passes: " + "; ".join(
            f"{p['mutants']} mutant(s) hunted for {p['budget']:g}s, {p.get('killed', '?')} "
            f"killed" for p in report.passes) + ".", ""]
    if triage is not None:
        c = triaged_counts(report, triage)
        score = "-" if c["score"] is None else f"{100 * c['score']:.1f}%"
        lines += [f"**Score over the non-equivalent mutants: {score}** ({c['killed']} killed; "
                  f"of the {c['survived']} survivors, {c['equivalent']} are triaged equivalent "
                  f"or model-only in docs/spec.md and leave the denominator, "
                  f"{c['non_equivalent_survivors']} count against it, {c['untriaged']} of them "
                  f"not triaged).", ""]
    lines += [
        "By operator:",
        "",
        report.operator_table(),
        "",
    ]
    na: dict[str, int] = {}
    for r in report.results:
        if r.status == NOT_APPLICABLE:
            na[r.reason or "?"] = na.get(r.reason or "?", 0) + 1
    if na:
        lines.append("Not applicable: " + ", ".join(f"{n} {why}" for why, n in sorted(na.items()))
                     + ".")
        lines.append("")
    by_check: dict[str, int] = {}
    for r in report.results:
        if r.killed_by:
            by_check[r.killed_by["check"]] = by_check.get(r.killed_by["check"], 0) + 1
    if by_check:
        lines.append("Killed by (the check of the first new violation): "
                     + ", ".join(f"`{k}` {n}" for k, n in
                                 sorted(by_check.items(), key=lambda x: (-x[1], x[0]))) + ".")
        lines.append("")
    bad = [f for f, b in report.baseline.items() if b.get("new")]
    if bad:
        lines.append("**Warning**: the faithful model already shows a new violation in the "
                     f"scenarios of {', '.join(bad)}: those kills are not evidence.")
        lines.append("")
    surv = [r for r in report.results if r.status == SURVIVED]
    lines.append(f"Survivors ({len(surv)}):")
    lines.append("")
    if surv:
        lines.append("| mutant | where | change | triage |")
        lines.append("|---|---|---|---|")
        for r in surv:
            m = r.mutant
            what = m.what.replace("|", "\\|")
            note = f" ({r.reason})" if r.reason else ""
            judged = (triage or {}).get(m.id, ("not triaged",))[0]
            lines.append(f"| `{m.id}` | `{m.where}` | {what}{note} | {judged} |")
    else:
        lines.append("none")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("markdown", help="the markdown file to write the table to")
    ap.add_argument("--function", action="append", default=None,
                    help="a function to mutate (repeatable); default: mmlist.mutate.FUNCTIONS")
    ap.add_argument("--budget", type=float, default=3.0, help="hunt seconds per mutant")
    ap.add_argument("--jobs", type=int, default=2, help="mutants at once (one process each)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=None, help="at most N mutants per function")
    ap.add_argument("--out", default="mmlist-out/mutation-score",
                    help="report JSON and variant files (default mmlist-out/mutation-score)")
    ap.add_argument("--rerun", default=None, metavar="REPORT",
                    help="hunt only the survivors of this earlier mutation-report.json again "
                         "with --budget (the other results are kept)")
    ap.add_argument("--from-report", default=None, metavar="REPORT",
                    help="run nothing: write the table of an existing mutation-report.json "
                         "(with --triage, after editing the triage)")
    ap.add_argument("--triage", default=None, metavar="FILE",
                    help="the survivor triage (docs/spec.md): adds the score over the "
                         "non-equivalent mutants and each survivor's judgement")
    args = ap.parse_args(argv)

    from mmlist.mutate import load_report, load_triage, run
    t0 = time.monotonic()

    def progress(done: int, total: int, r) -> None:
        extra = f" ({r.reason})" if r.reason else ""
        print(f"[{done}/{total} {time.monotonic() - t0:6.0f}s] {r.mutant.id}: {r.status}"
              f"{extra}", flush=True)

    triage = load_triage(args.triage) if args.triage else None
    if args.from_report:
        from mmlist.mutate import report_from_dict
        report = report_from_dict(load_report(args.from_report))
    else:
        report = run(args.function, budget=args.budget, out_dir=args.out, jobs=args.jobs,
                     seed=args.seed, on_progress=progress, limit=args.limit,
                     rerun=load_report(args.rerun) if args.rerun else None)
    text = markdown(report, argv, triage)
    os.makedirs(os.path.dirname(os.path.abspath(args.markdown)), exist_ok=True)
    with open(args.markdown, "w") as fh:
        fh.write(text)
    print(report.render())
    print(f"\nwrote {args.markdown}")
    return 130 if report.interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
