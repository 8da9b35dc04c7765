"""The incremental structural checks equal the full pass at every step.

At every scheduling point of random executions of every built-in scenario, and of every built-in
mutant in its own scenario, a shadow ``Structural`` runs the full pass (every list whose lock is
free, every lruvec, whatever changed) before the suite's incremental ``check``; the reports each
has made so far must be the same. The shadow has its own ``last_seq`` memory and judges the
stats without touching the history's expectations, so it changes nothing the real check sees.
"""
from __future__ import annotations

import copy
from typing import Any

import pytest

from mmlist import sched
from mmlist.checks import CheckSuite
from mmlist.checks.structural import Structural
from mmlist.scenarios import BUILTIN
from mmlist.variants import list_mutants, load_variant


class _Sink:
    """Collects ``(check, message)`` of what a Structural reports."""

    def __init__(self) -> None:
        self.keys: set[tuple[str, str]] = set()

    def report(self, check: str, message: str, *args: Any, **kw: Any) -> None:
        self.keys.add((check, message))


class _StatsView:
    """The history as the shadow reads it: the same state, ``check_stats`` without its
    "report each loss once" update (the real check makes it)."""

    def __init__(self, history: Any, sink: _Sink):
        self._h, self._sink = history, sink

    def __getattr__(self, name: str) -> Any:
        return getattr(self._h, name)

    def check_stats(self, lv: Any, ctx: Any = None) -> None:
        exp = self._h.stats_expected.get(lv)
        if exp is None:
            return
        for hist, arr in enumerate(lv.mm_state.stats):
            if list(arr.raw) != exp[hist]:
                self._sink.keys.add(("mm_stats", f"{lv.label}.mm_state.stats[{hist}] is "
                                     f"{tuple(arr.raw)} but walkers flushed {tuple(exp[hist])} "
                                     f"into it"))


class _Compared(CheckSuite):
    steps = 0
    #: (step, only the incremental check reported, only the full pass reported)
    mismatches: list = []

    def __init__(self, world: Any, structural: bool = True, races: bool = True):
        super().__init__(world, structural=structural, races=races)
        self.shadow_sink = _Sink()
        self.real_keys: set[tuple[str, str]] = set()
        own = None
        if self._ownership is not None:
            own = copy.copy(self._ownership)        # the same windows, reports to the sink
            own.suite = self.shadow_sink
        self.shadow = Structural(self.shadow_sink, world, _StatsView(self._history,
                                                                     self.shadow_sink), own)
        self.step_check = self.at_step          # the engine calls the comparison below

    def report(self, check: str, message: str, *args: Any, **kw: Any) -> Any:
        if self._in_structural:
            self.real_keys.add((check, message))
        return super().report(check, message, *args, **kw)

    _in_structural = False

    def at_step(self) -> None:
        type(self).steps += 1
        self.shadow.full_check()
        self._in_structural = True
        try:
            super().at_step()
        finally:
            self._in_structural = False
        # recorded, not raised: at_step runs on a model thread, where an exception would
        # become a model_error of the execution, not a test failure
        if self.real_keys != self.shadow_sink.keys:
            type(self).mismatches.append(
                (type(self).steps, sorted(self.real_keys - self.shadow_sink.keys),
                 sorted(self.shadow_sink.keys - self.real_keys)))


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> type:
    import importlib
    explore_mod = importlib.import_module("mmlist.sched.explore")
    monkeypatch.setattr(explore_mod, "make_suite",
                        lambda world, structural: _Compared(world, structural=structural))
    _Compared.steps = 0
    _Compared.mismatches = []
    return _Compared


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_incremental_equals_full_pass_on_every_step_of_each_scenario(name: str,
                                                                     compared: type) -> None:
    rep = sched.explore(name, strategy="random", seed=3, max_executions=4, shrink=False)
    assert rep.executions == 4
    assert not [v for f in rep.failures for v in [f.violation] if v.check == "model_error"]
    assert compared.steps > 0 and compared.mismatches == []


MUTANTS = [m.name for m in list_mutants()]


@pytest.mark.parametrize("name", MUTANTS)
def test_incremental_equals_full_pass_on_every_step_of_each_mutant(name: str,
                                                                   compared: type) -> None:
    info = next(m for m in list_mutants() if m.name == name)
    rep = sched.explore(info.scenario, strategy="random", seed=0, max_executions=4,
                        shrink=False, variant=load_variant(name))
    assert not [f for f in rep.failures if f.violation.check == "model_error"]
    assert compared.steps > 0 and compared.mismatches == []


def test_the_comparison_can_fail(compared: type, monkeypatch: pytest.MonkeyPatch) -> None:
    """A check that forgets a change (here: writes to a lruvec's state, and the history's
    events) is caught."""
    real_touch = Structural.touch

    def forgetful(self: Structural, obj: Any, field: Any = None) -> None:
        if obj not in self._unit_of:
            real_touch(self, obj, field)

    monkeypatch.setattr(Structural, "touch", forgetful)
    monkeypatch.setattr(Structural, "touch_all", lambda self: None)
    monkeypatch.setattr(Structural, "touch_lruvec", lambda self, lv, what=None: None)
    # the mutants that break a cursor, seq or nr_walkers: the full pass sees it at once, the
    # forgetful incremental check later or never
    for m in list_mutants():
        if m.expected_check in ("cursor", "seq", "nr_walkers"):
            sched.explore(m.scenario, strategy="random", seed=0, max_executions=4,
                          shrink=False, variant=load_variant(m.name))
    assert compared.mismatches
