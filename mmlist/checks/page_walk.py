"""What the page-table walk and the look-around do to the pages and the Bloom filters, recomputed
from the page tables before and after each call (protocol.md section 3).

The other checks compare the model with itself (what was batched with what was flushed, what was
counted with what was set); these recompute the expected effect from the PTEs and the filters,
bracketing each call from a caller that is not mutated (``walk_page_range()`` for
``walk_pmd_range()``, the eviction's rmap walk for ``lru_gen_look_around()``).

``pmd_walk``: for one non-leaf entry, ``walk_pmd_range()``:

* counts it in ``MM_PMD_TOTAL``; walks its PTE table (``walk_pte_range()`` on that region) when
  ``walk->full_scan`` is set or ``test_bloom_filter(walk->lruvec, walk->max_seq, pmd)`` holds, and
  only then (the filter can only gain bits while the walker is in its iteration: tested before
  the call for "must walk", after it for "may walk"); counts a walked entry in ``MM_PMD_FOUND``;
* ``walk_pte_range()`` makes the table's young, present pages of this lruvec old and promotes
  them to ``walk->max_seq``; misplaced pages (another memcg or node, "effectively non-present"
  in the seed's review) and every other PTE are left alone;
* when the PTE table was worth scanning (``suitable_to_scan()``, as ``walk_pte_range()``
  reported it) counts it in ``MM_PMD_ADDED`` and carries it over with
  ``set_bloom_filter(walk->lruvec, walk->max_seq + 1, pmd)`` (a ``READ_ONCE`` of
  ``filters[(max_seq + 1) % 2]``); otherwise does neither.

``look_around``: ``lru_gen_look_around(lruvec, mm, region, pte)``, with a walk lent in
``current->reclaim_state`` and the mm's page tables present:

* sets the lent walk's ``max_seq`` to the lruvec's (a value ``max_seq`` had during the call);
* in the window ``[pte - MIN_LRU_BATCH / 2, pte + MIN_LRU_BATCH / 2)`` of the region, every PTE
  that was young, present and of this lruvec (its node, and its memcg when the lruvec has one)
  is old and in generation ``max_seq``; no other PTE of the mm changed;
* ``lrugen->nr_pages`` moved the promoted pages from their old generations to ``max_seq``'s
  (``update_batch_size()``, ``reset_batch_size()``; judged only when no other thread took the
  lruvec's ``lru_lock`` during the call);
* reports the PMD entry with ``set_bloom_filter(lruvec, max_seq, pmd)`` exactly when the window
  was dense (``suitable_to_scan(window, young)``).

Without a lent walk it changes nothing. Each judgement is skipped when another thread wrote the
same page tables during the call (a walker on the same PTE table, a CPU touching pages): the
before and after no longer belong to this call alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config import MM_PMD_ADDED, MM_PMD_FOUND, MM_PMD_TOTAL
from .report import label

_SLOTS = 2          # NR_BLOOM_FILTERS


def _filter_positive(lv: Any, seq: int, item: int) -> bool:
    """test_bloom_filter() on the raw state: both keys of the item set in filters[seq % 2]."""
    from ..model.mm_list import get_item_key
    filt = lv.mm_state.filters.raw[seq % _SLOTS]
    if filt is None:
        return False
    k0, k1 = get_item_key(item)
    return bool(filt.bits[k0]) and bool(filt.bits[k1])


def _suitable(total: int, young: int) -> bool:
    return young * 8 >= total


@dataclass
class _Bracket:
    kind: str                               # "pmd" or "look_around"
    pt: Any
    lv: Any
    region: int
    young: np.ndarray
    gen: np.ndarray
    max_seq: int
    #: READ_ONCE(filters[i]) of the bracket's lruvec by the bracketed thread, in order
    filter_reads: list[int] = field(default_factory=list)
    pte_walks: list[dict] = field(default_factory=list)
    foreign_ptes: bool = False
    foreign_lru_lock: bool = False
    extra: dict = field(default_factory=dict)


class PageWalk:
    def __init__(self, suite: Any, world: Any, free_running: bool = False):
        self.suite = suite
        self.world = world
        self.open: dict[Any, _Bracket] = {}
        #: free-running threads: a page-table write is heard before it takes effect, and other
        #: threads run in between; until its thread's next op is heard, it may still land
        #: (thread -> the page tables written). Always empty under the controlled scheduler.
        self.free_running = free_running
        self.inflight: dict[Any, Any] = {}

        #: walk -> the mm it holds and what its walk_mm() did: regions entered, reasons to stop
        self.walking: dict[Any, dict] = {}
        self.ctx_walk: dict[Any, Any] = {}

    def handlers(self) -> dict:
        return {"pmd_enter": self.t_pmd_enter, "pmd_exit": self.t_pmd_exit,
                "pte_walk": self.t_pte_walk, "look_around_enter": self.t_la_enter,
                "look_around_exit": self.t_la_exit, "get_next_mm": self.t_get_next_mm,
                "mmap_lock_busy": self.t_gave_up}

    # --- walk_mm: the whole mm, in order, and the batch flushed ---------------------------------------
    def t_get_next_mm(self, ctx: Any, f: dict) -> None:
        walk = f.get("walk")
        prev, mm = f.get("prev"), f.get("mm")
        held = self.walking.pop(walk, None)
        if held is not None and prev is held["mm"]:
            self._judge_walk(ctx, walk, held)
        if mm is not None:
            self.walking[walk] = {"mm": mm, "regions": [], "gave_up": ""}
            self.ctx_walk[ctx] = walk

    def t_gave_up(self, ctx: Any, f: dict) -> None:
        held = self.walking.get(self.ctx_walk.get(ctx))
        if held is not None and f.get("mm") is held["mm"]:
            held["gave_up"] = "mmap_read_trylock() failed"

    def on_moving_account(self, ctx: Any, memcg: Any) -> None:
        """atomic_read(&memcg->moving_account) by a walker: set means its walk_mm() gives up."""
        held = self.walking.get(self.ctx_walk.get(ctx))
        if held is not None and memcg.__dict__.get("moving_account"):
            held["gave_up"] = "charges are moving"

    def _judge_walk(self, ctx: Any, walk: Any, held: dict) -> None:
        """At the hand-back of ``mm``: ``walk_mm()`` entered every PMD region of the mm once, in
        order (across its -EAGAIN chunks), unless it gave up (mmap_lock busy, charges moving),
        the mm became an OOM victim (the chunk loop stops) or its page tables were gone; and
        the promotions it batched were flushed into ``lrugen->nr_pages``
        (``reset_batch_size()`` under ``lru_lock`` after each chunk)."""
        mm, regions = held["mm"], held["regions"]
        report = self._reporter(ctx, "walk_mm")
        if walk.batched or any(walk.nr_pages.values()):
            report(f"{ctx.name} handed {label(mm)} back with {walk.batched} promotion(s) still "
                   f"batched in its walk ({dict(walk.nr_pages)}): they never reach "
                   f"lrugen->nr_pages", "reset_batch_size() after each chunk")
        pt = mm.pgtables
        if pt is None:
            return
        want = list(range(pt.nr_regions))
        if regions == want:
            return
        prefix = regions == want[:len(regions)]
        excused = (held["gave_up"] or (mm.__dict__.get("_oom_victim") and prefix)
                   or mm.mmap_exited)
        if prefix and excused:
            return
        report(f"{ctx.name}'s walk_mm() of {label(mm)} entered PMD regions {regions}, not "
               f"{want}" + ("" if prefix else " (out of order or twice)"),
               "walk_page_range() over the whole mm")

    # --- what other threads do during a bracket ---------------------------------------------------
    def on_ptes_write(self, ctx: Any, pt: Any) -> None:
        for c, b in self.open.items():
            if c is not ctx and b.pt is pt:
                b.foreign_ptes = True
        if self.free_running:
            self.inflight[ctx] = pt

    def effect_done(self, ctx: Any) -> None:
        """``ctx`` made another op: its page-table write has taken effect."""
        self.inflight.pop(ctx, None)

    def on_lock(self, ctx: Any, lock: Any) -> None:
        for c, b in self.open.items():
            if c is not ctx and b.lv.lru_lock is lock:
                b.foreign_lru_lock = True

    def on_filter_read(self, ctx: Any, filters: Any, index: int) -> None:
        b = self.open.get(ctx)
        if b is not None and b.lv.mm_state.filters is filters:
            b.filter_reads.append(index)

    # --- walk_pmd_range ---------------------------------------------------------------------------
    def _open(self, ctx: Any, kind: str, lv: Any, pt: Any, region: int, **extra: Any) -> None:
        if pt is None or lv is None:
            return
        b = self.open[ctx] = _Bracket(kind, pt, lv, region, pt.young.copy(), pt.gen.copy(),
                                      lv.lrugen.__dict__["_max_seq"], extra=extra)
        # a write heard before the bracket opened may land inside it (free-running only)
        b.foreign_ptes = any(c is not ctx and p is pt for c, p in self.inflight.items())

    def t_pmd_enter(self, ctx: Any, f: dict) -> None:
        walk = f["walk"]
        mm, region = f["mm"], f["region"]
        held = self.walking.get(walk)
        if held is not None and held["mm"] is mm:
            held["regions"].append(region)
        if not self.world.config.arch_has_hw_pte_young and not walk.full_scan:
            self.suite.report(
                "page_walk", f"{ctx.name} walks the page tables of {label(mm)} (region "
                f"{region}) without a hardware accessed bit and without full_scan: 'If the "
                f"hardware doesn't automatically set the accessed bit, fallback to "
                f"lru_gen_look_around()'", ctx=ctx, function="try_to_inc_max_seq",
                condition="!full_scan && !arch_has_hw_pte_young()")
        if mm.pgtables is None:
            return
        pmd = mm.pgtables.pmd_entry(region)
        self._open(ctx, "pmd", walk.lruvec, mm.pgtables, region, walk=walk, mm=mm, pmd=pmd,
                   stats=list(walk.mm_stats), full_scan=walk.full_scan, seq=walk.max_seq,
                   admitted=walk.full_scan or _filter_positive(walk.lruvec, walk.max_seq, pmd))

    def t_pte_walk(self, ctx: Any, f: dict) -> None:
        b = self.open.get(ctx)
        if b is not None and b.kind == "pmd":
            b.pte_walks.append(f)

    def t_pmd_exit(self, ctx: Any, f: dict) -> None:
        b = self.open.pop(ctx, None)
        if b is None or b.kind != "pmd":
            return
        x = b.extra
        walk, lv, pmd, seq = x["walk"], b.lv, x["pmd"], x["seq"]
        where = f"{label(x['mm'])} region {b.region} (PMD entry {pmd:#x}) for {label(lv)}"
        walked = [p for p in b.pte_walks]
        now_admitted = x["full_scan"] or _filter_positive(lv, seq, pmd)
        report = self._reporter(ctx, "walk_pmd_range")
        if x["admitted"] and not walked:
            why = ("walk->full_scan is set" if x["full_scan"] else
                   f"test_bloom_filter(lruvec, max_seq={seq}, pmd) holds")
            report(f"walk_pmd_range() skipped {where} although {why}",
                   "full_scan || test_bloom_filter()")
        if walked and not now_admitted:
            report(f"walk_pmd_range() walked {where} although walk->full_scan is clear and "
                   f"test_bloom_filter(lruvec, max_seq={seq}, pmd) is false",
                   "!test_bloom_filter(): skip the entry")
        for p in walked:
            if p["region"] != b.region or p["mm"] is not x["mm"] or p["lruvec"] is not lv:
                report(f"walk_pmd_range() for {where} walked region {p['region']} of "
                       f"{label(p['mm'])} for {label(p['lruvec'])}", "the entry's own PTE table")
        if len(walked) == 1 and not b.foreign_ptes:
            self._pte_effects(b, x["mm"], seq, self._reporter(ctx, "walk_pte_range"))
        suitable = bool(walked) and bool(walked[-1]["suitable"])
        carried = (seq + 1) % _SLOTS in b.filter_reads
        if suitable and not carried:
            report(f"walk_pmd_range() did not carry {where} over to max_seq + 1 = {seq + 1} "
                   f"although its PTE table was worth scanning (suitable_to_scan())",
                   "set_bloom_filter(lruvec, max_seq + 1, pmd)")
        if carried and not suitable:
            report(f"walk_pmd_range() carried {where} over to max_seq + 1 = {seq + 1} although "
                   f"{'its PTE table was not walked' if not walked else 'it was not worth scanning'}",
                   "suitable_to_scan()")
        d = [a - b_ for a, b_ in zip(walk.mm_stats, x["stats"])]
        want = {MM_PMD_TOTAL: 1, MM_PMD_FOUND: int(bool(walked)), MM_PMD_ADDED: int(suitable)}
        names = {MM_PMD_TOTAL: "MM_PMD_TOTAL", MM_PMD_FOUND: "MM_PMD_FOUND",
                 MM_PMD_ADDED: "MM_PMD_ADDED"}
        for i, n in want.items():
            if d[i] != n:
                report(f"walk_pmd_range() for {where} added {d[i]} to {names[i]}, expected {n}",
                       names[i])

    def _pte_effects(self, b: _Bracket, mm: Any, seq: int, report: Any) -> None:
        """``walk_pte_range()``: the young, present PTEs of this lruvec (its node; its memcg
        when it has one) are made old and promoted to ``walk->max_seq``; misplaced pages
        (another memcg or node: "effectively non-present", the seed's review) and old ones are
        left alone, and so is every other PTE table."""
        pt, lv, r = b.pt, b.lv, b.region
        mine = pt.present[r] & (pt.node[r] == lv.pgdat.node_id)
        if lv.memcg is not None:
            mine &= pt.memcg[r] == lv.memcg.id
        hit = b.young[r] & mine
        want_y = b.young.copy()
        want_y[r] &= ~hit
        want_g = b.gen.copy()
        want_g[r] = np.where(hit, seq, want_g[r])
        bad = np.argwhere((pt.young != want_y) | (pt.gen != want_g))
        if len(bad):
            rr, i = (int(v) for v in bad[0])
            misplaced = rr == r and not mine[i] and bool(pt.present[rr, i])
            what = ("a misplaced page (another memcg or node: effectively non-present)"
                    if misplaced else "not a young page of this lruvec in the walked table")
            report(f"walk_pte_range() of {label(mm)} region {r} for {label(lv)} changed PTE {i} "
                   f"of region {rr} (young {bool(b.young[rr, i])} -> {bool(pt.young[rr, i])}, "
                   f"gen {int(b.gen[rr, i])} -> {int(pt.gen[rr, i])}), {what}",
                   "only the young pages of this lruvec")

    # --- lru_gen_look_around ------------------------------------------------------------------------
    def t_la_enter(self, ctx: Any, f: dict) -> None:
        task = getattr(ctx, "task", None)
        rs = getattr(task, "reclaim_state", None)
        walk = rs.mm_walk if rs is not None else None
        mm = f["mm"]
        self._open(ctx, "look_around", f["lruvec"], mm.pgtables, f["region"], mm=mm, pte=f["pte"],
                   walk=walk, exited=mm.mmap_exited,
                   nr_pages=dict(f["lruvec"].lrugen.nr_pages))

    def t_la_exit(self, ctx: Any, f: dict) -> None:
        b = self.open.pop(ctx, None)
        if b is None or b.kind != "look_around":
            return
        x = b.extra
        lv, pt, region, mm = b.lv, b.pt, b.region, x["mm"]
        lo_seq, hi_seq = b.max_seq, lv.lrugen.__dict__["_max_seq"]
        report = self._reporter(ctx, "lru_gen_look_around")
        walk = x["walk"]
        where = f"{label(mm)} region {region} around PTE {x['pte']} for {label(lv)}"
        if walk is not None and not lo_seq <= walk.max_seq <= hi_seq:
            report(f"lru_gen_look_around() left the lent walk's max_seq at {walk.max_seq}; the "
                   f"lruvec's max_seq was {lo_seq}..{hi_seq} during the call",
                   "walk->max_seq = max_seq")
        if b.foreign_ptes:
            return
        changed_y = pt.young != b.young
        changed_g = pt.gen != b.gen
        gen_of = None
        if walk is None or x["exited"]:
            if changed_y.any() or changed_g.any():
                report(f"lru_gen_look_around() changed PTEs of {where} "
                       + ("without a walk lent in current->reclaim_state"
                          if walk is None else "whose page tables are gone"), "return")
            if b.filter_reads:
                report(f"lru_gen_look_around() reported {where} to a Bloom filter "
                       + ("without a lent walk" if walk is None else "of an exited mm"),
                       "return")
            return
        half = self.world.config.MIN_LRU_BATCH // 2
        lo, hi = max(0, x["pte"] - half), min(pt.ptes_per_pmd, x["pte"] + half)
        mine = pt.present[region, lo:hi] & (pt.node[region, lo:hi] == lv.pgdat.node_id)
        if lv.memcg is not None:
            mine &= pt.memcg[region, lo:hi] == lv.memcg.id
        hit = b.young[region, lo:hi] & mine
        expect_y = b.young.copy()
        expect_y[region, lo:hi] &= ~hit
        bad_y = np.argwhere(pt.young != expect_y)
        if len(bad_y):
            r, i = (int(v) for v in bad_y[0])
            if pt.young[r, i] and b.young[r, i]:
                what = (f"left the accessed bit of PTE {i} of {label(mm)} region {r} set, a "
                        f"young page of {label(lv)} in the window")
            elif b.young[r, i]:
                what = (f"cleared the accessed bit of PTE {i} of {label(mm)} region {r}, "
                        f"which is not a page of {label(lv)} in the window")
            else:
                what = f"set the accessed bit of PTE {i} of {label(mm)} region {r}"
            report(f"lru_gen_look_around() {what} (the window: PTEs {lo}..{hi - 1} of region "
                   f"{region}; exactly its young pages of {label(lv)} are cleared)",
                   "ptep_test_and_clear_young()")
        gens = set(int(g) for g in pt.gen[region, lo:hi][hit])
        if len(gens) > 1 or (gens and not lo_seq <= min(gens) <= hi_seq):
            report(f"lru_gen_look_around() moved the young pages of {where} to generation(s) "
                   f"{sorted(gens)}; max_seq was {lo_seq}..{hi_seq}", "folio_update_gen(max_seq)")
        gen_of = gens.pop() if len(gens) == 1 else None
        expect_g = b.gen.copy()
        if gen_of is not None:
            expect_g[region, lo:hi] = np.where(hit, gen_of, expect_g[region, lo:hi])
        other = (pt.gen != expect_g)
        other[region, lo:hi] &= ~hit
        if other.any():
            r, i = (int(v) for v in np.argwhere(other)[0])
            report(f"lru_gen_look_around() changed the generation of PTE {i} of {label(mm)} "
                   f"region {r} ({int(b.gen[r, i])} -> {int(pt.gen[r, i])}), which is not a "
                   f"young page of {label(lv)} in the window PTEs {lo}..{hi - 1} of region "
                   f"{region}", "only the window's young pages")
        if gen_of is not None and not b.foreign_lru_lock:
            olds = b.gen[region, lo:hi][hit]
            want: dict[int, int] = {}
            for g in olds[olds != gen_of]:
                want[int(g)] = want.get(int(g), 0) - 1
                want[gen_of] = want.get(gen_of, 0) + 1
            before, after = x["nr_pages"], dict(lv.lrugen.nr_pages)     # raw: no hook
            got = {g: after.get(g, 0) - before.get(g, 0) for g in set(before) | set(after)}
            got = {g: d for g, d in got.items() if d}
            if got != want:
                report(f"lru_gen_look_around() promoted young pages of {where} to generation "
                       f"{gen_of}: lrugen->nr_pages should change by {dict(sorted(want.items()))}"
                       f", it changed by {dict(sorted(got.items()))}",
                       "update_batch_size(); reset_batch_size()")
        young = int(hit.sum())
        dense = _suitable(hi - lo, young)
        if dense:
            filter_of = gen_of if gen_of is not None else lo_seq
            if not b.filter_reads:
                report(f"lru_gen_look_around() did not report {where} to the Bloom filter "
                       f"although {young} of the {hi - lo} PTEs of the window were young "
                       f"(suitable_to_scan())", "set_bloom_filter(lruvec, max_seq, pmd)")
            elif not set(b.filter_reads) & ({filter_of % _SLOTS} if gen_of is not None else
                                             {s % _SLOTS for s in range(lo_seq, hi_seq + 1)}):
                report(f"lru_gen_look_around() reported {where} to filters"
                       f"{b.filter_reads}, not to the filter of max_seq {filter_of}",
                       "set_bloom_filter(lruvec, max_seq, pmd)")
        elif b.filter_reads:
            report(f"lru_gen_look_around() reported {where} to the Bloom filter although only "
                   f"{young} of the {hi - lo} PTEs of the window were young "
                   f"(not suitable_to_scan())", "suitable_to_scan()")

    def _reporter(self, ctx: Any, function: str) -> Any:
        def report(msg: str, condition: str) -> None:
            self.suite.report("page_walk", msg, ctx=ctx, function=function,
                              condition=condition)
        return report
