"""What one controlled execution did (``Execution``, its ``Event`` log) and its final state as
one digest (``state_digest``): the results the controller hands to strategies and reports."""
from __future__ import annotations

import _thread
import threading
from dataclasses import dataclass, field
from typing import Any

from ..violation import Violation
from .. import runtime as rt
from .decisions import Decision, label_of


@dataclass
class Event:
    """One recorded hook op (``record >= 1``); ``function`` and ``state_before`` at level 2."""

    seq: int
    tid: int
    thread: str
    op: str
    obj: str
    arg: str
    function: str = ""
    state_before: str = ""
    kind: str = ""                  # the object's type name (spinlock_t, mutex, bitmap...)
    step: int = 0                   # decisions taken so far (the step this event belongs to)


@dataclass
class Execution:
    """What one controlled execution did.

    ``status``: ``finished`` (every thread ended), ``violation`` (cut at the first violation),
    ``deadlock``, ``liveness``, ``step_budget`` (cut off: inconclusive), ``pruned`` (the
    strategy gave up: a branch the reduction prunes, or a DFS prefix that did not replay),
    ``diverged`` (a replay left its file).

    ``outcome`` (only when ``Controller.run(..., outcome=True)``, never for a pruned run): a
    hashable digest of what the execution came to, ``(state, checks)``: ``state`` is a sha256
    of the whole final World (every object reachable from it, by label, see ``state_digest``),
    the execution's status and each thread's outcome; ``checks`` the frozenset of
    ``(check, function, condition)`` of its violations.
    """

    status: str
    #: the controller's record: ``("t", tid, op, obj, preempt)`` or ``("c", tid, value, n)``
    raw_decisions: list
    violations: list[Violation]
    steps: int
    preemptions: int
    threads: list[str]
    outcomes: dict[str, str]
    trail_hash: int
    events: list[Event] | None = None
    final_state: str = ""
    interrupted: bool = False
    #: races the race check's allowlist judged intended (``CheckSuite.benign``): shown, counted
    benign: list = field(default_factory=list)
    divergence: str | None = None
    outcome: Any = None

    @property
    def decisions(self) -> list[Decision]:
        """The schedule as ``Decision``s, built when first read (most executions never are)."""
        d = self.__dict__.get("_decisions")
        if d is None:
            d = self.__dict__["_decisions"] = [decision_of(x, self.threads)
                                                for x in self.raw_decisions]
        return d

    @property
    def failed(self) -> bool:
        return bool(self.violations)


def decision_of(d: tuple, threads: list[str]) -> Decision:
    """A ``Decision`` from the controller's raw record of it."""
    if d[0] == "t":
        _, tid, op, obj, preempt = d
        return Decision("thread", threads[tid], rt.OP_NAMES[op],
                        label_of(obj) if op != rt.THREAD_START else "start", preempt=preempt)
    _, tid, value, n = d
    return Decision("choose", threads[tid], value=value, n=n)


def _model_function(frame: Any) -> str:
    """The innermost frame whose module is under ``mmlist.model``: the kernel function."""
    f = frame
    while f is not None:
        mod = f.f_globals.get("__name__", "")
        if mod.startswith("mmlist.model"):
            return f.f_code.co_name
        f = f.f_back
    f = frame
    while f is not None:                # a thread body (mmlist.programs) as a fallback
        if f.f_globals.get("__name__", "") == "mmlist.programs":
            return f.f_code.co_name
        f = f.f_back
    return ""


def _model_error(thread: str, text: str) -> Violation:
    last = text.strip().splitlines()[-1] if text.strip() else text
    return Violation(check="model_error", severity="bug", thread=thread,
                     message=f"the model crashed in {thread}: {last}", condition=last,
                     details={"traceback": text})


# ---------------------------------------------------------------------------------------------
# The final state of an execution, as one digest.
# ---------------------------------------------------------------------------------------------
_LOCK_TYPES = (type(_thread.allocate_lock()), type(threading.RLock()), threading.Condition,
               threading.Thread, threading.Event, threading.Semaphore)
#: engine and harness attachments that are not model state
_SKIP_FIELDS = frozenset({"engine_data", "_real", "_cond"})


def skipped(obj: Any, name: str) -> bool:
    """Not model state: an engine attachment, or the World's record of the World that was
    active before it (``World._prev``; a list_head's ``_prev`` is state)."""
    return name in _SKIP_FIELDS or (name == "_prev" and type(obj).__name__ == "World")


def state_digest(world: Any, extra: Any = None) -> str:
    """A sha256 of every object reachable from ``world`` (and ``extra``), canonically.

    Objects are visited breadth-first from the World, fields in name order; an object is named
    by its ``label`` (or ``name``; a repeated label gets ``~k`` in visiting order), and each
    reference to it is that name, so aliasing is part of the state. Sets are visited in the
    order of their elements' labels; numpy arrays by their dtype, shape and bytes; functions
    by qualified name; engine attachments (real locks, ``engine_data``) are left out. Nothing
    here goes through the hook: reading the state never changes an execution.
    """
    import hashlib
    from collections import deque
    names: dict[int, str] = {}
    used: dict[str, int] = {}
    todo: deque = deque()
    keep: list = []                         # keeps visited temporaries alive (stable ids)

    def ref(obj: Any) -> str:
        i = id(obj)
        n = names.get(i)
        if n is None:
            d = getattr(obj, "__dict__", None)
            label = d.get("label") if d is not None else getattr(obj, "label", None)
            if not isinstance(label, str) and d is not None and isinstance(d.get("name"), str):
                label = d["name"]
            base = label if isinstance(label, str) else type(obj).__name__
            k = used.get(base, 0)
            used[base] = k + 1
            n = base if k == 0 else f"{base}~{k}"
            names[i] = n
            todo.append(obj)
            keep.append(obj)
        return "@" + n

    def order(x: Any) -> tuple:
        if x is None or isinstance(x, (bool, int, float, str)):
            return (0, type(x).__name__, repr(x))
        d = getattr(x, "__dict__", None)
        label = d.get("label") if d is not None else getattr(x, "label", None)
        return (1, type(x).__name__, str(label))

    def enc(x: Any) -> str:
        if x is None or isinstance(x, (bool, int, float, str, bytes)):
            return repr(x)
        if isinstance(x, tuple):
            return "(" + ",".join(enc(v) for v in x) + ")"
        if isinstance(x, list):
            return "[" + ",".join(enc(v) for v in x) + "]"
        if isinstance(x, dict):
            return "{" + ",".join(f"{enc(k)}:{enc(v)}" for k, v in
                                  sorted(x.items(), key=lambda kv: order(kv[0]))) + "}"
        if isinstance(x, (set, frozenset)):
            return "set{" + ",".join(enc(v) for v in sorted(x, key=order)) + "}"
        if isinstance(x, _LOCK_TYPES):
            return "-"
        if hasattr(x, "dtype") and hasattr(x, "tobytes"):          # numpy arrays
            return (f"nd({x.dtype},{getattr(x, 'shape', '')},"
                    f"{hashlib.sha1(x.tobytes()).hexdigest()})")
        if isinstance(x, type) or callable(x) and not hasattr(x, "__dict__") \
                or type(x).__name__ in ("function", "method", "builtin_function_or_method",
                                        "module", "partial"):
            owner = getattr(x, "__self__", None)
            qual = getattr(x, "__qualname__", type(x).__name__)
            return f"fn:{qual}" + (ref(owner) if owner is not None
                                   and hasattr(owner, "__dict__") else "")
        return ref(x)

    lines = [enc(extra)] if extra is not None else []
    ref(world)
    while todo:
        obj = todo.popleft()
        fields: dict[str, Any] = {}
        d = getattr(obj, "__dict__", None)
        if d is not None:
            fields.update(d)
        for cls in type(obj).__mro__:
            for slot in getattr(cls, "__slots__", ()):
                if slot not in fields and hasattr(obj, slot):
                    fields[slot] = getattr(obj, slot)
        body = ",".join(f"{k}:{enc(v)}" for k, v in sorted(fields.items())
                        if not skipped(obj, k) and not k.startswith("__"))
        lines.append(f"{names[id(obj)]}:{type(obj).__name__}{{{body}}}")
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
