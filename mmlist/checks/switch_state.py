"""What a context switch leaves behind (protocol.md section 2, "context switch"; the scheduler's
own bookkeeping that the seed's hunk relies on).

``switch_state`` reports, after each ``context_switch(rq, prev, next)`` of a CPU program (the
``switched`` event, from the program, which is not mutated):

* ``rq->curr``, ``current`` and ``next->on_cpu`` name ``next`` and this CPU, ``prev->on_cpu`` is
  cleared, and no task is the current task of two CPUs;
* the mm this CPU now has loaded is ``next->mm`` for a user task and ``prev``'s ``active_mm``
  (lazy TLB) for a kernel thread: ``next->active_mm``, with this CPU's bit set in its
  ``mm_cpumask`` (``switch_mm_irqs_off()``); switching to a user task clears the bit from the mm
  the CPU had loaded before, when that was another one (x86: "stop remote flushes for the
  previous mm");
* a kernel thread switched away from keeps no ``active_mm`` (``prev->active_mm = NULL``, its
  lazy reference dropped in ``finish_task_switch()``: ``refcount_balance`` counts it).

The usage hints' checks take ``mm_cpumask`` and ``lru_gen_use_mm()`` as given; this check is
what holds the switch itself to the kernel's.
"""
from __future__ import annotations

from typing import Any

from ..kernel.fields import _raw_get as _raw       # a field's value without the hook
from ..model.structs import PF_KTHREAD
from .report import label


class SwitchState:
    def __init__(self, suite: Any, world: Any):
        self.suite = suite
        self.world = world

    def handlers(self) -> dict:
        return {"switched": self.t_switched}

    def t_switched(self, ctx: Any, f: dict) -> None:
        cpu, prev, nxt, loaded = f["cpu"], f["prev"], f["next"], f["loaded"]
        rq = self.world.runqueues[cpu]
        bad: list[tuple[str, str]] = []
        if rq.curr is not nxt:
            bad.append((f"rq->curr of CPU {cpu} is {label(rq.curr)}", "rq->curr = next"))
        if getattr(ctx, "task", None) is not nxt:
            bad.append((f"current on CPU {cpu} is {label(getattr(ctx, 'task', None))}",
                        "switch_to(prev, next)"))
        if _raw(nxt, "on_cpu") != cpu:
            bad.append((f"{label(nxt)}->on_cpu is {_raw(nxt, 'on_cpu')}", "next->on_cpu"))
        if prev is not nxt and _raw(prev, "on_cpu") is not None:
            bad.append((f"{label(prev)}->on_cpu is still {_raw(prev, 'on_cpu')}",
                        "prev->on_cpu = 0"))
        for other in self.world.runqueues:
            if other is not rq and other.curr is nxt:
                bad.append((f"{label(nxt)} is also the current task of CPU {other.cpu}",
                            "a task runs on one CPU"))
        user = _raw(nxt, "mm") is not None and not nxt.flags & PF_KTHREAD
        active = _raw(nxt, "active_mm")
        want = _raw(nxt, "mm") if user else loaded
        if active is not want:
            bad.append((f"{label(nxt)}->active_mm is {label(active)}, not "
                        f"{label(want)} ({'its mm' if user else 'the lazy mm of the CPU'})",
                        "next->active_mm"))
        if active is not None and not active.cpu_bitmap.bits[cpu]:
            bad.append((f"CPU {cpu} is not in mm_cpumask({label(active)}), the mm it has "
                        f"loaded", "switch_mm_irqs_off(): cpumask_set_cpu()"))
        if (user and loaded is not None and loaded is not active and not loaded.freed
                and loaded.cpu_bitmap.bits[cpu]):
            bad.append((f"CPU {cpu} is still in mm_cpumask({label(loaded)}) after switching "
                        f"to {label(active)}", "switch_mm_irqs_off(): cpumask_clear_cpu()"))
        if (prev is not nxt and prev.flags & PF_KTHREAD and _raw(prev, "mm") is None
                and _raw(prev, "active_mm") is not None and user):
            bad.append((f"the kernel thread {label(prev)} keeps active_mm "
                        f"{label(_raw(prev, 'active_mm'))} after CPU {cpu} switched to a user "
                        f"task", "prev->active_mm = NULL"))
        for what, condition in bad:
            self.suite.report("switch_state",
                              f"after context_switch({label(prev)} -> {label(nxt)}) on CPU "
                              f"{cpu}: {what}", ctx=ctx, function="context_switch",
                              condition=condition)
