"""Build a scenario once, restore it before every execution.

``Scenario.build()`` runs the set-up (model code, through the hook) for every execution; what it
produces is the same each time. ``Built`` builds once, records the state of every object
reachable from the World (``__dict__`` and slots, the contents of lists, dicts, sets, numpy
arrays and bitarrays) and, before each later execution, puts every one of them back *in place*:
the objects keep their identity, so the thread specs (and whatever their closures hold) stay
valid, and objects an execution created are simply no longer referenced.

Nothing here goes through the hook: a restore is not an operation of the model. Engine
attachments (real locks, ``engine_data``) are kept as they are. ``tests/test_restore.py``
checks, for every built-in scenario and mutant, that executions after a restore are identical
(decisions, status, violations, final-state digest) to executions from a fresh build.
"""
from __future__ import annotations

from collections import deque
from typing import Any

from .execution import _LOCK_TYPES, skipped

try:                                    # optional at import: bitarray is a core dependency
    from bitarray import bitarray as _bitarray
except ImportError:                     # pragma: no cover
    _bitarray = None

#: the fields ``skipped`` may name: engine attachments, kept as they are by a restore
_KEEP = ("engine_data", "_real", "_cond", "_prev")
_ATOMS = (type(None), bool, int, float, complex, str, bytes, range, type)
#: never recorded nor restored (code, not state); a function's closure and defaults, and a
#: bound method's object, are followed: what they hold is state
_SKIPPED_TYPES = frozenset({"builtin_function_or_method", "module", "code", "frame",
                            "generator", "method-wrapper", "wrapper_descriptor"})


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents
    except ValueError:                  # an empty cell (a name not bound yet)
        return False
    return True


def _is_array(x: Any) -> bool:
    return hasattr(x, "dtype") and hasattr(x, "shape") and hasattr(x, "copy")


class Snapshot:
    """The state of every object reachable from some roots, restorable in place."""

    def __init__(self, *roots: Any):
        self._saved: list[tuple[int, Any, Any]] = []     # (kind, object, saved state)
        seen: set[int] = set()
        todo = list(roots)
        while todo:
            obj = todo.pop()
            if isinstance(obj, _ATOMS) or id(obj) in seen:
                continue
            seen.add(id(obj))
            self._save(obj, todo, seen)
        self._keep = list(roots)                # the roots stay alive with the snapshot

    def _save(self, obj: Any, todo: list, seen: set) -> None:
        kind = type(obj).__name__
        if isinstance(obj, _LOCK_TYPES) or kind in _SKIPPED_TYPES:
            return
        if kind == "function":
            todo.extend(c.cell_contents for c in obj.__closure__ or ()
                        if _filled(c))
            todo.extend(obj.__defaults__ or ())
            todo.extend((obj.__kwdefaults__ or {}).values())
            return
        if kind == "method":
            todo.append(obj.__self__)
            return
        if kind == "partial":
            todo.extend((obj.func, *obj.args, *obj.keywords.values()))
            return
        if isinstance(obj, tuple) or isinstance(obj, frozenset):
            todo.extend(obj)
            return
        if _bitarray is not None and isinstance(obj, _bitarray):
            self._saved.append((4, obj, obj.copy()))
            return
        if _is_array(obj):
            self._saved.append((5, obj, obj.copy()))
            if obj.dtype == object:
                todo.extend(obj.ravel().tolist())
            return
        if isinstance(obj, list):
            self._saved.append((1, obj, list(obj)))
            todo.extend(obj)
        elif isinstance(obj, dict):
            self._saved.append((2, obj, dict.copy(obj)))
            todo.extend(obj.keys())
            todo.extend(obj.values())
        elif isinstance(obj, (set, frozenset)):
            self._saved.append((3, obj, set(obj)))
            todo.extend(obj)
        elif isinstance(obj, deque):
            self._saved.append((6, obj, list(obj)))
            todo.extend(obj)
        d = getattr(obj, "__dict__", None)
        if d is not None and not isinstance(d, type(type.__dict__)):
            self._saved.append((0, obj, dict(d)))
            todo.extend(v for k, v in d.items() if not skipped(obj, k))
        slots = [s for cls in type(obj).__mro__ for s in getattr(cls, "__slots__", ())
                 if s not in ("__dict__", "__weakref__")]
        if slots:
            state = {s: getattr(obj, s) for s in slots if hasattr(obj, s)}
            self._saved.append((7, obj, (tuple(slots), state)))
            todo.extend(state.values())

    def restore(self) -> None:
        """Put every recorded object back as it was when the snapshot was taken."""
        for kind, obj, state in self._saved:
            if kind == 0:
                d = obj.__dict__
                keep = {k: d[k] for k in _KEEP if k in d and skipped(obj, k)}
                d.clear()
                d.update(state)
                d.update(keep)
            elif kind == 1:
                list.__setitem__(obj, slice(None), state)
            elif kind == 2:
                dict.clear(obj)
                dict.update(obj, state)
            elif kind == 3:
                set.clear(obj)
                set.update(obj, state)
            elif kind == 4:
                obj[:] = state              # a bitarray: contents and length
            elif kind == 5:
                obj[...] = state            # a numpy array: its shape never changes
            elif kind == 6:
                obj.clear()
                obj.extend(state)
            else:
                slots, saved = state
                for s in slots:
                    if s in saved:
                        object.__setattr__(obj, s, saved[s])
                    elif hasattr(obj, s):
                        object.__delattr__(obj, s)


class Built:
    """A scenario built once and restored before each use (``get``)."""

    def __init__(self, scenario: Any):
        self.scenario = scenario
        self.world, self.specs = scenario.build()
        self.snapshot = Snapshot(self.world, self.specs)
        self.fresh = True

    def get(self) -> tuple[Any, list]:
        """The World and thread specs, as ``scenario.build()`` returns them."""
        if not self.fresh:
            self.snapshot.restore()
        self.fresh = False
        return self.world, self.specs
