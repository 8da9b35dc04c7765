"""Statistics: the history slot of ``mm_state->stats`` computed from ``max_seq``.

With ``CONFIG_LRU_GEN_STATS``, ``NR_HIST_GENS == MAX_NR_GENS`` and ``reset_mm_stats()`` flushes a
walker's batch into ``stats[lru_hist_from_seq(walk->max_seq)]``; the last walker of the
iteration ("4) It's the last of the current generation, and it needs to clear the historical mm
stats for the next generation") then zeroes ``stats[lru_hist_from_seq(walk->max_seq + 1)]``;
with ``NR_HIST_GENS == 1`` there is no reset. The history check ``mm_stats`` follows the slot
that the ``stats_flush``/``stats_reset`` events report; ``stats_hist`` does not trust it: from
each ``get_next_mm`` event's ``max_seq`` (``walk->max_seq``) it computes the slot itself, keeps
its own copy of the expected ``stats[][]``, and reports

* a flush or a reset into another slot than ``max_seq % NR_HIST_GENS`` (resp. ``+ 1``);
* a reset by a walker that was not ``last``, or with ``NR_HIST_GENS == 1``; a ``last`` walker
  that did not reset (``NR_HIST_GENS > 1``);
* ``mm_state->stats`` differing from its own expectation.
"""
from __future__ import annotations

from typing import Any

from ..config import NR_MM_STATS
from .report import label


class StatsHist:
    def __init__(self, suite: Any, world: Any):
        self.suite = suite
        self.world = world
        self.nr_hist = world.config.NR_HIST_GENS
        self.expected: dict[Any, list[list[int]]] = {}
        self.pending: dict[Any, list[tuple]] = {}     # ctx -> flushes/resets of this call

    def handlers(self) -> dict:
        return {"stats_flush": self.t_stats_flush, "stats_reset": self.t_stats_reset,
                "get_next_mm": self.t_get_next_mm}

    def _exp(self, lv: Any) -> list[list[int]]:
        e = self.expected.get(lv)
        if e is None:
            e = self.expected[lv] = [list(a.raw) for a in lv.mm_state.stats]
        return e

    def t_stats_flush(self, ctx: Any, f: dict) -> None:
        self._exp(f["lruvec"])
        self.pending.setdefault(ctx, []).append(("flush", f["lruvec"], f["hist"],
                                                 tuple(f["stats"])))

    def t_stats_reset(self, ctx: Any, f: dict) -> None:
        self._exp(f["lruvec"])
        self.pending.setdefault(ctx, []).append(("reset", f["lruvec"], f["hist"], None))

    def _bad(self, ctx: Any, msg: str, condition: str, lv: Any) -> None:
        self.suite.report("stats_hist", msg, ctx=ctx, function="reset_mm_stats",
                          condition=condition, details={"lruvec": label(lv)})

    def t_get_next_mm(self, ctx: Any, f: dict) -> None:
        if f.get("case") == "stale":
            return
        lv, s, last = f["lruvec"], f["max_seq"], f.get("last")
        n = self.nr_hist
        exp = self._exp(lv)
        ops = self.pending.pop(ctx, [])
        reset = False
        for kind, olv, hist, stats in ops:
            if olv is not lv:
                continue
            if kind == "flush":
                want = s % n
                if hist != want:
                    self._bad(ctx, f"{ctx.name} flushed its mm stats into {label(lv)}."
                              f"mm_state.stats[{hist}] but walk->max_seq={s} belongs in "
                              f"stats[{want}] (lru_hist_from_seq, NR_HIST_GENS={n})",
                              "hist == lru_hist_from_seq(walk->max_seq)", lv)
                for i in range(NR_MM_STATS):
                    exp[want][i] += stats[i]
            else:
                reset = True
                want = (s + 1) % n
                if n == 1 or not last:
                    self._bad(ctx, f"{ctx.name} cleared {label(lv)}.mm_state.stats[{hist}] "
                              f"although {'NR_HIST_GENS == 1' if n == 1 else 'it is not last'}",
                              "reset only by the last walker, NR_HIST_GENS > 1", lv)
                elif hist != want:
                    self._bad(ctx, f"the last walker {ctx.name} of iteration seq={s} cleared "
                              f"{label(lv)}.mm_state.stats[{hist}] instead of stats[{want}] "
                              f"(the next generation's, lru_hist_from_seq(walk->max_seq + 1))",
                              "hist == lru_hist_from_seq(walk->max_seq + 1)", lv)
                exp[want] = [0] * NR_MM_STATS
        if last and n > 1 and not reset:
            self._bad(ctx, f"{ctx.name} was the last walker of iteration seq={s} of {label(lv)} "
                      f"but did not clear stats[{(s + 1) % n}] for the next generation",
                      "last => reset stats[lru_hist_from_seq(walk->max_seq + 1)]", lv)
            exp[(s + 1) % n] = [0] * NR_MM_STATS
        self.compare(lv, ctx)

    def compare(self, lv: Any, ctx: Any = None) -> None:
        exp = self.expected.get(lv)
        if exp is None:
            return
        for h, arr in enumerate(lv.mm_state.stats):
            if list(arr.raw) != exp[h]:
                self._bad(ctx, f"{label(lv)}.mm_state.stats[{h}] is {tuple(arr.raw)} but, with "
                          f"each flush in stats[walk->max_seq % {self.nr_hist}], it should be "
                          f"{tuple(exp[h])}", "stats[hist] as computed from max_seq", lv)
                exp[h] = list(arr.raw)          # report each divergence once

    def at_end(self, finished: bool, dead: set, ended: set) -> None:
        if not finished or dead:
            return
        for lv in list(self.expected):
            self.compare(lv)
