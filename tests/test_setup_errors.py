"""Scenario set-up runs on one real thread with real locks: a lock bug in a function that
set-up calls (a variant's double spin_lock or missing unlock in lru_gen_add_mm) must not hang
the run. It is a ``SetupError`` naming the scenario and the model function, and the command
says so in one line with exit status 2 (issue 10, row 3)."""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from mmlist import programs as P
from mmlist import runtime as rt
from mmlist.cli import main
from mmlist.errors import SetupError
from mmlist.kernel import (init_waitqueue_head, spin_lock, spin_unlock, wait_event,
                           wait_queue_head)
from mmlist.model.mm_list import get_mm_list
from mmlist.scenarios import BUILTIN, Scenario, _base

VARIANTS = Path(__file__).parent / "variants"


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _one_error_line(command: str, variant: str, tmp_path) -> tuple[str, str]:
    """``command`` (hunt or check) on walkers with ``variant``: exit 2 and one line on stderr;
    (that line, stdout)."""
    args = [command, "--variant", str(VARIANTS / f"{variant}.py"), "--scenario", "walkers"]
    if command == "hunt":
        args += ["--budget", "1", "--no-progress", "--out", str(tmp_path)]
    code, out, err = _run(*args)
    assert code == 2, out + err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0], out


@pytest.mark.parametrize("variant", ["add_mm_double_lock", "add_mm_no_unlock"])
@pytest.mark.parametrize("command", ["hunt", "check"])
def test_a_lock_bug_in_set_up_is_one_line_and_exit_2(variant, command, tmp_path):
    line, out = _one_error_line(command, variant, tmp_path)
    assert line.startswith("mmlist: error: set-up of scenario walkers: ")
    assert "lru_gen_add_mm()" in line and "A.mm_list.lock" in line
    assert "Traceback" not in out + line


@pytest.mark.parametrize("command", ["hunt", "check"])
def test_a_keyboard_interrupt_raised_by_the_variant_in_set_up_is_not_a_ctrl_c(command, tmp_path):
    line, out = _one_error_line(command, "add_mm_keyboard_interrupt", tmp_path)
    assert "lru_gen_add_mm() (<variant add-mm-keyboard-interrupt: " \
        "lru_gen_add_mm>" in line and "raised KeyboardInterrupt" in line, line
    assert "interrupted" not in out


def _scenario(setup) -> Scenario:
    return Scenario("probe", "", setup=setup,
                    threads=lambda w: [P.direct_reclaim("reclaim0", "A")])


def _lock_of_a(w):
    _base(w, walkers=("reclaim0",))
    return get_mm_list(w.memcg("A")).lock


def test_returning_with_a_lock_held_is_refused_and_leaves_nothing_held():
    def setup(w):
        spin_lock(_lock_of_a(w))
    with pytest.raises(SetupError, match="returned holding A.mm_list.lock"):
        _scenario(setup).build()
    ctx = rt.current_ctx()
    assert ctx.locks_held == [] and ctx.preempt_count == 0
    BUILTIN["walkers"].build()                  # and the next set-up is not affected


def test_unlocking_a_lock_not_held_is_refused():
    def setup(w):
        spin_unlock(_lock_of_a(w))
    with pytest.raises(SetupError, match=r"setup\(\) .*releases A.mm_list.lock, which is not"):
        _scenario(setup).build()


def test_a_wait_nobody_can_wake_is_refused():
    def setup(w):
        _base(w, walkers=("reclaim0",))
        wq = wait_queue_head("probe.wait")
        init_waitqueue_head(wq)
        wait_event(wq, lambda: False)
    with pytest.raises(SetupError, match="no other thread to wake it"):
        _scenario(setup).build()


def test_every_builtin_set_up_passes_the_guard():
    for sc in BUILTIN.values():
        sc.build()


@pytest.mark.parametrize("command", ["hunt", "check"])
def test_a_model_crash_in_set_up_under_a_variant_is_one_line_and_exit_2(command, tmp_path):
    """A variant that leaves the model's state broken (here a memcg's fifo never initialised)
    makes set-up itself crash: that is the variant's failure, not an internal error of mmlist
    (exit 4); it names the scenario, the variant and the model function."""
    line, _ = _one_error_line(command, "init_memcg_no_fifo_init", tmp_path)
    assert ("set-up of scenario walkers crashed under variant init-memcg-no-fifo-init in "
            "lru_gen_add_mm() (mm_list.py:") in line, line
