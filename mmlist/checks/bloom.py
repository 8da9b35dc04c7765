"""The Bloom filters (v6): no false negatives for the iteration that tests them, double
buffering by ``seq`` parity, and every carried-over entry really set.

The seed: "Page table walkers use one of the two filters to reduce their search space. To get
rid of non-leaf entries that no longer have enough leaf entries, the aging uses the
double-buffering technique to flip to the other filter each time it creates a new generation.
For non-leaf entries that have enough leaf entries, the aging carries them over to the next
generation in walk_pmd_range(); the eviction also report them when walking the rmap in
lru_gen_look_around()." ``filter_gen_from_seq(seq)`` is ``seq % NR_BLOOM_FILTERS``; the first
walker of the iteration for ``max_seq`` clears ``filters[gen(max_seq + 1)]``
(``clear_bloom_filter()``), its walkers carry PMD entries over into it
(``set_bloom_filter(lruvec, walk->max_seq + 1, pmd)`` when the PTE table was worth scanning,
counted in ``MM_PMD_ADDED``), the look-around reports into the current one
(``set_bloom_filter(lruvec, max_seq, pmd)``), and the walkers of the iteration for ``S`` skip a
PMD entry, unless ``full_scan``, when ``test_bloom_filter(lruvec, S, pmd)`` is false (a missing
filter answers false).

Three checks:

``bloom_false_negative``: what a walker of the iteration for ``N`` carried over (expected for
``N + 1``: the walker's own ``walk->max_seq`` plus one, whatever ``seq`` it passed), what the
look-around reported (expected for the ``max_seq`` it read), and what any other caller set for
``S``, once the setter's ``set_bit()``s are done, tests positive when ``test_bloom_filter()``
asks for the same lruvec, ``S`` and PMD entry: the filter it reads holds both keys of
``hash_ptr(item, 30)``. Allowed: the slot was cleared since for a *later* generation (the
double buffering reuses ``filters[S % 2]`` for ``S + 2``); the filter was missing when the entry
was carried over and still is (no filter to carry into: a ``GFP_ATOMIC`` failure, or an
iteration that handed out no mm and so prepared none). Not allowed: a clear of that slot for
``S`` or an earlier generation after the set (the filter for ``S`` is cleared once, by the
first walker of the iteration for ``S - 1``, before any walker sets a bit in it).

``bloom_double_buffer``: ``set_bloom_filter()``, ``test_bloom_filter()`` and
``clear_bloom_filter()`` for ``seq`` use ``filters[seq % NR_BLOOM_FILTERS]``.

``bloom_carry_over``: every PMD entry ``walk_pmd_range()`` counts as added to the Bloom filters
(``MM_PMD_ADDED``) during one ``walk_mm()`` is set in a filter: as many ``set_bloom_filter()``
calls from ``walk_pmd_range()`` that wrote (``filter_set``) as the walk's ``MM_PMD_ADDED``
grew, unless the filter for ``walk->max_seq + 1`` is missing (nothing to carry into). An entry
counted but never set is lost for the next generation, and no test of it is ever judged.

Sets are seen when ``set_bloom_filter()`` emits ``filter_set`` (its caller's frame gives the
expected generation and entry), or finds ``filters[gen]`` NULL at its ``READ_ONCE`` (it then
writes nothing); a set is complete at the setter's next operation that is not a bitop. Tests
are judged when ``test_bloom_filter()`` reads ``filters[gen]`` (``READ_ONCE``), with its ``seq``
and ``item`` from its frame.
Limit: which PTE tables are worth carrying over (``suitable_to_scan()``, "enough leaf entries")
is taken from the model's own count, not recomputed.
"""
from __future__ import annotations

from typing import Any

from ..config import BLOOM_FILTER_SHIFT, MM_PMD_ADDED, NR_BLOOM_FILTERS
from ..kernel.hash import hash_ptr
from .frames import frame_locals
from .report import label


class _Set:
    __slots__ = ("seq", "item", "who", "done", "reset", "how", "null")

    def __init__(self, seq: int, item: int, who: str, how: str | None = None,
                 null: int | None = None):
        self.seq = seq
        self.item = item
        self.who = who
        self.done = False
        self.reset: tuple | None = None         # (seq of the clear, thread) not allowed
        #: how the entry got there, when a caller carried it over (None: a direct set)
        self.how = how
        #: the gen of the filter that was NULL when it was set (nothing was written), or None
        self.null = null


def keys(item: int) -> tuple[int, int]:
    h = hash_ptr(item, BLOOM_FILTER_SHIFT * 2)
    return h & ((1 << BLOOM_FILTER_SHIFT) - 1), h >> BLOOM_FILTER_SHIFT


class BloomNegatives:
    def __init__(self, suite: Any, world: Any):
        self.suite = suite
        self.world = world
        #: (lruvec, seq % 2) -> the sets expected in that slot and still expected to answer
        self.sets: dict[tuple, list[_Set]] = {}
        #: ctx -> the set whose set_bit()s it is doing
        self.pending: dict[Any, _Set] = {}
        #: walk -> [MM_PMD_ADDED when walk_mm() began, filter_set from walk_pmd_range() since,
        #: mm, lv]
        self.walking: dict[Any, list] = {}

    def handlers(self) -> dict:
        return {"filter_set": self.t_filter_set, "filter_clear": self.t_filter_clear,
                "free_memcg": self.t_free_memcg, "walk_mm": self.t_walk_mm,
                "mm_stats": self.t_mm_stats}

    def op_done(self, ctx: Any) -> None:
        """``ctx`` did an operation that is not a bitop: its pending set is complete."""
        rec = self.pending.pop(ctx, None)
        if rec is not None:
            rec.done = True

    def _record(self, lv: Any, rec: _Set) -> None:
        self.sets.setdefault((lv, rec.seq % NR_BLOOM_FILTERS), []).append(rec)

    # --- double buffering ------------------------------------------------------------------------
    def _parity(self, ctx: Any, fn: str, lv: Any, seq: int, gen: int) -> None:
        if gen != seq % NR_BLOOM_FILTERS:
            self.suite.report(
                "bloom_double_buffer",
                f"{fn}({label(lv)}, seq={seq}) [{ctx.name}] uses filters[{gen}], not "
                f"filters[{seq % NR_BLOOM_FILTERS}] (filter_gen_from_seq(): seq % "
                f"NR_BLOOM_FILTERS)", ctx=ctx, function=fn,
                condition="filters[seq % NR_BLOOM_FILTERS]",
                details={"lruvec": label(lv), "seq": seq, "gen": gen})

    # --- sets ------------------------------------------------------------------------------------
    def _expected(self, ctx: Any, lv: Any, seq: int, item: int) -> tuple:
        """What ``set_bloom_filter(lv, seq, item)`` on ``ctx``'s stack should record, from its
        caller: ``(lruvec, seq, item, how, walk)``."""
        pmd = frame_locals("walk_pmd_range", depth=4)
        if pmd is not None and pmd.get("walk") is not None:
            walk, mm, region = pmd["walk"], pmd.get("mm"), pmd.get("region")
            ent = mm.pgtables.pmd_entry(region) if mm is not None and region is not None \
                else item
            into = "" if seq == walk.max_seq + 1 else f", but into seq={seq}"
            return (walk.lruvec, walk.max_seq + 1, ent,
                    f"{ctx.name} carried it over in walk_pmd_range() of iteration "
                    f"seq={walk.max_seq}{into}", walk)
        la = frame_locals("lru_gen_look_around", depth=4)
        if la is not None and la.get("max_seq") is not None and la.get("lv") is not None:
            pt, region = la.get("pt"), la.get("region")
            ent = pt.pmd_entry(region) if pt is not None and region is not None else item
            into = "" if seq == la["max_seq"] else f", but into seq={seq}"
            return (la["lv"], la["max_seq"], ent,
                    f"{ctx.name}'s lru_gen_look_around() reported it at max_seq="
                    f"{la['max_seq']}{into}", None)
        return (lv, seq, item, None, None)

    def _set_read(self, ctx: Any, loc: dict, filters: Any, gen: int) -> None:
        """``READ_ONCE(filters[gen])`` in ``set_bloom_filter()``: a NULL filter means
        ``set_bloom_filter()`` returns at once, writing nothing anywhere (no ``filter_set``)."""
        lv, seq, item = loc.get("lv"), loc.get("seq"), loc.get("item")
        if lv is None or seq is None or item is None or lv.mm_state.filters is not filters:
            return
        self._parity(ctx, "set_bloom_filter", lv, seq, gen)
        if filters.raw[gen] is None:
            exp = self._expected(ctx, lv, seq, item)
            rec = _Set(exp[1], exp[2], ctx.name, exp[3], null=gen)
            rec.done = True
            self._record(exp[0], rec)

    def t_filter_set(self, ctx: Any, f: dict) -> None:
        exp = self._expected(ctx, f["lruvec"], f["seq"], f["item"])
        rec = _Set(exp[1], exp[2], ctx.name, exp[3])
        self._record(exp[0], rec)
        self.pending[ctx] = rec
        st = self.walking.get(exp[4]) if exp[4] is not None else None
        if st is not None:
            st[1] += 1

    def t_filter_clear(self, ctx: Any, f: dict) -> None:
        lv, s2 = f["lruvec"], f["seq"]
        self._parity(ctx, "clear_bloom_filter", lv, s2, f["gen"])
        slot = self.sets.get((lv, f["gen"]))
        if not slot:
            return
        keep = []
        for rec in slot:
            if s2 > rec.seq:
                continue                        # the slot is reused for a newer generation
            if rec.reset is None:
                rec.reset = (s2, ctx.name)
            keep.append(rec)
        slot[:] = keep

    def t_free_memcg(self, ctx: Any, f: dict) -> None:
        memcg = f.get("memcg")
        for key in [k for k in self.sets if getattr(k[0], "memcg", None) is memcg]:
            del self.sets[key]

    # --- carry-over counts ----------------------------------------------------------------------
    def t_walk_mm(self, ctx: Any, f: dict) -> None:
        loc = frame_locals("walk_mm", depth=3)
        walk = loc.get("walk") if loc is not None else None
        if walk is not None:
            self.walking[walk] = [walk.mm_stats[MM_PMD_ADDED], 0, f.get("mm"), f.get("lruvec")]

    def t_mm_stats(self, ctx: Any, f: dict) -> None:
        walk = f.get("walk")
        st = self.walking.pop(walk, None)
        if st is None or ctx in self.suite.dead:
            return
        added = f["stats"][MM_PMD_ADDED] - st[0]
        lv = walk.lruvec
        if added != st[1] and lv is not None and \
                lv.mm_state.filters.raw[(walk.max_seq + 1) % NR_BLOOM_FILTERS] is not None:
            self.suite.report(
                "bloom_carry_over",
                f"walk_mm({label(st[2])}) [{ctx.name}] for {label(st[3])} in iteration "
                f"seq={walk.max_seq} counted {added} non-leaf entr{'y' if added == 1 else 'ies'} "
                f"added to the Bloom filters (MM_PMD_ADDED) but walk_pmd_range() called "
                f"set_bloom_filter(lruvec, walk->max_seq + 1, pmd) {st[1]} time(s): what is "
                f"not set is lost for the iteration seq={walk.max_seq + 1}", ctx=ctx,
                function="walk_pmd_range", condition="MM_PMD_ADDED => set_bloom_filter()",
                details={"mm": label(st[2]), "lruvec": label(st[3]), "added": added,
                         "sets": st[1]})

    # --- tests -----------------------------------------------------------------------------------
    def on_filter_read(self, ctx: Any, filters: Any, gen: int) -> None:
        """``READ_ONCE(lruvec->mm_state.filters[gen])``: a test's is judged, a set's noted."""
        loc = frame_locals("test_bloom_filter", depth=3)
        if loc is None:
            loc = frame_locals("set_bloom_filter", depth=3)
            if loc is not None:
                self._set_read(ctx, loc, filters, gen)
            return
        lv, seq, item = loc.get("lv"), loc.get("seq"), loc.get("item")
        if lv is None or seq is None or item is None or lv.mm_state.filters is not filters:
            return
        self._parity(ctx, "test_bloom_filter", lv, seq, gen)
        slot = self.sets.get((lv, seq % NR_BLOOM_FILTERS))
        if not slot:
            return
        recs = [r for r in slot if r.seq == seq and r.item == item and r.done]
        if not recs:
            return
        filt = filters.raw[gen]
        k0, k1 = keys(item)
        if filt is not None and filt.bits[k0] and filt.bits[k1]:
            return
        if filt is None:
            recs = [r for r in recs if r.null is None]  # none then, none now: v6 answers false
            if not recs:
                return
        rec = next((r for r in recs if r.reset is None), recs[0])
        if filt is None:
            why = f"filters[{gen}] is NULL"
        else:
            why = f"bit{'s' if not (filt.bits[k0] or filt.bits[k1]) else ''} " + ", ".join(
                str(k) for k in (k0, k1) if not filt.bits[k]) + " clear"
        how = ("nothing cleared the slot since" if rec.reset is None else
               f"{rec.reset[1]} cleared it for seq={rec.reset[0]} <= {seq} since")
        what = rec.how if rec.how is not None else f"{rec.who} set it for seq={seq}"
        if rec.null is not None:
            what += f" while filters[{rec.null}] was NULL (nothing was written)"
        self.suite.report(
            "bloom_false_negative",
            f"test_bloom_filter({label(lv)}, seq={seq}, pmd={item:#x}) [{ctx.name}] answers "
            f"false ({why}): {what} and {how}",
            ctx=ctx, function="test_bloom_filter", condition="set for seq => test for seq",
            details={"lruvec": label(lv), "seq": seq, "item": hex(item), "setter": rec.who,
                     "reset": rec.reset, "carried": rec.how})
