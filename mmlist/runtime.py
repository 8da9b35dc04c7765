"""The one runtime hook.

Every operation of the model that another thread can observe calls ``hook(op, obj, arg)``
*before* it takes effect: lock and unlock, READ_ONCE/WRITE_ONCE, plain accesses to shared
fields, atomic bitops, reference counts, wait and wake, and the protocol's own trace points.
An engine plugs in by ``install(engine)``; the model never knows which engine runs it.

Loom has two doors into its scheduler (``branch`` and ``synchronize``); mmlist has one,
``hook``. The op code says what kind of door it is:

* scheduling ops (``op in SCHEDULING``): a controlled scheduler may switch threads here;
* blocking ops (``LOCK``, ``WAIT_SCHEDULE``): the hook returns only once the thread may
  proceed (the lock is free; the waiter has been woken);
* recording ops (plain ``READ``/``WRITE``, ``TRACE``, ``REPORT``, context changes): never a
  switch, only seen by checkers;
* ``CHOOSE``: a decision inside the model (``arg`` = number of alternatives); the engine's
  decision source answers with an ``int``.

The hook is called millions of times: engines keep it cheap, and ``hook`` is a module
attribute rebound by ``install`` so the model pays one attribute lookup and one call.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

# ---------------------------------------------------------------------------------------------
# Op codes. Small ints: compared with ``is``/``==`` on the hot path.
# ---------------------------------------------------------------------------------------------
LOCK = 1            # obj: spinlock_t / rw_semaphore;  blocks until free
UNLOCK = 2          # obj: the lock; released when the hook returns
TRYLOCK = 3         # obj: the lock; never blocks
READ_ONCE = 4       # obj, arg=field name (or index)
WRITE_ONCE = 5      # obj, arg=field name (or index)
READ = 6            # plain read of a protected field: recorded, not a switch
WRITE = 7           # plain write of a protected field: recorded, not a switch
BIT_READ = 8        # obj: bitmap, arg: bit number (or None for the whole map)
BIT_WRITE = 9       # obj: bitmap, arg: bit number (or None for the whole map)
ATOMIC = 10         # obj: atomic_t,  arg: operation name ("inc_not_zero", "dec_and_test"...)
WAIT_PREPARE = 11   # obj: wait_queue_head; the thread is now on the queue
WAIT_SCHEDULE = 12  # obj: wait_queue_head; blocks until woken
WAIT_FINISH = 13    # obj: wait_queue_head
WAKE = 14           # obj: wait_queue_head; the engine empties obj.waiters, unblocking them
YIELD = 15          # cond_resched(): a voluntary switch point
CONTEXT = 16        # obj: ThreadCtx, arg: what changed ("irq_off", "irq_on", "might_sleep"...)
TRACE = 17          # obj: event name (str), arg: dict of protocol facts
REPORT = 18         # obj: a Violation raised by a kernel assertion
CHOOSE = 19         # arg: number of alternatives; returns an int in range(arg)
THREAD_START = 20
THREAD_END = 21

OP_NAMES = {v: k for k, v in dict(globals()).items() if isinstance(v, int) and k.isupper()}

SCHEDULING = frozenset({LOCK, UNLOCK, TRYLOCK, READ_ONCE, WRITE_ONCE, BIT_READ, BIT_WRITE,
                        ATOMIC, WAIT_PREPARE, WAIT_SCHEDULE, WAKE, YIELD})
#: For partial-order reduction: ops that only read the object they name.
READ_KIND = frozenset({READ_ONCE, READ, BIT_READ, TRYLOCK})


class KernelPanic(Exception):
    """A BUG() in model code: ends the model thread that hit it (the kernel would oops)."""

    def __init__(self, violation: Any):
        super().__init__(getattr(violation, "message", str(violation)))
        self.violation = violation


class ExecutionAborted(BaseException):
    """Raised inside a model thread by a controlled engine to unwind it (execution cut off).

    A BaseException so that model code's ``except Exception`` can never swallow it.
    """


# ---------------------------------------------------------------------------------------------
# Per-thread context: what `current`, irqs_disabled() and lockdep know about a model thread.
# ---------------------------------------------------------------------------------------------
@dataclass(eq=False)
class ThreadCtx:
    """The CPU-side state of one model thread (a kernel context running on some CPU)."""

    name: str
    tid: int = 0
    task: Any = None                 # `current`: the task_struct this context runs as
    irqs_disabled: bool = False
    preempt_count: int = 0
    rcu_depth: int = 0
    locks_held: list = field(default_factory=list)   # lock objects, in acquisition order
    waiting_on: Any = None           # wait_queue_head while between prepare and finish
    engine_data: Any = None          # private to the engine (semaphores, pending op...)

    @property
    def label(self) -> str:
        return self.name


_tls = threading.local()
_setup_ctx = ThreadCtx(name="setup", tid=-1)


def current_ctx() -> ThreadCtx:
    """The ThreadCtx of the calling model thread (the setup context outside any thread)."""
    return getattr(_tls, "ctx", _setup_ctx)


def bind_thread(ctx: ThreadCtx | None) -> None:
    """Make ``ctx`` the context of the calling OS thread (engines call this)."""
    _tls.ctx = ctx if ctx is not None else _setup_ctx


# ---------------------------------------------------------------------------------------------
# Engines.
# ---------------------------------------------------------------------------------------------
class Engine:
    """The interface an engine implements: one method, called for every observable op."""

    world: Any = None

    def hook(self, op: int, obj: Any = None, arg: Any = None) -> Any:  # pragma: no cover
        raise NotImplementedError


_DIRECT_ACTIONS = frozenset({LOCK, UNLOCK, WAIT_SCHEDULE, WAKE, CHOOSE})


class DirectEngine(Engine):
    """Runs model code on the calling thread(s) with real ``threading`` primitives.

    It is the default engine (sequential tests, scenario set-up) and the free-running engine
    of stress runs: ``LOCK`` takes a real lock, ``WAIT_SCHEDULE`` blocks on a real condition.
    ``listeners`` (checkers, recorders) see every op as ``listener(ctx, op, obj, arg)``.
    Listener calls are serialised by one lock so checkers need not be thread-safe.
    """

    def __init__(self, listeners: list[Callable] | None = None, rng: Any = None):
        self.listeners: list[Callable] = list(listeners or [])
        self._listen_lock = threading.Lock()
        self._rng = rng
        self._choose_lock = threading.Lock()

    def hook(self, op: int, obj: Any = None, arg: Any = None) -> Any:
        if op not in _DIRECT_ACTIONS:           # the common case: nothing to do but notify
            if self.listeners:
                self._notify(getattr(_tls, "ctx", _setup_ctx), op, obj, arg)
            return None
        ctx = getattr(_tls, "ctx", _setup_ctx)
        if op == LOCK:
            real = obj.real_lock()
            if not real.acquire(blocking=False):
                # Tell listeners we are about to block (lock-order graph wants it), then wait.
                real.acquire()
        elif op == UNLOCK:
            if getattr(obj, "owner", None) is ctx:
                obj.owner = None        # before the real release: the next owner sets its own
            obj.real_lock().release()
        elif op == WAIT_SCHEDULE:
            cond = obj.real_cond()
            with cond:
                while ctx in obj.waiters:
                    cond.wait(0.05)
        elif op == WAKE:
            cond = obj.real_cond()
            with cond:
                obj.waiters.clear()
                cond.notify_all()
        elif op == CHOOSE:
            if self.listeners:
                self._notify(ctx, op, obj, arg)
            with self._choose_lock:
                if self._rng is None:
                    return 0
                return int(self._rng.integers(arg))
        if self.listeners:
            self._notify(ctx, op, obj, arg)
        return None

    def _notify(self, ctx: ThreadCtx, op: int, obj: Any, arg: Any) -> None:
        with self._listen_lock:
            for listener in self.listeners:
                listener(ctx, op, obj, arg)


_default_engine = DirectEngine()
engine: Engine = _default_engine
#: The hook. Rebound by ``install``; model code calls ``runtime.hook(...)``.
hook: Callable[..., Any] = _default_engine.hook


def install(new_engine: Engine | None) -> Engine:
    """Plug ``new_engine`` into the hook (``None``: the default direct engine). Returns the old."""
    global engine, hook
    old = engine
    engine = new_engine if new_engine is not None else _default_engine
    hook = engine.hook
    return old


class installed:
    """``with installed(engine): ...`` plugs an engine in for the block."""

    def __init__(self, new_engine: Engine):
        self.new_engine = new_engine

    def __enter__(self) -> Engine:
        self.old = install(self.new_engine)
        return self.new_engine

    def __exit__(self, *exc: object) -> None:
        install(self.old)


def choose(n: int) -> int:
    """A decision inside the model among ``n`` alternatives, answered by the engine."""
    if n <= 1:
        return 0
    return hook(CHOOSE, None, n)


def trace(name: str, **facts: Any) -> None:
    """A protocol event for the history checks (never a scheduling point)."""
    hook(TRACE, name, facts)


# ---------------------------------------------------------------------------------------------
# Coverage points (``mmlist.coverage``): which branches of the protocol a search reached.
# ---------------------------------------------------------------------------------------------
#: The active recorder (``mmlist.coverage.Coverage``) or None. Set only by
#: ``mmlist.coverage.recording()``.
_coverage: Any = None


def cover(point: str) -> None:
    """Model code reached the branch ``point`` (a name of ``mmlist.coverage.POINTS``).

    Not an operation: it never goes through ``hook`` (no scheduling point, nothing a checker,
    a footprint or a replay sees), so a model with coverage marks runs the same schedules as
    one without. Off (no recorder active), it costs one global load. Model threads are real
    threads: ``set.add`` is atomic under the GIL. Points reached in the set-up context (a
    scenario building its World) are kept apart from those of the model threads.
    """
    rec = _coverage
    if rec is None:
        return
    if getattr(_tls, "ctx", _setup_ctx) is _setup_ctx:
        rec.setup.add(point)
    else:
        rec.hit.add(point)


def covering() -> bool:
    """True while a coverage recorder is active: model code guards with it the few points that
    need extra state (read raw, never through the hook) to tell their branch."""
    return _coverage is not None


# ---------------------------------------------------------------------------------------------
# The world the model runs in (the kernel's globals): set by the scenario.
# ---------------------------------------------------------------------------------------------
_world: Any = None


def set_world(world: Any) -> None:
    global _world
    _world = world


def world() -> Any:
    if _world is None:
        raise RuntimeError("no World is active: build one with mmlist.model.World(...)")
    return _world
