"""From a stress find to a deterministic replay.

A violation that ``mmlist stress`` saw on free-running threads cannot be run again: the
operating system chose the interleaving. ``reproduce`` turns it into a scenario that the
controlled scheduler runs, searches that scenario's interleavings near the one stress saw until
the same violation comes back, shrinks it and writes a normal replay file (``mmlist replay``).

The scenario (``StressScenario``, saved whole in the replay file: it is data, not code):

* **set-up**: the stress World's own set-up (``churn.populate``: same memcgs, same tasks, same
  pids), then every operation the run had *completed* before the window below, one after the
  other in the order they returned, with the kworker's queue drained after each (as in the
  scenarios' set-ups, without a scheduling point);
* **threads**: one model thread per stress thread, running its last ``k`` operations up to and
  including the one it was in when the violation was reported (the *window*; ``k`` = 1, then 2,
  then 4), plus the kworker.

The set-up is a linearisation of a concurrent history: the World it builds is the one of some
serial order of those operations, which is not always the World stress had. The search
(``Hint``) follows the order in which stress ran the window's scheduling operations (the
``oplog`` hint: each thread's k-th step goes where its k-th hook operation went), then departs
from it more and more. A violation *reproduces* when the search shows one with the same
registry label, or, for a new one, the same signature (``findings.finding_key``). When none
does within the budget, ``reproduce`` says so and why: nothing is written that does not replay.

Once reproduced, the set-up is cut down (none of the history, then its last 16, 128...
operations) while the violation still reproduces, and ``explore.record_failure`` shrinks the
schedule and drops threads, as for a ``hunt`` find.
"""
from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from typing import Any

from . import churn
from . import programs as P
from . import runtime as rt
from .errors import SetupError
from .findings import classify, finding_key
from .model import exec as exec_, exit as exit_, fork, memcontrol
from .model.structs import CLONE_VM
from .model.world import World
from .oplog import Entry, Stamp
from .programs import ThreadSpec
from .scenarios import Scenario
from .sched.strategies import Strategy
from .violation import Violation

#: the operations a stress thread logs, and the types of their arguments (after the name)
OPS: dict[str, tuple[type, ...]] = {
    "fork": (int, int, int),            # parent pid, CLONE_VM (0/1), the child's pid in stress
    "exec": (int,),                     # pid
    "exit": (int,),                     # pid
    "migrate": (int, str),              # pid, memcg name
    "switch": (int, str),               # CPU, the comm of the task switched to
    "use_mm": (int,),                   # pid whose mm kthread0 borrows
    "age_node": (int,),                 # node (kswapd)
    "reclaim": (str, int, int),         # memcg name, node, priority (direct reclaim)
    "debugfs": (str, int),              # memcg name, node (lru_gen_seq_write, full_scan)
    "mkdir": (str,),                    # a new memcg's name
    "rmdir": (str,),                    # memcg name
}
#: operations per thread in the window, tried in turn
WINDOWS = (1, 2, 4)
#: set-ups tried when cutting the history down (None: all of it)
SETUP_TAILS = (0, 16, 128, 1024)
#: scheduling steps one replay execution may take
STEP_BUDGET = 100_000
#: seconds shrinking a find may take at least (else: until the searches' deadline)
SHRINK_SECONDS = 10.0
#: ... when searching for a thread that did not end: past this many, a cut-off (a livelock)
HANG_STEP_BUDGET = 20_000
#: departures from the hint, cycled over the search's executions
DEPARTURES = (0.0, 0.01, 0.03, 0.1, 0.3)
#: the stress ChurnConfig fields the scenario keeps (they shape the World and the threads)
SHAPE = ("memcgs", "tasks", "nodes", "walkers", "lifecycle", "seed")


#: the names of the memcgs the memcg thread makes and removes
_MADE = re.compile(r"D[0-9]{1,6}")


class StressScenarioError(ValueError):
    """A stress scenario definition that is not well formed (from a corrupt replay file)."""


# --- the scenario ---------------------------------------------------------------------------------

def _check_op(op: Any, where: str, shape: dict[str, int]) -> None:
    if not isinstance(op, list) or not op or op[0] not in OPS:
        raise StressScenarioError(f"{where}: not an operation: {str(op)[:60]}")
    types = OPS[op[0]]
    if len(op) != len(types) + 1 or not all(
            isinstance(a, t) and not (t is int and isinstance(a, bool))
            for a, t in zip(op[1:], types)):
        raise StressScenarioError(f"{where}: {op[0]} wants {len(types)} arguments "
                                  f"({', '.join(t.__name__ for t in types)}): {str(op)[:60]}")
    memcgs = churn.memcg_names(shape["memcgs"])
    name, args = op[0], op[1:]
    made = _MADE.fullmatch(args[0]) is not None if name in ("mkdir", "rmdir") else True
    ok = {"migrate": lambda: args[1] in memcgs or _MADE.fullmatch(args[1]) is not None,
          "mkdir": lambda: made, "rmdir": lambda: made,
          "debugfs": lambda: args[0] in memcgs and 0 <= args[1] < shape["nodes"],
          "switch": lambda: 0 <= args[0] < churn.CPU_THREADS and args[1] in (
              f"swapper/{args[0]}", *(f"run{args[0]}.{i}" for i in range(2))),
          "age_node": lambda: 0 <= args[0] < shape["nodes"],
          "reclaim": lambda: args[0] in memcgs and 0 <= args[1] < shape["nodes"]
          and 0 <= args[2] <= 12,
          "fork": lambda: args[1] in (0, 1)}.get(name, lambda: True)()
    if not ok or any(isinstance(a, int) and not 0 <= a < 1 << 31 for a in args):
        raise StressScenarioError(f"{where}: out of range for this World: {str(op)[:60]}")


def check_definition(d: Any) -> dict[str, Any]:
    """``d`` if it is a well-formed definition; ``StressScenarioError`` naming what is not."""
    if not isinstance(d, dict):
        raise StressScenarioError("stress_scenario: expected an object")
    shape = d.get("shape")
    if not isinstance(shape, dict) or set(shape) != set(SHAPE) or not all(
            isinstance(shape[k], int) and not isinstance(shape[k], bool) and shape[k] >= 0
            for k in SHAPE):
        raise StressScenarioError(f"stress_scenario.shape: expected integers {', '.join(SHAPE)}")
    if shape["memcgs"] < 1 or shape["nodes"] < 1 or shape["lifecycle"] < 1 \
            or shape["memcgs"] > 64 or shape["nodes"] > 8 or shape["tasks"] > 4096 \
            or shape["walkers"] > 64 or shape["lifecycle"] > 64:
        raise StressScenarioError("stress_scenario.shape: out of range")
    conf = d.get("config", {})
    if not isinstance(conf, dict):
        raise StressScenarioError("stress_scenario.config: expected an object")
    try:
        churn.parse_config([f"{k}={int(v) if isinstance(v, bool) else v}"
                            for k, v in conf.items()])
    except ValueError as e:
        raise StressScenarioError(f"stress_scenario.config: {e}") from None
    if not isinstance(d.get("setup"), list):
        raise StressScenarioError("stress_scenario.setup: expected a list of operations")
    for i, step in enumerate(d["setup"]):
        where = f"stress_scenario.setup[{i}]"
        if not isinstance(step, list) or len(step) != 2 or not isinstance(step[0], str) \
                or not _in_shape(step[0], shape):
            raise StressScenarioError(f"{where}: expected [thread, operation]")
        _check_op(step[1], where, shape)
    threads = d.get("threads")
    if not isinstance(threads, list) or not threads:
        raise StressScenarioError("stress_scenario.threads: expected a list of threads")
    names = set()
    for i, t in enumerate(threads):
        where = f"stress_scenario.threads[{i}]"
        if not isinstance(t, dict) or not isinstance(t.get("name"), str) \
                or not isinstance(t.get("ops"), list):
            raise StressScenarioError(f"{where}: expected {{name, ops}}")
        if t["name"] in names or not _in_shape(t["name"], shape):
            raise StressScenarioError(f"{where}: not a stress thread: {t['name'][:40]!r}")
        names.add(t["name"])
        for j, op in enumerate(t["ops"]):
            _check_op(op, f"{where}.ops[{j}]", shape)
    return d


def _role(name: str) -> tuple[str, Any, str] | None:
    """(kind, cpu, the comm it runs as) of a stress thread's name; None for another name."""
    if name.startswith("kswapd") and name[6:].isdigit():
        return "walker", 0, name
    if name.startswith("reclaim") and name[7:].isdigit():
        return "walker", 0, name
    if name.startswith("lifecycle") and name[9:].isdigit() or name == "migrate":
        return "lifecycle", 0, "sh"
    if name.startswith("cpu") and name[3:].isdigit():
        return "cpu", int(name[3:]), ""
    if name == "use_mm(kthread0)":
        return "lifecycle", churn.CPU_THREADS, "kthread0"
    if name == "debugfs":
        return "walker", 0, "debugfs"
    if name == "cgroup":
        return "lifecycle", 0, "sh"
    return None


def _in_shape(name: str, shape: dict[str, int]) -> bool:
    """A thread name a stress run of this shape has (the kworker excepted)."""
    role = _role(name)
    if role is None:
        return False
    n = "".join(ch for ch in name if ch.isdigit())
    limit = {"kswapd": shape["nodes"], "reclaim": shape["walkers"],
             "lifecycle": shape["lifecycle"], "cpu": churn.CPU_THREADS}
    for prefix, lim in limit.items():
        if name.startswith(prefix):
            return int(n) < lim
    return True


class _Tasks:
    """Stress pids -> the replay's tasks. The stress World's own tasks keep their pids (same
    set-up); a forked child is named by the pid stress gave it, and found by what the replay's
    fork returned. An exited task maps to None: operations on it are skipped, as stress never
    ran them (a task exits in its own thread, after which that thread leaves it alone)."""

    def __init__(self, world: World):
        self.world = world
        self.first_forked = world._next_pid     # pids below: the set-up's own
        self.forked: dict[int, Any] = {}

    def get(self, pid: int) -> Any:
        if pid in self.forked:
            return self.forked[pid]
        if pid < self.first_forked:
            t = self.world.find_task_by_pid(pid)
            return t if t is not None and not t.exited else None
        return None


def run_op(w: World, tasks: _Tasks, op: list) -> None:
    """One logged operation, as the stress thread ran it (``mmlist.churn``)."""
    name = op[0]
    if name == "age_node":
        churn.age_node(w, op[1])
        w.aging_round_done()
    elif name == "reclaim":
        churn.reclaim(w, op[1], op[2], op[3])
        w.aging_round_done()
    elif name == "debugfs":
        P.lru_gen_seq_write(w, op[1], op[2])
    elif name in ("mkdir", "rmdir"):
        # a set-up cut short may have dropped the mkdir (then the rmdir has nothing to remove)
        if (name == "mkdir") != (op[1] in {m.label for m in w.memcgs}):
            churn.cgroup_op(w, op)
    elif name == "switch":
        ctx = rt.current_ctx()
        ctx.task = w.runqueues[op[1]].curr
        P.cpu(op[1], [op[2]]).body(w)
    elif name == "fork":
        t = tasks.get(op[1])
        if t is not None:
            child = churn._as(t, lambda: fork.kernel_clone(t, CLONE_VM if op[2] else 0))
            tasks.forked[op[3]] = child
    elif name in ("exec", "exit", "use_mm", "migrate"):
        t = tasks.get(op[1])
        if t is None:
            return
        if name == "exec":
            churn._as(t, exec_.do_execve)
        elif name == "exit":
            churn._as(t, exit_.do_exit)
            tasks.forked[op[1]] = None
        elif name == "use_mm":
            churn.borrow_mm(t)
        elif op[2] in {m.label for m in w.memcgs}:
            memcontrol.cgroup_migrate(t.pid, w.memcg(op[2]))


def _shape_cfg(d: dict[str, Any]) -> churn.ChurnConfig:
    conf = d.get("config", {})
    return churn.ChurnConfig(**{k: d["shape"][k] for k in SHAPE}, config=churn.parse_config(
        [f"{k}={int(v) if isinstance(v, bool) else v}" for k, v in conf.items()]))


def scenario_from_definition(d: dict[str, Any], name: str = "stress-find") -> Scenario:
    """The controlled-scheduler scenario of a definition (``check_definition``'d)."""
    cfg = _shape_cfg(d)
    setup_ops = [(str(t), list(op)) for t, op in d["setup"]]
    threads = [(t["name"], [list(op) for op in t["ops"]]) for t in d["threads"]]

    def setup(w: World) -> None:
        churn.populate(w, cfg)
        w.stress_tasks = tasks = _Tasks(w)      # shared with the threads, restored with the World
        ctx = rt.current_ctx()
        saved = ctx.task, getattr(ctx, "cpu", 0)
        try:
            for thread, op in setup_ops:
                # as the stress thread that ran it: its task is ``current``, on its CPU
                kind, cpu, comm = _role(thread)     # type: ignore[misc]
                ctx.task = w.runqueues[cpu].curr if kind == "cpu" else P._by_comm(comm)(w)
                ctx.cpu = cpu                       # type: ignore[attr-defined]
                run_op(w, tasks, op)
                w.run_pending_work()                # the kworker's queue, drained
        finally:
            ctx.task, ctx.cpu = saved               # type: ignore[attr-defined]

    def specs(w: World) -> list[ThreadSpec]:
        tasks = w.stress_tasks
        out = []
        for tname, ops in threads:
            kind, cpu, comm = _role(tname)      # type: ignore[misc]
            task = (lambda w, c=cpu: w.runqueues[c].curr) if kind == "cpu" else P._by_comm(comm)

            def body(w: World, ops: list = ops) -> None:
                for op in ops:
                    run_op(w, tasks, op)
            out.append(ThreadSpec(tname, body, task, cpu=cpu,
                                  kind="walker" if kind == "walker" else "lifecycle",
                                  describe=", ".join(op[0] for op in ops)))
        out.append(P.kworker())
        return out
    sc = Scenario(name, f"a stress find: {len(setup_ops)} operations of set-up, then "
                        f"{', '.join(t for t, _ in threads)}",
                  setup, specs, config=churn.world_config(cfg), definition=d)
    return sc


def definition(shape: dict[str, int], config: dict[str, Any], names: list[str],
               log: list[list[Entry]], stamp: Stamp, k: int,
               tail: int | None) -> tuple[dict[str, Any], set[tuple[int, int]]]:
    """The scenario of a stamp: per thread its last ``k`` operations started before the stamp,
    the set-up every other operation that had returned by then (its last ``tail``, or all),
    in the order they returned. Also returns the window, as (thread, index) pairs."""
    window: set[tuple[int, int]] = set()
    threads = []
    for tid, name in enumerate(names):
        if _role(name) is None:
            continue                    # the kworker: it runs whatever is queued
        n = min(stamp.started[tid], len(log[tid]))
        idx = list(range(max(0, n - k), n))
        window.update((tid, i) for i in idx)
        ops = [log[tid][i].op for i in idx if log[tid][i].op[0] != "fork"
               or log[tid][i].op[3] is not None]
        if ops:
            threads.append({"name": name, "ops": ops})
    done = sorted((e.end, tid, i) for tid in range(len(names)) for i, e in enumerate(log[tid])
                  if e.end is not None and e.end < stamp.seq and (tid, i) not in window)
    setup = [[names[tid], log[tid][i].op] for _, tid, i in done]
    if tail is not None:
        setup = setup[len(setup) - tail:] if tail else []
    return {"shape": dict(shape), "config": dict(config), "setup": setup,
            "threads": threads}, window


def hint_of(names: list[str], log: list[list[Entry]], stamp: Stamp,
            window: set[tuple[int, int]]) -> dict[str, list[int]]:
    """Per thread of the window: the global positions (in stress) of its scheduling
    operations from the window's start to the stamp, from the bounded ring ``stamp.recent``
    (positions older than the ring are taken as its oldest)."""
    hints: dict[str, list[int]] = {}
    if stamp.recent is None:
        return hints
    for tid, name in enumerate(names):
        first = [i for t, i in window if t == tid]
        if not first:
            continue
        h0, h1 = log[tid][min(first)].hooks, stamp.hooks[tid]
        ring = stamp.recent[tid]
        base = h1 - len(ring)               # the thread's hook count of ring[0]
        if not ring:
            continue
        hints[name] = [ring[max(0, j - base)] for j in range(h0, h1)]
    return hints


class Hint(Strategy):
    """Follow the order stress ran the window in: each thread's s-th step goes where its s-th
    scheduling operation went in stress (the lowest position runs first); past its hint, a
    thread runs when no hinted one can (the running thread first: no preemption). With
    probability ``depart``, a step goes to a random runnable thread instead."""

    name = "stress-hint"

    def __init__(self, hints: dict[str, list[int]], depart: float, seed: int):
        self.hints = hints
        self.depart = depart
        self.rng = random.Random(seed)
        self.done: dict[int, int] = {}
        self._by_tid: list[list[int] | None] | None = None

    def new_execution(self) -> bool:
        self.done = {}
        self._by_tid = None
        return True

    def pick(self, runnable: list[int], state: Any) -> int | None:
        if self._by_tid is None:
            self._by_tid = [self.hints.get(n) for n in state.names()]
        if len(runnable) > 1 and self.depart and self.rng.random() < self.depart:
            choice = self.rng.choice(runnable)
        else:
            inf = float("inf")
            cur = state.current
            best, choice = inf, (cur if cur in runnable else runnable[0])
            for tid in runnable:
                h = self._by_tid[tid]
                s = self.done.get(tid, 0)
                key = h[s] if h is not None and s < len(h) else inf
                if key < best:
                    best, choice = key, tid
        self.done[choice] = self.done.get(choice, 0) + 1
        return choice

    def choose(self, n: int, state: Any) -> int | None:
        return self.rng.randrange(n) if self.depart else 0


# --- searching -----------------------------------------------------------------------------------

@dataclass
class Reproduction:
    """What became of one stress find."""

    violation: Violation
    reproduced: bool
    path: str | None = None
    reason: str = ""
    executions: int = 0
    window: int = 0                 # operations per thread
    setup_ops: int = 0
    preemptions: int = 0
    steps: int = 0
    seconds: float = 0.0
    failure: Any = None
    #: a thread that did not end, reproduced as a cut-off at the step budget
    cutoff: bool = False

    def line(self) -> str:
        if self.reproduced and self.cutoff:
            return (f"replay file {self.path}: cut off after {self.steps} steps with threads "
                    f"still running, the livelock as the controlled scheduler shows it "
                    f"({self.setup_ops} operations of set-up; {_n(self.executions, 'execution')}"
                    f", {self.seconds:.1f} s)")
        if self.reproduced:
            return (f"replay file {self.path} ({self.setup_ops} operations of set-up, "
                    f"{self.window} per thread in the window, {self.steps} steps, "
                    f"{self.preemptions} preemptions; {_n(self.executions, 'execution')}, "
                    f"{self.seconds:.1f} s)")
        return f"not reproduced: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"reproduced": self.reproduced, "replay_path": self.path,
                "reason": self.reason or None, "executions": self.executions,
                "window": self.window, "setup_ops": self.setup_ops,
                "preemptions": self.preemptions, "steps": self.steps,
                "cutoff": self.cutoff,
                "seconds": round(self.seconds, 3)}


def same_finding(a: Violation, b: Violation, config: Any) -> bool:
    """The same registry label (a known finding or benign judgement), or for a new one the
    same signature."""
    la, lb = classify(a, config), classify(b, config)
    if la.id is not None or lb.id is not None:
        return la.id == lb.id
    return finding_key(a, config) == finding_key(b, config)


def reproduce(state: Any, v: Violation, *, budget: int = 60, out_dir: str = "mmlist-out",
              variant: Any = None, name: str = "stress-find",
              deadline: float | None = None) -> Reproduction:
    """Search for ``v`` (a violation of the finished stress run ``state``) under the
    controlled scheduler; on success shrink it and write its replay file into ``out_dir``.
    ``budget``: executions per window size. Runs under ``variant`` if the caller applied it.
    """
    from .sched.affinity import one_cpu
    from .sched.explore import RunConfig, Session, record_cutoff, record_failure, save_replay
    from .sched.workers import WorkerPool
    t0 = time.monotonic()
    c = state.churn
    log, names = c.log, state.threads
    stamp = log.stamps.get(id(v))
    rep = Reproduction(v, False)
    if deadline is not None and time.monotonic() > deadline:
        rep.reason = "not searched for: the time for searches ran out"
        return rep
    if stamp is None:
        rep.reason = "the violation was not stamped (the run reported too many)"
        return rep
    if stamp.truncated:
        rep.reason = (f"the run's history had passed {log.history_max} operations: its World "
                      "cannot be rebuilt")
        return rep
    shape = {k: getattr(c.cfg, k) for k in SHAPE}
    config = c.world.config
    # a thread that did not end (stuck_thread): under the controlled scheduler, a thread that
    # loops through the hook is cut off by the step budget (a possible livelock), one that
    # loops without it is stopped by the watchdog (stuck_thread again): either reproduces it
    hang = v.check == "stuck_thread"
    cfg = RunConfig(structural=True, step_budget=HANG_STEP_BUDGET if hang else STEP_BUDGET)
    tried: list[str] = []

    def search(sc: Scenario, hints: dict[str, list[int]], n: int) -> Any:
        for i in range(n):
            if deadline is not None and time.monotonic() > deadline:
                return None
            strat = Hint(hints, DEPARTURES[i % len(DEPARTURES)], seed=i)
            strat.new_execution()
            ex = session.run(sc, strat, cfg)
            rep.executions += 1
            if hang and ex.status == "step_budget":
                return ex, None
            for got in ex.violations:
                if same_finding(v, got, config) or (hang and got.check == v.check):
                    return ex, got
        return None

    with one_cpu(), WorkerPool() as pool:
        session = Session(pool)
        found = None
        setup_failed = None
        for k in WINDOWS:
            # the whole history as set-up; if it does not run serially (an operation that
            # oopses when the others do not interleave with it), its last 1024, 128, 16, none
            for tail in (None, *reversed(SETUP_TAILS)):
                d, window = definition(shape, c.cfg.config, names, log.ops, stamp, k, tail)
                hints = hint_of(names, log.ops, stamp, window)
                sc = scenario_from_definition(d, name)
                try:
                    found = search(sc, hints, budget)
                except (SetupError, rt.KernelPanic) as e:
                    setup_failed = str(e)
                    continue
                break
            tried.append(str(k))
            if found is not None:
                break
        if found is None and not rep.executions and setup_failed:
            rep.reason = f"its set-up did not run: {setup_failed[:200]}"
            rep.seconds = time.monotonic() - t0
            return rep
        if found is None:
            rep.reason = (f"{rep.executions} executions of the controlled scheduler near the "
                          f"stress interleaving (windows of {' and '.join(tried)} operations "
                          f"per thread, the history before as set-up) showed no {v.check}"
                          f"{' in ' + v.function + '()' if v.function else ''} with its label "
                          f"or signature"
                          + ("; the search's time ran out" if deadline is not None
                             and time.monotonic() > deadline else ""))
            rep.seconds = time.monotonic() - t0
            return rep
        rep.window = k
        # the smallest set-up that still reproduces it
        for tail in SETUP_TAILS:
            if tail >= len(d["setup"]):
                break
            d2, _ = definition(shape, c.cfg.config, names, log.ops, stamp, k, tail)
            sc2 = scenario_from_definition(d2, name)
            try:
                again = search(sc2, hints, max(1, budget // 3))
            except (SetupError, rt.KernelPanic):
                continue
            if again is not None:
                d, sc, found = d2, sc2, again
                break
        ex, got = found
        rep.setup_ops = len(d["setup"])
        if got is None:                 # a cut-off: replayed to the same cut-off, not shrunk
            f = record_cutoff(session, sc, ex, cfg, variant=variant, strategy="stress-hint",
                              seed=c.cfg.seed)
        else:
            # shrinking gets what is left of the search's time, and at least SHRINK_SECONDS
            f = record_failure(session, sc, ex, got, cfg, variant=variant,
                               strategy="stress-hint", seed=c.cfg.seed,
                               shrink_deadline=max(deadline or 0.0,
                                                   time.monotonic() + SHRINK_SECONDS))
    if f.nondeterministic:
        rep.reason = f"found, but it does not replay the same way: {f.nondeterministic}"
        rep.seconds = time.monotonic() - t0
        return rep
    import os
    os.makedirs(out_dir, exist_ok=True)
    rep.path = save_replay(f, os.path.join(out_dir, f"{name}.json"), exclusive=True)
    rep.reproduced, rep.failure = True, f
    rep.preemptions, rep.steps = f.preemptions, f.steps
    rep.cutoff = f.violation.check == "step_budget"
    rep.seconds = time.monotonic() - t0
    return rep


def _n(k: int, word: str) -> str:
    return f"{k} {word}{'' if k == 1 else 's'}"
