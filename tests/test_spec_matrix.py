"""docs/spec.md, the specification matrix, is machine-checked.

Every row has a check or a reason; every check name is one that code in mmlist/ reports; every
scenario is built in (or planned); every mutant is built in and really makes one of the row's
checks fire (with the row's assertion text for an assertion); and every kernel assertion the
model makes (``VM_BUG_ON``, ``VM_BUG_ON_MM``, ``VM_WARN_ON``, ``lockdep_assert_held``, and the
callers' ``BUG_ON``/``WARN_ON_ONCE``) has a row, matched by its condition text.
"""
from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

import pytest

from mmlist import sched
from mmlist.checks import run_sequential
from mmlist.findings import classify
from mmlist.scenarios import BUILTIN
from mmlist.variants import list_mutants, load_variant

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "docs" / "spec.md"
COLUMNS = ["id", "claim", "source", "checks", "scenarios", "mutants", "reason if unchecked"]

#: Scenarios another person is adding now: accepted before they are built in.
PLANNED = {"migrate-back", "migrate-back-2walkers", "switch-migrate"}

#: Assertion macros: their rows and their mutants are matched by condition text.
ASSERTIONS = ("VM_BUG_ON", "VM_BUG_ON_MM", "VM_WARN_ON", "lockdep_assert_held", "BUG_ON",
              "WARN_ON_ONCE")
#: The ones the issue requires a row for (the others the model keeps from callers too).
REQUIRED = ASSERTIONS

#: Portfolio executions a mutant gets when no sequential run shows a row's check.
MUTANT_EXECUTIONS = 200


# --- parsing -------------------------------------------------------------------------------------

def _names(cell: str) -> list[str]:
    cell = cell.strip()
    if cell in ("", "-"):
        return []
    out = []
    for part in cell.split(","):
        part = part.strip()
        m = re.fullmatch(r"`([^`]+)`", part)
        assert m, f"not a backticked name: {part!r} in {cell!r}"
        out.append(m.group(1))
    return out


@lru_cache(maxsize=None)
def rows() -> tuple[dict, ...]:
    lines = SPEC.read_text().splitlines()
    header = "| " + " | ".join(COLUMNS) + " |"
    assert header in lines, f"docs/spec.md: the table header must be exactly {header}"
    i = lines.index(header) + 2                     # skip the |---| line
    out = []
    while i < len(lines) and lines[i].startswith("|"):
        cells = [c.strip() for c in lines[i].strip().strip("|").split(" | ")]
        assert len(cells) == len(COLUMNS), f"row with {len(cells)} cells: {lines[i]}"
        r = dict(zip(COLUMNS, cells))
        r["checks_l"] = _names(r["checks"])
        r["scenarios_l"] = _names(r["scenarios"])
        r["mutants_l"] = _names(r["mutants"])
        r["code"] = re.findall(r"`([^`]+)`", r["claim"])
        out.append(r)
        i += 1
    return tuple(out)


def test_the_matrix_parses_with_consecutive_ids():
    ids = [r["id"] for r in rows()]
    assert ids == [f"S{n}" for n in range(1, len(ids) + 1)], ids
    assert len(ids) >= 100


def test_every_row_has_a_check_or_a_reason():
    bad = [r["id"] for r in rows() if not r["checks_l"] and r["reason if unchecked"] in ("", "-")]
    assert not bad, f"rows with neither a check nor a reason: {bad}"


@lru_cache(maxsize=None)
def _source_strings() -> str:
    return "\n".join(p.read_text() for p in (ROOT / "mmlist").rglob("*.py"))


def test_every_check_name_is_reported_by_some_code():
    src = _source_strings()
    missing = sorted({(c, r["id"]) for r in rows() for c in r["checks_l"]
                      if f'"{c}"' not in src and f"'{c}'" not in src})
    assert not missing, f"check names no code in mmlist/ reports: {missing}"


def test_every_scenario_is_built_in_or_planned():
    bad = [(r["id"], s) for r in rows() for s in r["scenarios_l"]
           if s not in BUILTIN and s not in PLANNED]
    assert not bad, f"unknown scenarios: {bad}"


def test_every_mutant_is_built_in():
    known = {m.name for m in list_mutants()}
    bad = [(r["id"], m) for r in rows() for m in r["mutants_l"] if m not in known]
    assert not bad, f"unknown mutants: {bad}"


# --- every assertion of the model has a row -----------------------------------------------------

def _model_assertions() -> list[tuple[str, str, str, str]]:
    """(macro, condition text, enclosing function, file) of every assertion call in
    mmlist/model/*.py."""
    out = []
    for path in sorted((ROOT / "mmlist" / "model").glob("*.py")):
        tree = ast.parse(path.read_text())

        def visit(node: ast.AST, fn: str | None) -> None:
            for child in ast.iter_child_nodes(node):
                name = fn
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    name = child.name
                if isinstance(child, ast.Call) and isinstance(child.func, ast.Name) \
                        and child.func.id in REQUIRED:
                    texts = [a.value for a in child.args
                             if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                    assert texts, f"{path.name}: {child.func.id}() without its C text"
                    out.append((child.func.id, texts[-1], name or "?", path.name))
                visit(child, name)
        visit(tree, None)
    return out


def test_the_model_makes_assertions():
    found = _model_assertions()
    assert len(found) >= 20
    assert ("VM_BUG_ON", "walk->max_seq > mm_state->seq + 1", "get_next_mm", "mm_list.py") \
        in found


@pytest.mark.parametrize("macro,cond,fn,file", _model_assertions(),
                         ids=lambda x: x if isinstance(x, str) else None)
def test_every_model_assertion_has_a_row(macro, cond, fn, file):
    hits = [r["id"] for r in rows()
            if any(code.startswith(macro + "(") and cond in code for code in r["code"])
            and fn in r["source"]]
    assert hits, (f"no row of docs/spec.md quotes {macro}({cond}) with source {fn}() "
                  f"(mmlist/model/{file})")


# --- the mutants listed show the row's checks ---------------------------------------------------

def _key(v) -> tuple[str, str | None]:
    return v.check, v.condition


@lru_cache(maxsize=None)
def _sequential_evidence(mutant: str) -> frozenset:
    """(check, condition) of the violations a mutant shows, run sequentially in every built-in
    scenario, that are not known findings or benign effects of the faithful model."""
    v = load_variant(mutant)
    found = set()
    for sc in BUILTIN.values():
        with v.applied():
            world, specs = sc.build()
            r = run_sequential(world, specs)
        found |= {_key(x) for x in r.violations if classify(x, sc.config).kind == "new"}
    return frozenset(found)


@lru_cache(maxsize=None)
def _portfolio_evidence(mutant: str) -> frozenset:
    v = load_variant(mutant)
    rep = sched.explore(v.scenario, strategy="portfolio", seed=0,
                        max_executions=MUTANT_EXECUTIONS, variant=v, stop_on_first=False,
                        shrink=False)
    cfg = BUILTIN[v.scenario].config
    return frozenset(_key(f.violation) for f in rep.failures
                     if classify(f.violation, cfg).kind == "new")


def _shows(row: dict, evidence: frozenset) -> bool:
    for check, cond in evidence:
        if check not in row["checks_l"]:
            continue
        if check in ASSERTIONS:
            # the row's assertion, or any of that macro when the row quotes it as `macro()`
            if any(code == check + "()" or (cond and code.startswith(check + "(")
                                            and cond in code) for code in row["code"]):
                return True
            continue
        return True
    return False


def _pairs() -> list[tuple[str, str]]:
    return sorted({(m, r["id"]) for r in rows() for m in r["mutants_l"]})


@pytest.mark.parametrize("mutant", sorted({m for m, _ in _pairs()}))
def test_each_listed_mutant_shows_one_of_its_rows_checks(mutant):
    mine = [r for r in rows() if mutant in r["mutants_l"]]
    missing = [r["id"] for r in mine if not _shows(r, _sequential_evidence(mutant))]
    if missing:
        ev = _portfolio_evidence(mutant)
        missing = [i for i in missing
                   if not _shows(next(r for r in mine if r["id"] == i), ev)]
    assert not missing, (f"{mutant} shows none of the checks of rows {missing}; sequential: "
                         f"{sorted(_sequential_evidence(mutant))}")
