"""Exhaustive DFS bounded by the number of preemptions, with sleep sets.

* Iterative context bounding: Musuvathi & Qadeer, "Iterative Context Bounding for Systematic
  Testing of Multithreaded Programs", PLDI 2007. A *preemption* is a switch away from a thread
  that could have gone on; switching when the running thread blocks or ends is free. Every
  interleaving with at most ``bound`` preemptions is explored; the non-preempting choice is
  tried first, so schedules with fewer preemptions come first.
* Sleep sets: Godefroid, "Partial-Order Methods for the Verification of Concurrent Systems"
  (LNCS 1032, 1996), chapter 5. After exploring thread ``u``'s step from a state, a sibling branch
  that starts with thread ``t`` puts ``u`` to sleep while the steps taken are independent of
  ``u``'s step; a branch where every runnable thread sleeps is equivalent to one already
  explored and is dropped ("pruned").

Dependency (``decisions.access_of``, pitfalls.md #1): two steps conflict when one writes an
object (lock, field, bitmap, counter, wait queue: by label) the other reads or writes. A step's
footprint is its scheduling op *plus* every plain READ/WRITE recorded until the thread's next
scheduling point; a step that made a CHOOSE conflicts with everything.

Where the code departs from the papers: the search is stateless (each execution replays its
prefix from a fresh World), and the prefix is checked (same runnable sets) to catch
nondeterminism. Combining sleep sets with a preemption bound is not complete in general: the
representative of an equivalence class that sleep sets keep may need more preemptions than one
they drop (Coons, Musuvathi, McKinley, "Bounded Partial-Order Reduction", OOPSLA 2013). Seen on
the built-in scenarios: at bound 1, 'debugfs', 'fork' and 'kswapd-direct' each have one outcome
(final state and violated checks) that plain DFS reaches and the reduced search reaches only at
bound 2 (e.g. kswapd's first step put to sleep at the root, whose representative then needs a
second preemption). A sibling is put to sleep only if its branch cost no more preemptions than
the current one (``bound_aware``), which is necessary but not sufficient. The reduced search is
tested against the plain bounded one (``sleep_sets=False``) on scenarios with known bugs; use
``dfs-plain`` (or the reduced search with one more preemption) when in doubt.
"""
from __future__ import annotations

from typing import Any

from . import Strategy


class _Node:
    __slots__ = ("kind", "options", "prev", "preempts", "sleep", "chosen", "done", "fps", "n")

    def __init__(self, kind: str, options: tuple = (), prev: int | None = None,
                 preempts: int = 0, sleep: dict | None = None, n: int = 0):
        self.kind = kind
        self.options = options
        self.prev = prev
        self.preempts = preempts
        self.sleep = sleep or {}
        self.chosen = 0
        self.done: list[int] = []
        self.fps: dict = {}
        self.n = n


class DFS(Strategy):
    name = "dfs"
    exhaustive = True

    def __init__(self, bound: int = 2, sleep_sets: bool = True, bound_aware: bool = True):
        self.bound = bound
        self.bound_aware = bound_aware
        self.sleep_sets = sleep_sets
        self.wants_footprints = sleep_sets
        self.stack: list[_Node] = []
        self.depth = 0
        self.last_t: int | None = None
        self.completed = False
        self.pruned = 0
        self.nondeterminism: str | None = None

    def describe(self) -> str:
        return f"dfs(preemption_bound={self.bound}, {'sleep sets' if self.sleep_sets else 'plain'})"

    # --- one execution -------------------------------------------------------------------------
    def new_execution(self) -> bool:
        if self.completed:
            return False
        self.depth = 0
        self.last_t = None
        return True

    def _order(self, node: _Node) -> list[int]:
        first = [node.prev] if node.prev in node.options else []
        return first + [t for t in node.options if t != node.prev]

    def _cost(self, node: _Node, t: int) -> int:
        return 1 if node.prev in node.options and t != node.prev else 0

    def _allowed(self, node: _Node, t: int) -> bool:
        if t in node.sleep:
            return False
        return node.preempts + self._cost(node, t) <= self.bound

    def _child_sleep(self, last_fp: Any) -> dict:
        if not self.sleep_sets or last_fp is None or self.last_t is None:
            return {}
        p = self.stack[self.last_t]
        out = {}
        for u, fp in p.sleep.items():
            if u != p.chosen and not fp.conflicts(last_fp):
                out[u] = fp
        chosen_cost = self._cost(p, p.chosen)
        for u in p.done:
            # bound-aware (a departure from plain sleep sets): u's subtree covers what this one
            # would repeat only if it started with at least as much preemption budget left.
            if self.bound_aware and self._cost(p, u) > chosen_cost:
                continue
            if u != p.chosen and u in p.fps and u not in out:
                fp = p.fps[u]
                if not fp.conflicts(last_fp):
                    out[u] = fp
        return out

    def pick(self, runnable: list[int], state: Any) -> int | None:
        d = self.depth
        self.depth += 1
        last_fp = state.last_fp
        if self.last_t is not None and last_fp is not None:
            p = self.stack[self.last_t]
            p.fps[p.chosen] = last_fp
        if d < len(self.stack):
            node = self.stack[d]
            if node.kind != "t" or node.options != tuple(runnable):
                self.nondeterminism = (f"replaying decision {d}: expected runnable "
                                       f"{node.options if node.kind == 't' else 'a CHOOSE'}, "
                                       f"observed {tuple(runnable)}")
                return None
            self.last_t = d
            return node.chosen
        node = _Node("t", tuple(runnable), state.current, state.preemptions,
                     self._child_sleep(last_fp))
        for t in self._order(node):
            if self._allowed(node, t):
                node.chosen = t
                node.done.append(t)
                self.stack.append(node)
                self.last_t = d
                return t
        self.pruned += 1                # every runnable thread sleeps (or is over the bound)
        return None

    def choose(self, n: int, state: Any) -> int | None:
        d = self.depth
        self.depth += 1
        if d < len(self.stack):
            node = self.stack[d]
            if node.kind != "c" or node.n != n:
                self.nondeterminism = f"replaying decision {d}: expected a thread pick, " \
                                      f"observed CHOOSE of {n}"
                return None
            return node.chosen
        node = _Node("c", n=n)
        node.done.append(0)
        self.stack.append(node)
        return 0

    # --- backtracking --------------------------------------------------------------------------
    def end_execution(self, execution: Any) -> None:
        while self.stack:
            node = self.stack[-1]
            if node.kind == "c":
                nxt = next((v for v in range(node.n) if v not in node.done), None)
            else:
                nxt = next((t for t in self._order(node)
                            if t not in node.done and self._allowed(node, t)), None)
            if nxt is not None:
                node.chosen = nxt
                node.done.append(nxt)
                return
            self.stack.pop()
        self.completed = True
