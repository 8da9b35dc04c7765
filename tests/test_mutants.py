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


# --- the right reason: the expected check, with the expected message ------------------------------

#: mutant -> (a substring of the expected check's first message, sequentially in its scenario)
RIGHT_REASON = {
    "first-walker-skips-first-mm": "mm#1 stayed on A.mm_list for the whole iteration seq=3 of "
                                   "lruvec(memcg=1,node=0), was not skipped, and no walker got it",
    "last-with-one-walker": "walker reclaim0 got last=true 2 times in iteration seq=3 of "
                            "lruvec(memcg=1,node=0)",
    "inc-max-seq-by-two": "inc_max_seq(lruvec(memcg=1,node=0), 3) left max_seq=5",
    "skip-no-node-clear": "get_next_mm() handed mm#1 to reclaim0 for lruvec(memcg=1,node=0) "
                          "without full_scan and with an empty mm_cpumask, although nothing used "
                          "it (lru_gen_use_mm()) since reclaim0 took it for node 0 in iteration "
                          "seq=3",
    "carry-over-current-gen": "[reclaim0] answers false (bits 22320, 5380 clear): reclaim0 "
                              "carried it over in walk_pmd_range() of iteration seq=3, but into "
                              "seq=3 while filters[1] was NULL (nothing was written)",
    "no-carry-over": "walk_mm(mm#1) [reclaim0] for lruvec(memcg=1,node=0) in iteration seq=3 "
                     "counted 2 non-leaf entries added to the Bloom filters (MM_PMD_ADDED) but "
                     "walk_pmd_range() called set_bloom_filter(lruvec, walk->max_seq + 1, pmd) "
                     "0 time(s)",
    "bloom-test-other-filter": "test_bloom_filter(lruvec(memcg=1,node=0), seq=4) [reclaim0] uses "
                         "filters[1], not filters[0]",
}


@pytest.mark.parametrize("name", sorted(RIGHT_REASON))
def test_mutant_is_caught_for_the_right_reason(name):
    v, r = run(name)
    msgs = [x.message for x in r.violations if x.check == v.expected_check]
    assert msgs and RIGHT_REASON[name] in msgs[0], msgs


#: interleaving mutants -> (the expected check's message must contain this) under the portfolio
RIGHT_REASON_INTERLEAVED = {
    "del-head-restarts": "handed out twice in iteration seq=",
    "context-switch-no-use-mm": "ran lru_gen_use_mm() on it since",
}


@pytest.mark.parametrize("name", sorted(RIGHT_REASON_INTERLEAVED))
def test_interleaving_mutant_is_caught_for_the_right_reason(name):
    from mmlist import sched
    v = load_variant(name)
    rep = sched.explore(v.scenario, strategy="portfolio", seed=0, max_executions=60, variant=v,
                        stop_on_first=False, shrink=False)
    msgs = [f.violation.message for f in rep.failures if f.violation.check == v.expected_check]
    assert msgs and all(RIGHT_REASON_INTERLEAVED[name] in m for m in msgs), (
        [(f.violation.check, f.violation.message) for f in rep.failures])


def test_every_history_check_has_a_mutant():
    checks = {m.expected_check for m in MUTANTS}
    assert {"handout_once", "handout_complete", "iteration_last", "max_seq",
            "usage_hint_skip", "usage_hint_walk", "full_scan_new_mm", "bloom_false_negative",
            "bloom_carry_over", "bloom_double_buffer"} <= checks
