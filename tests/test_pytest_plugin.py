"""The pytest plugin (``mmlist.pytest_plugin``) in a fresh project that only has mmlist installed.

Each test writes a small project with ``pytester`` and runs pytest on it in a subprocess (the
plugin patches nothing in-process, but a variant patches the whole model: a subprocess keeps
this session's model clean). The plugin is loaded three ways (``mode``):

* ``dash-p``: ``-p no:mmlist -p mmlist.pytest_plugin``, which works whether or not the entry
  point is installed (``no:mmlist`` keeps an installed entry point from registering the same
  module a second time under its own name);
* ``entry-point``: plain discovery through a ``pytest11`` entry point named ``mmlist``, from a
  throw-away ``.dist-info`` put on ``PYTHONPATH`` (what ``pip install`` writes), so discovery
  is tested before pyproject.toml declares it;
* ``installed``: plain discovery of the installed mmlist's own entry point; skipped while
  ``importlib.metadata.entry_points(group="pytest11")`` has no ``mmlist`` entry.

Budgets are a few executions: what is tested is the plumbing (options, labels, the table, the
replay file), not the search.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import mmlist
from mmlist import hypothesis_profiles
from mmlist.variants import MUTANTS_DIR

pytest_plugins = ["pytester"]

MODES = ["dash-p", "entry-point", "installed"]
MUTANT = MUTANTS_DIR / "inc_max_seq_by_two.py"        # max_seq check, any interleaving

USER_SCENARIO = '''
from mmlist import programs as P
from mmlist.config import Config
from mmlist.scenarios import Scenario


def setup(w):
    w.mem_cgroup_alloc("A")
    w.spawn("A", comm="app", nr_regions=2)
    w.user_task("reclaimer", "A")
    w.user_task("sh")


mine = Scenario("exit-vs-walker", "a direct reclaimer against an exit", setup=setup,
                threads=lambda w: [P.direct_reclaim("reclaimer", "A", priority=0),
                                   P.exiter("app")],
                config=Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16))
'''


def _installed() -> bool:
    return any(ep.name == "mmlist" for ep in importlib.metadata.entry_points(group="pytest11"))


def _fake_entry_point(root: Path) -> Path:
    """A ``.dist-info`` declaring ``[pytest11] mmlist = mmlist.pytest_plugin``: what pip
    writes for the entry point in pyproject.toml."""
    site = root / "fake-site"
    info = site / "mmlist_plugin_only-0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mmlist-plugin-only\n"
                                   "Version: 0.0\n")
    (info / "entry_points.txt").write_text("[pytest11]\nmmlist = mmlist.pytest_plugin\n")
    return site


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A fresh project: no conftest of mmlist's, no CI or profile from the environment."""
    for var in ("CI", "MMLIST_HYPOTHESIS_PROFILE", "PYTEST_ADDOPTS", "PYTEST_PLUGINS",
                "PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        monkeypatch.delenv(var, raising=False)
    pytester.makeini("[pytest]\n")
    return pytester


def run(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str,
        mode: str = "dash-p") -> pytest.RunResult:
    """pytest in a subprocess on the project, the plugin loaded as ``mode`` says."""
    if mode == "installed" and not _installed():
        pytest.skip("no pytest11 entry point named mmlist is installed yet")
    extra: list[str] = []
    if mode == "dash-p":
        extra = ["-p", "no:mmlist", "-p", "mmlist.pytest_plugin"]
    elif mode == "entry-point":
        site = _fake_entry_point(project.path)
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
            [str(site), str(Path(mmlist.__file__).parent.parent)]))
    return project.runpytest_subprocess(*extra, "-p", "no:cacheprovider", *args)


# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_a_user_scenario_passes_and_the_options_reach_the_check(project, monkeypatch, mode):
    project.makepyfile(user_scenario=USER_SCENARIO)
    project.makepyfile(test_mine='''
from user_scenario import mine


def test_mine(mmlist_check):
    r = mmlist_check(mine)
    assert (r.report.executions, r.report.seed) == (4, 7)
    assert r.findings == [] and r.verdict in ("passed", "inconclusive")


def test_a_test_that_does_not_use_it():
    pass
''')
    result = run(project, monkeypatch, "--mmlist-budget", "4", "--mmlist-seed", "7", mode=mode)
    result.assert_outcomes(passed=2)
    assert "mmlist: known findings" not in result.stdout.str()


def test_a_user_variant_fails_with_the_table_and_a_replay_file_that_reproduces(project,
                                                                                monkeypatch):
    shutil.copy(MUTANT, project.path / "my_change.py")
    project.makepyfile(user_scenario=USER_SCENARIO)
    project.makepyfile(test_change='''
from user_scenario import mine


def test_builtin_scenario(mmlist_check):
    mmlist_check("walkers", budget=3, variant="my_change.py")


def test_my_scenario(mmlist_check):
    mmlist_check(mine, budget=3, variant="my_change.py")
''')
    result = run(project, monkeypatch, "--mmlist-replays", "replays")
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    # the message: the label, the counterexample table with its violation, the replay line
    assert re.search(r"walkers under variant my-change: \d+ violation\(s\) not explained", out)
    assert re.search(r"=== 1\. max_seq in inc_max_seq\(\) .*\[NEW\]", out)
    assert "step | reclaim0" in out and "Violation: max_seq in inc_max_seq()" in out
    files = {f.name for f in (project.path / "replays").glob("*.json")}
    assert {"exit-vs-walker-max_seq.json", "walkers-max_seq.json"} <= files
    builtin = project.path / "replays" / "walkers-max_seq.json"
    assert f"replay: mmlist replay {builtin} --variant {project.path / 'my_change.py'}" in out
    assert json.loads(builtin.read_text())["variant_path"] == str(project.path / "my_change.py")
    # the built-in scenario's file: `mmlist replay` reproduces it (exit status 1: reproduced)
    cli = subprocess.run([sys.executable, "-m", "mmlist", "replay", str(builtin), "--variant",
                          str(project.path / "my_change.py")], capture_output=True, text=True,
                         cwd=project.path, timeout=120)
    assert cli.returncode == 1, cli.stderr
    assert "reproduced: max_seq in inc_max_seq()" in cli.stdout and "[NEW]" in cli.stdout
    # the user scenario's file: mmlist.sched.replay with the scenario object
    mine_file = project.path / "replays" / "exit-vs-walker-max_seq.json"
    assert "mmlist.sched.replay(" in out and "scenario=<your Scenario 'exit-vs-walker'>" in out
    code = (f"import sys; sys.path.insert(0, {str(project.path)!r})\n"
            f"from mmlist import sched\nfrom user_scenario import mine\n"
            f"r = sched.replay({str(mine_file)!r}, scenario=mine, "
            f"variant={str(project.path / 'my_change.py')!r})\n"
            f"print(r)\nraise SystemExit(0 if r.reproduced else 3)\n")
    py = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                        timeout=120)
    assert py.returncode == 0, py.stdout + py.stderr


def test_known_findings_are_reported_not_failed_unless_strict(project, monkeypatch):
    project.makepyfile(test_known='''
def test_known(mmlist_check):
    r = mmlist_check("preempt-rt-exec", budget=10)
    assert [f.label.id for f in r.known] == ["F4"] and not r.new
''')
    result = run(project, monkeypatch)
    result.assert_outcomes(passed=1)
    out = result.stdout.str()
    assert "mmlist: known findings and benign judgements (not failures)" in out
    assert re.search(r"test_known.py::test_known: preempt-rt-exec: sleep_in_atomic .*"
                     r"\[known finding F4", out)
    strict = run(project, monkeypatch, "--mmlist-strict")
    strict.assert_outcomes(failed=1)
    assert "known to the findings registry (strict)" in strict.stdout.str()


def test_the_variant_option_applies_to_every_check_and_a_bad_one_is_a_usage_error(
        project, monkeypatch):
    project.makepyfile(test_plain='''
def test_walkers(mmlist_check):
    mmlist_check("walkers", budget=2)
''')
    result = run(project, monkeypatch, "--mmlist-variant", "inc-max-seq-by-two")
    result.assert_outcomes(failed=1)
    assert "walkers under variant inc-max-seq-by-two" in result.stdout.str()
    # a built-in variant is named in its replay line without --variant (replays load it)
    assert re.search(r"replay: mmlist replay \S+walkers-max_seq\.json\n", result.stdout.str())
    bad = run(project, monkeypatch, "--mmlist-variant", "no-such-variant")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    assert "--mmlist-variant no-such-variant: unknown variant" in bad.stderr.str()


@pytest.mark.parametrize("env, expect", [({}, "dev"), ({"CI": "true"}, "ci"),
                                          ({"CI": "1", "MMLIST_HYPOTHESIS_PROFILE": "hunt"},
                                           "hunt"),
                                          ({"MMLIST_HYPOTHESIS_PROFILE": " CI "}, "ci"),
                                          ({"MMLIST_HYPOTHESIS_PROFILE": "none"}, None)])
def test_the_environment_selects_the_profile(env, expect):
    assert hypothesis_profiles.selected(env) == expect


def test_the_plugin_loads_the_ci_profile_under_ci(project, monkeypatch):
    monkeypatch.setenv("CI", "true")
    project.makepyfile(test_profile='''
from hypothesis import settings


def test_profile():
    assert settings._current_profile == "ci"
    assert settings.default.max_examples == 20 and settings.default.derandomize
    assert settings.default.deadline is None and settings.default.database is None
''')
    run(project, monkeypatch).assert_outcomes(passed=1)


def test_an_unknown_profile_is_a_usage_error_and_a_project_profile_is_kept(project,
                                                                           monkeypatch):
    project.makepyfile(test_profile="def test_nothing():\n    pass\n")
    monkeypatch.setenv("MMLIST_HYPOTHESIS_PROFILE", "fast")
    bad = run(project, monkeypatch)
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    assert "MMLIST_HYPOTHESIS_PROFILE='fast': unknown profile" in bad.stderr.str()
    monkeypatch.delenv("MMLIST_HYPOTHESIS_PROFILE")
    project.makeconftest('''
from hypothesis import settings
settings.register_profile("mine", max_examples=3)
settings.load_profile("mine")
''')
    project.makepyfile(test_profile='''
from hypothesis import settings


def test_kept():
    assert settings.default.max_examples == 3
''')
    run(project, monkeypatch).assert_outcomes(passed=1)


def test_importing_the_plugin_loads_neither_the_model_nor_hypothesis():
    """pytest imports it in every run of every project that has mmlist installed."""
    code = ("import sys, mmlist.pytest_plugin\n"
            "heavy = [m for m in ('mmlist.model', 'mmlist.sched', 'hypothesis', 'numpy')"
            " if m in sys.modules]\nprint(heavy)\nraise SystemExit(1 if heavy else 0)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
