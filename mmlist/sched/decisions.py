"""Decisions, labels and footprints: the vocabulary shared by the controller, the strategies,
replay files and the counterexample table.

* A **decision** is one answer of the decision source: which thread runs next (``kind="thread"``)
  or which alternative a ``CHOOSE`` inside the model takes (``kind="choose"``). A schedule is the
  list of decisions of one execution; it is keyed by meaning (thread name, op name, object
  label), never by bytecode position or ``id()`` (pitfalls.md #4).
* A **step** is what a thread does from one scheduling point to the next: the scheduling op it
  was parked on, then every recording op (plain ``READ``/``WRITE``...) until its next scheduling
  point. Its **footprint** (objects read and written, named by label) is what the reductions of
  ``strategies/dfs.py`` compare (trace caching under a preemption bound, sleep sets without
  one): two steps commute unless one writes what the other reads or writes; a step that made a
  CHOOSE commutes with nothing. The controller hands the footprint of the step that just ended
  to the strategy as ``state.last_fp`` at the next decision point, so at every decision the
  steps taken so far are complete.

Both reductions rely on every shared effect going through the runtime hook: a shared access
the model makes without the hook (e.g. copying another thread's data with no ``note_read``) is
invisible to the footprints, and the reduced search can then miss outcomes the plain search
reaches. ``tests/test_outcome_sets.py`` compares the two and, when they differ, points at such
an access (two prefixes with the same trace but different states).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import runtime as rt

OP_NAMES = rt.OP_NAMES
OP_CODES = {name: code for code, name in OP_NAMES.items()}


def label_of(obj: Any) -> str:
    """The stable name of a hooked object (``mm#3``, ``A.mm_list.lock``), never an ``id()``."""
    if obj is None:
        return "-"
    if isinstance(obj, str):
        return obj
    label = getattr(obj, "label", None)
    if isinstance(label, str):
        return label
    return type(obj).__name__


def fmt_arg(arg: Any) -> str:
    """A deterministic rendering of a hook argument (TRACE facts name objects by label)."""
    if arg is None or isinstance(arg, (bool, int, float, str)):
        return repr(arg) if isinstance(arg, str) else str(arg)
    if isinstance(arg, dict):
        return " ".join(f"{k}={fmt_arg(v)}" for k, v in arg.items())
    if isinstance(arg, (tuple, list)):
        return "(" + ",".join(fmt_arg(v) for v in arg) + ")"
    return label_of(arg)


@dataclass(frozen=True)
class Decision:
    """One decision. ``kind="thread"``: ``thread`` runs its pending ``op`` on ``obj`` next
    (``preempt``: another runnable thread was switched away from). ``kind="choose"``: a
    ``CHOOSE`` of ``thread`` among ``n`` alternatives took ``value``."""

    kind: str
    thread: str
    op: str = ""
    obj: str = ""
    value: int = 0
    n: int = 0
    preempt: bool = False

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "thread":
            d: dict[str, Any] = {"thread": self.thread, "op": self.op, "obj": self.obj}
            if self.preempt:
                d["preempt"] = True
            return d
        return {"choose": self.value, "n": self.n, "thread": self.thread}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Decision":
        if "choose" in d:
            return cls("choose", str(d["thread"]), value=int(d["choose"]), n=int(d["n"]))
        return cls("thread", str(d["thread"]), str(d["op"]), str(d["obj"]),
                   preempt=bool(d.get("preempt", False)))

    def __str__(self) -> str:
        if self.kind == "thread":
            return f"{self.thread}: {self.op}({self.obj})"
        return f"{self.thread}: CHOOSE -> {self.value} of {self.n}"


def schedule_hash(decisions: list[Decision]) -> int:
    """The identity of an interleaving: a hash of its decision sequence (deterministic:
    strings are hashed with blake2b, not Python's salted ``hash``)."""
    import hashlib
    h = hashlib.blake2b(digest_size=8)
    for d in decisions:
        h.update(f"{d.kind}|{d.thread}|{d.op}|{d.obj}|{d.value};".encode())
    return int.from_bytes(h.digest(), "big")


def count_preemptions(decisions: list[Decision]) -> int:
    return sum(1 for d in decisions if d.kind == "thread" and d.preempt)


# ---------------------------------------------------------------------------------------------
# Footprints (for the reductions).
# ---------------------------------------------------------------------------------------------
_LOCKISH = frozenset({rt.LOCK, rt.UNLOCK, rt.TRYLOCK})
_WAITISH = frozenset({rt.WAIT_PREPARE, rt.WAIT_SCHEDULE, rt.WAIT_FINISH, rt.WAKE})


def access_of(op: int, obj: Any, arg: Any) -> tuple[tuple[str, Any], bool] | None:
    """``(key, is_write)`` of one op, or None when it touches nothing shared.

    The dependency relation of pitfalls.md #1: every op on a lock is a write of the lock (two
    acquisitions of the same lock never commute; a trylock only reads it); READ_ONCE/WRITE_ONCE
    and plain READ/WRITE of the same field conflict unless both read; bitops on the same bitmap
    conflict unless both test (any bit: the whole map is one object); every atomic op on the
    same counter is a write; every wait-queue op (prepare, schedule, finish, wake) writes the
    queue's ``waiters``, which ``wq_has_sleeper``'s READ_ONCE reads.
    """
    if op in _LOCKISH:
        return (label_of(obj), "#lock"), op != rt.TRYLOCK
    if op in _WAITISH:
        return (label_of(obj), "waiters"), True
    if op == rt.READ or op == rt.READ_ONCE:
        return (label_of(obj), arg), False
    if op == rt.WRITE or op == rt.WRITE_ONCE:
        return (label_of(obj), arg), True
    if op == rt.BIT_READ:
        return (label_of(obj), "#bits"), False
    if op == rt.BIT_WRITE:
        return (label_of(obj), "#bits"), True
    if op == rt.ATOMIC:
        return (label_of(obj), "#atomic"), True
    return None


class Footprint:
    """What one step read and wrote. ``universal``: conflicts with everything (a step that
    made a CHOOSE: its effects depend on a data decision, so it is never put to sleep)."""

    __slots__ = ("reads", "writes", "universal")

    def __init__(self) -> None:
        self.reads: set = set()
        self.writes: set = set()
        self.universal = False

    def add(self, key: Any, write: bool) -> None:
        (self.writes if write else self.reads).add(key)

    def conflicts(self, other: "Footprint") -> bool:
        if self.universal or other.universal:
            return True
        w1, w2 = self.writes, other.writes
        if not w1 and not w2:
            return False
        return bool(w1 & other.reads or w1 & w2 or w2 & self.reads)

    def __repr__(self) -> str:
        return f"<fp r={sorted(map(str, self.reads))} w={sorted(map(str, self.writes))}>"
