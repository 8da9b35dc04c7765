"""Every mutant is caught by its expected check in a sequential run of its scenario, unless it
needs an interleaving: then no sequential run shows it, and the controlled scheduler must
(``tests/test_hunt.py::test_portfolio_finds_every_mutant`` runs every mutant, both kinds)."""
from __future__ import annotations

import pytest

from mmlist.checks import run_sequential
from mmlist.scenarios import BUILTIN
from mmlist.variants import list_mutants, load_variant

MUTANTS = list_mutants()
SEQUENTIAL = [m.name for m in MUTANTS if not m.needs_interleaving]
INTERLEAVING = [m.name for m in MUTANTS if m.needs_interleaving]


def run(name):
    v = load_variant(name)
    with v.applied():
        world, specs = BUILTIN[v.scenario].build()
        return v, run_sequential(world, specs)


@pytest.mark.parametrize("name", SEQUENTIAL)
def test_mutant_is_caught_sequentially(name):
    v, r = run(name)
    assert v.expected_check in r.checks(), [str(x) for x in r.violations]


@pytest.mark.parametrize("name", INTERLEAVING)
def test_interleaving_mutant_is_not_caught_sequentially(name):
    v, r = run(name)
    assert v.expected_check not in r.checks()


def test_both_kinds_exist():
    assert len(SEQUENTIAL) >= 12 and len(INTERLEAVING) >= 3
