"""Bloom filters have no false negatives within a generation.

The seed: "Page table walkers use one of the two filters to reduce their search space";
"For non-leaf entries that have enough leaf entries, the aging carries them over to the next
generation in walk_pmd_range(); the eviction also report them when walking the rmap in
lru_gen_look_around()". A PMD entry that ``set_bloom_filter(lruvec, S, pmd)`` recorded must test
positive when ``test_bloom_filter(lruvec, S, pmd)`` is asked for the same ``S`` (a walker of the
iteration for ``max_seq == S`` without ``full_scan``), unless the slot ``filters[S % 2]`` has
since been cleared for a *later* generation (``clear_bloom_filter(lruvec, S')``, ``S' > S``:
the double buffering reuses it for ``S + 2``), which the seed allows. A clear of that slot for
``S`` itself, or for an earlier generation, after the set is not allowed: it loses what the
filter was there to remember.

``bloom_false_negative`` records each set when the setter's ``set_bit()``s are done (its next
operation that is not a bitop), and judges each test when it reads ``filters[gen]``
(``READ_ONCE`` inside ``test_bloom_filter()``, whose ``seq`` and ``item`` come from its frame):
the filter must be there and hold both keys of ``hash_ptr(item, 30)``.
"""
from __future__ import annotations

from typing import Any

from ..config import BLOOM_FILTER_SHIFT, NR_BLOOM_FILTERS
from ..kernel.hash import hash_ptr
from .frames import frame_locals
from .report import label


class _Set:
    __slots__ = ("seq", "item", "who", "done", "reset")

    def __init__(self, seq: int, item: int, who: str):
        self.seq = seq
        self.item = item
        self.who = who
        self.done = False
        self.reset: tuple | None = None         # (seq of the clear, thread) not allowed


def keys(item: int) -> tuple[int, int]:
    h = hash_ptr(item, BLOOM_FILTER_SHIFT * 2)
    return h & ((1 << BLOOM_FILTER_SHIFT) - 1), h >> BLOOM_FILTER_SHIFT


class BloomNegatives:
    def __init__(self, suite: Any, world: Any):
        self.suite = suite
        self.world = world
        #: (lruvec, gen) -> the sets recorded in that slot and still expected to answer
        self.sets: dict[tuple, list[_Set]] = {}
        #: ctx -> the set whose set_bit()s it is doing
        self.pending: dict[Any, _Set] = {}

    def handlers(self) -> dict:
        return {"filter_set": self.t_filter_set, "filter_clear": self.t_filter_clear,
                "free_memcg": self.t_free_memcg}

    def op_done(self, ctx: Any) -> None:
        """``ctx`` did an operation that is not a bitop: its pending set is complete."""
        rec = self.pending.pop(ctx, None)
        if rec is not None:
            rec.done = True

    def t_filter_set(self, ctx: Any, f: dict) -> None:
        rec = _Set(f["seq"], f["item"], ctx.name)
        self.sets.setdefault((f["lruvec"], f["gen"]), []).append(rec)
        self.pending[ctx] = rec

    def t_filter_clear(self, ctx: Any, f: dict) -> None:
        lv, s2 = f["lruvec"], f["seq"]
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

    def on_filter_read(self, ctx: Any, filters: Any, gen: int) -> None:
        """``READ_ONCE(lruvec->mm_state.filters[gen])``: judged when it is a test's."""
        loc = frame_locals("test_bloom_filter", depth=3)
        if loc is None:
            return
        lv, seq, item = loc.get("lv"), loc.get("seq"), loc.get("item")
        if lv is None or seq is None or item is None or lv.mm_state.filters is not filters:
            return
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
        rec = next((r for r in recs if r.reset is None), recs[0])
        if filt is None:
            why = f"filters[{gen}] is NULL"
        else:
            why = f"bit{'s' if not (filt.bits[k0] or filt.bits[k1]) else ''} " + ", ".join(
                str(k) for k in (k0, k1) if not filt.bits[k]) + " clear"
        how = ("nothing cleared the slot since" if rec.reset is None else
               f"{rec.reset[1]} cleared it for seq={rec.reset[0]} <= {seq} since")
        self.suite.report(
            "bloom_false_negative",
            f"test_bloom_filter({label(lv)}, seq={seq}, pmd={item:#x}) [{ctx.name}] answers "
            f"false ({why}): {rec.who} set it for seq={seq} and {how}",
            ctx=ctx, function="test_bloom_filter", condition="set for seq => test for seq",
            details={"lruvec": label(lv), "seq": seq, "item": hex(item), "setter": rec.who,
                     "reset": rec.reset})
