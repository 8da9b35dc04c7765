"""The `mmlist` command: bad input is one line and exit 2; listings; exit codes of hunt/check."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mmlist.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv, needle", [
    (["hunt", "--scenario", "no-such-scenario"], "unknown scenario 'no-such-scenario'"),
    (["hunt", "--budget", "-3"], "positive number"),
    (["hunt", "--budget", "soon"], "not a number"),
    (["hunt", "--budget", "nan"], "positive number"),
    (["hunt", "--seed", "-1"], "must be >= 0"),
    (["hunt", "--strategy", "bogo"], "invalid choice"),
    (["hunt", "--mutant", "no-such-mutant"], "unknown mutant"),
    (["hunt", "--variant", "no-such-variant"], "unknown variant"),
    (["hunt", "--variant", "/nonexistent/v.py"], "variant file not found"),
    (["check", "--scenario", "walkers", "--preemption-bound", "two"], "not an integer"),
    (["check"], "required"),
    (["frobnicate"], "invalid choice"),
    (["replay", "/nonexistent/replay.json"], ""),
    (["hunt", "--out", ""], "--out: an empty path"),
    (["hunt", "--json", ""], "--json: an empty path"),
    (["hunt", "--watchdog", "0"], "positive number"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("mmlist: error: ")
    assert needle in lines[0]


def test_scenarios_lists_every_builtin(capsys):
    from mmlist.scenarios import BUILTIN
    code, out, _ = run(capsys, "scenarios")
    assert code == 0
    for name in BUILTIN:
        assert name in out


def test_python_dash_m_entry_point():
    proc = subprocess.run([sys.executable, "-m", "mmlist", "scenarios"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0
    assert "fork-migrate" in proc.stdout


def test_a_variant_that_does_not_run_is_bad_input(capsys, tmp_path):
    p = tmp_path / "typo.py"
    p.write_text('DESCRIPTION = "typo"\n'
                 'PATCHES = {"lru_gen_add_mm": [("    spin_lock(mm_list.lock)", '
                 '"    spin_lok(mm_list.lock)")]}\n')
    code, out, err = run(capsys, "check", "--scenario", "fork", "--variant", str(p),
                         "--preemption-bound", "0", "--out", str(tmp_path))
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "NameError" in lines[0] and "spin_lok" in lines[0]


def test_a_patch_may_use_any_kernel_primitive(capsys, tmp_path):
    """spin_lock_irq is not imported by mm_list.py: a patch gets it from mmlist.kernel."""
    p = tmp_path / "irq.py"
    p.write_text('DESCRIPTION = "irq-safe mm_list lock in lru_gen_add_mm"\n'
                 'PATCHES = {"lru_gen_add_mm": [\n'
                 '    ("    spin_lock(mm_list.lock)", "    spin_lock_irq(mm_list.lock)"),\n'
                 '    ("    spin_unlock(mm_list.lock)", "    spin_unlock_irq(mm_list.lock)")]}\n')
    code, out, err = run(capsys, "check", "--scenario", "fork", "--variant", str(p),
                         "--preemption-bound", "1", "--out", str(tmp_path))
    assert code == 0, err
    assert "passed" in out and "completed" in out


def test_a_scenario_named_twice_runs_once(capsys, tmp_path):
    code, out, err = run(capsys, "hunt", "--scenario", "kthread-use-mm", "--scenario",
                         "kthread-use-mm", "--budget", "0.5", "--no-progress", "--out",
                         str(tmp_path))
    assert code == 0, out + err
    rows = [ln for ln in out.splitlines() if ln.startswith("kthread-use-mm ")]
    assert len(rows) == 1, out
    assert "1 scenario(s)" in out
