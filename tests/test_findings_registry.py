"""The findings registry (mmlist/findings.py): labels only when configuration *and* trace match,
dedup on meaning, docs/findings.md agrees with it.

Synthetic violations are shaped like the real ones (same check, function, condition, details,
stack and protocol events as the faithful model's); tests/test_hunt.py and tests/test_benign.py
label real ones.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from mmlist.config import Config
from mmlist.findings import (BY_ID, NEW, REGISTRY, classify, docs_table, finding_key,
                             github_anchor, render_table)
from mmlist.hunt import EXIT_KNOWN, EXIT_NEW, EXIT_OK, HuntReport, _record
from mmlist.violation import Violation

DOCS = Path(__file__).resolve().parent.parent / "docs" / "findings.md"

NO_HW = Config(arch_has_hw_pte_young=False)
RT = Config(PREEMPT_RT=True)
DEFAULT = Config()
NO_MEMCG = Config(CONFIG_MEMCG=False)
GFP_FAILS = Config(gfp_atomic_may_fail=True)

LV = "lruvec(memcg=0,node=0)"


def _v(check, function, condition, *, thread="t", details=None, stack=(), trace=(),
       message="m") -> Violation:
    return Violation(check=check, message=message, thread=thread, function=function,
                     condition=condition, details=dict(details or {}), stack=list(stack),
                     trace=[list(e) for e in trace])


def _walkless(thread: str, lv: str = LV) -> list:
    return [[thread, "aging_start", {"lruvec": lv, "max_seq": "3", "full_scan": "False"}],
            [thread, "inc_max_seq", {"lruvec": lv, "max_seq": "3", "done": "True"}],
            [thread, "aging_end", {"lruvec": lv, "max_seq": "3", "result": "True",
                                   "how": "no_walk"}]]


def _walker_start(thread: str, lv: str = LV, full_scan: str = "True") -> list:
    return [[thread, "aging_start", {"lruvec": lv, "max_seq": "3", "full_scan": full_scan}],
            [thread, "get_next_mm", {"lruvec": lv, "mm": "mm#1", "max_seq": "3"}]]


# --- one representative violation per registry signature, with its configuration ---------------
def f1_seq():
    return _v("seq", None, "max_seq - 1 <= seq <= max_seq", details={"lruvec": LV},
              trace=_walkless("kswapd0") + _walkless("kswapd0")), NO_HW


def f1_vm_bug_on():
    return _v("VM_BUG_ON", "get_next_mm", "walk->max_seq > mm_state->seq + 1",
              thread="debugfs", stack=["run_aging", "try_to_inc_max_seq", "get_next_mm"],
              trace=_walkless("kswapd0") + _walker_start("debugfs")), NO_HW


def f2():
    trace = _walker_start("debugfs") + _walkless("kswapd0")
    return _v("VM_BUG_ON", "try_to_inc_max_seq", "max_seq != READ_ONCE(lrugen->max_seq)",
              thread="debugfs", stack=["run_aging", "try_to_inc_max_seq"], trace=trace), NO_HW


def f3():
    trace = [["fork(app1)", "copy_process", {"parent": "app1", "child": "task#7",
                                             "mm": "mm#2", "clone_vm": "False"}],
             ["migrate(child)", "cgroup_migrate", {"pid": "7", "task": "task#7", "src": "A",
                                                   "dst": "B", "result": "ok"}]]
    return _v("VM_BUG_ON_MM", "lru_gen_migrate_mm", "!mm->lru_gen.memcg",
              thread="migrate(child)", details={"mm": "mm#2"},
              stack=["cgroup_migrate", "mem_cgroup_attach", "lru_gen_migrate_mm"],
              trace=trace), DEFAULT


def f4():
    return _v("sleep_in_atomic", "lru_gen_add_mm", "mm_list lock", thread="exec(app1)",
              details={"lock": "A.mm_list.lock", "why": "with IRQs disabled"},
              stack=["do_execve", "exec_mmap", "lru_gen_add_mm"]), RT


def b3():
    trace = [["reclaim0", "get_next_mm", {"lruvec": LV, "mm": "mm#1", "max_seq": "3"}],
             ["migrate", "del", {"mm": "mm#1", "memcg": "A"}],
             ["migrate", "add", {"mm": "mm#1", "memcg": "B"}],
             ["migrate", "del", {"mm": "mm#1", "memcg": "B"}],
             ["migrate", "add", {"mm": "mm#1", "memcg": "A"}],
             ["reclaim0", "get_next_mm", {"lruvec": LV, "mm": "mm#1", "max_seq": "3"}]]
    return _v("handout_once", "get_next_mm", "handout_once", thread="reclaim0",
              details={"mm": "mm#1", "lruvec": LV, "seq": 3, "re_added": True},
              stack=["try_to_inc_max_seq", "get_next_mm"], trace=trace), DEFAULT


def b4():
    trace = [["migrate", "cgroup_migrate", {"pid": "3", "dst": "B", "result": "ok"}],
             ["migrate", "migrate", {"mm": "mm#1", "src": "A", "dst": "B"}],
             ["migrate", "del", {"mm": "mm#1", "memcg": "A"}],
             ["cpu0", "context_switch", {"cpu": "0", "prev": "swapper", "next": "app1",
                                         "mm": "mm#1"}]]
    return _v("VM_WARN_ON", "lru_gen_use_mm", "list_empty(&mm->lru_gen.list)", thread="cpu0",
              stack=["context_switch", "lru_gen_use_mm"], trace=trace), DEFAULT


def b5():
    return _v("bloom_filter_alloc_failed", "clear_bloom_filter", "GFP_ATOMIC", thread="reclaim0",
              stack=["try_to_inc_max_seq", "get_next_mm", "clear_bloom_filter"]), GFP_FAILS


CASES = {"F1-seq": (f1_seq, "F1"), "F1-VM_BUG_ON": (f1_vm_bug_on, "F1"), "F2": (f2, "F2"),
         "F3": (f3, "F3"), "F4": (f4, "F4"), "B3": (b3, "B3"), "B4": (b4, "B4"),
         "B5": (b5, "B5")}


def test_f2_walkless_aging_finished_before_the_walk_started_is_still_f2():
    """Found by a blind mutant run: kswapd's walk-less aging ends after debugfs read max_seq
    but before its aging_start; the generation the walker iterates for was made walk-less."""
    v, config = f2()
    v.trace = _walkless("kswapd0") + _walker_start("debugfs")
    assert classify(v, config).id == "F2"


@pytest.mark.parametrize("name", CASES)
def test_each_signature_labels_its_violation(name):
    make, fid = CASES[name]
    v, config = make()
    label = classify(v, config)
    assert label.id == fid
    assert label.kind == ("known" if BY_ID[fid].judgement == "bug" else "benign")


def test_every_signature_has_a_case():
    covered = {fid for _, fid in CASES.values()}
    assert covered == {e.id for e in REGISTRY if e.signatures}


# --- configuration mismatches: a new bug in another configuration is new ------------------------
MISMATCH = {"F1-seq": DEFAULT, "F1-VM_BUG_ON": DEFAULT, "F2": DEFAULT, "F3": NO_MEMCG,
            "F4": DEFAULT, "B3": NO_MEMCG, "B4": NO_MEMCG, "B5": DEFAULT}


@pytest.mark.parametrize("name", CASES)
def test_the_same_violation_in_another_configuration_is_new(name):
    v, _ = CASES[name][0]()
    assert classify(v, MISMATCH[name]) == NEW


# --- trace mismatches: the same check without the protocol events is new ------------------------
def _drop(v: Violation, event: str) -> Violation:
    v = copy.deepcopy(v)
    v.trace = [e for e in v.trace if e[1] != event]
    return v


def _trace_mismatches():
    out = {}
    v, c = f1_seq()
    out["F1-seq: no walk-less aging"] = (_drop(v, "aging_start"), c)
    v, c = f1_seq()
    w = copy.deepcopy(v)                        # the aging walked the list: not walk-less
    w.trace.insert(1, ["kswapd0", "get_next_mm", {"lruvec": LV, "mm": "mm#1"}])
    w.trace = w.trace[:4]
    out["F1-seq: the aging walked"] = (w, c)
    v, c = f1_seq()
    w = copy.deepcopy(v)
    w.details["lruvec"] = "lruvec(memcg=1,node=0)"      # another lruvec's walk-less aging
    out["F1-seq: another lruvec"] = (w, c)
    v, c = f2()
    w = copy.deepcopy(v)                        # the walk-less aging is the walker's own
    w.trace = _walker_start("debugfs") + _walkless("debugfs")
    out["F2: own walk-less aging"] = (w, c)
    v, c = f2()
    w = copy.deepcopy(v)                        # it made another generation than the walk's
    w.trace = _walker_start("debugfs") + [
        [who, ev, dict(f, max_seq="4")] for who, ev, f in _walkless("kswapd0")]
    out["F2: another generation"] = (w, c)
    v, c = f2()
    w = copy.deepcopy(v)                        # its inc_max_seq found max_seq moved already
    w.trace = _walker_start("debugfs") + [
        [who, ev, dict(f, done="False") if ev == "inc_max_seq" else f]
        for who, ev, f in _walkless("kswapd0")]
    out["F2: the walk-less inc_max_seq did nothing"] = (w, c)
    v, c = f3()
    w = copy.deepcopy(v)
    w.trace.insert(1, ["fork(app1)", "add", {"mm": "mm#2", "memcg": "A"}])
    out["F3: added before the migration"] = (w, c)
    v, c = f3()
    out["F3: no fork"] = (_drop(v, "copy_process"), c)
    v, c = f3()
    w = copy.deepcopy(v)
    w.stack = ["do_exit", "exit_mm", "mm_update_next_owner", "lru_gen_migrate_mm"]
    out["F3: not a cgroup migration"] = (w, c)
    v, c = f4()
    w = copy.deepcopy(v)
    w.stack = ["kernel_clone", "lru_gen_add_mm"]
    out["F4: not exec"] = (w, c)
    v, c = b3()
    w = copy.deepcopy(v)
    w.details["re_added"] = False
    out["B3: not re-added per the check"] = (w, c)
    v, c = b3()
    out["B3: no del/add in the trace"] = (_drop(_drop(v, "del"), "add"), c)
    v, c = b4()
    out["B4: migration already re-added"] = (
        _with(v, ["migrate", "add", {"mm": "mm#1", "memcg": "B"}], at=3), c)
    v, c = b4()
    w = copy.deepcopy(v)
    w.trace[-1][2]["mm"] = "mm#2"               # switched to another mm
    out["B4: another mm"] = (w, c)
    return out


def test_b4_holds_when_another_mm_is_migrated_after_this_ones_delete():
    """A free-running stress migrates several mms at once (and mm_update_next_owner() migrates
    too): what B4 asks is that *this* mm is between its del and its add, whatever other mms'
    migrations the trace shows after it. Found by `mmlist stress` labelling such a warning
    [NEW] (the signature looked only at the last migration of any mm)."""
    v, c = b4()
    w = _with(v, ["exit(app2)", "migrate", {"mm": "mm#2", "src": "A", "dst": "B"}], at=3)
    w = _with(w, ["exit(app2)", "del", {"mm": "mm#2", "memcg": "A"}], at=4)
    w = _with(w, ["exit(app2)", "add", {"mm": "mm#2", "memcg": "B"}], at=5)
    assert classify(w, c).id == "B4"
    # and this mm's own add, even after the other migration, still takes it out of the window
    x = _with(w, ["migrate", "add", {"mm": "mm#1", "memcg": "B"}], at=6)
    assert classify(x, c) == NEW


def _with(v: Violation, event: list, at: int) -> Violation:
    v = copy.deepcopy(v)
    v.trace.insert(at, event)
    return v


@pytest.mark.parametrize("name", list(_trace_mismatches()))
def test_a_check_without_the_entrys_protocol_events_is_new(name):
    v, config = _trace_mismatches()[name]
    assert classify(v, config) == NEW


# --- dedup on meaning ---------------------------------------------------------------------------
def _failure(v: Violation, index: int = 1, count: int = 1):
    return SimpleNamespace(violation=v, table_text=f"table of {v.check}", execution_index=index,
                           count=count, first_seconds=0.1 * index, replay_dict={})


def test_two_different_seq_violations_in_one_scenario_are_two_findings():
    scenario = SimpleNamespace(name="walkers", config=DEFAULT)
    a = _v("seq", None, "max_seq - 1 <= seq <= max_seq", details={"lruvec": LV},
           message=f"{LV}: mm_state.seq=2 with max_seq=4: not max_seq - 1 <= seq <= max_seq")
    b = _v("seq", "get_next_mm", "seq = max_seq after each iteration", thread="reclaim0",
           message="iteration seq=3 of lruvec(memcg=1,node=0) reached the end of the list but "
                   "mm_state->seq became 5, not 3", stack=["try_to_inc_max_seq", "get_next_mm"])
    a2 = _v("seq", None, "max_seq - 1 <= seq <= max_seq", details={"lruvec": LV},
            message=f"{LV}: mm_state.seq=3 with max_seq=5: not max_seq - 1 <= seq <= max_seq")
    report = HuntReport(title="t")
    index: dict = {}
    sched_report = SimpleNamespace(failures=[_failure(a, 1, 2), _failure(b, 4)])
    _record(report, scenario, sched_report.failures, None, index, 0.0)
    _record(report, scenario, [_failure(a2, 7)], None, index, 1.0)
    assert len(report.findings) == 2, [str(f.violation) for f in report.findings]
    first, second = report.findings
    assert first.violation is a and first.count == 3 and first.first_execution == 1
    assert second.violation is b and second.count == 1
    assert all(f.label == NEW for f in report.findings)
    text = report.render()
    assert text.count("[NEW]") == 2 and "3 occurrence(s)" in text
    assert report.exit_code == EXIT_NEW


def test_the_same_message_on_other_stacks_is_two_findings():
    a = _v("walker_reference", "get_next_mm", "*iter", stack=["run_aging", "get_next_mm"])
    b = _v("walker_reference", "get_next_mm", "*iter", stack=["age_lruvec", "get_next_mm"])
    assert finding_key(a, DEFAULT) != finding_key(b, DEFAULT)
    c = _v("walker_reference", "get_next_mm", "*iter", message="m",
           stack=["run_aging", "get_next_mm", "get_next_mm"])
    assert finding_key(a, DEFAULT) == finding_key(c, DEFAULT)


def test_known_manifestations_of_one_entry_merge_and_count():
    scenario = SimpleNamespace(name="debugfs", config=NO_HW)
    report = HuntReport(title="t")
    s1, _ = f1_seq()
    s2, _ = f1_vm_bug_on()
    _record(report, scenario, [_failure(s1), _failure(s2, 3)], None,
            {}, 0.0)
    (f,) = report.findings
    assert f.known == "F1" and f.count == 2
    assert "also as VM_BUG_ON in get_next_mm()" in report.render()
    assert report.exit_code == EXIT_KNOWN
    report.strict = True
    assert report.exit_code == EXIT_NEW


def test_benign_only_exits_3_and_is_listed_as_benign():
    scenario = SimpleNamespace(name="migrate-back", config=DEFAULT)
    report = HuntReport(title="t")
    v, _ = b3()
    _record(report, scenario, [_failure(v)], None, {}, 0.0)
    text = report.render()
    assert report.exit_code == EXIT_KNOWN
    assert "benign judgements (behaviours the seed accepts; not bugs):" in text
    assert "benign (judged: the seed accepts a duplicate walk" in text
    assert "docs/findings.md#b3-" in text
    assert "[NEW]" not in text and "===" not in text
    assert HuntReport(title="t").exit_code == EXIT_OK


def test_json_carries_label_id_count_and_first_find():
    scenario = SimpleNamespace(name="fork-migrate", config=DEFAULT)
    report = HuntReport(title="t")
    v, _ = f3()
    _record(report, scenario, [_failure(v, 5, 4)], None, {}, 2.0)
    (d,) = report.to_dict()["findings"]
    assert (d["label"], d["finding_id"], d["count"], d["first_execution"]) == \
        ("known", "F3", 4, 5)
    assert d["first_seconds"] == pytest.approx(2.5)
    assert report.to_dict()["exit_code"] == EXIT_KNOWN


# --- docs/findings.md is checked against the registry -------------------------------------------
def test_docs_table_is_the_registry():
    text = DOCS.read_text()
    assert docs_table(text) == render_table(), (
        "docs/findings.md's registry table is stale: paste mmlist.findings.render_table()")


def test_every_entry_has_its_section_in_the_docs():
    anchors = {github_anchor(ln) for ln in DOCS.read_text().splitlines()
               if re.match(r"^## [FB]\d+:", ln)}
    for e in REGISTRY:
        assert e.anchor in anchors, (e.id, e.anchor, sorted(anchors))
    assert len(anchors) == len(REGISTRY)


def test_fix_variants_named_by_the_registry_exist():
    from mmlist.variants import list_variants
    names = {v.name for v in list_variants()}
    for e in REGISTRY:
        if e.fix:
            assert e.fix in names, e.id


def test_a_real_f2_schedule_from_a_blind_mutant_run_is_labelled_f2(capsys):
    """tests/data/f2-walkless-aging-before-aging-start.json: the faithful model, a schedule in
    which kswapd's walk-less aging ends between debugfs reading max_seq and its aging_start.
    A signature that required the walk-less aging to overlap aging_start labelled it [NEW]."""
    from mmlist.cli import main
    path = Path(__file__).resolve().parent / "data" / "f2-walkless-aging-before-aging-start.json"
    code = main(["replay", str(path)])
    out = capsys.readouterr().out
    last = out.rstrip().splitlines()[-1]
    assert code == 1 and last.startswith("reproduced: VM_BUG_ON in try_to_inc_max_seq()"), out
    assert "[known finding F2:" in last and "[NEW]" not in last
