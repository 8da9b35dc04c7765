"""Lockdep-style rules over LOCK/UNLOCK/CONTEXT/ATOMIC/THREAD_END events.

* ``lock_order``: a graph over lock *classes* (``task_lock``, ``mm_list lock``, ``lru_lock``,
  ``rq->lock``, ``cgroup_threadgroup_rwsem``...): taking class B while holding class A adds the
  edge A -> B, recorded with the thread and its held locks; an edge that closes a cycle is
  lockdep's "possible circular locking dependency detected", reported with both acquisitions.
* ``lock_recursion``: taking a lock the thread already holds (a certain self-deadlock), or
  another lock of a class it holds (lockdep's "possible recursive locking detected").
* ``sleep_in_atomic``: a sleeping operation (``might_sleep()``, a mutex, or a ``spinlock_t``
  under PREEMPT_RT) with IRQs disabled, inside a non-sleeping spinlock, or (except for RT
  spinlocks) inside an RCU read-side critical section: "BUG: sleeping function called from
  invalid context".
* ``lock_held_at_exit``: a thread ends holding a lock (or with IRQs off).
* ``bad_unlock``: an unlock of a lock the thread does not hold ("bad unlock balance").
* ``put_under_lock``: an ``atomic_dec_and_test`` brings a reference count (``mm_users``,
  ``mm_count``, a css refcount) to zero while the thread holds an mm_list lock: the release
  path (``__mmput`` -> ``lru_gen_del_mm``, ``css_free`` -> ``lru_gen_free_memcg``) would run
  under it.
* ``lockdep_assert_held``: the model reports these itself (REPORT events); kept as they come.
"""
from __future__ import annotations

from typing import Any

from ..kernel.sync import rw_semaphore, spinlock_t
from .report import caller, label, protocol_stack

#: Lock classes that are raw spinlocks in the kernel (never sleep, even under PREEMPT_RT).
RAW_CLASSES = frozenset({"rq->lock"})

MM_LIST_CLASS = "mm_list lock"


def _sleeping(lock: Any, preempt_rt: bool) -> bool:
    if getattr(lock, "sleeping", False):
        return True
    return preempt_rt and isinstance(lock, spinlock_t) and lock.lock_class not in RAW_CLASSES


class Lockdep:
    def __init__(self, suite: Any, world: Any):
        self.suite = suite
        self.preempt_rt = bool(world.config.PREEMPT_RT)
        #: class -> {class: (thread, held labels, acquired label, function)}
        self.graph: dict[str, dict[str, tuple]] = {}
        self.held: dict[Any, list] = {}          # ctx -> locks, from LOCK/UNLOCK events
        self.pending_sleep: dict[Any, tuple] = {}

    # --- helpers -------------------------------------------------------------------------------
    def _atomic_context(self, ctx: Any, for_rt_lock: bool) -> str | None:
        """Why ``ctx`` may not sleep now, or None."""
        if ctx.irqs_disabled:
            return "with IRQs disabled"
        for h in ctx.locks_held:
            if isinstance(h, rw_semaphore):
                continue
            if not _sleeping(h, self.preempt_rt):
                return f"inside spinlock {label(h)}"
        if ctx.rcu_depth > 0 and not for_rt_lock:
            return "inside an RCU read-side critical section"
        return None

    def _path(self, src: str, dst: str) -> list[str] | None:
        """A path src -> ... -> dst in the class graph (DFS; the graph has a handful of nodes)."""
        stack = [(src, [src])]
        seen = {src}
        while stack:
            node, path = stack.pop()
            if node == dst:
                return path
            for nxt in self.graph.get(node, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
        return None

    # --- events ----------------------------------------------------------------------------------
    def on_lock(self, ctx: Any, lock: Any) -> None:
        pend = self.pending_sleep.pop(ctx, None)
        if _sleeping(lock, self.preempt_rt) and lock.lock_class not in RAW_CLASSES:
            why = self._atomic_context(ctx, for_rt_lock=not getattr(lock, "sleeping", False))
            if why is not None:
                fn = pend[1] if pend else caller(1)[0]
                kind = ("a sleeping lock under PREEMPT_RT" if not getattr(lock, "sleeping", False)
                        else "a sleeping lock")
                self.suite.report(
                    "sleep_in_atomic",
                    f"BUG: sleeping function called from invalid context: lock {label(lock)} "
                    f"({kind}) taken in {fn}() {why}",
                    ctx=ctx, function=fn, condition=lock.lock_class,
                    details={"lock": label(lock), "why": why})
        cls = lock.lock_class
        held = self.held.setdefault(ctx, [])
        fn = None
        for h in held:
            if h is lock:
                fn = fn or caller(1)[0]
                self.suite.report(
                    "lock_recursion",
                    f"deadlock: {ctx.name} takes {label(lock)} in {fn}() while already holding "
                    f"it", ctx=ctx, function=fn, condition=cls,
                    details={"lock": label(lock), "held": [label(x) for x in held]})
                continue
            hc = h.lock_class
            if hc == cls:
                fn = fn or caller(1)[0]
                self.suite.report(
                    "lock_recursion",
                    f"possible recursive locking detected: {ctx.name} takes {label(lock)} in "
                    f"{fn}() while holding {label(h)} of the same class '{cls}'",
                    ctx=ctx, function=fn, condition=cls,
                    details={"lock": label(lock), "held": [label(x) for x in held]})
                continue
            edges = self.graph.setdefault(hc, {})
            if cls in edges:
                continue
            fn = fn or caller(1)[0]
            edges[cls] = (ctx.name, [label(x) for x in held], label(lock), fn)
            back = self._path(cls, hc)
            if back is not None:
                stacks = []
                for a, b in zip(back, back[1:]):
                    t, hl, acq, f = self.graph[a][b]
                    stacks.append(f"{t}: holding [{', '.join(hl)}] took {acq} in {f}() "
                                  f"({a} -> {b})")
                stacks.append(f"{ctx.name}: holding [{', '.join(label(x) for x in held)}] "
                              f"took {label(lock)} in {fn}() ({hc} -> {cls})")
                self.suite.report(
                    "lock_order",
                    f"possible circular locking dependency: '{hc}' -> '{cls}' in {fn}() "
                    f"[{ctx.name}] closes the cycle " + " -> ".join([cls] + back[1:]),
                    ctx=ctx, function=fn, condition=f"{hc} -> {cls}",
                    details={"cycle": [cls] + back[1:], "acquisitions": stacks})
        held.append(lock)

    def on_unlock(self, ctx: Any, lock: Any) -> None:
        held = self.held.get(ctx)
        if held is not None and lock in held:
            held.remove(lock)
            return
        if isinstance(lock, rw_semaphore):
            return                       # read trylocks are not followed (TRYLOCK has no result)
        fn = caller(1)[0]
        self.suite.report("bad_unlock",
                          f"bad unlock balance: {ctx.name} releases {label(lock)} in {fn}() "
                          f"without holding it", ctx=ctx, function=fn, condition=lock.lock_class)

    def on_might_sleep(self, ctx: Any) -> None:
        why = self._atomic_context(ctx, for_rt_lock=False)
        if why is None:
            return
        fn = caller(1)[0]
        # Under PREEMPT_RT, spin_lock() calls might_sleep() just before LOCK: the LOCK decides
        # (a raw spinlock is fine). Otherwise it is reported at the thread's next event.
        self.pending_sleep[ctx] = (why, fn, protocol_stack(2))

    def flush_sleep(self, ctx: Any) -> None:
        pend = self.pending_sleep.pop(ctx, None)
        if pend is None:
            return
        why, fn, stack = pend
        self.suite.report("sleep_in_atomic",
                          f"BUG: sleeping function called from invalid context: might_sleep() "
                          f"in {fn}() {why}", ctx=ctx, function=fn, condition="might_sleep",
                          details={"why": why}, stack=stack)

    def on_thread_end(self, ctx: Any) -> None:
        self.flush_sleep(ctx)
        if ctx.locks_held or ctx.irqs_disabled:
            held = ", ".join(label(x) for x in ctx.locks_held)
            what = f"holding [{held}]" if ctx.locks_held else ""
            if ctx.irqs_disabled:
                what = (what + " and " if what else "") + "with IRQs disabled"
            self.suite.report("lock_held_at_exit", f"{ctx.name} ends {what}", ctx=ctx,
                              condition=",".join(sorted({getattr(x, 'lock_class', '?')
                                                         for x in ctx.locks_held})))
        if ctx.rcu_depth:
            what = (f"inside {ctx.rcu_depth} rcu_read_lock() section(s) never unlocked"
                    if ctx.rcu_depth > 0 else
                    f"after {-ctx.rcu_depth} rcu_read_unlock() without rcu_read_lock()")
            self.suite.report("rcu_balance", f"{ctx.name} ends {what}", ctx=ctx,
                              condition="rcu_read_lock/unlock balance",
                              details={"depth": ctx.rcu_depth})

    def on_dec_and_test(self, ctx: Any, atomic: Any) -> None:
        if atomic.counter != 1:
            return
        for h in ctx.locks_held:
            if getattr(h, "lock_class", None) == MM_LIST_CLASS:
                fn = caller(1)[0]
                self.suite.report(
                    "put_under_lock",
                    f"{atomic.label} dropped to 0 in {fn}() under {label(h)}: its release "
                    f"path would run under the mm_list lock", ctx=ctx, function=fn,
                    condition=atomic.label.rsplit(".", 1)[-1],
                    details={"counter": atomic.label, "lock": label(h)})
                return
