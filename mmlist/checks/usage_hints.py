"""The usage hints of the mm_struct list (v6): ``lru_gen_use_mm()``, ``mm->lru_gen.nodes`` and
the ``unused`` rule of ``should_skip_mm()``.

The seed (MGLRU v6 5/9), ``include/linux/mm_types.h`` and ``mm/vmscan.c``::

    nodemask_t nodes;   /* Set when switching to this mm_struct, as a hint of whether it has
                           been used since the last time per-node page table walkers cleared
                           the corresponding bits. */

    lru_gen_init_mm():  nodes_clear(mm->lru_gen.nodes);
    lru_gen_use_mm():   if (!(current->flags & PF_KTHREAD) && !nodes_full(mm->lru_gen.nodes))
                                nodes_setall(mm->lru_gen.nodes);
    should_skip_mm():   if (!walk->full_scan && cpumask_empty(mm_cpumask(mm)) &&
                            !node_isset(pgdat->node_id, mm->lru_gen.nodes))
                                return true;
                        ...size, OOM victim, mmget_not_zero()...
                        node_clear(pgdat->node_id, mm->lru_gen.nodes);
                        return false;

So, in v6 (later versions change every part of this):

* a *use* of an mm is a call of ``lru_gen_use_mm(mm)`` whose ``current`` is not a kthread: from
  ``context_switch()`` (``current`` is still ``prev`` there: benign finding B2) and from
  ``exec_mmap()``; ``kthread_use_mm()`` has no hook in v6. A use marks the mm used on every
  node;
* a *take* of an mm by a walker of node ``nid`` is ``should_skip_mm()`` returning false for
  it (``get_next_mm()`` hands it out): only a take clears ``nid``'s bit. A walker that skips the
  mm (too small, OOM victim, ``mm_users == 0``) leaves the bit as it was; the unused skip
  itself finds it clear already. (Later versions clear the bit on every pass that gets past the
  usage test, size skips included, and drop the ``mm_cpumask`` test.)

Two checks, one per direction:

``usage_hint_skip``: ``should_skip_mm()`` may skip an mm as unused for a walker of node ``nid``
only without ``walk->full_scan``, while no CPU has the mm loaded (``mm_cpumask`` empty since
before the walker looked), and when no use of the mm *started after* the last take by a walker
of ``nid`` and *returned* before the walker tested the bit (or, for an mm with no take yet,
when it was not marked at the start of the execution). A use that has not returned, or that
started before the last take had finished, may be lost: ``nodes_setall()`` (a plain bitmap
fill) and ``node_clear()`` (an atomic ``clear_bit()``) race by design, and the clear may win.

``usage_hint_walk``: a take by a walker of ``nid`` without ``full_scan``, of an mm no CPU had
loaded while the walker looked, is wrong when the mm was not used since the last take by a
walker of ``nid``: no use started before the take's hand-out, and none was still running when
the last take began (or, with no take yet, the mm was not marked at the start of the execution
and was created since by ``lru_gen_init_mm()``). The seed requires the skip then: the walker's
previous take left ``nid``'s bit clear.

Uses are recorded at their caller's protocol event (``context_switch``, and ``add`` inside
``exec_mmap()``), with the frame of the caller: a use has returned once that frame has left the
using thread's stack. Takes are the ``get_next_mm`` events that hand out an mm, skips the
``skip`` events with ``reason=unused``; the instant a walker tested the bit lies after its
previous protocol event. ``mm_cpumask`` changes are ``set_bit``/``clear_bit`` on the mask
(``CheckSuite`` routes them here). Under the controlled scheduler these bounds are exact enough
to never accuse a legal interleaving; free-running engines are approximate, as for races.
"""
from __future__ import annotations

import sys
import threading
from typing import Any

from ..model.structs import PF_KTHREAD
from .frames import frame_locals
from .report import label

#: The model frames inside which a use is still running.
_USE_FUNCS = ("context_switch", "exec_mmap")
_MODEL = ("mmlist.model.", "mmlist.variants._loaded.")
#: How far back the previous event of a walker is looked for in the protocol.
_LOOKBACK = 4000
#: The events get_next_mm() emits after should_skip_mm() tested the mm it hands out.
_AFTER_TEST = ("mmget", "iter_end", "filter_clear", "stats_flush", "stats_reset", "alloc_fail")


class _Use:
    __slots__ = ("mm", "start", "end", "ctx", "ident", "frame", "how")

    def __init__(self, mm: Any, start: int, ctx: Any, ident: int, frame: Any, how: str):
        self.mm = mm
        self.start = start              # protocol index of the caller's event
        self.end: int | None = None     # protocol index by which it had returned (upper bound)
        self.ctx = ctx
        self.ident = ident
        self.frame = frame              # the caller's frame while the use runs
        self.how = how


class _Take:
    __slots__ = ("begin", "end", "who", "seq")

    def __init__(self, begin: int, end: int, who: str, seq: int):
        self.begin = begin              # the walker's previous event: the test came after it
        self.end = end                  # the get_next_mm event that handed the mm out
        self.who = who
        self.seq = seq


def _model_frame(fns: tuple[str, ...], limit: int = 60) -> Any:
    f = sys._getframe(2)
    n = 0
    while f is not None and n < limit:
        if f.f_code.co_name in fns and f.f_globals.get("__name__", "").startswith(_MODEL):
            return f
        f = f.f_back
        n += 1
    return None


class UsageHints:
    def __init__(self, suite: Any, world: Any):
        self.suite = suite
        self.world = world
        #: mm -> its uses, in order
        self.uses: dict[Any, list[_Use]] = {}
        self.running: list[_Use] = []               # uses not known to have returned
        #: (mm, nid) -> the last take by a walker of nid
        self.takes: dict[tuple, _Take] = {}
        #: (mm, nid) marked at the start of the execution (set-up: ``World.spawn(used=True)``)
        self.marked0: set = set()
        #: mms that existed when the execution started (others were made by lru_gen_init_mm)
        self.initial: set = set()
        #: mm_cpumask -> len(protocol) at its last set_bit/clear_bit
        self.cpumask_changed: dict[Any, int] = {}
        for mm in world.mms:
            self.initial.add(mm)
            bits = mm.lru_gen.nodes.bits
            for nid in range(len(bits)):
                if bits[nid]:
                    self.marked0.add((mm, nid))

    def handlers(self) -> dict:
        return {"context_switch": self.t_context_switch, "add": self.t_add,
                "skip": self.t_skip, "get_next_mm": self.t_get_next_mm}

    # --- clock and bounds ----------------------------------------------------------------------
    def _now(self) -> int:
        return len(self.suite.protocol) - 1         # the event being handled is appended

    def _previous(self, name: str, before: int, skip: tuple[str, ...] = ()) -> int:
        """Index of ``name``'s last protocol event before ``before`` (not one of ``skip``);
        earlier than anything when not found (the conservative bound)."""
        proto = self.suite.protocol
        i = before - 1
        stop = max(-1, before - _LOOKBACK)
        while i > stop:
            who, ev, _ = proto[i]
            if who == name and ev not in skip:
                return i
            i -= 1
        return -1

    def on_cpumask(self, ctx: Any, mask: Any) -> None:
        """``set_bit``/``clear_bit`` on an ``mm_cpumask`` (before it takes effect)."""
        self.cpumask_changed[mask] = len(self.suite.protocol)

    def _loaded_throughout(self, mm: Any, since: int) -> bool:
        """The mm's cpumask is not empty now and did not change after event ``since``."""
        mask = mm.cpu_bitmap
        return mask.bits.any() and self.cpumask_changed.get(mask, -1) <= since

    def _idle_throughout(self, mm: Any, since: int) -> bool:
        mask = mm.cpu_bitmap
        return not mask.bits.any() and self.cpumask_changed.get(mask, -1) <= since

    # --- uses ------------------------------------------------------------------------------------
    def _returned(self, u: _Use) -> bool:
        if u.end is not None:
            return True
        if u.ctx in self.suite.dead:
            return False        # oopsed (maybe before lru_gen_use_mm()): never counted as done
        if u.ctx in self.suite.ended:
            return True
        ident = threading.get_ident()
        f = sys._getframe(1) if u.ident == ident else sys._current_frames().get(u.ident)
        n = 0
        while f is not None and n < 200:
            if f is u.frame:
                return False
            f = f.f_back
            n += 1
        return True

    def _sweep(self, now: int) -> None:
        if not self.running:
            return
        keep = []
        for u in self.running:
            if self._returned(u):
                u.end = now
                u.frame = None
            else:
                keep.append(u)
        self.running = keep

    def _use(self, ctx: Any, mm: Any, how: str) -> None:
        task = ctx.task
        if task is not None and task.flags & PF_KTHREAD:
            return                                  # lru_gen_use_mm() does nothing (v6)
        frame = _model_frame(_USE_FUNCS)
        u = _Use(mm, self._now(), ctx, threading.get_ident(), frame, how)
        if frame is None:
            u.end = u.start                         # no caller frame: judged as returned
        else:
            self.running.append(u)
        self.uses.setdefault(mm, []).append(u)

    def t_context_switch(self, ctx: Any, f: dict) -> None:
        """``context_switch()``: ``lru_gen_use_mm(next->mm)`` follows, ``current`` = prev."""
        self._sweep(self._now())
        mm = f.get("mm")
        if mm is None:
            return                                  # to a kernel thread: no use
        prev, nxt = f.get("prev"), f.get("next")
        self._use(ctx, mm, f"context_switch() from {label(prev)} to {label(nxt)} on "
                           f"cpu{f.get('cpu')}")

    def t_add(self, ctx: Any, f: dict) -> None:
        """``lru_gen_add_mm()`` inside ``exec_mmap()``: ``lru_gen_use_mm(mm)`` follows."""
        self._sweep(self._now())
        loc = frame_locals("exec_mmap", depth=3)
        if loc is None or loc.get("mm") is not f.get("mm"):
            return
        self._use(ctx, f["mm"], f"exec_mmap() by {label(ctx.task)}")

    # --- walkers ---------------------------------------------------------------------------------
    @staticmethod
    def _nid(lv: Any) -> int:
        return lv.pgdat.node_id

    def t_skip(self, ctx: Any, f: dict) -> None:
        now = self._now()
        self._sweep(now)
        if f.get("reason") != "unused":
            return                                  # v6: the bit is left as it was
        mm, lv = f["mm"], f["lruvec"]
        nid = self._nid(lv)
        begin = self._previous(ctx.name, now)
        loc = frame_locals("should_skip_mm", depth=3)
        walk = loc.get("walk") if loc is not None else None
        where = f"should_skip_mm() skipped {label(mm)} as unused for {label(lv)} [{ctx.name}]"
        if walk is not None and walk.full_scan:
            self.suite.report(
                "usage_hint_skip", f"{where} although walk->full_scan is set", ctx=ctx,
                function="should_skip_mm", condition="!walk->full_scan",
                details={"mm": label(mm), "lruvec": label(lv)})
            return
        if self._loaded_throughout(mm, begin):
            cpus = [i for i, b in enumerate(mm.cpu_bitmap.bits) if b]
            self.suite.report(
                "usage_hint_skip", f"{where} while CPU {', '.join(map(str, cpus))} has it "
                f"loaded (mm_cpumask not empty)", ctx=ctx, function="should_skip_mm",
                condition="cpumask_empty(mm_cpumask(mm))",
                details={"mm": label(mm), "lruvec": label(lv), "cpus": cpus})
            return
        last = self.takes.get((mm, nid))
        since = last.end if last is not None else -1
        if last is None and (mm, nid) in self.marked0:
            self.suite.report(
                "usage_hint_skip", f"{where}, but it was marked used on node {nid} when the "
                f"execution started and no walker of node {nid} has taken it since: "
                f"mm->lru_gen.nodes must still have bit {nid} set", ctx=ctx,
                function="should_skip_mm", condition="!node_isset(nid, mm->lru_gen.nodes)",
                details={"mm": label(mm), "lruvec": label(lv)})
            return
        for u in self.uses.get(mm, ()):
            if u.start > since and self._returned(u):
                after = (f"{last.who} took it for node {nid} in iteration seq={last.seq}"
                         if last is not None else f"no walker of node {nid} has taken it yet")
                self.suite.report(
                    "usage_hint_skip", f"{where}, but {u.how} ran lru_gen_use_mm() on it since "
                    f"({after}): mm->lru_gen.nodes must have bit {nid} set again", ctx=ctx,
                    function="should_skip_mm", condition="!node_isset(nid, mm->lru_gen.nodes)",
                    details={"mm": label(mm), "lruvec": label(lv), "use": u.how,
                             "last_take": last.who if last is not None else None})
                return

    def t_get_next_mm(self, ctx: Any, f: dict) -> None:
        now = self._now()
        self._sweep(now)
        mm = f.get("mm")
        if mm is None or f.get("case") == "stale":
            return
        lv, walk = f["lruvec"], f["walk"]
        nid = self._nid(lv)
        # should_skip_mm() tested the mm before mmget_not_zero() (its "mmget" event) and before
        # what get_next_mm() does after the loop (end of the list, Bloom filter, stats)
        begin = self._previous(ctx.name, now, skip=_AFTER_TEST)
        last = self.takes.get((mm, nid))
        self.takes[(mm, nid)] = _Take(begin, now, ctx.name, f.get("max_seq"))
        if walk.full_scan or not self._idle_throughout(mm, begin):
            return
        if last is None:
            if (mm, nid) in self.marked0:
                return                              # marked when the execution started
            since_begin = -1                        # unmarked since set-up or lru_gen_init_mm()
        else:
            since_begin = last.begin
        for u in self.uses.get(mm, ()):
            if u.start < now and (u.end is None or u.end > since_begin):
                return                              # a use may have set the bit
        before = (f"since {last.who} took it for node {nid} in iteration seq={last.seq}"
                  if last is not None else "since lru_gen_init_mm() cleared it")
        self.suite.report(
            "usage_hint_walk",
            f"get_next_mm() handed {label(mm)} to {ctx.name} for {label(lv)} without full_scan "
            f"and with an empty mm_cpumask, although nothing used it (lru_gen_use_mm()) "
            f"{before}: bit {nid} of mm->lru_gen.nodes is clear and should_skip_mm() must skip "
            f"it as unused", ctx=ctx, function="should_skip_mm",
            condition="skip unused: !full_scan && cpumask_empty && !node_isset",
            details={"mm": label(mm), "lruvec": label(lv),
                     "last_take": last.who if last is not None else None})
