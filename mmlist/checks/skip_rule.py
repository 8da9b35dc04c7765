"""The size rule of ``should_skip_mm()``, recomputed from the mm's counters.

The seed::

    for (type = !walk->can_swap; type < ANON_AND_FILE; type++) {
        size += type ? get_mm_counter(mm, MM_FILEPAGES) :
                       get_mm_counter(mm, MM_ANONPAGES) +
                       get_mm_counter(mm, MM_SHMEMPAGES);
    }
    if (size < MIN_LRU_BATCH)
        return true;

``skip_oom`` (``if (mm_is_oom_victim(mm)) return true;``): an mm handed out while it is an OOM
victim must have been read alive by the walker's ``should_skip_mm()``, and one skipped as a
victim must have been read as one (the value the walker read is taken from its own plain read
of ``mm->oom_victim``, so a victim chosen after that read is no violation).

``skip_size`` reports an mm skipped as too small (``skip`` event, ``reason=small``) whose size is
not below ``MIN_LRU_BATCH``, and an mm that passed the size test (handed out by
``get_next_mm()``, or skipped for a later reason: ``oom_victim``, ``mm_users==0``) whose size is
below it. ``walk->can_swap`` comes from the ``get_next_mm`` event's walk, or from
``should_skip_mm()``'s frame for a ``skip`` event. An mm skipped as ``unused`` never reached the
size test: nothing to judge.
"""
from __future__ import annotations

from typing import Any

from ..config import ANON_AND_FILE, MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES
from .frames import frame_locals
from .report import label

#: skip reasons the seed tests after the size
_AFTER_SIZE = ("oom_victim", "mm_users==0")


def seed_size(mm: Any, can_swap: bool) -> int:
    rss = mm.rss_stat
    size = 0
    for type_ in range(int(not can_swap), ANON_AND_FILE):
        size += rss[MM_FILEPAGES] if type_ else rss[MM_ANONPAGES] + rss[MM_SHMEMPAGES]
    return size


class SkipRule:
    def __init__(self, suite: Any, world: Any):
        self.suite = suite
        self.world = world
        #: walker -> {mm: the MMF_OOM_VICTIM value it read} since its last get_next_mm event
        self.oom_read: dict[Any, dict[Any, bool]] = {}

    def on_oom_read(self, ctx: Any, mm: Any) -> None:
        """A plain read of ``mm->oom_victim`` (``mm_is_oom_victim()``): the value it returns."""
        self.oom_read.setdefault(ctx, {})[mm] = bool(mm.__dict__.get("_oom_victim"))

    def _judge_oom(self, ctx: Any, mm: Any, lv: Any, handed: bool, reason: str | None) -> None:
        """``skip_oom``: ``if (mm_is_oom_victim(mm)) return true;``: an mm that should_skip_mm()
        saw as an OOM victim is skipped, with that reason, and one it saw alive is not skipped
        for it; an mm handed out while it is a victim must have been read as alive."""
        seen = self.oom_read.get(ctx, {}).get(mm)
        if handed and (seen is True or (seen is None and mm.__dict__.get("_oom_victim"))):
            how = ("although should_skip_mm() read MMF_OOM_VICTIM set" if seen else
                   "and should_skip_mm() never tested mm_is_oom_victim()")
            self.suite.report("skip_oom", f"get_next_mm() handed out {label(mm)}, an OOM victim, "
                              f"for {label(lv)} {how}", ctx=ctx, function="should_skip_mm",
                              condition="mm_is_oom_victim(mm)", details={"mm": label(mm)})
        elif reason == "oom_victim" and seen is not True:
            self.suite.report("skip_oom", f"should_skip_mm() skipped {label(mm)} for "
                              f"{label(lv)} as an OOM victim, but "
                              + ("it read MMF_OOM_VICTIM clear" if seen is False else
                                 "it never tested mm_is_oom_victim()"),
                              ctx=ctx, function="should_skip_mm",
                              condition="mm_is_oom_victim(mm)", details={"mm": label(mm)})

    def handlers(self) -> dict:
        return {"skip": self.t_skip, "get_next_mm": self.t_get_next_mm}

    def _judge(self, ctx: Any, mm: Any, lv: Any, walk: Any, skipped_small: bool,
               how: str) -> None:
        minimum = self.world.config.MIN_LRU_BATCH
        size = seed_size(mm, walk.can_swap)
        small = size < minimum
        if skipped_small and not small:
            self.suite.report(
                "skip_size",
                f"should_skip_mm() skipped {label(mm)} for {label(lv)} as too small, but its "
                f"size is {size} >= MIN_LRU_BATCH={minimum} (can_swap={walk.can_swap})",
                ctx=ctx, function="should_skip_mm", condition="size < MIN_LRU_BATCH",
                details={"mm": label(mm), "size": size})
        elif not skipped_small and small:
            self.suite.report(
                "skip_size",
                f"{label(mm)} of size {size} < MIN_LRU_BATCH={minimum} "
                f"(can_swap={walk.can_swap}) passed should_skip_mm()'s size test for "
                f"{label(lv)} ({how})", ctx=ctx, function="should_skip_mm",
                condition="size >= MIN_LRU_BATCH", details={"mm": label(mm), "size": size})

    def t_skip(self, ctx: Any, f: dict) -> None:
        reason = f.get("reason")
        self._judge_oom(ctx, f["mm"], f.get("lruvec"), False, reason)
        if reason != "small" and reason not in _AFTER_SIZE:
            return
        loc = frame_locals("should_skip_mm", depth=3)
        walk = loc.get("walk") if loc is not None else None
        if walk is None:
            return
        self._judge(ctx, f["mm"], f.get("lruvec"), walk, reason == "small",
                    f"then skipped as {reason}")

    def t_get_next_mm(self, ctx: Any, f: dict) -> None:
        mm = f.get("mm")
        if mm is not None and f.get("case") != "stale":
            self._judge_oom(ctx, mm, f["lruvec"], True, None)
            self._judge(ctx, mm, f["lruvec"], f["walk"], False, "handed out by get_next_mm()")
        self.oom_read.pop(ctx, None)
