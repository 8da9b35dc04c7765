"""Shared fixtures for the sequential tests.

Every test starts and ends with the default engine installed, no active World, and a clean
set-up context (``current`` is None, IRQs on, no lock held): a test that panics while holding a
lock cannot leak that state into the next one.
"""
from __future__ import annotations

import os
import sys
from typing import Any

import pytest

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:          # `pytest` run without `pip install -e .`
    sys.path.insert(0, _ROOT)

import mmlist.runtime as rt  # noqa: E402
from model_helpers import reset_setup_ctx




@pytest.fixture(autouse=True)
def _clean_runtime():
    rt.install(None)
    rt.set_world(None)
    reset_setup_ctx()
    yield
    rt.install(None)
    rt.set_world(None)
    reset_setup_ctx()


class Recorder:
    """A listener for the DirectEngine: keeps TRACE events, REPORTed violations and, on demand,
    every op (``ops=True``)."""

    def __init__(self, ops: bool = False):
        self.traces: list[tuple[str, dict[str, Any]]] = []
        self.reports: list[Any] = []
        self.ops: list[tuple[Any, int, Any, Any]] = []
        self.keep_ops = ops

    def __call__(self, ctx: rt.ThreadCtx, op: int, obj: Any, arg: Any) -> None:
        if op == rt.TRACE:
            self.traces.append((obj, arg))
        elif op == rt.REPORT:
            self.reports.append(obj)
        if self.keep_ops:
            self.ops.append((ctx, op, obj, arg))

    def events(self, name: str) -> list[dict[str, Any]]:
        return [arg for ev, arg in self.traces if ev == name]

    def names(self) -> list[str]:
        return [ev for ev, _ in self.traces]

    def checks(self) -> list[str]:
        return [v.check for v in self.reports]

    def clear(self) -> None:
        self.traces.clear()
        self.reports.clear()
        self.ops.clear()


@pytest.fixture
def rec():
    """A Recorder installed on a fresh DirectEngine for the test."""
    r = Recorder()
    rt.install(rt.DirectEngine([r]))
    yield r
    rt.install(None)


@pytest.fixture
def rec_ops():
    """Like ``rec`` but also keeps every op as ``(ctx, op, obj, arg)``."""
    r = Recorder(ops=True)
    rt.install(rt.DirectEngine([r]))
    yield r
    rt.install(None)
