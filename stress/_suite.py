"""What the stress scripts share: run from a checkout, and read a test module's own lists (the
cases the test suite runs itself, so that a script runs the rest)."""
from __future__ import annotations

import importlib.util
import os
import sys
from types import ModuleType

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)  # run from a checkout


def test_module(filename: str) -> ModuleType | None:
    """``tests/<filename>`` loaded as a module, or None when it cannot be (pytest missing)."""
    path = os.path.join(ROOT, "tests", filename)
    spec = importlib.util.spec_from_file_location("_stress_" + filename[:-3], path)
    mod = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(mod)  # type: ignore[union-attr]
    except ImportError:
        return None
    return mod
