"""A model thread that never reaches a kernel primitive (a pure Python loop, a sleep, a plain
Python lock) cannot be scheduled: the watchdog reports it as ``stuck_thread`` (its name, the
function and line it is stuck at), abandons it, and the run ends; a kernel primitive called
from a thread the model started itself is one ``foreign_thread`` violation, without a flood of
tracebacks; one Ctrl-C ends a run whose thread is stuck, with its report (issue 10, rows 2 and
14). Each command runs in a subprocess with a timeout: a hang fails the test instead of the
suite."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

VARIANTS = Path(__file__).parent / "variants"
ROOT = Path(__file__).resolve().parent.parent


def _mmlist(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mmlist", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=timeout)


@pytest.mark.parametrize("kind", ["loop", "sleep", "pylock"])
def test_a_stuck_thread_is_reported_and_the_run_ends(kind, tmp_path):
    r = _mmlist("check", "--variant", str(VARIANTS / f"stuck_{kind}.py"), "--scenario",
                "walkers", "--watchdog", "0.5", "--out", str(tmp_path))
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"stuck_thread in should_skip_mm() [reclaim0]: reclaim0 ran 0.5s without reaching " \
           f"a kernel primitive at should_skip_mm() (<variant stuck-{kind}: should_skip_mm>:6)" \
           in r.stdout
    assert "[NEW]" in r.stdout and "Traceback" not in r.stderr


def test_the_hunt_stops_at_a_stuck_thread_and_keeps_its_report(tmp_path):
    out = tmp_path / "r.json"
    r = _mmlist("hunt", "--variant", str(VARIANTS / "stuck_loop.py"), "--scenario", "walkers",
                "--scenario", "exec", "--budget", "30", "--watchdog", "0.5", "--no-progress",
                "--out", str(tmp_path), "--json", str(out))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "stopped after walkers: a model thread got stuck" in r.stdout
    data = json.loads(out.read_text())
    assert [x["scenario"] for x in data["results"]] == ["walkers"]
    assert data["stopped"].startswith("stopped after walkers")
    (f,) = data["findings"]
    assert f["violation"]["check"] == "stuck_thread" and os.path.isfile(f["replay"])


def test_a_thread_of_its_own_is_one_violation_and_no_traceback(tmp_path):
    r = _mmlist("check", "--variant", str(VARIANTS / "stuck_thread.py"), "--scenario",
                "walkers", "--max-executions", "20", "--out", str(tmp_path))
    assert r.returncode == 1, r.stdout + r.stderr
    headers = [ln for ln in r.stdout.splitlines() if ln.startswith("=== ")]
    assert len(headers) == 1 and "foreign_thread" in headers[0], headers
    assert "READ_ONCE called from thread" in headers[0]
    assert r.stderr.strip() == ""


def test_one_ctrl_c_ends_a_run_whose_thread_is_stuck(tmp_path):
    out = tmp_path / "r.json"
    p = subprocess.Popen([sys.executable, "-m", "mmlist", "hunt", "--variant",
                          str(VARIANTS / "stuck_sleep.py"), "--scenario", "walkers",
                          "--budget", "300", "--watchdog", "120", "--no-progress", "--out",
                          str(tmp_path), "--json", str(out)], cwd=ROOT, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env={**os.environ, "MMLIST_TEST_SAY_ASLEEP": "1"})
    try:
        # an event, not a clock: the variant says so once the walker is asleep in
        # should_skip_mm() (EOF: the process ended first, and the assertions below say why)
        for line in p.stderr:
            if line.strip() == "asleep":
                break
        p.send_signal(signal.SIGINT)
        stdout, stderr = p.communicate(timeout=60)
    finally:
        p.kill()
    assert "interrupted" in stdout, stdout + stderr
    assert json.loads(out.read_text())["interrupted"] is True


def test_a_non_daemon_thread_left_running_does_not_keep_the_run_alive(tmp_path):
    r = _mmlist("check", "--variant", str(VARIANTS / "lingering_thread.py"), "--scenario",
                "walkers", "--max-executions", "2", "--out", str(tmp_path), timeout=45)
    # the thread sleeps an hour: the subprocess timeout only guards against a hang
    assert r.returncode in (0, 3), r.stdout + r.stderr
    assert "not waiting for thread(s) the model started and left running: lingerer" in r.stderr


def test_a_livelock_is_counted_and_one_cut_off_execution_is_kept_for_replay(tmp_path):
    """A cut-off execution is kept for replay; replayed under fair scheduling it still makes no
    progress, so it is a ``liveness`` failure (exit 1, "verdict: failed"), with its own replay
    file that reproduces under the same fairness."""
    variant = str(VARIANTS / "livelock.py")
    r = _mmlist("check", "--variant", variant, "--scenario", "walkers", "--max-executions",
                "2", "--out", str(tmp_path))
    assert r.returncode == 1, r.stdout + r.stderr
    path = tmp_path / "walkers-step_budget.json"
    assert path.is_file() and f"a cut-off execution: mmlist replay {path}" in r.stdout
    assert "cut off at the step limit (a possible livelock)" in r.stdout
    assert ("Violation: liveness: no progress: 5000 steps under fair scheduling and reclaim0 "
            "still run") in r.stdout and "verdict: failed" in r.stdout
    again = _mmlist("replay", str(path), "--variant", variant)
    assert again.returncode == 1, again.stdout + again.stderr
    assert "reproduced: the run is cut off at the step limit again" in again.stdout
    fair = _mmlist("replay", str(tmp_path / "walkers-liveness.json"), "--variant", variant)
    assert fair.returncode == 1, fair.stdout + fair.stderr
    assert "reproduced: liveness: no progress" in fair.stdout


def test_a_busy_wait_that_fair_scheduling_resolves_is_no_livelock():
    """owner_retry_spins.py (a generated mutant of mm_update_next_owner()): the exiting task
    retries its owner search until the mm's other user exits. An unfair schedule that never runs
    that user is cut off at the step limit; under fair scheduling the same schedule finishes,
    so the probe reports nothing."""
    from mmlist import sched
    from mmlist.hunt import _livelock_probe
    from mmlist.scenarios import BUILTIN
    from mmlist.variants import load_variant
    v = load_variant(VARIANTS / "owner_retry_spins.py")
    r = sched.explore("owner-exits", strategy="portfolio", max_executions=60, variant=v,
                      shrink=False)
    assert r.cutoffs and r.cutoff is not None, r.statuses
    assert _livelock_probe(BUILTIN["owner-exits"], r, v, True, False, None) == []
