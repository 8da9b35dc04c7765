"""What one step of the controlled scheduler costs, against the floor of a thread handoff.

Four measurements, each small enough for a test to run on a budget of a few hundred steps
(``stress/benchmark.py`` runs them with large ones and writes docs/benchmarks.md):

* ``raw_handoff(kind, n)``: two real threads ping-ponging with one primitive (``_thread`` lock
  pairs, ``threading.Event``, ``threading.Condition``, ``os.pipe``, ``queue.SimpleQueue``):
  wall-clock µs per handoff, on one CPU as explorations run (``same_cpu=False``: where the OS
  puts them). The cheapest is the floor any thread switch pays.
* ``switch_cost(n)``: a scheduling point that switches threads: two model threads doing marked
  accesses of a real World's fields, a strategy that always picks the other one. Wall µs per
  step, to compare with ``raw_handoff`` of the primitive the controller hands off with
  (``controller_primitive()``).
* ``nonswitch_cost(n)``: a scheduling point that does not switch (the strategy picks the thread
  that is already running): CPU µs per step of that thread (``time.thread_time``), with every
  check on (structural, races, history, lockdep).
* ``plain_cost(n)``: a plain recording op (``READ``/``WRITE`` of a ``tracked`` field: the hook,
  no scheduling point), CPU µs per op, same checks.

``baseline_cost(n)`` is the same access on the default engine with no listener: what the op
costs without a scheduler or a check (the ``net`` figures subtract it).

The model threads are ordinary ``ThreadSpec``s whose bodies use the kernel helpers
(``mmlist.kernel.fields.READ_ONCE``/``WRITE_ONCE`` and the ``tracked`` descriptors) on
``lru_gen_mm_state`` fields of a World built by a built-in scenario, so the checks see the same
events as in a real run. Writes store back the value read: the state never changes, so no check
fires and the figures are those of a clean step.
"""
from __future__ import annotations

import _thread
import inspect
import os
import queue
import statistics
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from .. import runtime as rt
from ..kernel.fields import READ_ONCE, WRITE_ONCE
from ..programs import ThreadSpec
from .affinity import one_cpu
from .controller import Controller, WorkerPool
from .strategies import Strategy

#: the handoff primitives ``raw_handoff`` knows, cheapest first on a typical Linux box
HANDOFFS = ("lock", "simplequeue", "event", "condition", "pipe")
#: what each is, for the report
HANDOFF_TEXT = {
    "lock": "a pair of _thread.allocate_lock() (threading.Lock): release the other's, "
            "acquire one's own",
    "simplequeue": "a pair of queue.SimpleQueue: put to the other, get from one's own",
    "event": "a pair of threading.Event: set the other's, wait and clear one's own",
    "condition": "one threading.Condition and a turn variable: notify, wait for one's turn",
    "pipe": "a pair of os.pipe(): write one byte to the other, read one from one's own",
}
#: the access patterns of the step measurements (READ_ONCE/WRITE_ONCE of mm_state->seq)
PATTERNS = ("read", "write", "mixed")


# ---------------------------------------------------------------------------------------------
# The raw handoff.
# ---------------------------------------------------------------------------------------------
def _primitive(kind: str) -> tuple[Callable[[int], None], Callable[[int], None], Callable]:
    """``(signal, wait, close)`` for two threads 0 and 1: ``signal(i)`` lets thread ``i`` run,
    ``wait(i)`` blocks thread ``i`` until it is signalled."""
    if kind == "lock":
        locks = [_thread.allocate_lock(), _thread.allocate_lock()]
        for lk in locks:
            lk.acquire()
        return (lambda i: locks[i].release()), (lambda i: locks[i].acquire()), (lambda: None)
    if kind == "simplequeue":
        qs = [queue.SimpleQueue(), queue.SimpleQueue()]
        return (lambda i: qs[i].put(None)), (lambda i: qs[i].get()), (lambda: None)
    if kind == "event":
        evs = [threading.Event(), threading.Event()]

        def wait_event(i: int) -> None:
            evs[i].wait()
            evs[i].clear()
        return (lambda i: evs[i].set()), wait_event, (lambda: None)
    if kind == "condition":
        cond = threading.Condition()
        turn = [-1]

        def signal_cond(i: int) -> None:
            with cond:
                turn[0] = i
                cond.notify()

        def wait_cond(i: int) -> None:
            with cond:
                while turn[0] != i:
                    cond.wait()
        return signal_cond, wait_cond, (lambda: None)
    if kind == "pipe":
        pipes = [os.pipe(), os.pipe()]

        def close() -> None:
            for r, w in pipes:
                os.close(r)
                os.close(w)
        return ((lambda i: os.write(pipes[i][1], b"\0")),
                (lambda i: os.read(pipes[i][0], 1)), close)
    raise ValueError(f"unknown handoff primitive {kind!r} (known: {', '.join(HANDOFFS)})")


@dataclass
class Handoff:
    """One ping-pong: ``wall_us`` and ``cpu_us`` (process CPU) per handoff."""

    kind: str
    handoffs: int
    wall_us: float
    cpu_us: float


def raw_handoff(kind: str, n: int, same_cpu: bool = True) -> Handoff:
    """Two real threads hand control to each other ``n`` times each way with ``kind``; on one
    CPU (``same_cpu``, as the controlled scheduler runs: ``mmlist.sched.affinity``) or
    wherever the OS puts them (typically two: each handoff then wakes an idle CPU)."""
    if same_cpu:
        with one_cpu():
            return raw_handoff(kind, n, same_cpu=False)
    signal, wait, close = _primitive(kind)

    def other() -> None:
        for _ in range(n):
            wait(1)
            signal(0)

    t = threading.Thread(target=other, name=f"handoff-{kind}", daemon=True)
    t.start()
    try:
        c0, t0 = time.process_time(), time.perf_counter()
        for _ in range(n):
            signal(1)
            wait(0)
        t1, c1 = time.perf_counter(), time.process_time()
        t.join()
    finally:
        close()
    steps = 2 * n
    return Handoff(kind, steps, (t1 - t0) / steps * 1e6, (c1 - c0) / steps * 1e6)


def controller_primitive() -> str | None:
    """The handoff primitive the controller's workers park on (``_Worker.go``), as a
    ``HANDOFFS`` name; None when it is none of them (the switch is then compared with the
    floor)."""
    try:
        with WorkerPool() as pool:
            go = getattr(pool.get(1)[0], "go", None)
    except Exception:                   # the pool's shape changed: say we do not know
        return None
    kind = getattr(type(go), "kind", None)     # workers.PipeGo names itself
    if kind in HANDOFFS:
        return kind
    if isinstance(go, type(_thread.allocate_lock())):
        return "lock"
    if isinstance(go, queue.SimpleQueue):
        return "simplequeue"
    if isinstance(go, threading.Event):
        return "event"
    if isinstance(go, threading.Condition):
        return "condition"
    return None


# ---------------------------------------------------------------------------------------------
# Decision sources for the step measurements.
# ---------------------------------------------------------------------------------------------
class Stay(Strategy):
    """Never switches while the running thread can go on: every step is a non-switch."""

    name = "stay"

    def pick(self, runnable: list[int], state: Any) -> int:
        cur = state.current
        return cur if cur in runnable else runnable[0]

    def choose(self, n: int, state: Any) -> int:
        return 0


class Alternate(Strategy):
    """Always picks another thread than the one running: every step is a switch."""

    name = "alternate"

    def pick(self, runnable: list[int], state: Any) -> int:
        cur = state.current
        for tid in runnable:
            if tid != cur:
                return tid
        return runnable[0]

    def choose(self, n: int, state: Any) -> int:
        return 0


# ---------------------------------------------------------------------------------------------
# Model threads that measure themselves.
# ---------------------------------------------------------------------------------------------
@dataclass
class Probe:
    """Clock readings of the measured loops: each thread's CPU time, and the wall and process
    CPU time from the first loop's start to the last loop's end."""

    thread_cpu: list[float] = field(default_factory=list)
    wall0: float | None = None
    wall1: float = 0.0
    proc0: float = 0.0
    proc1: float = 0.0
    ops: int = 0

    def begin(self) -> float:
        if self.wall0 is None:
            self.proc0, self.wall0 = time.process_time(), time.perf_counter()
        return time.thread_time()

    def end(self, cpu0: float, ops: int) -> None:
        self.thread_cpu.append(time.thread_time() - cpu0)
        self.wall1, self.proc1 = time.perf_counter(), time.process_time()
        self.ops += ops


def mm_state_of(world: Any) -> Any:
    """The ``lru_gen_mm_state`` of the World's first lruvec: real tracked fields."""
    return next(iter(world.lruvecs())).mm_state


def _marked_loop(pattern: str, n: int, probe: Probe) -> Callable[[Any], None]:
    """A body doing ``n`` scheduling points: READ_ONCE/WRITE_ONCE of mm_state->seq."""
    if pattern not in PATTERNS:
        raise ValueError(f"unknown pattern {pattern!r} (known: {', '.join(PATTERNS)})")

    def body(world: Any) -> None:
        ms = mm_state_of(world)
        seq = ms.__dict__["_seq"]           # the value to write back (read raw: no event)
        cpu0 = probe.begin()
        if pattern == "read":
            for _ in range(n):
                READ_ONCE(ms, "seq")
        elif pattern == "write":
            for _ in range(n):
                WRITE_ONCE(ms, "seq", seq)
        else:
            for _ in range(n // 2):
                READ_ONCE(ms, "seq")
                WRITE_ONCE(ms, "seq", seq)
        probe.end(cpu0, n if pattern != "mixed" else n // 2 * 2)
    return body


def _plain_loop(op: str, n: int, probe: Probe) -> Callable[[Any], None]:
    """A body doing ``n`` plain accesses of mm_state->head (recording ops, no switch)."""
    def body(world: Any) -> None:
        ms = mm_state_of(world)
        head = ms.__dict__["_head"]
        cpu0 = probe.begin()
        if op == "read":
            for _ in range(n):
                ms.head
        else:
            for _ in range(n):
                ms.head = head
        probe.end(cpu0, n)
    return body


def _specs(bodies: list[Callable[[Any], None]]) -> list[ThreadSpec]:
    return [ThreadSpec(f"step{i}", b) for i, b in enumerate(bodies)]


def _suite(world: Any) -> Any:
    """A check suite with every check on (the same one ``explore`` builds)."""
    from ..checks import CheckSuite
    return CheckSuite(world, structural=True, races=True, history=True, lockdep=True)


def _run(scenario: str, bodies: list[Callable[[Any], None]], source: Strategy,
         steps: int) -> Any:
    """One controlled execution of ``bodies`` in a fresh World of ``scenario``, every check
    on; returns the ``Execution``. Passes only the keywords ``Controller.run`` takes, so a
    reshaped controller still runs it."""
    from ..scenarios import BUILTIN
    world, _ = BUILTIN[scenario].build()
    suite = _suite(world)
    want = {"structural": True, "fair": False, "step_budget": steps + 1000, "record": 0,
            "footprints": False, "stop_on_violation": False, "outcome": False,
            "every_access": False, "watchdog": None}
    params = inspect.signature(Controller.run).parameters
    kwargs = {k: v for k, v in want.items() if k in params}
    with one_cpu(), WorkerPool() as pool:          # as explore() runs
        ex = Controller(pool).run(world, _specs(bodies), source, suite, **kwargs)
    if ex.status != "finished":
        raise RuntimeError(f"step measurement did not finish: {ex.status}")
    return ex


@dataclass
class StepCost:
    """``wall_us``/``cpu_us`` per step; ``thread_cpu_us``: CPU of the model threads only (the
    measure of a non-switch step); ``violations``: checks that fired (0 for a clean step)."""

    what: str
    pattern: str
    steps: int
    wall_us: float
    cpu_us: float
    thread_cpu_us: float
    violations: int

    @classmethod
    def of(cls, what: str, pattern: str, probe: Probe, ex: Any) -> "StepCost":
        n = max(probe.ops, 1)
        return cls(what, pattern, probe.ops, (probe.wall1 - (probe.wall0 or 0.0)) / n * 1e6,
                   (probe.proc1 - probe.proc0) / n * 1e6, sum(probe.thread_cpu) / n * 1e6,
                   len(ex.violations))


def nonswitch_cost(n: int, pattern: str = "mixed", threads: int = 3,
                   scenario: str = "walkers") -> StepCost:
    """``threads`` model threads of ``n`` marked accesses each; the strategy never switches
    while the running thread can go on. CPU per step is the model threads' own CPU time (the
    scheduler decides on the thread that reached the point)."""
    probe = Probe()
    ex = _run(scenario, [_marked_loop(pattern, n, probe) for _ in range(threads)], Stay(),
              n * threads)
    return StepCost.of("non-switch", pattern, probe, ex)


def switch_cost(n: int, pattern: str = "read", scenario: str = "walkers") -> StepCost:
    """Two model threads of ``n`` marked accesses each; every scheduling point hands over to
    the other thread. Wall time per step, from the first loop's start to the last one's end."""
    probe = Probe()
    ex = _run(scenario, [_marked_loop(pattern, n, probe) for _ in range(2)], Alternate(),
              2 * n)
    return StepCost.of("switch", pattern, probe, ex)


def plain_cost(n: int, op: str = "read", scenario: str = "walkers") -> StepCost:
    """One model thread doing ``n`` plain reads (or writes) of a tracked field: recording ops
    through the hook and the checks, never a scheduling point."""
    probe = Probe()
    ex = _run(scenario, [_plain_loop(op, n, probe)], Stay(), 10)
    return StepCost.of("plain", op, probe, ex)


def baseline_cost(n: int, what: str = "marked", scenario: str = "walkers") -> float:
    """CPU µs per access on the default engine with no listener: READ_ONCE of mm_state->seq
    (``marked``) or a plain read of mm_state->head (``plain``). What the op itself costs."""
    from ..scenarios import BUILTIN
    world, _ = BUILTIN[scenario].build()
    ms = mm_state_of(world)
    old = rt.install(None)
    try:
        c0 = time.thread_time()
        if what == "marked":
            for _ in range(n):
                READ_ONCE(ms, "seq")
        else:
            for _ in range(n):
                ms.head
        c1 = time.thread_time()
    finally:
        rt.install(old)
    return (c1 - c0) / n * 1e6


# ---------------------------------------------------------------------------------------------
# Everything, interleaved.
# ---------------------------------------------------------------------------------------------
def _spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def measure(n: int = 20_000, handoffs: int = 20_000, repeats: int = 5,
            scenario: str = "walkers", kinds: tuple[str, ...] = HANDOFFS) -> dict[str, Any]:
    """Every figure above, ``repeats`` rounds, each round measuring the raw handoffs and the
    controller's steps back to back so that they share the machine's load. Returns a
    JSON-ready dict: per figure the median, min and max over the rounds (µs), plus the
    controller's primitive and the floor (the cheapest primitive by median)."""
    raw: dict[str, list[Handoff]] = {k: [] for k in kinds}
    steps: dict[str, list[StepCost]] = {}

    def keep(key: str, sc: StepCost) -> None:
        steps.setdefault(key, []).append(sc)

    for _ in range(repeats):
        for k in kinds:
            raw[k].append(raw_handoff(k, handoffs))
        keep("switch", switch_cost(n // 2, "read", scenario))
        for p in PATTERNS:
            keep(f"nonswitch_{p}", nonswitch_cost(n // 3, p, 3, scenario))
        keep("plain_read", plain_cost(n, "read", scenario))
        keep("plain_write", plain_cost(n, "write", scenario))
    prim = controller_primitive()
    two_cpus = [raw_handoff(prim or "lock", handoffs, same_cpu=False) for _ in range(repeats)]
    base_marked = statistics.median(baseline_cost(n, "marked", scenario) for _ in range(3))
    base_plain = statistics.median(baseline_cost(n, "plain", scenario) for _ in range(3))
    raw_out = {k: {"wall_us": _spread([h.wall_us for h in v]),
                   "cpu_us": _spread([h.cpu_us for h in v]), "what": HANDOFF_TEXT[k]}
               for k, v in raw.items()}
    floor = min(raw_out, key=lambda k: raw_out[k]["wall_us"]["median"])
    step_out = {}
    for key, v in steps.items():
        step_out[key] = {"wall_us": _spread([s.wall_us for s in v]),
                         "cpu_us": _spread([s.cpu_us for s in v]),
                         "thread_cpu_us": _spread([s.thread_cpu_us for s in v]),
                         "steps": v[0].steps, "violations": max(s.violations for s in v),
                         "rounds": [asdict(s) for s in v]}
    return {"n": n, "handoffs": handoffs, "repeats": repeats, "scenario": scenario,
            "raw": raw_out, "floor": floor, "controller_primitive": prim,
            "raw_two_cpus": {"kind": prim or "lock",
                             "wall_us": _spread([h.wall_us for h in two_cpus])},
            "steps": step_out,
            "baseline_us": {"marked": base_marked, "plain": base_plain}}


__all__ = ["HANDOFFS", "PATTERNS", "Alternate", "Handoff", "Probe", "StepCost", "Stay",
           "baseline_cost", "controller_primitive", "measure", "nonswitch_cost", "plain_cost",
           "raw_handoff", "switch_cost"]
