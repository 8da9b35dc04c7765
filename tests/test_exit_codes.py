"""Exit codes a CI can use (docs/usage.md, `mmlist --help`): 0 nothing found, 1 a violation no
registry entry explains, 2 bad input, 3 only known findings and benign judgements, 4 an internal
error with its traceback in a log file; `--strict` makes known findings fail.

Budgets: preempt-rt-exec shows F4 in its first execution (no interleaving needed), so a 1 s hunt
finds it on any machine; the mutant no-nr-walkers-inc breaks a sequential run of `walkers`.
"""
from __future__ import annotations

import contextlib
import io
import os
import re

import pytest

import mmlist.hunt
from mmlist.cli import EXIT_CODES, main


def _main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_faithful_model_with_only_known_findings_exits_3(tmp_path):
    code, out, err = _main("hunt", "--scenario", "preempt-rt-exec", "--budget", "1",
                           "--out", str(tmp_path), "--no-progress")
    assert code == 3, out + err
    assert "[known finding F4:" in out and "[NEW]" not in out
    assert "exit status 3: only known findings and benign judgements" in out


def test_strict_makes_known_findings_fail(tmp_path):
    code, out, err = _main("hunt", "--scenario", "preempt-rt-exec", "--budget", "1", "--strict",
                           "--out", str(tmp_path), "--no-progress")
    assert code == 1, out + err
    assert "(--strict: known findings count)" in out


def test_a_new_bug_exits_1(tmp_path):
    code, out, err = _main("check", "--scenario", "walkers", "--mutant", "no-nr-walkers-inc",
                           "--max-executions", "3", "--out", str(tmp_path))
    assert code == 1, out + err
    assert "[NEW]" in out and "exit status 1" in out


def test_nothing_found_exits_0(tmp_path):
    code, out, err = _main("check", "--scenario", "kthread-use-mm", "--preemption-bound", "1",
                           "--out", str(tmp_path))
    assert code == 0, out + err
    assert "no violation found" in out and "exit status 0: nothing found" in out


def test_bad_input_exits_2():
    code, out, err = _main("hunt", "--scenario", "nope")
    assert code == 2 and out == ""
    assert _one_line(err).startswith("mmlist: error: unknown scenario")


def test_an_internal_error_exits_4_with_a_log_file(monkeypatch, tmp_path):
    def broken(*a, **k):
        raise RuntimeError("a bug of mmlist")
    monkeypatch.setattr(mmlist.hunt, "hunt", broken)
    code, out, err = _main("hunt", "--scenario", "walkers", "--out", str(tmp_path))
    assert code == 4, out + err
    line = _one_line(err)
    m = re.fullmatch(r"mmlist: internal error: RuntimeError: a bug of mmlist; traceback in "
                     r"(\S+)", line)
    assert m, line
    log = open(m.group(1)).read()
    assert "Traceback" in log and "a bug of mmlist" in log and "def broken" not in log
    assert "broken" in log
    os.unlink(m.group(1))


def test_an_internal_error_is_not_blamed_on_the_variant(monkeypatch, tmp_path):
    """With --variant given, an exception outside the variant's own code is still exit 4."""
    def broken(*a, **k):
        raise IsADirectoryError("not the variant's fault")
    monkeypatch.setattr(mmlist.hunt, "hunt", broken)
    code, out, err = _main("hunt", "--scenario", "walkers", "--variant", "fix-nowalk-seq",
                           "--out", str(tmp_path))
    assert code == 4, out + err
    assert _one_line(err).startswith("mmlist: internal error: IsADirectoryError")


def test_an_exception_in_the_variants_code_is_bad_input(tmp_path):
    variant = tmp_path / "my_change.py"
    variant.write_text('DESCRIPTION = "raises"\n'
                       'PATCHES = {"lru_gen_add_mm": [("    mm_list = get_mm_list(memcg)\\n",'
                       ' "    mm_list = get_mm_list(memcg)\\n    raise ValueError(\\"mine\\")\\n")]}\n')
    code, out, err = _main("check", "--scenario", "fork", "--variant", str(variant),
                           "--max-executions", "2", "--out", str(tmp_path / "o"))
    line = _one_line(err)
    assert code == 2, out + err
    assert line.startswith(f"mmlist: error: variant {variant} failed: ValueError: mine"), line


def test_a_variant_calling_sys_exit_at_import_is_bad_input(tmp_path):
    variant = tmp_path / "exits.py"
    variant.write_text("import sys\nDESCRIPTION = 'x'\nsys.exit(0)\n")
    code, out, err = _main("hunt", "--scenario", "walkers", "--variant", str(variant),
                           "--budget", "1", "--out", str(tmp_path / "o"))
    assert code == 2, out + err
    assert "SystemExit" in _one_line(err)


@pytest.mark.parametrize("cmd", [[], ["hunt"], ["check"], ["replay"]])
def test_help_lists_the_exit_codes(cmd, capsys):
    with pytest.raises(SystemExit):
        main(cmd + ["--help"])
    out = capsys.readouterr().out
    assert EXIT_CODES in out
    for code in "01234":
        assert re.search(rf"^  {code}  ", out, re.M), code


def test_usage_docs_list_the_exit_codes():
    text = open(os.path.join(os.path.dirname(__file__), "..", "docs", "usage.md")).read()
    for code, needle in [(0, "nothing found"), (1, "no registry entry explains"),
                         (2, "bad input"), (3, "only known findings and benign judgements"),
                         (4, "internal error")]:
        assert re.search(rf"^\| {code} \| .*{re.escape(needle)}", text, re.M), code
    assert "--strict" in text


def test_a_user_variants_replay_needs_the_variant_and_its_content(tmp_path):
    """The replay file records the variant's path and sha256 and never runs code it names:
    `mmlist replay FILE` alone is bad input; with `--variant PATH` it reproduces; an edited
    variant file is a stale replay (exit 2)."""
    import shutil

    from mmlist.variants import MUTANTS_DIR
    mine = tmp_path / "my_change.py"
    shutil.copy(MUTANTS_DIR / "no_nr_walkers_inc.py", mine)
    out = tmp_path / "out"
    code, text, err = _main("check", "--scenario", "walkers", "--variant", str(mine),
                            "--max-executions", "3", "--out", str(out))
    assert code == 1, text + err
    replay = sorted(out.iterdir())[0]
    data = __import__("json").loads(replay.read_text())
    assert data["variant_path"] == str(mine) and len(data["variant_sha256"]) == 64
    code, text, err = _main("replay", str(replay))
    assert code == 2 and "--variant PATH" in _one_line(err)
    code, text, err = _main("replay", str(replay), "--variant", str(mine))
    assert code == 1 and text.rstrip().splitlines()[-1].startswith("reproduced:"), text + err
    mine.write_text(mine.read_text() + "\n# edited\n")
    code, text, err = _main("replay", str(replay), "--variant", str(mine))
    assert code == 2 and "is not the file it was written with" in _one_line(err)
