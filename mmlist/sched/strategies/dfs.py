"""Exhaustive DFS: bounded by the number of preemptions (with trace caching), or unbounded (with
sleep sets), or plain (no reduction). All three are sound for what they claim to cover.

* **Iterative context bounding**: Musuvathi & Qadeer, "Iterative Context Bounding for
  Systematic Testing of Multithreaded Programs", PLDI 2007. A *preemption* is a switch away
  from a thread that could have gone on; switching when the running thread blocks or ends is
  free. Every interleaving with at most ``bound`` preemptions is explored; the non-preempting
  choice is tried first, so schedules with fewer preemptions come first.
* **Plain** (``reduction="none"``, strategy ``dfs-plain``): every such interleaving, one
  execution each. The reference the reduced searches are tested against.
* **Trace caching** (``reduction="cache"``, the default under a bound): stateless DFS that
  remembers which *Mazurkiewicz traces* it has already expanded, and prunes a schedule prefix
  that is the same trace as one expanded before with no fewer preemptions left.
* **Sleep sets** (``reduction="sleep"``, only with ``bound=None``): Godefroid, "Partial-Order
  Methods for the Verification of Concurrent Systems" (LNCS 1032, 1996), chapter 5. Without a
  bound they are sound. Under a bound they are *not*: the representative of a class that sleep
  sets keep may need more preemptions than one they drop (Coons, Musuvathi, McKinley, "Bounded
  Partial-Order Reduction", OOPSLA 2013; seen here at bound 1 on 'debugfs', 'fork' and
  'kswapd-direct'), so that combination is refused.

Steps and dependency (``decisions.py``). A *step* of thread ``t`` is the scheduling op it was
parked on when it was picked plus every plain READ/WRITE (and any CHOOSE) until its next
scheduling point; its *footprint* is the objects (by label) it read and wrote. Two steps are
dependent when one writes what the other reads or writes (``Footprint.conflicts``); a step that
made a CHOOSE is dependent on every step. At a decision point every step taken so far is
complete: the thread that ran last has parked (or ended), and ``state.last_fp`` is its step.

Why trace caching is sound for its bound
----------------------------------------
1. *Same trace, same state.* Two prefixes with the same steps per thread and the same order of
   every pair of dependent steps reach the same state: threads are deterministic functions of
   what they read, every shared effect goes through the runtime hook and is in the footprint,
   so swapping two adjacent independent steps changes neither step nor the state after both;
   repeated swaps turn one prefix into the other. (Nondeterminism breaks this: it is detected,
   see below, and turns the verdict into "inconclusive".)
2. *A canonical fingerprint.* For every object key, the k-th write is the item
   ``(key, "w", k, tid, i)`` (``i``: the thread-local step index), a read is
   ``(key, "r", writes of key before it, tid, i)``; every step adds ``("s", tid, i)``; a
   CHOOSE step adds ``("choose", tid, i, values)``; every item carries the number of CHOOSE
   steps before it. The item set says which steps happened, their footprints, the order of
   every dependent pair (writes of a key are totally ordered, a read is placed among them, a
   CHOOSE step is placed among all steps), and conversely is determined by the trace. The
   fingerprint is the sum mod 2**128 of a 128-bit blake2b of each item: incremental, and equal
   for equal item sets (different ones collide with probability ~2**-128 per pair).
3. *Dominance* (the state-caching argument of Musuvathi & Qadeer 2007, at the cost of one
   switch). Per fingerprint F seen at a decision point the search caches the pairs (current
   thread c, preemptions used p). A new decision point (F, c', p') is pruned when some cached
   (c, p) has ``p + (c != c') <= p'``: from the same state, a continuation costs the same
   preemptions from the same current thread, and at most one more when it starts from another
   one (only its first switch can differ); so every continuation the pruned node could take
   within the bound is also within the bound from the cached one. The current thread is
   normalised to "none" when it is not runnable or is the only runnable thread: then no first
   pick is a preemption, whoever ran last, so the cost of every continuation is the same.
4. *No pruning uses an unfinished subtree.* A cached node that is not an ancestor was visited
   earlier in DFS order, so its whole subtree has been explored (by induction on visiting
   order, up to prunes that are themselves justified). An ancestor never has the same
   fingerprint: every step adds an item, so the trace grows along a path.
Hence every outcome (final state and violated checks) of an interleaving within the bound is
reached by an execution the search runs. The cache holds only ints. In fair mode (whose
scheduler depends on the history, not only the state) nothing is pruned, by either reduction.

*Lookahead* (saves running an execution only to prune it). A thread's next step is known
without running it when an ancestor node ran that step (its footprint was recorded there) and
every step taken since is independent of it: it then reads the same values and does the same
thing (the bookkeeping of sleep sets, used here only to *predict*). The fingerprint after
that step is then known too; when the decision point it leads to would be pruned by rule 3
(checked conservatively, since whether that thread is still runnable there is not known), the
branch is marked done without an execution (``skipped``). This prunes exactly what rule 3
would prune one step later, so it keeps the argument above.

Splitting the search among processes (``--jobs N``: ``partition(k, n)``)
---------------------------------------------------------------------------
Part ``k`` of ``n`` explores a deterministic share of the tree; the ``n`` parts together explore
every branch, so their outcome sets' union is the whole search's. A node is *shared* while more
than one part passes through it: every part of its group reaches it by the same decisions, so
shared nodes are neither pruned nor cached (the trace cache of each part holds only nodes of
subtrees that part explores whole, which is what rule 4 needs), and their allowed children are
the same for every part of the group. At a shared node with ``c >= 2`` allowed children
(in the search's own order) and a group of ``g`` parts, part of rank ``r`` takes the children
``i`` with ``i % g == r`` when ``g <= c`` (and is alone below them); else the group splits into
``c`` groups, child ``i`` going to the ranks ``r % c == i`` (rank ``r // c`` there), split again
at the next branching node. A shared node with one allowed child is passed by the whole group.
Below a part's own children it is an ordinary search of that subtree, with its reduction; rules
1-4 hold inside it, and pruning only drops branches the same part covers elsewhere. Sleep sets
(unbounded) stay sound: a sibling a part did not run never puts a thread asleep (its footprint
is unknown there), so each part explores at least what the whole search explores in its
subtrees. The cost: no pruning across parts. A group's subtree without any branching node (one
schedule) is run by each part of the group.

Nondeterminism. The search is stateless: each execution replays its stack prefix from a fresh
World. At every replayed decision it checks the runnable threads, the (thread, op, object) of
each of them, the CHOOSE's thread and arity and, under trace caching, the fingerprint of the
steps so far against what was recorded. A mismatch abandons the execution (returns None,
"pruned by nondeterminism"), records the message in ``nondeterminism`` and counts it in
``nondeterministic``: the verdict can then never be "passed".
"""
from __future__ import annotations

import hashlib
from typing import Any

from . import Strategy

_MASK = (1 << 128) - 1
_blake = hashlib.blake2b
_CBITS = 12                     # cache entries pack (preemptions << _CBITS) | (current + 1)
_CMASK = (1 << _CBITS) - 1


def _h(text: str) -> int:
    return int.from_bytes(_blake(text.encode(), digest_size=16).digest(), "little")


class _Node:
    __slots__ = ("kind", "options", "prev", "preempts", "sleep", "chosen", "done", "fps", "n",
                 "pend", "fpr", "thread", "pred", "known", "owned")

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
        self.pend: tuple = ()           # (op, object) of each option, as recorded
        self.fpr = 0                    # trace caching: the fingerprint at this decision
        self.thread: int | None = None  # a CHOOSE node: the thread that made it
        self.pred: dict | None = None   # trace caching: option -> fingerprint after its step
        self.known = self.sleep         # thread -> footprint of its (unmoved) next step
        #: a node shared by several parts (``partition``): option -> the group below it, for
        #: the options this part takes; None: not shared (every option is ours)
        self.owned: dict[int, tuple[int, int]] | None = None


class DFS(Strategy):
    name = "dfs"
    exhaustive = True
    sound = True

    def __init__(self, bound: int | None = 2, reduction: str = "auto"):
        if reduction == "auto":
            reduction = "sleep" if bound is None else "cache"
        if reduction not in ("none", "cache", "sleep"):
            raise ValueError(f"unknown reduction {reduction!r} (none, cache, sleep)")
        if reduction == "sleep" and bound is not None:
            raise ValueError("sleep sets under a preemption bound can miss outcomes at that "
                             "bound (Coons et al., OOPSLA 2013): use reduction='cache' or "
                             "bound=None")
        self.bound = bound
        self.reduction = reduction
        self.sleep_sets = reduction == "sleep"
        self.caching = reduction == "cache"
        self.wants_footprints = reduction != "none"
        self.stack: list[_Node] = []
        self.depth = 0
        self.last_t: int | None = None
        self.completed = False
        self.pruned = 0
        self.skipped = 0                # trace caching: branches pruned without running them
        self.nondeterminism: str | None = None
        self.nondeterministic = 0
        # trace caching: fingerprint -> packed (current, preemptions) or a list of them
        self.cache: dict[int, Any] = {}
        self._krepr: dict[Any, str] = {}
        self._hmemo: dict[str, int] = {}    # item -> hash (the replayed prefixes repeat them)
        self._fair = False
        #: this part (k, n) of the partition, and the group at the current decision: this
        #: part's rank in it and its size (``partition``)
        self.part: tuple[int, int] = (0, 1)
        self._grp: tuple[int, int] = (0, 1)
        self._reset_trace()

    def partition(self, k: int, n: int) -> "DFS":
        """Explore only part ``k`` of ``n`` of the tree (see the module doc); before the first
        execution. ``n == 1``: the whole tree, exactly as without it."""
        if not 0 <= k < n:
            raise ValueError(f"part {k} of {n}")
        if self.stack or self.completed:
            raise ValueError("partition() after the search started")
        self.part = self._grp = (k, n)
        return self

    def describe(self) -> str:
        red = {"none": "plain", "cache": "trace caching", "sleep": "sleep sets"}[self.reduction]
        bound = "unbounded" if self.bound is None else f"preemption_bound={self.bound}"
        part = f", part {self.part[0] + 1}/{self.part[1]}" if self.part[1] > 1 else ""
        return f"dfs({bound}, {red}{part})"

    # --- one execution -------------------------------------------------------------------------
    def _reset_trace(self) -> None:
        self.fpr = 0
        self.tsteps: dict[int, int] = {}
        self.wcount: dict[Any, int] = {}
        self.nchoose = 0
        self.step_chooses: list[int] = []

    def new_execution(self) -> bool:
        if self.completed:
            return False
        self.depth = 0
        self.last_t = None
        self._grp = self.part
        if self.caching:
            self._reset_trace()
        return True

    def _order(self, node: _Node) -> list[int]:
        first = [node.prev] if node.prev in node.options else []
        return first + [t for t in node.options if t != node.prev]

    def _cost(self, node: _Node, t: int) -> int:
        return 1 if node.prev in node.options and t != node.prev else 0

    def _allowed(self, node: _Node, t: int) -> bool:
        if node.owned is not None and t not in node.owned:
            return False                # another part's branch
        return self._in_space(node, t)

    def _in_space(self, node: _Node, t: int) -> bool:
        if t in node.sleep:
            return False
        return self.bound is None or node.preempts + self._cost(node, t) <= self.bound

    # --- the partition ---------------------------------------------------------------------------
    def _shared(self) -> bool:
        """Whether other parts pass through the current decision too (then it is neither
        pruned nor cached)."""
        return self._grp[1] > 1

    def _share(self, node: _Node, options: list[Any]) -> None:
        """Give the shared ``node`` the options this part takes, each with the group below it
        (``options``: the allowed ones, in the search's order). With ``c >= 2`` of them and a
        group of ``size`` parts, this part of rank ``rank`` takes: ``size <= c``: the options
        ``i % size == rank``, alone below them; else option ``rank % c``, as rank
        ``rank // c`` of the group of the ranks that go there."""
        rank, size = self._grp
        c = len(options)
        if c < 2:
            node.owned = {o: self._grp for o in options}
        elif size <= c:
            node.owned = {o: (0, 1) for i, o in enumerate(options) if i % size == rank}
        else:
            i = rank % c
            node.owned = {options[i]: (rank // c, (size - i + c - 1) // c)}

    def _enter(self, node: _Node, option: Any) -> None:
        """The group below ``node`` once ``option`` is taken."""
        if node.owned is not None:
            self._grp = node.owned[option]

    # --- trace caching -------------------------------------------------------------------------
    def _items(self, t: int, fp: Any, chooses: list[int]) -> int:
        """The sum of the hashes of the items of thread ``t``'s next step (footprint ``fp``,
        CHOOSE values ``chooses``) if it were taken now. Does not change the counters."""
        memo = self._hmemo
        if len(memo) > 1_000_000:
            memo.clear()
        tail = f"|{t}|{self.tsteps.get(t, 0)}|{self.nchoose}"
        texts = ["s" + tail]
        if chooses:
            texts.append(f"choose|{chooses}" + tail)
        if fp is not None:
            kr = self._krepr
            w = self.wcount
            writes = fp.writes
            for key in fp.reads:
                if key not in writes:
                    r = kr.get(key)
                    if r is None:
                        r = kr[key] = repr(key)
                    texts.append(f"{r}|r|{w.get(key, 0)}{tail}")
            for key in writes:
                r = kr.get(key)
                if r is None:
                    r = kr[key] = repr(key)
                texts.append(f"{r}|w|{w.get(key, 0)}{tail}")
        acc = 0
        for text in texts:
            v = memo.get(text)
            if v is None:
                v = memo[text] = _h(text)
            acc += v
        return acc

    def _absorb(self, t: int, fp: Any) -> None:
        """Add the step thread ``t`` just completed (footprint ``fp``) to the fingerprint."""
        ch = self.step_chooses
        acc = self._items(t, fp, ch)
        self.tsteps[t] = self.tsteps.get(t, 0) + 1
        if ch:
            self.step_chooses = []
            self.nchoose += 1
        if fp is not None:
            w = self.wcount
            for key in fp.writes:
                w[key] = w.get(key, 0) + 1
        self.fpr = (self.fpr + acc) & _MASK

    def _lookup(self, f: int, cur: int, p: int) -> bool:
        """Would a decision point (f, current thread ``cur``, p) be pruned? Used before the
        step that leads there, so whether ``cur`` will still be runnable (with others) is not
        known: a cached pair dominates if it has the same current thread and no more
        preemptions, or at least one preemption fewer."""
        entry = self.cache.get(f)
        if entry is None:
            return False
        for code in ([entry] if isinstance(entry, int) else entry):
            q = code >> _CBITS
            if q + 1 <= p or (q <= p and (code & _CMASK) - 1 == cur):
                return True
        return False

    def _skip(self, node: _Node, t: int) -> bool:
        """Lookahead: thread ``t``'s step from ``node`` is known (an ancestor ran it and every
        step since is independent of it), so the fingerprint after it is known too; if that
        decision point would be pruned, do not run the execution that would reach it."""
        if self._fair or node.owned is not None:
            return False
        pred = node.pred
        f = pred.get(t) if pred else None
        if f is None:
            return False
        if self._lookup(f, t, node.preempts + self._cost(node, t)):
            self.skipped += 1
            return True
        return False

    def _dominated(self, f: int, cur: int | None, p: int, runnable: list[int]) -> bool:
        """Prune (f, cur, p) if a cached (c, q) at f has q + (c != cur) <= p; else cache it.
        ``cur`` is normalised to -1 ("every next pick is free") when it is not runnable or is
        the only runnable thread: the cost of any continuation is then the same."""
        c = cur if cur is not None and cur in runnable and len(runnable) > 1 else -1
        new = (p << _CBITS) | (c + 1)
        entry = self.cache.get(f)
        if entry is None:
            self.cache[f] = new
            return False
        entries = [entry] if isinstance(entry, int) else entry
        for code in entries:
            if (code >> _CBITS) + ((code & _CMASK) - 1 != c) <= p:
                return True
        # keep only the pairs the new one does not dominate
        kept = [code for code in entries if not p + ((code & _CMASK) - 1 != c) <= code >> _CBITS]
        kept.append(new)
        self.cache[f] = kept[0] if len(kept) == 1 else kept
        return False

    # --- sleep sets (unbounded), known next steps (trace caching) ---------------------------------
    def _child_sleep(self, last_fp: Any) -> dict:
        """Threads whose next step from the new node is known: asleep there (sleep sets), or
        predicted (trace caching: ``_skip``). A thread's step stays the same while the steps
        taken since it was explored are independent of it (it reads nothing they wrote)."""
        if self.reduction == "none" or last_fp is None or self.last_t is None \
                or last_fp.universal or self._fair:
            return {}
        p = self.stack[self.last_t]
        out = {}
        for u, fp in p.known.items():
            if u != p.chosen and not fp.conflicts(last_fp):
                out[u] = fp
        for u in p.done:
            if u != p.chosen and u in p.fps and u not in out:
                fp = p.fps[u]
                if not fp.universal and not fp.conflicts(last_fp):
                    out[u] = fp
        return out

    # --- decisions -----------------------------------------------------------------------------
    def _nondet(self, d: int, msg: str) -> None:
        self.nondeterminism = f"decision {d}: {msg}"
        self.nondeterministic += 1

    def _replay_check(self, d: int, node: _Node, runnable: list[int], state: Any) -> bool:
        names = state.names()
        if node.kind != "t":
            self._nondet(d, f"expected CHOOSE by {names[node.thread]} among {node.n}, "
                            f"observed a scheduling point (runnable {_who(names, runnable)})")
            return False
        if node.options != tuple(runnable):
            self._nondet(d, f"expected runnable {_who(names, node.options)}, observed "
                            f"{_who(names, runnable)}")
            return False
        pend = tuple(state.pending_of(t) for t in runnable)
        if pend != node.pend:
            for t, exp, obs in zip(runnable, node.pend, pend):
                if exp != obs:
                    taken = " (the thread chosen)" if t == node.chosen else ""
                    self._nondet(d, f"expected {names[t]} {exp[0]} {exp[1]} observed "
                                    f"{names[t]} {obs[0]} {obs[1]}{taken}")
                    return False
        if self.caching and node.fpr != self.fpr:
            self._nondet(d, "the steps before it read or wrote other objects than when this "
                            "prefix was first run")
            return False
        return True

    def pick(self, runnable: list[int], state: Any) -> int | None:
        d = self.depth
        self.depth += 1
        last_fp = state.last_fp
        cur = state.current
        if self.caching and cur is not None:
            self._absorb(cur, last_fp)
        if self.last_t is not None and last_fp is not None and self.reduction != "none":
            p = self.stack[self.last_t]
            p.fps[p.chosen] = last_fp
        if d < len(self.stack):
            node = self.stack[d]
            if not self._replay_check(d, node, runnable, state):
                return None
            self.last_t = d
            self._enter(node, node.chosen)
            return node.chosen
        preempts = state.preemptions
        self._fair = fair = getattr(state, "fair", False)
        shared = self._shared()         # other parts pass here too: never pruned nor cached
        if self.caching and not fair and not shared \
                and self._dominated(self.fpr, cur, preempts, runnable):
            self.pruned += 1            # the same trace was expanded with as much budget left
            return None
        known = self._child_sleep(last_fp)
        if self.caching:
            node = _Node("t", tuple(runnable), cur, preempts)
            node.known = known
            node.fpr = f = self.fpr
            node.pred = {u: (f + self._items(u, fp, [])) & _MASK
                         for u, fp in known.items() if u in runnable}
        else:
            node = _Node("t", tuple(runnable), cur, preempts, known)
        node.pend = tuple(state.pending_of(t) for t in runnable)
        if shared:
            self._share(node, [t for t in self._order(node) if self._in_space(node, t)])
        for t in self._order(node):
            if self._allowed(node, t):
                if self.caching and self._skip(node, t):
                    node.done.append(t)
                    continue
                node.chosen = t
                node.done.append(t)
                self.stack.append(node)
                self.last_t = d
                self._enter(node, t)
                return t
        self.pruned += 1                # every runnable thread sleeps (or its step is predicted
        return None                     # to reach a trace expanded before)

    def choose(self, n: int, state: Any) -> int | None:
        d = self.depth
        self.depth += 1
        cur = state.current
        if d < len(self.stack):
            node = self.stack[d]
            if node.kind != "c" or node.n != n or node.thread != cur:
                names = state.names()
                exp = (f"CHOOSE by {names[node.thread]} among {node.n}" if node.kind == "c"
                       else "a scheduling point")
                self._nondet(d, f"expected {exp}, observed CHOOSE by "
                                f"{names[cur] if cur is not None else '?'} among {n}")
                return None
            value = node.chosen
        else:
            node = _Node("c", n=n)
            node.thread = cur
            if self._shared():
                self._share(node, list(range(n)))
            value = next(v for v in range(n) if node.owned is None or v in node.owned)
            node.chosen = value
            node.done.append(value)
            self.stack.append(node)
        self._enter(node, value)
        if self.caching:
            self.step_chooses.append(value)
        return value

    # --- backtracking --------------------------------------------------------------------------
    def end_execution(self, execution: Any) -> None:
        while self.stack:
            node = self.stack[-1]
            if node.kind == "c":
                nxt = next((v for v in range(node.n) if v not in node.done
                            and (node.owned is None or v in node.owned)), None)
            else:
                nxt = None
                for t in self._order(node):
                    if t in node.done or not self._allowed(node, t):
                        continue
                    if self.caching and self._skip(node, t):
                        node.done.append(t)
                        continue
                    nxt = t
                    break
            if nxt is not None:
                node.chosen = nxt
                node.done.append(nxt)
                return
            self.stack.pop()
        self.completed = True


def _who(names: list[str], tids: Any) -> str:
    return "(" + ", ".join(names[t] for t in tids) + ")"
