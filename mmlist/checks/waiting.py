"""Who waits: the rules of ``try_to_inc_max_seq()`` for sleeping on ``mm_state->wait``.

protocol.md section 3 (v6): a walker that did not get ``last`` waits for the new generation
only when ``!current_is_kswapd() && sc->priority < DEF_PRIORITY - 2``::

    if (!last) {
        if (!current_is_kswapd() && sc->priority < DEF_PRIORITY - 2)
            wait_event_killable(mm_state->wait, max_seq < READ_ONCE(lrugen->max_seq));
        return max_seq < READ_ONCE(lrugen->max_seq);
    }

``who_waits`` reports:

* a wait on a lruvec's ``mm_state->wait`` (``prepare_to_wait``) by kswapd ("kswapd never
  waits"), by a reclaimer at ``sc->priority >= DEF_PRIORITY - 2``, or by the walker whose
  ``get_next_mm()`` returned ``last`` (it is the one that must create the generation);
* a walker that had to wait (not last, not kswapd, ``sc->priority < DEF_PRIORITY - 2``) and ends
  its aging with ``max_seq`` still not past its own: it did not wait (``wait_event_killable``
  is never interrupted in the model: no signals).

``aging_progress`` reports an aging that was lost: a caller (``age_lruvec()``,
``get_nr_to_scan()``, ``run_aging()``) asked ``try_to_inc_max_seq()`` for a new generation after
``max_seq``, the run finished with every thread done, and ``max_seq`` is still not past it. The
last walker of every iteration creates the generation (protocol.md section 3), and a walker that
is not last returns only once the iteration it joined is handed out to others, so every request
ends with ``max_seq`` past its own; the waiters' condition ``max_seq < READ_ONCE(lrugen->
max_seq)`` counts on it. Excused: an aging whose walk could not be allocated (``alloc_mm_walk()``
failed: it returns false at once) and one whose thread oopsed.

``sc`` and ``last`` are read from ``try_to_inc_max_seq()``'s frame (the check runs on the
walker's own thread); whether the task is kswapd from ``current->flags``.
"""
from __future__ import annotations

from typing import Any

from ..config import DEF_PRIORITY
from ..model.structs import PF_KSWAPD
from .frames import frame_locals
from .report import label

_SUFFIX = ".mm_state.wait"


class Waiting:
    def __init__(self, suite: Any, world: Any):
        self.suite = suite
        self.world = world

        #: aging requests: (thread, lruvec, max_seq, the walk could not be allocated)
        self.requests: list[list[Any]] = []

    def handlers(self) -> dict:
        return {"aging_end": self.t_aging_end, "aging_request": self.t_aging_request,
                "alloc_fail": self.t_alloc_fail}

    def t_aging_request(self, ctx: Any, f: dict) -> None:
        self.requests.append([ctx, f.get("lruvec"), f.get("max_seq"), False])

    def t_alloc_fail(self, ctx: Any, f: dict) -> None:
        if f.get("what") != "mm_walk":
            return
        for r in reversed(self.requests):
            if r[0] is ctx:
                r[3] = True
                return

    def at_end(self, finished: bool, dead: set, ended: set) -> None:
        if not finished:
            return
        for ctx, lv, s, no_walk in self.requests:
            if no_walk or ctx in dead or lv is None or ctx not in ended:
                continue
            now = lv.lrugen.__dict__["_max_seq"]
            if now <= s:
                self.suite.report(
                    "aging_progress",
                    f"{ctx.name} asked try_to_inc_max_seq({label(lv)}, max_seq={s}) for a new "
                    f"generation and every thread is done, but max_seq is still {now}: the "
                    f"aging was lost (the last walker of an iteration creates the generation)",
                    ctx=None, function="try_to_inc_max_seq", condition="inc_max_seq")

    def _lruvec_of(self, wq: Any) -> Any:
        for lv in self.world.lruvecs():
            if lv.mm_state.wait is wq:
                return lv
        return None

    @staticmethod
    def _kswapd(ctx: Any) -> bool:
        task = getattr(ctx, "task", None)
        return bool(task is not None and task.flags & PF_KSWAPD)

    def on_wait_prepare(self, ctx: Any, wq: Any) -> None:
        if not str(getattr(wq, "label", "")).endswith(_SUFFIX):
            return
        lv = self._lruvec_of(wq)
        loc = frame_locals("try_to_inc_max_seq", depth=3) or {}
        sc = loc.get("sc")
        s = loc.get("max_seq")
        what = f"{ctx.name} sleeps on {label(wq)} waiting for max_seq > {s} of {label(lv)}"
        if self._kswapd(ctx):
            self.suite.report("who_waits", f"{what}, but kswapd never waits "
                              f"(!current_is_kswapd())", ctx=ctx, function="try_to_inc_max_seq",
                              condition="!current_is_kswapd()")
        if sc is not None and not sc.priority < DEF_PRIORITY - 2:
            self.suite.report("who_waits", f"{what} at sc->priority={sc.priority}, but only "
                              f"priorities below DEF_PRIORITY - 2 = {DEF_PRIORITY - 2} wait",
                              ctx=ctx, function="try_to_inc_max_seq",
                              condition="sc->priority < DEF_PRIORITY - 2")
        if loc.get("last") is True:
            self.suite.report("who_waits", f"{what}, but its get_next_mm() returned last: it "
                              f"is the walker that must create the generation",
                              ctx=ctx, function="try_to_inc_max_seq", condition="!last")

    def t_aging_end(self, ctx: Any, f: dict) -> None:
        if f.get("how") != "not_last" or f.get("result"):
            return
        loc = frame_locals("try_to_inc_max_seq", depth=3)
        if loc is None:
            return
        sc = loc.get("sc")
        if sc is None or self._kswapd(ctx) or not sc.priority < DEF_PRIORITY - 2:
            return
        lv, s = f.get("lruvec"), f.get("max_seq")
        now = lv.lrugen.__dict__["_max_seq"] if lv is not None else "?"
        self.suite.report("who_waits",
                          f"{ctx.name} (not kswapd, sc->priority={sc.priority} < "
                          f"{DEF_PRIORITY - 2}) was not the last walker of iteration seq={s} of "
                          f"{label(lv)} and returned without waiting: max_seq is still {now}",
                          ctx=ctx, function="try_to_inc_max_seq",
                          condition="wait_event_killable(mm_state->wait)")
