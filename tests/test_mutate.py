"""``mmlist.mutate``: each operator's textual change on a small snippet (cosmic-ray's
``examples()`` idea), the patches' uniqueness and round trip, and a smoke run of the whole
pipeline on ``lru_gen_add_mm`` with a tiny budget."""
from __future__ import annotations

import ast
import json
import textwrap

import pytest

from mmlist.mutate import (FUNCTIONS, MARK, OPERATORS, apply_patches, function_source, generate,
                           mutants_of_source, run)
from mmlist.variants import load_variant

SNIPPET = textwrap.dedent('''\
    def f(obj, arr, i, lock) -> bool:
        """doc"""
        spin_lock(lock)
        x = READ_ONCE(obj, "seq")
        if x < 3 and arr[i] is not None:
            WRITE_ONCE(obj, "seq", x + 1)
        rt.trace("event", x=x)
        VM_BUG_ON(x > 10, "x > 10")
        y = arr[0]
        spin_unlock(lock)
        return y
    ''')


def mutants(op, src=SNIPPET):
    return mutants_of_source("f", src, [op])


def body(src):
    """The mutated function without the ``# MUTANT:`` marker lines, dedented."""
    return "\n".join(ln for ln in src.splitlines() if MARK not in ln)


def changed(m):
    return [ln.strip() for ln in m.after if MARK not in ln]


# --- each operator on the snippet ------------------------------------------------------------

def test_negate_whole_test_and_each_operand():
    ms = mutants("negate")
    got = {m.what: changed(m) for m in ms}
    assert ["if not (x < 3 and arr[i] is not None):"] in got.values()
    assert ["if not x < 3 and arr[i] is not None:"] in got.values()
    assert ["if x < 3 and not arr[i] is not None:"] in got.values()
    assert len(ms) == 3


def test_negate_unwraps_not():
    src = "def f(a):\n    if not a.ok:\n        g()\n"
    (m,) = mutants("negate", src)
    assert changed(m) == ["if a.ok:"]


def test_delete_replaces_a_statement_with_pass_and_skips_instrumentation():
    ms = mutants("delete")
    deleted = [m.before[0].strip() for m in ms]
    assert "spin_lock(lock)" in deleted and "x = READ_ONCE(obj, \"seq\")" in deleted
    assert all(changed(m) == ["pass"] for m in ms)
    # the docstring, rt.trace and the assertion are never mutated
    assert not any("trace" in d or "VM_BUG_ON" in d or "doc" in d for d in deleted)
    # a compound statement is deleted whole
    if_del = next(m for m in ms if m.before[0].strip().startswith("if x < 3"))
    assert len(if_del.before) == 2 and "(the block)" in if_del.what


def test_compare_swaps_each_operator():
    ms = mutants("compare")
    lines = sorted(changed(m)[0] for m in ms)
    assert lines == ["if x < 3 and arr[i] is None:", "if x <= 3 and arr[i] is not None:"]


def test_off_by_one_constants_and_indices():
    ms = mutants("off_by_one")
    lines = sorted(changed(m)[0] for m in ms)
    assert "if x < 4 and arr[i] is not None:" in lines
    assert "if x < 2 and arr[i] is not None:" in lines
    assert "if x < 3 and arr[i + 1] is not None:" in lines
    assert 'WRITE_ONCE(obj, "seq", x + 2)' in lines and 'WRITE_ONCE(obj, "seq", x + 0)' in lines
    # index 0: only + 1 (arr[-1] of a one-element list is the same element)
    assert "y = arr[1]" in lines and "y = arr[-1]" not in lines
    # constants inside the assertion are left alone
    assert not any("VM_BUG_ON" in ln for ln in lines)


def test_lock_pair_drops_the_lock_and_its_unlocks():
    (m,) = mutants("lock_pair")
    src = body(m.source)
    assert "spin_lock(lock)" not in src and "spin_unlock(lock)" not in src
    assert src.count("pass") == 2 and len(m.patches) == 2


def test_lock_pair_includes_early_return_unlocks():
    src = textwrap.dedent('''\
        def g(lv, a):
            spin_lock_irq(lv.lock)
            if a:
                spin_unlock_irq(lv.lock)
                return
            work()
            spin_unlock_irq(lv.lock)
        ''')
    (m,) = mutants("lock_pair", src)
    assert "spin_" not in body(m.source) and len(m.patches) == 3


def test_plain_access_replaces_marked_accesses():
    ms = mutants("plain_access")
    lines = sorted(changed(m)[0] for m in ms)
    assert lines == ["obj.seq = x + 1", "x = obj.seq"]
    src = "def h(lv, gen):\n    return READ_ONCE(lv.mm_state.filters, gen)\n"
    (m,) = mutants("plain_access", src)
    assert changed(m) == ["return lv.mm_state.filters[gen]"]


def test_swap_exchanges_adjacent_statements_seeing_through_instrumentation():
    ms = mutants("swap")
    pairs = [tuple(changed(m)) for m in ms]
    # WRITE_ONCE's `if` block and `y = arr[0]` are adjacent once rt.trace/VM_BUG_ON are skipped
    assert any(p[0] == "y = arr[0]" and p[-1].startswith("WRITE_ONCE") for p in pairs), pairs
    # a statement is never swapped with a return (that would be a deletion)
    assert not any("return y" in " ".join(p) for p in pairs)


def test_early_return_inserts_a_typed_return():
    ms = mutants("early_return")
    assert all(changed(m)[0] == "return False" for m in ms)      # -> bool
    assert changed(ms[0])[1] == "spin_lock(lock)"
    assert not any("rt.trace" in changed(m)[1] for m in ms)


# --- patches -----------------------------------------------------------------------------------

def test_patches_are_unique_and_rebuild_the_mutant():
    src = textwrap.dedent('''\
        def k(a):
            if a:
                spin_unlock(l)
            spin_unlock(l)
        ''')
    ms = mutants_of_source("k", src, ["delete"])
    inner = next(m for m in ms if m.line == 3)
    outer = next(m for m in ms if m.line == 4)
    # '    spin_unlock(l)' also occurs inside the 8-space line: widened until unique
    for m in (inner, outer):
        for old, _new in m.patches:
            assert src.count(old) == 1
        assert apply_patches(src, m.patches) == m.source
        ast.parse(m.source)
    assert outer.patches[0][0] != "    spin_unlock(l)"


def test_ids_are_stable_and_ordered():
    a = generate(["lru_gen_add_mm"])
    b = generate(["lru_gen_add_mm"])
    assert [m.id for m in a] == [m.id for m in b]
    assert len({m.id for m in a}) == len(a)
    for m in a:
        fn, op, line, idx = m.id.split(":")
        assert (fn, op, int(line), int(idx)) == (m.function, m.operator, m.line, m.index)
    assert [m.line for m in a] == sorted(m.line for m in a)


def test_every_generated_mutant_of_the_seed_loads_as_a_variant(tmp_path):
    ms = generate(["lru_gen_add_mm", "lru_gen_del_mm", "get_next_mm"])
    assert {m.operator for m in ms} == set(OPERATORS)
    for m in ms:
        assert not m.invalid, m.id
        p = tmp_path / f"{m.slug}.py"
        p.write_text(m.variant_text())
        v = load_variant(p)
        assert list(v.replacements) == [m.function]


def test_the_function_list_names_model_functions():
    for f in FUNCTIONS:
        src, file, first = function_source(f)
        assert src.startswith("def ") and file.startswith("mmlist/model/") and first > 0


def test_limit_round_robins_over_operators():
    ms = generate(["lru_gen_add_mm"], limit=8)
    assert len(ms) == 8
    assert len({m.operator for m in ms}) >= 5


# --- the pipeline ------------------------------------------------------------------------------

def test_smoke_run_on_lru_gen_add_mm(tmp_path):
    rep = run(["lru_gen_add_mm"], budget=0.5, out_dir=str(tmp_path), jobs=1, limit=8,
              scenarios=["fork"], baseline=False, timeout=60)
    assert len(rep.results) == 8
    assert len({r.mutant.operator for r in rep.results}) >= 5
    for r in rep.results:
        assert r.status in ("killed", "survived", "not_applicable"), r
        if r.status == "not_applicable":
            assert r.reason and r.detail, r
    c = rep.counts()
    assert c["killed"] >= 1
    assert c["generated"] == c["killed"] + c["survived"] + c["not_applicable"]
    text = rep.render()
    assert "| `lru_gen_add_mm` | 8 |" in text and "**overall**" in text
    data = json.loads((tmp_path / "mutation-report.json").read_text())
    assert data["counts"]["overall"]["generated"] == 8
    assert len(data["results"]) == 8
    for r in rep.survivors:
        p = tmp_path / "survivors" / f"{r.mutant.slug}.py"
        assert p.exists() and load_variant(p).module.MUTANT_ID == r.mutant.id
    killed = [r for r in rep.results if r.status == "killed"]
    assert all(r.killed_by and r.new >= 1 for r in killed)


@pytest.mark.parametrize("op", OPERATORS)
def test_every_operator_has_mutants_in_the_model(op):
    assert generate(FUNCTIONS[:10] + ("exec_mmap", "inc_max_seq"), operators=[op])


def test_rerun_hunts_only_the_survivors_and_keeps_the_rest(tmp_path):
    """``--rerun``: the survivors of a report are hunted again with the new budget; every other
    result is the earlier one; the report records both passes."""
    from mmlist.mutate import load_report
    first = tmp_path / "first"
    rep = run(["lru_gen_add_mm"], budget=0.3, out_dir=str(first), jobs=1, limit=10,
              scenarios=["fork"], baseline=False, timeout=60)
    old = {r.mutant.id: r for r in rep.results}
    survivors = {r.mutant.id for r in rep.survivors}
    assert survivors, "the tiny first pass should leave survivors (a scenario gap: fork only)"
    again = run(budget=0.6, out_dir=str(tmp_path / "second"), jobs=1, scenarios=["fork"],
                baseline=False, timeout=60, rerun=load_report(str(first /
                                                                    "mutation-report.json")))
    assert [r.mutant.id for r in again.results] == [r.mutant.id for r in rep.results]
    for r in again.results:
        if r.mutant.id in survivors:
            assert r.budget == 0.6 and r.status in ("killed", "survived"), r
        else:
            o = old[r.mutant.id]
            assert (r.status, r.reason, r.budget, r.killed_by) == \
                (o.status, o.reason, 0.3, o.killed_by)
    p1, p2 = again.passes
    assert p1 == {"budget": 0.3, "mutants": 10, "killed": rep.counts()["killed"]}
    assert p2["budget"] == 0.6 and p2["mutants"] == len(survivors)
    assert again.counts()["killed"] == p1["killed"] + p2["killed"]
    assert "passes: 10 mutant(s) at 0.3s" in again.render()
    from mmlist.mutate import report_from_dict
    back = report_from_dict(load_report(str(tmp_path / "second" / "mutation-report.json")))
    assert back.counts() == again.counts() and back.passes == again.passes
    assert [r.status for r in back.results] == [r.status for r in again.results]


def test_rerun_refuses_a_stale_or_foreign_report(tmp_path, capsys):
    from mmlist.cli import main
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "mmlist-replay"}')
    assert main(["mutate", "--rerun", str(bad)]) == 2
    assert "not a mutation report" in capsys.readouterr().err
    (tmp_path / "cut.json").write_text('{"kind": "mmlist-mutation-report", "schema_vers')
    assert main(["mutate", "--rerun", str(tmp_path / "cut.json")]) == 2
    assert "cannot read the mutation report" in capsys.readouterr().err
    (m,) = generate(["lru_gen_add_mm"], ["delete"], limit=1)
    stale = {"kind": "mmlist-mutation-report", "schema_version": 1,
             "functions": ["lru_gen_add_mm"], "budget": 3,
             "results": [{"mutant": {**m.to_dict(), "patches": [["a", "b"]]},
                          "status": "survived", "reason": ""}]}
    (tmp_path / "stale.json").write_text(json.dumps(stale))
    assert main(["mutate", "--rerun", str(tmp_path / "stale.json")]) == 2
    err = capsys.readouterr().err
    assert "stale mutation report" in err and len(err.strip().splitlines()) == 1


# --- the survivors' triage (docs/spec.md) ---------------------------------------------------------

def test_triage_rows_parse_and_bad_rows_are_refused(tmp_path):
    from mmlist.mutate import TRIAGE_BEGIN, TRIAGE_END, load_triage
    good = tmp_path / "good.md"
    good.write_text(f"x\n{TRIAGE_BEGIN}\n| mutant | judgement | argument |\n|---|---|---|\n"
                    "| `f:swap:3:0` | equivalent | two locals |\n"
                    "| `f:delete:4:0` | scenario gap | no scenario has X |\n"
                    f"{TRIAGE_END}\n| `g:swap:1:0` | equivalent | outside: ignored |\n")
    assert load_triage(str(good)) == {"f:swap:3:0": ("equivalent", "two locals"),
                                      "f:delete:4:0": ("scenario gap", "no scenario has X")}
    for body, why in (("| `f:swap:3:0` | probably fine | x |", "unknown judgement"),
                      ("| `f:swap:3:0` | equivalent |  |", "without its argument"),
                      ("| `f:swap:3:0` | equivalent | a |\n| `f:swap:3:0` | equivalent | b |",
                       "triaged twice")):
        bad = tmp_path / "bad.md"
        bad.write_text(f"{TRIAGE_BEGIN}\n{body}\n{TRIAGE_END}\n")
        with pytest.raises(ValueError, match=why):
            load_triage(str(bad))
    with pytest.raises(ValueError, match="no mutant triage"):
        load_triage(str(tmp_path / "empty.md")) if (tmp_path / "empty.md").write_text("x") else None


def test_the_triaged_score_leaves_only_equivalent_survivors_out():
    from mmlist.mutate import MutantResult, MutationReport, triaged_counts
    ms = generate(["lru_gen_add_mm"], ["delete"], limit=4)
    rep = MutationReport(functions=["lru_gen_add_mm"], budget=1, seed=0, jobs=0, timeout=1)
    rep.results = [MutantResult(ms[0], status="killed"), MutantResult(ms[1], status="survived"),
                   MutantResult(ms[2], status="survived"), MutantResult(ms[3], status="survived")]
    triage = {ms[1].id: ("equivalent", "a"), ms[2].id: ("scenario gap", "b")}
    c = triaged_counts(rep, triage)
    assert (c["killed"], c["survived"], c["equivalent"], c["untriaged"],
            c["non_equivalent_survivors"]) == (1, 3, 1, 1, 2)
    assert c["score"] == pytest.approx(1 / 3)


def test_docs_spec_triage_names_only_mutants_generated_today():
    """docs/spec.md's triage rows name generated mutants by id: when the model's source changes
    (ids move, patches change), the stale rows fail here and must be triaged again."""
    from pathlib import Path
    from mmlist.mutate import load_triage
    triage = load_triage(str(Path(__file__).resolve().parent.parent / "docs" / "spec.md"))
    assert triage, "docs/spec.md has no triage rows"
    ids = {m.id for m in generate()}
    stale = sorted(set(triage) - ids)
    assert not stale, f"triage rows of mutants no longer generated: {stale[:10]}"
