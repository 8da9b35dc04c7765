"""Locks, wait queues, IRQ/preemption/RCU context, ``current``: ``include/linux/spinlock.h``,
``wait.h``, ``irqflags.h``, ``sched.h``.

The primitive does the data part (owner, ``locks_held``, the waiter list); the engine's hook
does the blocking part (``LOCK`` returns once the lock is free, ``WAIT_SCHEDULE`` once woken,
``WAKE`` empties the waiter list and unblocks the waiters). Every op takes effect at its
scheduling point: ``spin_unlock`` calls the hook first and releases after it returns, so a
controlled scheduler that parks a thread at its ``UNLOCK`` keeps the lock held until that thread
runs again. A free-running engine clears the owner itself just before the real release.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

from .. import runtime as rt


class spinlock_t:
    """``spinlock_t``. ``lock_class`` names the lockdep class ("mm_list lock", "task_lock"...).

    Under PREEMPT_RT a ``spinlock_t`` is a sleeping lock (an rt_mutex): ``spin_lock`` then
    calls ``might_sleep()`` as ``rt_spin_lock`` does, and does not disable preemption.
    """

    sleeping = False

    def __init__(self, label: str, lock_class: str):
        self.label = label
        self.lock_class = lock_class
        self.owner: rt.ThreadCtx | None = None
        self._real: threading.Lock | None = None

    def real_lock(self) -> threading.Lock:
        real = self._real
        if real is None:
            real = self._real = threading.Lock()
        return real

    def __repr__(self) -> str:
        return f"<{self.label}>"


class rw_semaphore:
    """``struct rw_semaphore`` (``mmap_lock``): only what ``walk_mm`` uses (read trylock)."""

    sleeping = True

    def __init__(self, label: str, lock_class: str = "mmap_lock"):
        self.label = label
        self.lock_class = lock_class
        self.readers = 0
        self.writer: rt.ThreadCtx | None = None

    @property
    def owner(self) -> Any:
        return self.writer

    def real_lock(self) -> "_NoLock":
        # Only the read side's trylock is modelled: nothing ever blocks on an rw_semaphore.
        return _NO_LOCK

    def __repr__(self) -> str:
        return f"<{self.label}>"


class _NoLock:
    def acquire(self, blocking: bool = True) -> bool:
        return True

    def release(self) -> None:
        pass


_NO_LOCK = _NoLock()


class wait_queue_head:
    """``struct wait_queue_head``: ``waiters`` holds the ThreadCtx of each sleeper."""

    def __init__(self, label: str):
        self.label = label
        self.waiters: list[rt.ThreadCtx] = []
        self._cond: threading.Condition | None = None

    def real_cond(self) -> threading.Condition:
        cond = self._cond
        if cond is None:
            cond = self._cond = threading.Condition()
        return cond

    def __repr__(self) -> str:
        return f"<{self.label}>"


def _preempt_rt() -> bool:
    w = rt._world
    return bool(w is not None and w.config.PREEMPT_RT)


# --- spinlocks ---------------------------------------------------------------------------------

def spin_lock_init(lock: spinlock_t) -> None:
    lock.owner = None


def spin_lock(lock: spinlock_t) -> None:
    ctx = rt.current_ctx()
    if _preempt_rt():
        might_sleep()               # rt_spin_lock() -> rtlock_might_resched()
    rt.hook(rt.LOCK, lock)
    lock.owner = ctx
    ctx.locks_held.append(lock)
    if not _preempt_rt():
        ctx.preempt_count += 1


def spin_unlock(lock: spinlock_t) -> None:
    ctx = rt.current_ctx()
    rt.hook(rt.UNLOCK, lock)        # the release takes effect at this scheduling point
    if lock.owner is ctx:           # (a free-running engine has already cleared it)
        lock.owner = None
    try:
        ctx.locks_held.remove(lock)
    except ValueError:
        pass                        # unlock of a lock not held: the lockdep rules report it
    if not _preempt_rt():
        ctx.preempt_count -= 1


def spin_lock_irq(lock: spinlock_t) -> None:
    if _preempt_rt():
        spin_lock(lock)             # on RT, spin_lock_irq() leaves IRQs on
        return
    local_irq_disable()
    spin_lock(lock)


def spin_unlock_irq(lock: spinlock_t) -> None:
    spin_unlock(lock)
    if not _preempt_rt():
        local_irq_enable()


def lockdep_is_held(lock: Any) -> bool:
    ctx = rt.current_ctx()
    if isinstance(lock, rw_semaphore):
        return lock in ctx.locks_held
    return lock.owner is ctx


def down_read_trylock(sem: rw_semaphore) -> bool:
    rt.hook(rt.TRYLOCK, sem)
    if sem.writer is not None:
        return False
    sem.readers += 1
    rt.current_ctx().locks_held.append(sem)
    return True


def up_read(sem: rw_semaphore) -> None:
    rt.hook(rt.UNLOCK, sem)
    sem.readers -= 1
    try:
        rt.current_ctx().locks_held.remove(sem)
    except ValueError:
        pass


# --- wait queues -------------------------------------------------------------------------------

def init_waitqueue_head(wq: wait_queue_head) -> None:
    wq.waiters = []                             # the list head of a kzalloc'd queue


def prepare_to_wait(wq: wait_queue_head) -> None:
    ctx = rt.current_ctx()
    rt.hook(rt.WAIT_PREPARE, wq)
    if ctx not in wq.waiters:
        wq.waiters.append(ctx)
    ctx.waiting_on = wq


def schedule_on(wq: wait_queue_head) -> None:
    """``schedule()`` while queued on ``wq``: returns once a wake-up removed us from it."""
    might_sleep()
    rt.hook(rt.WAIT_SCHEDULE, wq)


def finish_wait(wq: wait_queue_head) -> None:
    ctx = rt.current_ctx()
    rt.hook(rt.WAIT_FINISH, wq)
    if ctx in wq.waiters:
        wq.waiters.remove(ctx)
    ctx.waiting_on = None


def wait_event(wq: wait_queue_head, condition: Callable[[], bool]) -> None:
    """``wait_event(wq, condition)``: queue first, then test, so no wake-up is lost."""
    might_sleep()
    if condition():
        return
    while True:
        prepare_to_wait(wq)
        if condition():
            break
        schedule_on(wq)
    finish_wait(wq)


def wait_event_killable(wq: wait_queue_head, condition: Callable[[], bool]) -> int:
    # Departure from the C: no signals are modelled, so the wait is never interrupted.
    wait_event(wq, condition)
    return 0


def wake_up_all(wq: wait_queue_head) -> None:
    rt.hook(rt.WAKE, wq)            # the engine empties wq.waiters and unblocks them


def wq_has_sleeper(wq: wait_queue_head) -> bool:
    # smp_mb(); waitqueue_active(wq)
    rt.hook(rt.READ_ONCE, wq, "waiters")
    return bool(wq.waiters)


# --- CPU context -------------------------------------------------------------------------------

def current() -> Any:
    """``current``: the task_struct the calling model thread runs as."""
    return rt.current_ctx().task


def local_irq_disable() -> None:
    ctx = rt.current_ctx()
    ctx.irqs_disabled = True
    rt.hook(rt.CONTEXT, ctx, "irq_off")


def local_irq_enable() -> None:
    ctx = rt.current_ctx()
    ctx.irqs_disabled = False
    rt.hook(rt.CONTEXT, ctx, "irq_on")


def irqs_disabled() -> bool:
    return rt.current_ctx().irqs_disabled


def preempt_disable() -> None:
    rt.current_ctx().preempt_count += 1


def preempt_enable() -> None:
    rt.current_ctx().preempt_count -= 1


def rcu_read_lock() -> None:
    ctx = rt.current_ctx()
    ctx.rcu_depth += 1
    rt.hook(rt.CONTEXT, ctx, "rcu_lock")


def rcu_read_unlock() -> None:
    ctx = rt.current_ctx()
    ctx.rcu_depth -= 1
    rt.hook(rt.CONTEXT, ctx, "rcu_unlock")


def might_sleep() -> None:
    """``might_sleep()``: the lockdep rules report it in atomic context (IRQs off, spinlock)."""
    rt.hook(rt.CONTEXT, rt.current_ctx(), "might_sleep")


def cond_resched() -> None:
    might_sleep()
    rt.hook(rt.YIELD)


# --- sleeping locks ------------------------------------------------------------------------------

class mutex(spinlock_t):
    """``struct mutex`` / a writer of a ``percpu_rw_semaphore``: a sleeping lock."""

    sleeping = True


def mutex_lock(lock: mutex) -> None:
    ctx = rt.current_ctx()
    might_sleep()
    rt.hook(rt.LOCK, lock)
    lock.owner = ctx
    ctx.locks_held.append(lock)


def mutex_unlock(lock: mutex) -> None:
    ctx = rt.current_ctx()
    rt.hook(rt.UNLOCK, lock)
    if lock.owner is ctx:
        lock.owner = None
    try:
        ctx.locks_held.remove(lock)
    except ValueError:
        pass
