"""What each model thread of a stress run did, kept so that a stress find can be replayed.

Two logs per model thread, both harness bookkeeping (never seen by the hook, not model state):

* its **operations**: every kernel entry point it called (``kernel_clone`` of pid 12 with
  ``CLONE_VM``, ``cgroup_migrate`` of pid 7 to M1, ``lru_gen_age_node`` of node 0...), named by
  pids and memcg names, with a global sequence number at its start and at its end. The whole
  history is kept, up to ``HISTORY_MAX`` operations: a replay rebuilds the World the find
  happened in by running it again (``mmlist.stress_replay``);
* the **global order of its last scheduling operations** (``HINT_MAX`` of them: a bounded
  ring): the position of each of its hook operations among every thread's. It is the schedule
  hint the controlled scheduler follows when it searches for the find again.

When a check reports a violation, ``stamp`` notes where every thread stood: how many
operations each had started and how many scheduling operations each had done.
"""
from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from . import runtime as rt

#: operations of the whole history kept (about 200 bytes each); a longer run keeps counting,
#: and a find after that point is reported as not replayable (the World cannot be rebuilt)
HISTORY_MAX = 200_000
#: scheduling operations per thread kept for the schedule hint
HINT_MAX = 4096
#: violations stamped with a copy of the hint rings (the first ones of a run); later ones
#: are stamped without it
HINTED_STAMPS = 64
#: violations stamped at all (a run can report one violation thousands of times)
MAX_STAMPS = 10_000

_SCHEDULING = rt.SCHEDULING


@dataclass(slots=True)
class Entry:
    """One operation of one thread: ``op`` as data (``mmlist.stress_replay.OPS``)."""

    op: list
    start: int              # the global operation sequence number when it began
    hooks: int              # the thread's scheduling operations done before it
    end: int | None = None  # ... when it returned (None: still running)


@dataclass
class Stamp:
    """Where every thread stood when a violation was reported."""

    seq: int                                 # the global operation sequence number
    started: list[int]                       # per thread: operations started
    hooks: list[int]                         # per thread: scheduling operations done
    #: per thread: the global positions of its last scheduling operations (oldest first)
    recent: list[list[int]] | None = None
    truncated: bool = False                  # the history had passed HISTORY_MAX


@dataclass
class OpLog:
    names: list[str]
    history_max: int | None = None          # None: HISTORY_MAX (read when the log is made)
    hint_max: int | None = None             # None: HINT_MAX
    ops: list[list[Entry]] = field(init=False)
    hooks: list[int] = field(init=False)
    recent: list[deque] = field(init=False)
    stamps: dict[int, Stamp] = field(default_factory=dict)     # id(violation) -> Stamp
    truncated: bool = False

    def __post_init__(self) -> None:
        if self.history_max is None:
            self.history_max = HISTORY_MAX
        if self.hint_max is None:
            self.hint_max = HINT_MAX
        n = len(self.names)
        self.ops = [[] for _ in range(n)]
        self.hooks = [0] * n
        self.recent = [deque(maxlen=self.hint_max) for _ in range(n)]
        self._seq = itertools.count(1)      # next() is atomic under the GIL
        self._gseq = 0                      # scheduling operations: under the listener lock
        self._total = 0
        self._lock = threading.Lock()
        self._stamped: set[int] = set()
        self._keep: list[Any] = []          # stamped violations: their ids stay unique

    # --- written by the model threads ------------------------------------------------------------
    def listener(self, ctx: rt.ThreadCtx, op: int, obj: Any, arg: Any) -> None:
        """An engine listener (serialised by the engine's listener lock)."""
        if op in _SCHEDULING:
            tid = ctx.tid
            if 0 <= tid < len(self.hooks):
                self._gseq += 1
                self.hooks[tid] += 1
                self.recent[tid].append(self._gseq)

    def begin(self, *op: Any) -> Entry:
        """The calling model thread starts operation ``op``."""
        tid = rt.current_ctx().tid
        e = Entry(list(op), next(self._seq), self.hooks[tid])
        with self._lock:
            if self._total < self.history_max:
                self._total += 1
                self.ops[tid].append(e)
            else:
                self.truncated = True
        return e

    def end(self, e: Entry) -> None:
        e.end = next(self._seq)

    # --- read when a violation is reported ---------------------------------------------------------
    def stamp(self, violations: list[Any]) -> None:
        """Stamp every violation of ``violations`` not stamped yet. Called where no model
        thread moves: under the listener lock, with the world stopped, or at the end."""
        for v in violations:
            if id(v) in self._stamped or len(self.stamps) >= MAX_STAMPS:
                continue
            self._stamped.add(id(v))
            s = Stamp(next(self._seq), [len(o) for o in self.ops], list(self.hooks),
                      truncated=self.truncated)
            if len(self.stamps) < HINTED_STAMPS:
                s.recent = [list(r) for r in self.recent]
            self.stamps[id(v)] = s
            self._keep.append(v)
