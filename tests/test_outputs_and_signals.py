"""Issue 10, rows 4, 9, 12, 13 and 15: outputs checked before the search, a write failure at the end
still prints the report (exit 4), SIGTERM handled like Ctrl-C, the JSON report written
atomically, a closed pipe a quiet exit, an ASCII terminal and paths with spaces."""
from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mmlist import files
from mmlist.cli import main
from mmlist.hunt import HuntReport

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = Path(__file__).parent / "variants"


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("mmlist: error: "), err
    return lines[0]


# --- row 4: --out / --json checked before the search --------------------------------------------

@pytest.mark.parametrize("flag, make, needle", [
    ("--out", lambda d: (d / "afile").write_text("x") and str(d / "afile"),
     "exists and is not a directory"),
    ("--json", lambda d: str(d), "is a directory"),
    # under a plain file: no directory can be made there (a missing parent directory is fine:
    # it is created)
    ("--json", lambda d: (d / "afile").write_text("x") and str(d / "afile" / "r.json"),
     "is not a directory"),
])
def test_an_unusable_output_is_refused_before_the_search(flag, make, needle, tmp_path,
                                                         monkeypatch):
    import mmlist.hunt as hunt_mod
    searched = []
    monkeypatch.setattr(hunt_mod, "hunt", lambda *a, **k: searched.append(1))
    target = make(tmp_path)
    args = ["hunt", "--scenario", "walkers", "--budget", "1", "--no-progress", flag, target]
    if flag == "--json":
        args += ["--out", str(tmp_path / "out")]
    code, out, err = _run(*args)
    assert code == 2 and not searched, out + err
    line = _one_error_line(err)
    assert flag in line and needle in line


def test_a_json_write_failure_at_the_end_prints_the_report_and_exits_4(tmp_path, monkeypatch):
    def full_disk(self, path):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(HuntReport, "write_json", full_disk)
    code, out, err = _run("hunt", "--scenario", "kthread-use-mm", "--budget", "0.5",
                          "--no-progress", "--out", str(tmp_path / "out"), "--json",
                          str(tmp_path / "r.json"))
    assert code == 4, out + err
    assert "exit status" in out and "coverage" in out          # the report was printed
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "cannot write the JSON report" in lines[0]
    assert "No space left on device" in lines[0]


# --- row 12: the JSON report is written atomically ----------------------------------------------

def test_a_failed_json_write_leaves_the_old_report_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    files.write_json_atomic(str(path), {"old": True})

    def broken_dump(data, fh, **kw):
        fh.write('{"half": ')
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(files.json, "dump", broken_dump)
    with pytest.raises(OSError):
        files.write_json_atomic(str(path), {"new": True})
    assert json.loads(path.read_text()) == {"old": True}
    assert sorted(os.listdir(tmp_path)) == ["r.json"]


# --- row 9: SIGTERM is a Ctrl-C -----------------------------------------------------------------

def test_sigterm_ends_the_run_with_its_report(tmp_path):
    out = tmp_path / "r.json"
    p = subprocess.Popen([sys.executable, "-m", "mmlist", "hunt", "--variant",
                          str(VARIANTS / "stuck_sleep.py"), "--scenario", "walkers",
                          "--budget", "300", "--watchdog", "120", "--no-progress", "--out",
                          str(tmp_path), "--json", str(out)], cwd=ROOT, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env={**os.environ, "MMLIST_TEST_SAY_ASLEEP": "1"})
    try:
        for line in p.stderr:               # an event, not a clock
            if line.strip() == "asleep":
                break
        p.send_signal(signal.SIGTERM)
        stdout, stderr = p.communicate(timeout=60)
    finally:
        p.kill()
    assert "interrupted" in stdout, stdout + stderr
    assert json.loads(out.read_text())["interrupted"] is True


# --- row 13: a reader that leaves early ----------------------------------------------------------

def test_a_closed_pipe_is_a_quiet_exit():
    r = subprocess.run(f"{sys.executable} -m mmlist scenarios | head -1", shell=True,
                       cwd=ROOT, text=True, capture_output=True, timeout=120)
    assert r.stdout.count("\n") == 1 and r.stdout.startswith("walkers")
    assert r.stderr == "", r.stderr


# --- row 15: an ASCII-only terminal, and replay commands for paths with spaces -------------------

def test_an_ascii_terminal_and_a_path_with_spaces(tmp_path):
    out = tmp_path / "out dir"
    r = subprocess.run([sys.executable, "-m", "mmlist", "hunt", "--scenario", "debugfs",
                        "--budget", "0.5", "--no-progress", "--out", str(out)], cwd=ROOT,
                       capture_output=True, timeout=300,
                       env={**os.environ, "PYTHONIOENCODING": "ascii"})
    stdout, stderr = r.stdout.decode("ascii"), r.stderr.decode("ascii")
    assert r.returncode == 3, stdout + stderr
    assert stderr == "" and "Traceback" not in stdout
    assert "?" in stdout                    # the table's arrows, replaced, not a crash
    quoted = [ln for ln in stdout.splitlines() if "mmlist replay '" in ln]
    assert quoted and all(f"'{out}/" in ln for ln in quoted), quoted


def test_ctrl_c_during_the_demo_is_a_quiet_stop():
    p = subprocess.Popen([sys.executable, "-m", "mmlist", "demo"], cwd=ROOT, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert p.stdout.readline().startswith("mmlist demo:")     # running: an event
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
    finally:
        p.kill()
    assert p.returncode == 0 and err == "", err
