"""A long-lived World under churn, free-running: the engine of ``mmlist stress``.

One World (memcgs, tasks with mms on their lists, as a scenario's set-up builds it) in which
walker threads (kswapd per node, direct reclaimers at a few priorities) age the lruvecs round
after round while life-cycle threads fork (with and without ``CLONE_VM``), exec, exit, migrate
tasks between memcgs, switch contexts and borrow mms (``kthread_use_mm``), until a deadline.
Every thread calls the model's own entry points, the ones ``mmlist.programs`` uses; the model
never knows it runs here. At the deadline (``stop``) every thread finishes the operation it is
in and ends.

Harness bookkeeping (which task a life-cycle thread works on, the op counters, the stop flag)
uses plain ``threading`` objects and is never seen by the hook: it is not model state.
"""
from __future__ import annotations

import random
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from . import programs as P
from . import runtime as rt
from .config import Config
from .model import aging, exec as exec_, exit as exit_, fork, memcontrol, sched
from .model.structs import CLONE_VM, scan_control
from .model.world import World
from .programs import ThreadSpec, _css_ref
from .scenarios import _SetupEngine
from .engines.noisy import NoisyEngine, OpCounter
from .oplog import OpLog
from .sched.affinity import one_cpu
from .violation import Violation

#: noise level -> (probability of noise at a scheduling point, switch interval in seconds)
NOISE_LEVELS: dict[str, tuple[float, float | None]] = {
    "none": (0.0, None),            # None: the interpreter's switch interval, unchanged
    "low": (0.01, 1e-4),
    "high": (0.1, 1e-5),
}
#: the switch interval of a noise given as a bare probability
NOISE_INTERVAL = 1e-5
#: life-cycle operations, as counted in the table
LIFECYCLE_OPS = ("fork", "fork-vm", "exec", "exit", "migrate", "switch", "use_mm", "mkdir",
                 "rmdir")
#: seconds between two mkdir/rmdir cycles of the memcg thread
MEMCG_PACE = 0.05
#: CPUs that context-switch (a third CPU runs the kthread that borrows mms)
CPU_THREADS = 2
#: how long (seconds) the checker waits for the world to stop before it skips a check
PAUSE_TIMEOUT = 0.5
#: how long (seconds) threads get to finish their operation after the deadline
GRACE = 10.0


@dataclass
class ChurnConfig:
    """The shape of a stress run (the ``mmlist stress`` flags)."""

    duration: float = 10.0
    walkers: int = 2          # direct reclaimers (kswapd: one per node, besides)
    tasks: int = 8            # the number of churned tasks the life cycle keeps around
    memcgs: int = 2
    nodes: int = 1
    seed: int = 0
    lifecycle: int = 2        # life-cycle threads, each owning a pool of churned tasks
    #: mkdir/move in/move out/rmdir cycles of the memcg thread (0: no such thread): each makes
    #: a memcg the World keeps (freed) until the end, so they are counted
    memcg_cycles: int = 64
    debugfs: bool = True      # the debugfs full scan (``lru_gen_seq_write``) thread
    noise: str = "low"        # a level of NOISE_LEVELS or a probability
    checks: bool = True
    #: seconds between two structural checks of the checker thread
    check_interval: float = 0.02
    #: changes to the modelled kernel's configuration (``--config KEY=VALUE``: ``STRESS_CONFIG``)
    config: dict[str, Any] = field(default_factory=dict)

    def noise_params(self) -> tuple[float, float | None]:
        """(probability, switch interval) of ``noise``; ValueError when it is neither."""
        if self.noise in NOISE_LEVELS:
            return NOISE_LEVELS[self.noise]
        p = float(self.noise)               # ValueError for anything else
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"a noise probability must be in [0, 1]: {self.noise}")
        return p, (NOISE_INTERVAL if p > 0 else None)


# --- the world ------------------------------------------------------------------------------------

def memcg_names(n: int) -> list[str]:
    return [f"M{i}" for i in range(n)]


def build_world(cfg: ChurnConfig) -> tuple[World, list[Any], list[Any]]:
    """The World of a stress run, built in the set-up context (the scenarios' guard refuses a
    set-up that would hang). Returns it, the churned tasks and the CPU-switched tasks."""
    world = World(world_config(cfg))
    with world, rt.installed(_SetupEngine("stress")):
        churned, switched = populate(world, cfg)
    return world, churned, switched


#: the configuration a stress run may change (``--config``), and why the others are fixed: the
#: stress World has memcgs (``CONFIG_MEMCG``, ``mem_cgroup_disabled``: the hunt scenarios
#: ``nomemcg-*`` cover the global list), ``--nodes`` sets the nodes, the threads set the CPUs
STRESS_CONFIG = ("CONFIG_LRU_GEN_STATS", "MAX_NR_GENS", "MIN_LRU_BATCH", "MAX_LRU_BATCH",
                 "arch_has_hw_pte_young", "PREEMPT_RT", "CONFIG_ARCH_WANT_IRQS_OFF_ACTIVATE_MM",
                 "PTRS_PER_PTE", "gfp_atomic_may_fail", "mm_walk_alloc_may_fail",
                 "mmap_lock_contended")


def parse_config(items: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` strings (``PREEMPT_RT=1``, ``arch_has_hw_pte_young=false``,
    ``MAX_NR_GENS=5``) as Config changes; ValueError naming the first bad one."""
    import dataclasses
    types = {f.name: f.type for f in dataclasses.fields(Config)}
    out: dict[str, Any] = {}
    for item in items:
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq or key not in STRESS_CONFIG:
            raise ValueError(f"--config {item!r}: expected KEY=VALUE with KEY one of "
                             f"{', '.join(STRESS_CONFIG)}")
        text = text.strip().lower()
        if types[key] in (bool, "bool"):
            if text not in ("0", "1", "true", "false", "y", "n", "yes", "no"):
                raise ValueError(f"--config {item!r}: {key} is a boolean (1/0, true/false)")
            out[key] = text in ("1", "true", "y", "yes")
        else:
            try:
                out[key] = int(text)
            except ValueError:
                raise ValueError(f"--config {item!r}: {key} is an integer") from None
    cfg = Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16).with_(**out)
    if cfg.MIN_LRU_BATCH < 1 or cfg.MAX_LRU_BATCH < cfg.MIN_LRU_BATCH or cfg.PTRS_PER_PTE < 1 \
            or cfg.PTRS_PER_PTE > 512 or cfg.MAX_NR_GENS > 16:
        raise ValueError("--config: out of range (1 <= MIN_LRU_BATCH <= MAX_LRU_BATCH, "
                         "1 <= PTRS_PER_PTE <= 512, MAX_NR_GENS <= 16)")
    try:
        cfg.check_build()
    except Exception as e:                  # a BUILD_BUG_ON
        raise ValueError(f"--config: this configuration does not build: {e}") from None
    return out


def world_config(cfg: ChurnConfig) -> Config:
    return Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16, nr_nodes=cfg.nodes,
                  nr_cpus=CPU_THREADS + 1).with_(**cfg.config)


def populate(world: World, cfg: ChurnConfig) -> tuple[list[Any], list[Any]]:
    """The set-up of a stress World (in a set-up context): its memcgs and tasks. A stress
    find's replay scenario (``mmlist.stress_replay``) starts from the same, so that the pids
    of the tasks it names are the same."""
    churned: list[Any] = []
    switched: list[Any] = []
    names = memcg_names(cfg.memcgs)
    for m in names:
        world.mem_cgroup_alloc(m)
    for i in range(cfg.tasks):
        churned.append(world.spawn(names[i % len(names)], comm=f"app{i}", nr_regions=2))
    # long-lived tasks the CPUs switch between (never exit), two per CPU: a task sits on
    # one runqueue, so two CPUs never switch to the same task
    for cpu_id in range(CPU_THREADS):
        for i in range(2):
            switched.append(world.spawn(names[i % len(names)], comm=f"run{cpu_id}.{i}",
                                        nr_regions=2))
    for i in range(cfg.walkers):
        world.user_task(f"reclaim{i}", names[i % len(names)])
    for nid in range(cfg.nodes):
        world.kthread(f"kswapd{nid}", kswapd=True)
    world.user_task("sh")
    world.kthread("kworker/u8:0")
    world.kthread("kthread0")
    # (after the others: a stress replay file names tasks by pid)
    world.user_task("debugfs")
    world.spawn(names[0], comm="mover", nr_regions=2)
    return churned, switched


# --- the threads ----------------------------------------------------------------------------------

@dataclass
class Churn:
    """The run's shared harness state: the stop flag, the pools of tasks, the counters."""

    cfg: ChurnConfig
    world: World
    pools: list[list[Any]]
    switched: list[Any]
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ops: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LIFECYCLE_OPS, 0))
    rounds: int = 0                                 # aging calls completed
    checks_run: int = 0                             # structural checks of the checker
    checks_skipped: int = 0                         # the world did not stop in time
    #: what every thread did (``mmlist.oplog``): a stress find is replayed from it
    log: OpLog | None = None

    def count(self, kind: str) -> None:
        with self.lock:
            self.ops[kind] += 1

    # --- the pools of churned tasks ------------------------------------------------------------
    # A task's own operations (fork, exec, exit) always run on the same life-cycle thread, the
    # one that owns it (a fork's child joins its parent's pool): in the kernel a task's
    # operations are ordered by the scheduler, and the race check sees that order here as
    # program order. Handing a task from one thread to another through a harness lock would
    # be an order the race check cannot see (false data races on the task's fields).
    def pool(self, owner: int) -> list[Any]:
        """The churned tasks of life-cycle thread ``owner`` (``pools[owner]``)."""
        return self.pools[owner]

    def everyone(self) -> list[Any]:
        """Every live churned task and the long-lived ones (for migration and use_mm)."""
        with self.lock:
            return [t for p in self.pools for t in p] + self.switched

    def size(self) -> int:
        with self.lock:
            return sum(len(p) for p in self.pools)


def _as(task: Any, fn: Callable[[], Any]) -> Any:
    """Run ``fn`` as ``task`` (``current``), like ``programs.sequence`` switches tasks."""
    ctx = rt.current_ctx()
    saved, ctx.task = ctx.task, task
    try:
        return fn()
    finally:
        ctx.task = saved


def _lifecycle_step(c: Churn, owner: int, r: random.Random) -> None:
    """One fork, fork with CLONE_VM, exec or exit of a task of ``owner``'s pool. The bounds
    keep each pool between half and one and a half times its share of ``--tasks``: fork
    below, exit above."""
    pool = c.pool(owner)
    n, target = len(pool), max(1, c.cfg.tasks // len(c.pools))
    if n < max(1, target // 2):
        kind = r.choice(("fork", "fork-vm"))
    elif n > target + max(1, target // 2):
        kind = "exit"
    else:
        kind = r.choice(("fork", "fork-vm", "exec", "exit"))
    if not pool:
        c.stop.wait(0.001)              # nothing left to fork from (cannot happen: bounds)
        return
    t = r.choice(pool)
    if kind in ("fork", "fork-vm"):
        e = c.log.begin("fork", t.pid, int(kind == "fork-vm"), None)
        child = _as(t, lambda: fork.kernel_clone(t, CLONE_VM if kind == "fork-vm" else 0))
        e.op[3] = child.pid
        with c.lock:
            pool.append(child)
    elif kind == "exec":
        e = c.log.begin("exec", t.pid)
        _as(t, exec_.do_execve)
    else:
        e = c.log.begin("exit", t.pid)
        _as(t, exit_.do_exit)
        with c.lock:
            pool.remove(t)
    c.log.end(e)
    c.count(kind)


def lifecycle(c: Churn, owner: int) -> ThreadSpec:
    name = f"lifecycle{owner}"

    def churn_tasks(w: World) -> None:
        r = random.Random(f"{c.cfg.seed}:{name}")
        while not c.stop.is_set():
            _lifecycle_step(c, owner, r)
    return ThreadSpec(name, churn_tasks, P._by_comm("sh"),
                      describe="forks, execs and exits its churned tasks")


def migrator(c: Churn, name: str) -> ThreadSpec:
    """``echo pid > cgroup.procs``: a random task of the world moves to a random memcg (and,
    later, back: the memcgs are few)."""
    def cgroup_procs_write(w: World) -> None:
        r = random.Random(f"{c.cfg.seed}:{name}")
        names = memcg_names(c.cfg.memcgs)
        while not c.stop.is_set():
            t, dst = r.choice(c.everyone()), r.choice(names)
            e = c.log.begin("migrate", t.pid, dst)
            memcontrol.cgroup_migrate(t.pid, w.memcg(dst))
            c.log.end(e)
            c.count("migrate")
    return ThreadSpec(name, cgroup_procs_write, P._by_comm("sh"),
                      describe="migrates tasks between memcgs")


def cpu_switcher(c: Churn, cpu_id: int) -> ThreadSpec:
    """A CPU switching between the long-lived tasks and its idle task (``programs.cpu``'s body,
    one switch at a time)."""
    def schedule(w: World) -> None:
        r = random.Random(f"{c.cfg.seed}:cpu{cpu_id}")
        # the long-lived tasks and this CPU's idle task (World names it swapper/N)
        comms = [t.label for t in c.switched if t.label.startswith(f"run{cpu_id}.")]
        comms.append(f"swapper/{cpu_id}")
        ctx = rt.current_ctx()
        while not c.stop.is_set():
            ctx.task = w.runqueues[cpu_id].curr
            comm = r.choice(comms)
            e = c.log.begin("switch", cpu_id, comm)
            P.cpu(cpu_id, [comm]).body(w)
            c.log.end(e)
            c.count("switch")
    return ThreadSpec(f"cpu{cpu_id}", schedule, lambda w: w.runqueues[cpu_id].curr,
                      cpu=cpu_id, describe=f"CPU {cpu_id} context-switches")


def kthread_user(c: Churn, cpu_id: int) -> ThreadSpec:
    """A kthread borrowing random tasks' mms (``kthread_use_mm``), on a CPU of its own."""
    def kthread_worker_fn(w: World) -> None:
        r = random.Random(f"{c.cfg.seed}:kthread")
        while not c.stop.is_set():
            t = r.choice(c.everyone())
            e = c.log.begin("use_mm", t.pid)
            borrow_mm(t)
            c.log.end(e)
            c.count("use_mm")
    return ThreadSpec("use_mm(kthread0)", kthread_worker_fn, P._by_comm("kthread0"),
                      cpu=cpu_id, describe="kthread0 borrows mms")


def borrow_mm(t: Any) -> None:
    """``kthread_use_mm()`` of ``t``'s mm, if it still has users, and back."""
    mm = t.__dict__["_mm"]
    if mm is not None and fork.mmget_not_zero(mm):
        sched.kthread_use_mm(mm)
        sched.kthread_unuse_mm(mm)
        fork.mmput(mm)


def age_node(w: World, nid: int) -> None:
    """kswapd's ``balance_pgdat()``: ``lru_gen_age_node()`` at priority 12 (it never waits)."""
    aging.lru_gen_age_node(w.nodes[nid], scan_control(priority=12))


def reclaim(w: World, memcg: str, nid: int, priority: int) -> None:
    """Direct reclaim of one memcg's lruvec (``get_nr_to_scan()``), under the css reference
    ``mem_cgroup_iter()`` holds."""
    lv = w.lruvec(memcg, nid)
    with _css_ref(lv.memcg) as alive:
        if alive:
            aging.get_nr_to_scan(lv, scan_control(priority=priority), True)


def memcg_churner(c: Churn) -> ThreadSpec:
    """``mkdir`` of a new memcg, its own task ``mover`` moved in (its mm onto the new memcg's
    list, where kswapd's ``mem_cgroup_iter`` finds it) and back out, then ``rmdir``: the memcg
    is freed with its last css reference, which a walker may hold. At most ``memcg_cycles``
    cycles, ``MEMCG_PACE`` seconds apart: a freed memcg stays in the World (the checks look at
    it), so the World must not grow without limit. ``mover`` belongs to this thread alone:
    a memcg with a task in it cannot be removed."""
    def cgroup_mkdir_rmdir(w: World) -> None:
        mover = P._by_comm("mover")(w)
        home = memcg_names(c.cfg.memcgs)[0]
        for n in range(c.cfg.memcg_cycles):
            if c.stop.is_set():
                return
            name = f"D{n}"
            for op in (["mkdir", name], ["migrate", mover.pid, name],
                       ["migrate", mover.pid, home], ["rmdir", name]):
                e = c.log.begin(*op)
                cgroup_op(w, op)
                c.log.end(e)
                c.count(op[0])
            c.stop.wait(MEMCG_PACE)
    return ThreadSpec("cgroup", cgroup_mkdir_rmdir, P._by_comm("sh"),
                      describe="mkdir, move a task in and out, rmdir")


def cgroup_op(w: World, op: list) -> None:
    """``mkdir NAME``, ``rmdir NAME``, or ``echo PID > NAME/cgroup.procs``."""
    if op[0] == "mkdir":
        w.mem_cgroup_alloc(op[1])
    elif op[0] == "rmdir":
        P.cgroup_rmdir(w, op[1])
    else:
        memcontrol.cgroup_migrate(op[1], w.memcg(op[2]))


def debugfs(c: Churn) -> ThreadSpec:
    """``echo '+ memcg nid seq 1 full_scan' > /sys/kernel/debug/lru_gen``, round after round,
    of a random memcg's lruvec: the walker whose ``full_scan`` walks every mm."""
    def lru_gen_seq_write(w: World) -> None:
        r = random.Random(f"{c.cfg.seed}:debugfs")
        names = memcg_names(c.cfg.memcgs)
        while not c.stop.is_set():
            memcg, nid = r.choice(names), r.randrange(c.cfg.nodes)
            e = c.log.begin("debugfs", memcg, nid)
            P.lru_gen_seq_write(w, memcg, nid)
            c.log.end(e)
            _round_done(c, w)
    return ThreadSpec("debugfs", lru_gen_seq_write, P._by_comm("debugfs"), kind="walker",
                      describe="debugfs full-scan aging")


def _round_done(c: Churn, w: World) -> None:
    w.aging_round_done()
    with c.lock:
        c.rounds += 1


def kswapd(c: Churn, nid: int) -> ThreadSpec:
    def balance_pgdat(w: World) -> None:
        while not c.stop.is_set():
            e = c.log.begin("age_node", nid)
            age_node(w, nid)
            c.log.end(e)
            _round_done(c, w)
    return ThreadSpec(f"kswapd{nid}", balance_pgdat, P._by_comm(f"kswapd{nid}"), kind="walker",
                      describe=f"kswapd on node {nid}, round after round")


def direct_reclaimer(c: Churn, i: int) -> ThreadSpec:
    """A direct reclaimer ageing a random memcg's lruvec; priorities alternate between 0
    (under pressure: a walker that is not last waits) and 12 (it does not)."""
    priority = (0, 12, 6)[i % 3]

    def try_to_free_pages(w: World) -> None:
        r = random.Random(f"{c.cfg.seed}:reclaim{i}")
        names = memcg_names(c.cfg.memcgs)
        while not c.stop.is_set():
            memcg, nid = r.choice(names), r.randrange(c.cfg.nodes)
            e = c.log.begin("reclaim", memcg, nid, priority)
            reclaim(w, memcg, nid, priority)
            c.log.end(e)
            _round_done(c, w)
    return ThreadSpec(f"reclaim{i}", try_to_free_pages, P._by_comm(f"reclaim{i}"),
                      kind="walker", describe=f"direct reclaim at priority {priority}")


def thread_specs(c: Churn) -> list[ThreadSpec]:
    """Walkers first, the life cycle, then the kworker (it exits once the walkers are done)."""
    specs = [kswapd(c, nid) for nid in range(c.cfg.nodes)]
    specs += [direct_reclaimer(c, i) for i in range(c.cfg.walkers)]
    specs += [debugfs(c)] if c.cfg.debugfs else []
    specs += [lifecycle(c, i) for i in range(len(c.pools))]
    specs += [memcg_churner(c)] if c.cfg.memcg_cycles else []
    specs += [migrator(c, "migrate"),
              *(cpu_switcher(c, i) for i in range(CPU_THREADS)),
              kthread_user(c, CPU_THREADS), P.kworker()]
    return specs


# --- running it -----------------------------------------------------------------------------------

@dataclass
class RunState:
    """What a running (or finished) stress run has: read by the progress line and the table."""

    churn: Churn
    engine: NoisyEngine
    counter: OpCounter
    suite: Any = None
    reports: list[Violation] = field(default_factory=list)     # kernel reports, checks off
    errors: list[Violation] = field(default_factory=list)      # model_error, liveness...
    threads: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    t0: float = 0.0
    seconds: float = 0.0
    interrupted: bool = False
    #: the threads that oopsed (a kernel BUG): the threads left behind are theirs to explain
    oopsed: list[str] = field(default_factory=list)

    @property
    def violations(self) -> list[Violation]:
        found = list(self.suite.violations) if self.suite is not None else list(self.reports)
        return found + self.errors

    def max_seqs(self) -> dict[str, int]:
        """max_seq of every lruvec, read raw (no operation)."""
        return {str(lv.label): lv.lrugen.__dict__["_max_seq"] for lv in self.churn.world.lruvecs()}


def _model_error(thread: str, text: str) -> Violation:
    from .sched.execution import _model_error as make
    return make(thread, text)


def _checker(state: RunState) -> None:
    """Every ``check_interval`` seconds, stop the world (``NoisyEngine.paused``: every model
    thread parked at a scheduling point or blocked) and run the suite's structural checks on
    that state, which is one the controlled scheduler's ``at_step`` could see too. The checker
    is not a model thread: it takes no model lock, so lockdep and the race check never see it.
    """
    c, suite = state.churn, state.suite
    while not c.stop.wait(c.cfg.check_interval):
        with state.engine.paused(PAUSE_TIMEOUT) as stopped:
            if stopped:
                suite.step_check()
                c.checks_run += 1
            else:
                c.checks_skipped += 1


def start(cfg: ChurnConfig) -> RunState:
    """Build the world and the engine; the threads are started by ``run``."""
    world, churned, switched = build_world(cfg)
    pools: list[list[Any]] = [churned[i::cfg.lifecycle] for i in range(cfg.lifecycle)]
    c = Churn(cfg, world, pools, switched)
    counter = OpCounter()
    p, _ = cfg.noise_params()
    engine = NoisyEngine([counter], seed=cfg.seed, p=p)
    state = RunState(c, engine, counter)
    if cfg.checks:
        from .checks import CheckSuite
        state.suite = CheckSuite(world, structural=True, races=True, free_running=True)
        engine.listeners.append(state.suite.on_event)
    else:
        def collect(ctx: rt.ThreadCtx, op: int, obj: Any, arg: Any) -> None:
            if op == rt.REPORT:
                state.reports.append(obj)
                state.churn.log.stamp((obj,))
        engine.listeners.append(collect)
    return state


def run(state: RunState, on_tick: Callable[[RunState], None] | None = None,
        tick: float = 0.5) -> RunState:
    """Run until the deadline (or Ctrl-C), then stop every thread after its current operation
    and judge the end. ``on_tick`` is called from this thread every ``tick`` seconds."""
    c = state.churn
    specs = thread_specs(c)
    world = c.world
    world.kworker_present = True
    world.walkers_left = sum(s.kind == "walker" for s in specs)
    ctxs = [s.ctx(world, tid) for tid, s in enumerate(specs)]
    state.threads = [s.name for s in specs]
    c.log = log = OpLog(state.threads)
    state.engine.listeners[:0] = [log.listener]
    if state.suite is not None:         # each violation stamped as the checks record it
        state.suite.on_violation = lambda v: log.stamp((v,))
    alive_lock = threading.Lock()

    def run_one(spec: ThreadSpec, ctx: rt.ThreadCtx) -> None:
        rt.bind_thread(ctx)
        try:
            rt.hook(rt.THREAD_START, ctx)
            spec.body(world)
            rt.hook(rt.THREAD_END, ctx)
        except rt.KernelPanic:
            rt.hook(rt.THREAD_END, ctx, "error")  # reported through REPORT already
        except Exception:                         # a crash of the model itself
            with alive_lock:
                state.errors.append(_model_error(spec.name, traceback.format_exc(limit=6)))
                c.log.stamp(state.errors)
            rt.hook(rt.THREAD_END, ctx, "error")
        finally:
            with alive_lock:
                state.finished.append(spec.name)
            state.engine.thread_ended()
            rt.bind_thread(None)

    _, interval = c.cfg.noise_params()
    old_interval = sys.getswitchinterval()
    if interval is not None:
        sys.setswitchinterval(interval)
    threads: list[threading.Thread] = []
    state.t0 = time.monotonic()
    try:
        # One CPU (mmlist.sched.affinity; MMLIST_PIN=0: off, MMLIST_CPU: which): the threads
        # take turns on one interpreter lock anyway, and a lock handed to a thread parked on
        # an idle second CPU waits for that CPU to wake up. Measured on the 2-CPU machine:
        # 4.6x the hook operations per second (docs/stress.md, "Throughput").
        with one_cpu(), rt.installed(state.engine):
            world.activate()
            threads = [threading.Thread(target=run_one, args=(s, x), name=f"mmlist:{s.name}",
                                        daemon=True) for s, x in zip(specs, ctxs)]
            if state.suite is not None:
                threads.append(threading.Thread(target=_checker, args=(state,),
                                                name="mmlist:checker", daemon=True))
            for _ in specs:             # counted before any starts: a pause waits for them all
                state.engine.thread_started()
            for t in threads:
                t.start()
            try:
                deadline = state.t0 + c.cfg.duration
                while time.monotonic() < deadline:
                    time.sleep(min(tick, max(0.0, deadline - time.monotonic())))
                    if on_tick is not None:
                        on_tick(state)
            except KeyboardInterrupt:
                state.interrupted = True
            c.stop.set()
            _join(threads, state)
    finally:
        sys.setswitchinterval(old_interval)
        state.seconds = time.monotonic() - state.t0
    _judge_end(state, [ctx for ctx, s in zip(ctxs, specs) if s.name not in state.finished])
    return state


def _join(threads: list[threading.Thread], state: RunState) -> None:
    """Wait (at most ``GRACE`` seconds) for every thread to finish its current operation; a
    second Ctrl-C stops waiting."""
    end = time.monotonic() + GRACE
    try:
        for t in threads:
            t.join(max(0.0, end - time.monotonic()))
    except KeyboardInterrupt:
        state.interrupted = True


def _judge_end(state: RunState, left: list[rt.ThreadCtx]) -> None:
    """The end-of-run checks. Threads still running after the grace period are left behind
    (daemons) and named: those asleep on a lruvec's wait queue are judged by the liveness
    check, the others are a ``stuck_thread`` error. The completeness checks (``at_end``) run
    only when every thread finished."""
    suite = state.suite
    found = suite.violations if suite is not None else state.reports
    state.oopsed = sorted({v.thread for v in found if v.severity == "bug" and v.thread})
    if left and state.oopsed:
        # after an oops, as in the kernel: what the oopsed thread held (a lock, a walker's
        # place in an iteration) is never given back, and whoever waits for it waits forever.
        # The oops is the finding; those threads are its consequence (the table names them).
        if suite is not None:
            suite.never_run_again(left)
        left = []
    if left and suite is not None:
        blocked = {ctx: "blocked at the end of the stress run" for ctx in left}
        for v in suite.liveness(blocked):
            state.errors.append(v)
        judged = {v.thread for v in state.errors}
        left = [ctx for ctx in left if ctx.name not in judged]
    for ctx in left:
        state.errors.append(Violation(
            check="stuck_thread", severity="liveness", thread=ctx.name,
            message=f"{ctx.name} did not finish its operation within {GRACE:.0f} s of the "
                    f"deadline", condition="thread ends after the deadline"))
    if suite is not None:
        # threads left behind are blocked: the pause holds them (and the listeners) still
        with state.engine.paused(PAUSE_TIMEOUT):
            suite.at_end(finished=not left)
    state.churn.log.stamp(state.errors)
