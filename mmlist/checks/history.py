"""History checks: the protocol's properties over time, read from the model's TRACE events.

An *iteration* is one pass over a memcg's mm list for one lruvec and one ``walk->max_seq``
(``iter_start`` .. ``iter_end``). Holders (which walk holds which mm) come from the
``get_next_mm`` events, which the model emits under the mm_list lock.
"""
from __future__ import annotations

import sys
from typing import Any, Callable

from ..config import MIN_NR_GENS, NR_BLOOM_FILTERS, NR_MM_STATS
from ..kernel.list import raw_iter
from .frames import frame_locals
from .report import label

ZERO = (0,) * NR_MM_STATS


def _nobody(lv: Any, what: str | None = None) -> None:
    pass


class Iteration:
    __slots__ = ("lv", "seq", "members", "removed", "skipped", "handed", "ended", "lasts",
                 "participants", "inc_done", "evaluated", "left", "back")

    def __init__(self, lv: Any, seq: int, members: set):
        self.lv = lv
        self.seq = seq
        self.members = members
        self.removed: set = set()
        self.skipped: set = set()
        self.handed: dict = {}
        self.ended = False
        self.lasts: list[str] = []
        self.participants: set = set()
        self.inc_done = False
        self.evaluated = False
        # The seed's one exception to "each mm at most once per iteration": an mm that
        # lru_gen_del_mm() took off this list after its hand-out and lru_gen_add_mm() put back
        # (behind head) is a new stay on the list and may be handed out again.
        #: mm -> the function that deleted it from this list since its last hand-out
        self.left: dict = {}
        #: mm -> (deleter, adder): deleted and then re-added since its last hand-out
        self.back: dict = {}


def _raw(obj: Any, name: str) -> Any:
    return obj.__dict__["_" + name]


#: The callers of lru_gen_add_mm(), innermost first: the kernel's paths, then set-up.
_ADD_PATHS = ("lru_gen_migrate_mm", "exec_mmap", "kernel_clone", "spawn")


def _add_path(limit: int = 40) -> str:
    """Which path called ``lru_gen_add_mm()``: ``kernel_clone()`` (fork), ``exec_mmap()``,
    ``lru_gen_migrate_mm()`` (cgroup migration, a new owner), or ``set-up``
    (``World.spawn``)."""
    f = sys._getframe(2)
    n = 0
    while f is not None and n < limit:
        name = f.f_code.co_name
        if name in _ADD_PATHS:
            return "set-up" if name == "spawn" else f"{name}()"
        f = f.f_back
        n += 1
    return "set-up"


class History:
    def __init__(self, suite: Any, world: Any):
        self.suite = suite
        #: told of each lruvec whose state the structural checks read changes here, and what:
        #: "nr_walkers" (holders), "filters" (known allocated), "stats" (expected), None (all):
        #: ``Structural.touch_lruvec``
        self.changed: Callable[..., None] = _nobody
        self.world = world
        self.holding: dict[Any, tuple] = {}         # walk -> (lruvec, mm, ctx)
        self.nholders: dict[Any, int] = {}          # lruvec -> walks holding one of its mms
        self.ctx_walk: dict[Any, Any] = {}
        self.released: set = set()                  # walks that put their mm, not yet back
        self.gets: dict[Any, set] = {}
        self.puts: dict[Any, set] = {}
        self.iters: dict[tuple, Iteration] = {}
        self.lv_iters: dict[Any, list[Iteration]] = {}  # lruvec -> its iterations
        self.migrating: dict[Any, Any] = {}         # ctx -> mm inside lru_gen_migrate_mm()
        self.cur_iter: dict[Any, int] = {}
        self.pending_end: dict[Any, list] = {}
        self.new_mms: dict[Any, set] = {}
        self.added_by: dict[Any, str] = {}          # mm -> the path of its last add
        self.mmput_done: set = set()
        self.stats_expected: dict[Any, list[list[int]]] = {}
        self.pending_stats: dict[Any, tuple] = {}   # walk -> batched, not yet flushed
        self.walk_owner: dict[Any, Any] = {}        # walk -> ctx
        self.pending_flush: dict[Any, list] = {}
        self.cleared: dict[tuple, int] = {}
        self.pending_clear: dict[Any, tuple] = {}
        self.pending_alloc_fail: set = set()
        self.alloc_failed: set = set()
        self.filter_allocated: dict[Any, set] = {}  # lruvec -> gens known allocated
        self.aging: dict[Any, tuple] = {}           # ctx -> (lruvec, max_seq)
        for lv in world.lruvecs():
            self._init_lruvec(lv)

    # --- set-up ----------------------------------------------------------------------------------
    def mm_list_of(self, lv: Any) -> Any:
        if self.world.config.CONFIG_MEMCG and lv.memcg is not None:
            return lv.memcg.mm_list
        return self.world.mm_list

    def lruvecs_of(self, memcg: Any) -> list:
        if memcg is None or not self.world.config.CONFIG_MEMCG:
            return [p.lruvec for p in self.world.nodes]
        return [pn.lruvec for pn in memcg.nodeinfo]

    def _init_lruvec(self, lv: Any) -> None:
        """What the history knows of a lruvec it did not see being born. On a lruvec never aged
        (seq and max_seq as lru_gen_init_state() left them) every mm on the list is new;
        otherwise the mms from ``tail`` on are."""
        st = lv.mm_state
        fifo = self.mm_list_of(lv).fifo
        nodes = list(raw_iter(fifo))
        fresh = (_raw(st, "seq") == MIN_NR_GENS and _raw(lv.lrugen, "max_seq") == MIN_NR_GENS + 1
                 and _raw(st, "head") is fifo)
        if not fresh:
            tail = _raw(st, "tail")
            nodes = nodes[nodes.index(tail):] if tail in nodes else []
        self.new_mms[lv] = {n.container for n in nodes}
        self.changed(lv)
        self.stats_expected[lv] = [list(a.raw) for a in st.stats]
        self.filter_allocated[lv] = {g for g in range(NR_BLOOM_FILTERS)
                                     if st.filters.raw[g] is not None}
        self.nholders.setdefault(lv, 0)

    def _lv(self, lv: Any) -> Any:
        if lv not in self.new_mms:
            self._init_lruvec(lv)
        return lv

    # --- dispatch --------------------------------------------------------------------------------
    def handlers(self) -> dict:
        """TRACE event name -> handler."""
        out = {n[2:]: getattr(self, n) for n in dir(self) if n.startswith("t_")}
        out["__mmput"] = out.pop("mmput_")
        out["__mmdrop"] = out.pop("mmdrop")
        return out

    def report(self, check: str, msg: str, ctx: Any = None, **kw: Any) -> None:
        self.suite.report(check, msg, ctx=ctx, **kw)

    # --- list membership -------------------------------------------------------------------------
    def _by(self, ctx: Any, mm: Any, plain: str) -> str:
        return "lru_gen_migrate_mm()" if self.migrating.get(ctx) is mm else plain

    def t_migrate(self, ctx: Any, f: dict) -> None:
        self.migrating[ctx] = f["mm"]

    def t_add(self, ctx: Any, f: dict) -> None:
        mm = f["mm"]
        adder = self._by(ctx, mm, "lru_gen_add_mm()")
        self.added_by[mm] = _add_path()
        for lv in self.lruvecs_of(f["memcg"]):
            self.new_mms.setdefault(self._lv(lv), set()).add(mm)
            for it in self.lv_iters.get(lv, ()):
                deleter = it.left.pop(mm, None)
                if deleter is not None:
                    it.back[mm] = (deleter, adder)
        if self.migrating.get(ctx) is mm:
            del self.migrating[ctx]         # the add ends lru_gen_migrate_mm()

    def t_del(self, ctx: Any, f: dict) -> None:
        mm = f["mm"]
        deleter = self._by(ctx, mm, "lru_gen_del_mm()")
        for lv in self.lruvecs_of(f["memcg"]):
            self._lv(lv)
            self.new_mms[lv].discard(mm)
            s = self.cur_iter.get(lv)
            if s is not None:
                self.iters[(lv, s)].removed.add(mm)
            for it in self.lv_iters.get(lv, ()):
                if mm in it.handed:
                    it.back.pop(mm, None)
                    it.left[mm] = deleter
        # lru_gen_del_mm() ended these iterations by moving head off this very mm
        for it in self.pending_end.get(ctx, ()):
            it.removed.add(mm)
        self._flush_ends(ctx)

    # --- iterations ------------------------------------------------------------------------------
    def t_iter_start(self, ctx: Any, f: dict) -> None:
        lv, s = self._lv(f["lruvec"]), f["max_seq"]
        old = self.iters.get((lv, s))
        if old is not None and old.ended:
            self.report("iteration", f"iteration seq={s} of {label(lv)} started again after it "
                        f"ended", ctx, function="get_next_mm", condition="iter_start")
        members = {n.container for n in raw_iter(self.mm_list_of(lv).fifo)}
        it = Iteration(lv, s, members)
        it.participants.add(ctx)
        self._add_iter(it)
        self.cur_iter[lv] = s

    def t_iter_end(self, ctx: Any, f: dict) -> None:
        lv, s = self._lv(f["lruvec"]), f["seq"]
        running = self.cur_iter.get(lv)
        if running is not None and running != s:
            # "set to max_seq after each iteration" (struct lru_gen_mm_state)
            self.report("seq", f"iteration seq={running} of {label(lv)} reached the end of the "
                        f"list but mm_state->seq became {s}, not {running}", ctx,
                        function=f.get("by"), condition="seq = max_seq after each iteration")
            self.cur_iter.pop(lv, None)
            s = running
        it = self.iters.get((lv, s))
        if self.cur_iter.get(lv) == s:
            del self.cur_iter[lv]
        if it is None and f.get("by") == "get_next_mm":
            # case 2 of get_next_mm(): the first walker of every iteration moves head off the
            # fifo (iter_start) before any walker can reach the end of the list (a walk-less
            # aging's iterate_mm_list_nowalk(), in later versions, ends one without a walker)
            self.report("iteration", f"iteration seq={s} of {label(lv)} reached the end of the "
                        f"list but never started: no first walker moved mm_state->head off "
                        f"the fifo", ctx, function=f.get("by"), condition="iter_start")
        if it is None or it.ended:
            return
        it.ended = True
        self.pending_end.setdefault(ctx, []).append(it)

    def _flush_ends(self, ctx: Any) -> None:
        its = self.pending_end.pop(ctx, None)
        if its:
            for it in its:
                self._evaluate_end(it, ctx)

    def _evaluate_end(self, it: Iteration, ctx: Any) -> None:
        if it.evaluated:
            return
        it.evaluated = True
        missing = it.members - it.removed - it.skipped - set(it.handed)
        if missing:
            names = ", ".join(sorted(label(m) for m in missing))
            self.report("handout_complete",
                        f"{names} stayed on {label(self.mm_list_of(it.lv))} for the whole "
                        f"iteration seq={it.seq} of {label(it.lv)}, was not skipped, and no "
                        f"walker got it", ctx, function="get_next_mm", condition="iter_end",
                        details={"missing": sorted(label(m) for m in missing)})
        q = it.seq + 1
        if it.handed and not self.cleared.get((it.lv, q)) and (it.lv, q) not in self.alloc_failed:
            self.report("bloom_filter_clear",
                        f"iteration seq={it.seq} of {label(it.lv)} handed out mms but nobody "
                        f"cleared the Bloom filter for seq={q}", ctx, function="get_next_mm",
                        condition="clear_bloom_filter(lruvec, walk->max_seq + 1)")

    def t_skip(self, ctx: Any, f: dict) -> None:
        lv, mm = self._lv(f["lruvec"]), f["mm"]
        s = self.cur_iter.get(lv)
        if s is not None:
            self.iters[(lv, s)].skipped.add(mm)
        new = self.new_mms[lv]
        if mm in new:
            # The walker passing a new mm skips it: that pass is its full scan (the tail
            # moved), whatever the reason; without full_scan, a new mm the usage hint calls
            # unused (a fork child that never ran) is never walked.
            new.discard(mm)
            loc = frame_locals("should_skip_mm", depth=3)
            walk = loc.get("walk") if loc is not None else None
            if walk is not None and not walk.full_scan:
                self.report("full_scan_new_mm",
                            f"{label(mm)} was added to {label(self.mm_list_of(lv))} by "
                            f"{self.added_by.get(mm, 'set-up')} after the last iteration of "
                            f"{label(lv)} but should_skip_mm() judged it for {ctx.name} without "
                            f"full_scan and skipped it ({f.get('reason')}) in iteration "
                            f"seq={s if s is not None else walk.max_seq}", ctx,
                            function="get_next_mm", condition="walk->full_scan",
                            details={"mm": label(mm), "lruvec": label(lv),
                                     "added_by": self.added_by.get(mm, "set-up"),
                                     "reason": f.get("reason")})

    def t_mmget(self, ctx: Any, f: dict) -> None:
        if f.get("ok"):
            self.gets.setdefault(ctx, set()).add(f["mm"])

    def t_mmput(self, ctx: Any, f: dict) -> None:
        self.puts.setdefault(ctx, set()).add(f["mm"])
        walk = self.ctx_walk.get(ctx)
        h = self.holding.get(walk) if walk is not None else None
        if h is not None and h[1] is f["mm"]:
            self.released.add(walk)         # mmput_async(*iter) at the top of get_next_mm()

    def t_get_next_mm(self, ctx: Any, f: dict) -> None:
        if f.get("case") == "stale":
            return
        lv, walk, s = self._lv(f["lruvec"]), f["walk"], f["max_seq"]
        prev, mm, last = f["prev"], f["mm"], f["last"]
        gets = self.gets.pop(ctx, set())
        puts = self.puts.pop(ctx, set())
        held = self.holding.get(walk)
        # -- references ----------------------------------------------------------------------
        if prev is not None:
            if held is None or held[1] is not prev:
                self.report("walker_reference", f"{ctx.name} hands {label(prev)} back to "
                            f"get_next_mm() but its walk held {label(held and held[1])}", ctx,
                            function="get_next_mm", condition="*iter")
            if prev not in puts:
                self.report("walker_reference", f"{ctx.name} handed {label(prev)} back to "
                            f"get_next_mm() without mmput_async()", ctx,
                            function="get_next_mm", condition="mmput_async(*iter)")
        if mm is not None and mm not in gets:
            self.report("walker_reference", f"get_next_mm() handed {label(mm)} to {ctx.name} "
                        f"without taking a reference (mmget_not_zero)", ctx,
                        function="get_next_mm", condition="mmget_not_zero(mm)")
        self.released.discard(walk)
        if held is not None:
            del self.holding[walk]
            self.nholders[held[0]] = self.nholders.get(held[0], 0) - 1
            self.changed(held[0], "nr_walkers")
        if mm is not None:
            self.holding[walk] = (lv, mm, ctx)
            self.nholders[lv] = self.nholders.get(lv, 0) + 1
            self.changed(lv, "nr_walkers")
        self.ctx_walk[ctx] = walk
        self.walk_owner[walk] = ctx
        # -- nr_walkers ----------------------------------------------------------------------
        nr = f.get("nr_walkers")
        if nr is not None and (nr != self.nholders[lv] or nr < 0):
            self.report("nr_walkers", f"mm_state->nr_walkers={nr} of {label(lv)} but "
                        f"{self.nholders[lv]} walker(s) hold an mm of it, after get_next_mm() "
                        f"[{ctx.name}]", ctx, function="get_next_mm",
                        condition="nr_walkers == holders")
        # -- the iteration -------------------------------------------------------------------
        it = self.iters.get((lv, s))
        if it is None and mm is not None:
            it = self._add_iter(Iteration(lv, s, set()))
        if it is not None:
            it.participants.add(ctx)
        if mm is not None:
            self._handout_once(it, mm, ctx)
            if (lv, s + 1) not in self.alloc_failed:
                # the first walker of this iteration allocated or cleared filters[gen(s + 1)]
                self.filter_allocated[lv].add((s + 1) % NR_BLOOM_FILTERS)
                self.changed(lv, "filters")
            new = self.new_mms[lv]
            if mm in new:
                new.discard(mm)
                if not walk.full_scan:
                    self.report("full_scan_new_mm",
                                f"{label(mm)} was added to {label(self.mm_list_of(lv))} by "
                                f"{self.added_by.get(mm, 'set-up')} after the last iteration of "
                                f"{label(lv)} but {ctx.name} got it without full_scan in "
                                f"iteration seq={s}", ctx,
                                function="get_next_mm", condition="walk->full_scan",
                                details={"mm": label(mm), "lruvec": label(lv),
                                         "added_by": self.added_by.get(mm, "set-up")})
        if last and it is not None:
            it.lasts.append(ctx.name)
            if len(it.lasts) > 1:
                if len(set(it.lasts)) == 1:
                    who = f"walker {ctx.name} got last=true {len(it.lasts)} times"
                else:
                    who = f"walkers {' and '.join(it.lasts)} both got last=true"
                self.report("iteration_last",
                            f"{who} in iteration seq={s} of {label(lv)}", ctx,
                            function="get_next_mm", condition="last",
                            details={"lasts": list(it.lasts), "seq": s})
        # -- Bloom filter ----------------------------------------------------------------------
        pend = self.pending_clear.pop(ctx, None)
        if pend is not None and not f.get("first"):
            self.report("bloom_filter_clear",
                        f"{ctx.name} cleared the Bloom filter for seq={pend[1]} of {label(lv)} "
                        f"but was not the first walker of iteration seq={s}", ctx,
                        function="get_next_mm", condition="mm && first")
        # -- stats -------------------------------------------------------------------------------
        flushes = self.pending_flush.pop(ctx, None)
        if flushes:
            batched = self.pending_stats.pop(walk, ZERO)
            for flushed in flushes[:1]:
                if tuple(flushed) != tuple(batched):
                    self.report("mm_stats",
                                f"{ctx.name}'s walk batched mm stats {tuple(batched)} but "
                                f"reset_mm_stats() flushed {tuple(flushed)} into {label(lv)}",
                                ctx, function="reset_mm_stats", condition="batched == flushed")
            if any(walk.mm_stats):
                self.report("mm_stats",
                            f"reset_mm_stats() left {tuple(walk.mm_stats)} in {ctx.name}'s "
                            f"walk->mm_stats after flushing it", ctx, function="reset_mm_stats",
                            condition="walk->mm_stats[i] = 0")
        self.check_stats(lv, ctx)
        self._flush_ends(ctx)

    def _handout_once(self, it: Iteration, mm: Any, ctx: Any) -> None:
        """At most one hand-out per iteration and mm, except after the mm left this list and
        came back (lru_gen_migrate_mm() out and back): the seed accepts that as a duplicate
        walk. Both are reported as ``handout_once``; ``details["re_added"]`` tells them apart,
        and is True only when a ``del`` and then an ``add`` of the mm on this list came between
        the two hand-outs."""
        other = it.handed.get(mm)
        it.handed[mm] = ctx.name
        it.left.pop(mm, None)
        back = it.back.pop(mm, None)
        if other is None:
            return
        lv, s = it.lv, it.seq
        details = {"mm": label(mm), "lruvec": label(lv), "seq": s,
                   "walkers": [other, ctx.name], "re_added": back is not None}
        if back is None:
            msg = (f"{label(mm)} handed out twice in iteration seq={s} of {label(lv)}: "
                   f"walkers {other} and {ctx.name}")
        else:
            deleter, adder = back
            how = (f"{deleter} deleted it from and re-added it to" if deleter == adder else
                   f"{deleter} deleted it from and {adder} re-added it to")
            memcg = lv.memcg if self.world.memcg_enabled else None
            where = f"memcg {label(memcg)}'s list" if memcg is not None else "the global mm list"
            msg = (f"{label(mm)} handed out again in iteration seq={s} of {label(lv)} after "
                   f"{how} {where} (walkers {other} and {ctx.name})")
        self.report("handout_once", msg, ctx, function="get_next_mm", condition="handout_once",
                    details=details)

    def _add_iter(self, it: Iteration) -> Iteration:
        self.iters[(it.lv, it.seq)] = it
        its = self.lv_iters.setdefault(it.lv, [])
        its[:] = [x for x in its if x.seq != it.seq]    # an iteration started again replaces
        its.append(it)
        return it

    # --- stats -----------------------------------------------------------------------------------
    def t_stats_flush(self, ctx: Any, f: dict) -> None:
        lv = self._lv(f["lruvec"])
        exp = self.stats_expected[lv][f["hist"]]
        for i, v in enumerate(f["stats"]):
            exp[i] += v
        self.changed(lv, "stats")
        self.pending_flush.setdefault(ctx, []).append(tuple(f["stats"]))

    def t_stats_reset(self, ctx: Any, f: dict) -> None:
        lv = self._lv(f["lruvec"])
        self.stats_expected[lv][f["hist"]] = [0] * NR_MM_STATS
        self.changed(lv, "stats")

    def t_mm_stats(self, ctx: Any, f: dict) -> None:
        self.pending_stats[f["walk"]] = tuple(f["stats"])
        self.walk_owner[f["walk"]] = ctx

    def check_stats(self, lv: Any, ctx: Any = None) -> None:
        exp = self.stats_expected.get(lv)
        if exp is None:
            return
        for hist, arr in enumerate(lv.mm_state.stats):
            if list(arr.raw) != exp[hist]:
                self.report("mm_stats",
                            f"{label(lv)}.mm_state.stats[{hist}] is {tuple(arr.raw)} but walkers "
                            f"flushed {tuple(exp[hist])} into it", ctx,
                            function="reset_mm_stats", condition="stats += walk->mm_stats")
                self.stats_expected[lv][hist] = list(arr.raw)   # report each loss once

    # --- Bloom filters --------------------------------------------------------------------------
    def t_alloc_fail(self, ctx: Any, f: dict) -> None:
        if ".filters[" in str(f.get("what", "")):
            self.pending_alloc_fail.add(ctx)

    def t_filter_clear(self, ctx: Any, f: dict) -> None:
        lv, q = self._lv(f["lruvec"]), f["seq"]
        n = self.cleared[(lv, q)] = self.cleared.get((lv, q), 0) + 1
        self.pending_clear[ctx] = (lv, q)
        if n > 1:
            self.report("bloom_filter_clear",
                        f"the Bloom filter for seq={q} of {label(lv)} was cleared {n} times "
                        f"(again by {ctx.name})", ctx, function="clear_bloom_filter",
                        condition="cleared once")
        gen = f["gen"]
        filt = lv.mm_state.filters.raw[gen]
        if filt is not None and filt.bits.any():
            self.report("bloom_filter_clear",
                        f"{label(lv)}.filters[{gen}] still holds {filt.bits.count()} bit(s) "
                        f"right after clear_bloom_filter(seq={q}) by {ctx.name}: the filter "
                        f"of the new generation starts with the old one's entries", ctx,
                        function="clear_bloom_filter", condition="bitmap_clear()")
        if ctx in self.pending_alloc_fail:
            self.pending_alloc_fail.discard(ctx)
            self.alloc_failed.add((lv, q))
            self.report("bloom_filter_alloc_failed",
                        f"bitmap_zalloc(GFP_ATOMIC) failed for {label(lv)}.filters[{gen}] "
                        f"(seq={q}): walkers will find nothing in it (by design)", ctx,
                        function="clear_bloom_filter", condition="GFP_ATOMIC",
                        severity="info")
        elif lv.mm_state.filters.raw[gen] is not None:
            self.filter_allocated[lv].add(gen)
            self.changed(lv, "filters")

    def t_filter_set(self, ctx: Any, f: dict) -> None:
        walk = self.ctx_walk.get(ctx)
        if walk is None:
            return
        h = self.holding.get(walk)
        lv, q = f["lruvec"], f["seq"]
        if h is None or h[0] is not lv or walk.max_seq + 1 != q:
            return
        if not self.cleared.get((lv, q)) and (lv, q) not in self.alloc_failed:
            self.report("bloom_filter_clear",
                        f"{ctx.name} set a bit in the Bloom filter for seq={q} of {label(lv)} "
                        f"before the first walker of iteration seq={q - 1} cleared it", ctx,
                        function="set_bloom_filter", condition="set before clear")

    # --- mm life cycle ---------------------------------------------------------------------------
    def t_mmput_(self, ctx: Any, f: dict) -> None:     # "__mmput"
        mm = f["mm"]
        self.mmput_done.add(mm)
        for walk, (lv, held, who) in self.holding.items():
            if held is mm and walk not in self.released:
                self.report("mmput_while_held",
                            f"__mmput({label(mm)}) runs [{ctx.name}] while walker {who.name} "
                            f"holds it (got from get_next_mm() for {label(lv)})", ctx,
                            function="__mmput", condition="walker holds mm")
        for t in self.world.all_tasks:
            if t.__dict__.get("_mm") is mm and not t.exited:
                self.report("mmput_while_used",
                            f"__mmput({label(mm)}) runs [{ctx.name}] while {label(t)}->mm is "
                            f"still {label(mm)}", ctx, function="__mmput",
                            condition="task->mm holds mm_users")

    def t_walk_mm(self, ctx: Any, f: dict) -> None:
        mm = f["mm"]
        if mm in self.mmput_done:
            self.report("walk_after_mmput",
                        f"walk_mm({label(mm)}) [{ctx.name}] after __mmput(): mm_users reached 0",
                        ctx, function="walk_mm", condition="mm_users > 0")

    def t_walk_freed_mm(self, ctx: Any, f: dict) -> None:
        self.report("walk_after_mmput",
                    f"walk_mm() [{ctx.name}] walks the page tables of {label(f['mm'])} after "
                    f"exit_mmap()", ctx, function="walk_mm", condition="!exit_mmap")

    def t_mmdrop(self, ctx: Any, f: dict) -> None:       # "__mmdrop"
        if f.get("on_list"):
            self.report("mm_freed_on_list",
                        f"__mmdrop({label(f['mm'])}) [{ctx.name}] frees an mm_struct still on "
                        f"an mm_list", ctx, function="__mmdrop", condition="on_list")

    def t_free_memcg(self, ctx: Any, f: dict) -> None:
        if not f.get("fifo_empty", True):
            self.report("memcg_freed_with_mms",
                        f"lru_gen_free_memcg({label(f['memcg'])}) [{ctx.name}] with mms still on "
                        f"its list", ctx, function="lru_gen_free_memcg", condition="list_empty")

    # --- the aging ---------------------------------------------------------------------------------
    def t_aging_start(self, ctx: Any, f: dict) -> None:
        self.aging[ctx] = (f["lruvec"], f["max_seq"])

    def t_aging_end(self, ctx: Any, f: dict) -> None:
        self.aging.pop(ctx, None)

    def t_inc_max_seq(self, ctx: Any, f: dict) -> None:
        if not f.get("done"):
            return
        lv, s = self._lv(f["lruvec"]), f["max_seq"]
        now = _raw(lv.lrugen, "max_seq")
        if now != s + 1:
            self.report("max_seq", f"inc_max_seq({label(lv)}, {s}) left max_seq={now}", ctx,
                        function="inc_max_seq", condition="max_seq + 1")
        it = self.iters.get((lv, s))
        if it is not None:
            it.inc_done = True

    # --- end of execution --------------------------------------------------------------------------
    def at_end(self, finished: bool, dead: set, ended: set) -> None:
        if not finished:
            # Cut off (budget, deadlock): a thread may stop between its iter_end and its
            # get_next_mm trace, so pending iteration ends are not complete facts.
            return
        for ctx in list(self.pending_end):
            self._flush_ends(ctx)
        for (lv, s), it in self.iters.items():
            if it.participants & dead:
                continue
            if it.ended and not it.lasts:
                self.report("iteration_last",
                            f"iteration seq={s} of {label(lv)} ended but no walker got "
                            f"last=true", None, function="get_next_mm", condition="last")
            if it.lasts and not it.inc_done and _raw(lv.lrugen, "max_seq") <= s:
                self.report("max_seq",
                            f"{it.lasts[0]} was the last walker of iteration seq={s} of "
                            f"{label(lv)} but max_seq was never incremented", None,
                            function="try_to_inc_max_seq", condition="inc_max_seq")
        for walk, (lv, mm, ctx) in list(self.holding.items()):
            if ctx not in dead:
                self.report("walker_reference",
                            f"{ctx.name} ended still holding {label(mm)} of {label(lv)}", ctx,
                            function="try_to_inc_max_seq", condition="mm == NULL at the end")
        for walk, batched in self.pending_stats.items():
            owner = self.walk_owner.get(walk)
            if any(batched) and owner not in dead:
                self.report("mm_stats",
                            f"{label(owner)}'s walk ended with mm stats {batched} never flushed "
                            f"into mm_state->stats", owner, function="reset_mm_stats",
                            condition="nothing lost")
        for lv in self.stats_expected:
            self.check_stats(lv)
        if dead:
            return
        if self.world.config.CONFIG_MEMCG:
            for mm in self.world.mms:
                node = mm.lru_gen.list
                memcg = mm.lru_gen.__dict__["_memcg"]
                if memcg is not None and node.__dict__["_next"] is node and not mm.freed:
                    self.report("mm_list_membership",
                                f"{label(mm)}->lru_gen.memcg is {label(memcg)} but it is on no "
                                f"list", None, function=None, condition="memcg == NULL")
