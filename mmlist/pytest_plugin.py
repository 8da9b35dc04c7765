"""The pytest plugin of mmlist (entry point ``pytest11``: installed with mmlist, loaded by pytest
in every run).

It adds one fixture, ``mmlist_check``, that runs a scenario (a ``Scenario`` or a built-in name)
under the model checker and fails the test with the counterexample table when it finds a
violation the findings registry does not explain::

    def test_my_change(mmlist_check):
        mmlist_check("fork-migrate", variant="my_change.py")

Options: ``--mmlist-budget N`` (executions per check, default 100), ``--mmlist-seed N``,
``--mmlist-variant NAME|PATH`` (the variant every check runs under, unless the test names
one), ``--mmlist-replays DIR`` (where replay files go; default: the test's ``tmp_path``),
``--mmlist-strict`` (known findings fail too). At configure time it registers the Hypothesis
profiles ``ci``, ``dev`` and ``hunt`` and loads the one ``MMLIST_HYPOTHESIS_PROFILE`` names
(``mmlist.hypothesis_profiles``).

Since pytest loads it in every run of every project where mmlist is installed, it imports
nothing of mmlist at module level (the model is loaded by the first check), adds no behaviour
to a test that does not use the fixture, and prints a summary section only when a check
reported something.
"""
from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

#: executions per check when neither the test nor ``--mmlist-budget`` says
DEFAULT_BUDGET = 100

_NOTES = pytest.StashKey[list]()           # known findings and benign judgements, for the summary
_VARIANT = pytest.StashKey[Any]()          # the loaded --mmlist-variant (None: none)


# ---------------------------------------------------------------------------------------------
# Options and configuration.
# ---------------------------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mmlist", "mmlist model checker (the mmlist_check fixture)")
    group.addoption("--mmlist-budget", type=int, default=None, metavar="N",
                    help=f"executions per mmlist_check (default {DEFAULT_BUDGET}); a test's "
                         f"own budget= wins")
    group.addoption("--mmlist-seed", type=int, default=None, metavar="N",
                    help="seed of the random members of the search (default 0)")
    group.addoption("--mmlist-variant", default=None, metavar="NAME|PATH",
                    help="run every mmlist_check under this variant (a built-in name or a "
                         "file); a test's own variant= wins")
    group.addoption("--mmlist-replays", default=None, metavar="DIR",
                    help="write replay files here (default: each test's tmp_path)")
    group.addoption("--mmlist-strict", action="store_true", default=False,
                    help="known findings of the registry fail the test too")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Register (and load) the Hypothesis profiles before Hypothesis' own plugin loads the one
    ``--hypothesis-profile`` names; load the ``--mmlist-variant`` once, so that a bad one is a
    usage error before any test runs."""
    config.stash[_NOTES] = []
    config.stash[_VARIANT] = None
    if importlib.util.find_spec("hypothesis") is not None:
        from . import hypothesis_profiles
        try:
            hypothesis_profiles.load(force=False)
        except ValueError as e:
            raise pytest.UsageError(str(e)) from None
    name = config.getoption("mmlist_variant", None)
    if name:
        config.stash[_VARIANT] = _load_variant(name, str(config.invocation_params.dir),
                                               usage=True)
    budget = config.getoption("mmlist_budget", None)
    if budget is not None and budget < 1:
        raise pytest.UsageError(f"--mmlist-budget {budget}: expected a number of executions "
                                f">= 1")


def _load_variant(name: str, base: str, usage: bool = False) -> Any:
    """A built-in variant by name, or a file (relative to ``base``)."""
    from .variants import load_variant
    path = name if (not name.endswith(".py") or os.path.isabs(name)) else os.path.join(base, name)
    try:
        return load_variant(path)
    except (ValueError, SyntaxError, ImportError) as e:
        if usage:
            raise pytest.UsageError(f"--mmlist-variant {name}: {e}") from None
        pytest.fail(f"mmlist_check: variant {name}: {e}", pytrace=False)


# ---------------------------------------------------------------------------------------------
# The result of one check.
# ---------------------------------------------------------------------------------------------
@dataclass
class Labelled:
    """One distinct violation of a check, its registry label and its replay file."""
    failure: Any                         # mmlist.sched.Failure
    label: Any                           # mmlist.findings.Label
    replay_path: str | None = None

    @property
    def kind(self) -> str:
        return self.label.kind

    def line(self) -> str:
        return f"{self.failure.violation} {self.label.text()}"


@dataclass
class CheckResult:
    """What ``mmlist_check`` found: the search's report (``mmlist.sched.Report``: verdict,
    executions...) and every distinct violation, labelled as ``mmlist hunt`` labels them."""
    scenario: str
    report: Any
    findings: list[Labelled] = field(default_factory=list)
    replay_dir: str | None = None
    variant: str | None = None

    def of_kind(self, kind: str) -> list[Labelled]:
        return [f for f in self.findings if f.kind == kind]

    @property
    def new(self) -> list[Labelled]:
        return self.of_kind("new")

    @property
    def known(self) -> list[Labelled]:
        return self.of_kind("known")

    @property
    def benign(self) -> list[Labelled]:
        return self.of_kind("benign")

    @property
    def verdict(self) -> str:
        return self.report.verdict

    def summary(self) -> str:
        return self.report.summary()


# ---------------------------------------------------------------------------------------------
# The fixture.
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def mmlist_check(request: pytest.FixtureRequest) -> Callable[..., CheckResult]:
    """``mmlist_check(scenario, *, budget=None, seed=None, variant=None, strategy="portfolio",
    preemption_bound=2, strict=None, max_seconds=None, replay_dir=None) -> CheckResult``

    Search ``scenario`` (a ``mmlist.scenarios.Scenario`` or a built-in name) for ``budget``
    executions (default ``--mmlist-budget``, else 100) under ``variant`` (default
    ``--mmlist-variant``) and fail the test, with each counterexample table and its replay
    file, on a violation the findings registry does not explain; known findings fail it only
    with ``strict`` (or ``--mmlist-strict``), benign judgements never (as ``mmlist hunt``
    decides its exit status). Those that do not fail it are returned and listed in the
    session's summary."""
    config = request.config
    out = config.getoption("mmlist_replays", None)
    replay_dir = (os.path.join(str(config.invocation_params.dir), out) if out
                  else str(request.getfixturevalue("tmp_path") / "mmlist-replays"))

    def check(scenario: Any, *, budget: int | None = None, seed: int | None = None,
              variant: Any = None, strategy: str = "portfolio",
              preemption_bound: int | None = 2, strict: bool | None = None,
              max_seconds: float | None = None, replay_dir: str | None = replay_dir,
              ) -> CheckResult:
        return _run_check(request, scenario, budget=budget, seed=seed, variant=variant,
                          strategy=strategy, preemption_bound=preemption_bound, strict=strict,
                          max_seconds=max_seconds, replay_dir=replay_dir)
    return check


def _run_check(request: pytest.FixtureRequest, scenario: Any, *, budget: int | None,
               seed: int | None, variant: Any, strategy: str, preemption_bound: int | None,
               strict: bool | None, max_seconds: float | None,
               replay_dir: str | None) -> CheckResult:
    from . import sched
    from .findings import classify
    from .scenarios import get
    config = request.config
    opt = config.getoption
    budget = budget if budget is not None else (opt("mmlist_budget", None) or DEFAULT_BUDGET)
    seed = seed if seed is not None else (opt("mmlist_seed", None) or 0)
    strict = strict if strict is not None else bool(opt("mmlist_strict", False))
    if isinstance(variant, (str, os.PathLike)):
        variant = _load_variant(os.fspath(variant), os.getcwd())
    elif variant is None:
        variant = config.stash.get(_VARIANT, None)
    if isinstance(scenario, str):
        try:
            scenario = get(scenario)
        except KeyError as e:
            pytest.fail(f"mmlist_check: {e.args[0]}", pytrace=False)
    report = sched.explore(scenario, strategy=strategy, seed=seed, max_executions=budget,
                           max_seconds=max_seconds, preemption_bound=preemption_bound,
                           variant=variant)
    result = CheckResult(scenario.name, report, replay_dir=replay_dir,
                         variant=getattr(variant, "name", None))
    for f in report.failures:
        item = Labelled(f, classify(f.violation, scenario.config))
        if replay_dir:
            os.makedirs(replay_dir, exist_ok=True)
            item.replay_path = sched.save_replay(f, os.path.join(
                replay_dir, f"{_slug(scenario.name)}-{_slug(f.violation.check)}.json"),
                exclusive=True)
        result.findings.append(item)
    failing = [f for f in result.findings
               if f.kind == "new" or (strict and f.kind == "known")]
    quiet = [f for f in result.findings if f not in failing]
    notes = config.stash.get(_NOTES, None)
    if notes is not None:
        notes.extend((request.node.nodeid, scenario.name, f.line(), f.replay_path)
                     for f in quiet)
    if failing:
        pytest.fail(_message(scenario, result, failing, quiet, variant), pytrace=False)
    return result


def _message(scenario: Any, result: CheckResult, failing: list[Labelled],
             quiet: list[Labelled], variant: Any) -> str:
    """The failure: each counterexample table (as ``mmlist hunt`` prints it) and how to replay
    it; then what the registry explains."""
    from .scenarios import BUILTIN
    under = f" under variant {variant.name}" if variant is not None else ""
    what = ("not explained by the findings registry" if any(f.kind == "new" for f in failing)
            else "known to the findings registry (strict)")
    lines = [f"mmlist: {scenario.name}{under}: {len(failing)} violation(s) {what} "
             f"({result.report.executions} executions, verdict {result.report.verdict})"]
    builtin = BUILTIN.get(scenario.name) is scenario
    vpath = getattr(variant, "path", None)
    vbuiltin = variant is not None and _is_builtin_variant(variant)
    for n, f in enumerate(failing, 1):
        lines.append(f"=== {n}. {f.line()}")
        lines.append(_without_replay_footer(f.failure.table_text))
        if f.replay_path:
            if builtin:
                extra = f" --variant {vpath}" if variant is not None and not vbuiltin else ""
                lines.append(f"replay: mmlist replay {f.replay_path}{extra}")
            else:
                extra = (f", variant={str(vpath)!r}" if variant is not None and not vbuiltin
                         else "")
                lines.append(f"replay: mmlist.sched.replay({f.replay_path!r}, "
                             f"scenario=<your Scenario {scenario.name!r}>{extra})")
    for f in quiet:
        lines.append(f"(not a failure) {f.line()}")
    return "\n".join(lines)


def _is_builtin_variant(variant: Any) -> bool:
    """A variant shipped with mmlist: its replay files name it, and replays load it by name
    (a user's file must be named again: ``--variant PATH``)."""
    from .variants import BUILTIN_DIR, MUTANTS_DIR
    path = os.path.abspath(str(getattr(variant, "path", "")))
    return any(path.startswith(os.path.abspath(str(d)) + os.sep)
               for d in (BUILTIN_DIR, MUTANTS_DIR))


def _without_replay_footer(table: str) -> str:
    """The table minus its ``Replay: mmlist replay FILE`` footer: the line this plugin adds
    instead also names the variant file and, for a scenario of yours, the Python call (the
    command only knows built-in scenarios)."""
    return re.sub(r"(?m)^Replay: mmlist replay .*$\n?", "", table).rstrip()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:60]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """List the known findings and benign judgements that checks met without failing (only when
    there are some)."""
    notes = config.stash.get(_NOTES, None)
    if not notes:
        return
    terminalreporter.section("mmlist: known findings and benign judgements (not failures)")
    for nodeid, scenario, line, path in notes:
        terminalreporter.write_line(f"{nodeid}: {scenario}: {line}"
                                    + (f" (replay file {path})" if path else ""))
