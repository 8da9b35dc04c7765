"""The check suite an execution reports to, and the variant an exploration runs under.

``mmlist.checks.CheckSuite`` and ``mmlist.variants.load_variant`` are written elsewhere; until
they exist, the scheduler falls back to a suite that only collects the kernel assertions'
``REPORT`` violations, and refuses a variant with a clear message.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

from .. import runtime as rt


class ReportOnlySuite:
    """Fallback suite: the violations the model's own assertions (``VM_BUG_ON``...) report."""

    def __init__(self, world: Any, structural: bool = True, races: bool = True):
        self.world = world
        self.violations: list = []

    def on_event(self, ctx: Any, op: int, obj: Any, arg: Any) -> None:
        if op == rt.REPORT:
            self.violations.append(obj)

    def at_step(self) -> None:
        pass

    def at_end(self, finished: bool) -> None:
        pass

    def liveness(self, blocked: dict) -> None:
        pass


def suite_class() -> type:
    try:
        from ..checks import CheckSuite  # type: ignore[import-not-found]
    except ImportError:
        return ReportOnlySuite
    return CheckSuite


def make_suite(world: Any, structural: bool) -> Any:
    cls = suite_class()
    return cls(world, structural=structural, races=True)


@contextlib.contextmanager
def variant_applied(variant: Any) -> Iterator[None]:
    """``with variant_applied(name_or_path_or_None): ...``: the model patched for the block."""
    if variant is None:
        yield
        return
    try:
        from ..variants import load_variant  # type: ignore[import-not-found]
    except ImportError:
        raise RuntimeError(f"variant {variant!r} requested but mmlist.variants is not "
                           "available in this build") from None
    v = load_variant(variant) if isinstance(variant, str) else variant
    with v.applied():
        yield
