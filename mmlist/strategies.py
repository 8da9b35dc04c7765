"""Hypothesis strategies for mmlist: configurations, worlds, scenarios and schedules.

For a property test of your own change to the protocol (docs/hypothesis.md)::

    from hypothesis import given
    from mmlist import strategies as ms

    @given(ms.scenarios(covering="fork"), ms.schedules())
    def test_my_change(scenario, schedule):
        ms.check_schedule(scenario, schedule, variant="my_change.py")

* ``configs()``: ``mmlist.config.Config`` values within the ranges the model supports;
* ``scenarios()``: built-in scenarios, optionally only those that cover a caller;
* ``world_plans()`` / ``worlds()``: a World built by a drawn sequence of set-up operations
  (memcgs, tasks, fork, exec, exit, migration) through the model's own entry points, as
  scenario set-ups do;
* ``schedules()``: a decision source for the controlled scheduler (``DrawnSchedule``), drawn
  whole before the run, so no draw ever happens on a model thread;
* ``run_schedule()`` / ``check_schedule()`` / ``save_schedule_replay()``: run a drawn schedule
  (under a variant), fail with the counterexample table, and turn a failing example into an
  mmlist replay file that ``mmlist replay FILE`` runs.

Every value prints as code that rebuilds it (``DrawnSchedule([0, 1, 0])``,
``WorldPlan(config=Config(...), ops=(Spawn(memcg=0, nr_regions=2), ...))``), so Hypothesis'
falsifying example can be pasted into a test.
"""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from hypothesis import strategies as st

from .config import Config
from .sched.strategies import Strategy

__all__ = ["configs", "scenarios", "world_plans", "worlds", "schedules", "DrawnSchedule",
           "WorldPlan", "NewMemcg", "Spawn", "Fork", "Exec", "Exit", "Migrate",
           "run_schedule", "check_schedule", "save_schedule_replay", "ScheduleFailure"]


# ---------------------------------------------------------------------------------------------
# Configurations.
# ---------------------------------------------------------------------------------------------
#: What ``configs()`` draws for each field. The ranges are those the built-in scenarios use
#: and the model is tested with: batches and page tables scenario-sized (the C's 64 and 512
#: would make every walk thousands of steps), one or two nodes and CPUs, MAX_NR_GENS above
#: the BUILD_BUG_ON's MIN_NR_GENS + 1.
_CONFIG_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "CONFIG_MEMCG": st.booleans(),
    "CONFIG_LRU_GEN_STATS": st.booleans(),
    "MAX_NR_GENS": st.integers(4, 5),
    "MIN_LRU_BATCH": st.sampled_from([8, 16]),
    "nr_nodes": st.integers(1, 2),
    "nr_cpus": st.integers(1, 2),
    "arch_has_hw_pte_young": st.booleans(),
    "PREEMPT_RT": st.booleans(),
    "CONFIG_ARCH_WANT_IRQS_OFF_ACTIVATE_MM": st.booleans(),
    "mem_cgroup_disabled": st.booleans(),
    "PTRS_PER_PTE": st.sampled_from([8, 16]),
    "gfp_atomic_may_fail": st.booleans(),
    "mm_walk_alloc_may_fail": st.booleans(),
    "mmap_lock_contended": st.booleans(),
}
#: MAX_LRU_BATCH as a multiple of MIN_LRU_BATCH (the C's is 128; ``skips`` uses 1)
_BATCH_FACTORS = [1, 8]
_FIELDS = {f.name for f in dataclasses.fields(Config)}


def configs(**fixed: Any) -> st.SearchStrategy[Config]:
    """Configurations the model supports; ``fixed`` pins fields (a value, or a strategy).

    >>> configs(CONFIG_MEMCG=True, nr_nodes=2).example()        # doctest: +SKIP
    Config(CONFIG_MEMCG=True, ..., nr_nodes=2, ...)

    ``mem_cgroup_disabled`` (``cgroup_disable=memory``) is drawn only with CONFIG_MEMCG: without
    it there is nothing to disable. Every value passes ``Config.check_build()``.
    """
    unknown = sorted(set(fixed) - _FIELDS)
    if unknown:
        raise TypeError(f"configs(): unknown Config field(s) {', '.join(unknown)}; the fields "
                        f"are {', '.join(sorted(_FIELDS))}")
    parts = {name: _as_strategy(fixed.get(name, s)) for name, s in _CONFIG_FIELDS.items()}
    parts["MAX_LRU_BATCH"] = (_as_strategy(fixed["MAX_LRU_BATCH"]) if "MAX_LRU_BATCH" in fixed
                              else st.sampled_from(_BATCH_FACTORS))

    @st.composite
    def draw_config(draw: Any) -> Config:
        values = {name: draw(s) for name, s in parts.items()}
        if "MAX_LRU_BATCH" not in fixed:          # drawn as a factor of MIN_LRU_BATCH
            values["MAX_LRU_BATCH"] *= values["MIN_LRU_BATCH"]
        if not values["CONFIG_MEMCG"] and "mem_cgroup_disabled" not in fixed:
            values["mem_cgroup_disabled"] = False
        config = Config(**values)
        config.check_build()
        return config
    return draw_config()


def _as_strategy(value: Any) -> st.SearchStrategy[Any]:
    return value if isinstance(value, st.SearchStrategy) else st.just(value)


# ---------------------------------------------------------------------------------------------
# Built-in scenarios.
# ---------------------------------------------------------------------------------------------
def scenarios(covering: str | Iterable[str] | None = None, names: Iterable[str] | None = None,
              exclude: Iterable[str] = (), as_names: bool = False) -> st.SearchStrategy[Any]:
    """Built-in scenarios (``mmlist.scenarios.BUILTIN``), as ``Scenario`` objects (or their
    names with ``as_names=True``), shrinking towards the first in name order.

    ``covering``: keep the scenarios one of whose ``covers`` entries (or name) contains one of
    these words, case-insensitively (``covering="fork"``: fork, fork-migrate, two-forks...);
    ``names``: only these; ``exclude``: not these.

    >>> scenarios(covering=["migration", "exit"], as_names=True).example()   # doctest: +SKIP
    'exit-head'
    """
    from .scenarios import BUILTIN
    words = [covering] if isinstance(covering, str) else list(covering or [])
    wanted = set(names) if names is not None else None
    unknown = sorted((wanted or set()) - set(BUILTIN))
    if unknown:
        raise ValueError(f"scenarios(): unknown scenario(s) {', '.join(unknown)} (known: "
                         f"{', '.join(sorted(BUILTIN))})")
    gone = set(exclude)
    picked = [s for name, s in sorted(BUILTIN.items())
              if (wanted is None or name in wanted) and name not in gone
              and (not words or _covers(s, words))]
    if not picked:
        covers = sorted({c for s in BUILTIN.values() for c in s.covers})
        raise ValueError(f"scenarios(): no built-in scenario covers {words} (the covers are: "
                         f"{', '.join(covers)})")
    return st.sampled_from([s.name for s in picked] if as_names else picked)


def _covers(scenario: Any, words: list[str]) -> bool:
    hay = [scenario.name.lower()] + [c.lower() for c in scenario.covers]
    return any(w.lower() in h for w in words for h in hay)


# ---------------------------------------------------------------------------------------------
# Worlds: a sequence of set-up operations through the model's entry points.
# ---------------------------------------------------------------------------------------------
# Each operation names tasks and memcgs by index modulo what exists when it runs, so every
# drawn sequence is valid and Hypothesis can shrink it freely (dropping an operation never
# makes a later one invalid: it picks another task, or does nothing when there is none).
@dataclass(frozen=True)
class NewMemcg:
    """``mkdir /sys/fs/cgroup/X``: ``mem_cgroup_alloc()`` (and ``lru_gen_init_memcg()``)."""


@dataclass(frozen=True)
class Spawn:
    """A user task that already exec'd, its mm on the list of memcg ``memcg`` (an index)."""
    memcg: int = 0
    nr_regions: int = 2


@dataclass(frozen=True)
class Fork:
    """A live user task forks (``kernel_clone``); ``clone_vm``: a thread sharing its mm."""
    task: int = 0
    clone_vm: bool = False


@dataclass(frozen=True)
class Exec:
    """A live user task execs (``do_execve``: a new mm added, the old one put)."""
    task: int = 0


@dataclass(frozen=True)
class Exit:
    """A live user task exits (``do_exit``); queued ``mmput_async`` work then runs."""
    task: int = 0


@dataclass(frozen=True)
class Migrate:
    """The shell moves a live user task to memcg ``memcg`` (``cgroup_migrate``)."""
    task: int = 0
    memcg: int = 0


Op = NewMemcg | Spawn | Fork | Exec | Exit | Migrate
#: memcgs a plan may create beyond the first ("A"): names B, C
_MEMCG_NAMES = ("A", "B", "C")
_PF_KTHREAD = 0x00200000


@dataclass(frozen=True)
class WorldPlan:
    """A World to build: ``config`` and the set-up ``ops`` run in order.

    Every plan starts the same way: memcg ``A`` (with CONFIG_MEMCG), the shell ``sh`` that
    writes cgroup.procs, a walker task ``reclaim0`` in ``A`` and a kernel thread
    ``kworker/u8:0``, then ``ops``. User tasks are named ``app1``, ``app2``... and their
    children ``app1.c5`` (a fork) or ``app1.t5`` (a CLONE_VM thread), 5 being the pid.

    ``setup`` is a scenario set-up (``Scenario(..., setup=plan.setup, config=plan.config)``);
    ``build()`` returns the World; ``scenario(threads)`` a Scenario racing ``threads`` in it.
    """
    config: Config
    ops: tuple[Op, ...] = ()

    def setup(self, w: Any) -> None:
        """Run the plan in the set-up context (the scenario's ``setup``)."""
        if w.config.CONFIG_MEMCG:
            w.mem_cgroup_alloc(_MEMCG_NAMES[0])
        first = _MEMCG_NAMES[0] if w.config.CONFIG_MEMCG else None
        w.user_task("sh")
        w.user_task("reclaim0", first)
        w.kthread("kworker/u8:0")
        for op in self.ops:
            _apply(w, op)

    def scenario(self, threads: Any = lambda w: [], name: str = "world-plan",
                 description: str = "a World built by a drawn set-up") -> Any:
        """A ``Scenario`` whose set-up is this plan and whose threads are ``threads(w)``."""
        from .scenarios import Scenario
        return Scenario(name, description, setup=self.setup, threads=threads,
                        config=self.config)

    def build(self) -> Any:
        """The World after the set-up (through ``Scenario.build``: the same checks as a
        scenario's set-up: no lock left held, no wait that would hang)."""
        world, _ = self.scenario().build()
        return world


def _users(w: Any) -> list[Any]:
    """Live user tasks with an mm, in pid order (raw reads: choosing never changes the run)."""
    from .kernel.fields import _raw_get
    return [t for t in w.all_tasks
            if t.pid in w.tasks and not (t.flags & _PF_KTHREAD)
            and _raw_get(t, "mm") is not None and not _raw_get(t, "exited")]


def _live_memcgs(w: Any) -> list[Any]:
    return [m for m in w.memcgs if m.label in _MEMCG_NAMES and not m.freed]


def _apply(w: Any, op: Op) -> None:
    """One set-up operation, as its caller in the kernel runs it (``current`` set to the task
    that makes the system call, as ``ThreadSpec.ctx`` does for a model thread)."""
    from . import runtime as rt
    from .model import exec as exec_, exit as exit_, fork, memcontrol
    from .model.structs import CLONE_VM
    memcgs = _live_memcgs(w)
    if isinstance(op, NewMemcg):
        if w.config.CONFIG_MEMCG and len(memcgs) < len(_MEMCG_NAMES):
            w.mem_cgroup_alloc(_MEMCG_NAMES[len(memcgs)])
        return
    if isinstance(op, Spawn):
        memcg = memcgs[op.memcg % len(memcgs)].label if memcgs else None
        spawned = sum(bool(re.fullmatch(r"app\d+", t.label)) for t in w.all_tasks)
        w.spawn(memcg, comm=f"app{spawned + 1}", nr_regions=op.nr_regions)
        return
    users = _users(w)
    if not users:
        return
    task = users[op.task % len(users)]
    ctx = rt.current_ctx()
    saved = ctx.task
    try:
        if isinstance(op, Fork):
            ctx.task = task
            child = fork.kernel_clone(task, CLONE_VM if op.clone_vm else 0)
            child.label = f"{task.label}.{'t' if op.clone_vm else 'c'}{child.pid}"
        elif isinstance(op, Exec):
            ctx.task = task
            exec_.do_execve()
        elif isinstance(op, Exit):
            ctx.task = task
            exit_.do_exit()
        elif isinstance(op, Migrate):
            if not memcgs:
                return
            ctx.task = next(t for t in w.all_tasks if t.label == "sh")
            memcontrol.cgroup_migrate(task.pid, memcgs[op.memcg % len(memcgs)])
    finally:
        ctx.task = saved
    w.run_pending_work()                        # the kworker of mmput_async, between set-ups


def _ops(max_tasks: int) -> st.SearchStrategy[Op]:
    index = st.integers(0, max_tasks - 1)
    return st.one_of(
        st.builds(Spawn, memcg=st.integers(0, 2), nr_regions=st.integers(1, 2)),
        st.builds(Fork, task=index, clone_vm=st.booleans()),
        st.builds(Exec, task=index),
        st.builds(Exit, task=index),
        st.builds(Migrate, task=index, memcg=st.integers(0, 2)),
        st.just(NewMemcg()))


def world_plans(config: Config | st.SearchStrategy[Config] | None = None, max_ops: int = 8,
                min_tasks: int = 1) -> st.SearchStrategy[WorldPlan]:
    """Plans of Worlds: a configuration (default: ``configs(PREEMPT_RT=False)``) and up to
    ``max_ops`` set-up operations after ``min_tasks`` spawned user tasks.

    >>> plan = world_plans(max_ops=4).example()                        # doctest: +SKIP
    >>> world = plan.build()
    """
    cfg = _as_strategy(config) if config is not None else configs(PREEMPT_RT=False)
    first = st.lists(st.builds(Spawn, memcg=st.just(0), nr_regions=st.integers(1, 2)),
                     min_size=min_tasks, max_size=min_tasks)
    return st.builds(lambda c, a, b: WorldPlan(c, tuple(a) + tuple(b)), cfg, first,
                     st.lists(_ops(max_tasks=4), max_size=max_ops))


def worlds(config: Config | st.SearchStrategy[Config] | None = None,
           max_ops: int = 8, min_tasks: int = 1) -> st.SearchStrategy[Any]:
    """Built Worlds (``mmlist.model.World``): ``world_plans(...)`` built. Draw the plan instead
    when you need to build the same World twice or make a scenario of it.

    >>> w = worlds(max_ops=4).example()                                 # doctest: +SKIP
    >>> [mm.label for _, l in w.mm_lists() for mm in l.members()]       # doctest: +SKIP
    """
    return world_plans(config, max_ops, min_tasks).map(lambda plan: plan.build())


# ---------------------------------------------------------------------------------------------
# Schedules.
# ---------------------------------------------------------------------------------------------
class DrawnSchedule(Strategy):
    """A decision source whose answers are a list of integers drawn before the run.

    At a scheduling point with several runnable threads, answer ``k`` picks the ``k``-th (mod
    their number) of: the thread that just ran (if still runnable), then the others in tid
    order. So 0 means "no preemption", and Hypothesis, which shrinks integers towards 0 and
    lists towards shorter, shrinks a failing schedule towards fewer preemptions; past the end
    of the list every answer is 0 (each thread runs until it blocks or ends). A ``CHOOSE``
    among ``n`` takes ``k % n``. A point with one runnable thread (or a CHOOSE among one)
    consumes nothing.

    Because the list is drawn on the test's thread before the run, no Hypothesis draw happens
    on a model thread. One execution per ``new_execution()`` round, like ``Replay``: passed to
    ``explore`` it runs once; ``run_schedule`` runs it again from the start every time.

    >>> from mmlist import sched
    >>> ex = sched.run_once("walkers", DrawnSchedule([1, 0, 1]))      # doctest: +SKIP
    """

    name = "drawn"

    def __init__(self, answers: Sequence[int] = ()):
        self.answers = [int(a) for a in answers]
        if any(a < 0 for a in self.answers):
            raise ValueError("DrawnSchedule: answers must be >= 0")
        self.i = 0
        self._started = False

    def new_execution(self) -> bool:
        first = not self._started
        self._started = True
        self.i = 0
        return first

    def _next(self) -> int:
        k = self.answers[self.i] if self.i < len(self.answers) else 0
        self.i += 1
        return k

    def pick(self, runnable: list[int], state: Any) -> int:
        if len(runnable) == 1:
            return runnable[0]
        current = getattr(state, "current", None)
        order = ([current] + [t for t in runnable if t != current] if current in runnable
                 else list(runnable))
        return order[self._next() % len(order)]

    def choose(self, n: int, state: Any) -> int:
        return 0 if n <= 1 else self._next() % n

    def describe(self) -> str:
        return f"drawn({len(self.answers)} answers)"

    def __repr__(self) -> str:
        return f"DrawnSchedule({self.answers!r})"


def schedules(max_answers: int = 64, max_choice: int = 3) -> st.SearchStrategy[DrawnSchedule]:
    """Decision sources for the controlled scheduler (``DrawnSchedule``): up to
    ``max_answers`` answers in ``0..max_choice`` (0: let the running thread go on).

    >>> from hypothesis import given
    >>> @given(schedules())
    ... def test_walkers(schedule):
    ...     check_schedule("walkers", schedule)
    """
    return st.lists(st.integers(0, max_choice), max_size=max_answers).map(DrawnSchedule)


# ---------------------------------------------------------------------------------------------
# Running a drawn schedule; a failing one as a replay file.
# ---------------------------------------------------------------------------------------------
@dataclass
class ScheduleFailure:
    """A violation shown by a schedule: its label in the findings registry, the
    counterexample table and the replay file written (if any)."""
    violation: Any
    label: Any
    table: str
    replay_path: str | None
    replay_dict: dict[str, Any]


def _resolve(scenario: Any) -> Any:
    from .scenarios import get
    return get(scenario) if isinstance(scenario, str) else scenario


def _load(variant: Any) -> Any:
    if variant is None or not isinstance(variant, (str, os.PathLike)):
        return variant
    from .variants import load_variant
    return load_variant(os.fspath(variant))


def run_schedule(scenario: Any, schedule: Strategy, variant: Any = None,
                 step_budget: int = 5000, record: int = 0) -> Any:
    """One controlled execution of ``scenario`` (a ``Scenario`` or a built-in name) with
    ``schedule`` as its decision source, under ``variant`` (a name, a path or a loaded
    ``Variant``); returns the ``Execution`` (``.violations``, ``.decisions``).
    ``mmlist.sched.run_once`` without a variant."""
    from .sched.affinity import one_cpu
    from .sched.controller import WorkerPool
    from .sched.explore import RunConfig, Session
    from .sched.suite import variant_applied
    sc = _resolve(scenario)
    schedule.new_execution()
    with one_cpu(), variant_applied(_load(variant)), WorkerPool() as pool:
        ex = Session(pool, restore=False).run(sc, schedule, RunConfig(step_budget=step_budget),
                                              record=record)
    schedule.end_execution(ex)
    return ex


def save_schedule_replay(scenario: Any, decisions: Sequence[Any], violation: Any, path: str,
                         variant: Any = None, step_budget: int = 5000) -> tuple[str, str, dict]:
    """Replay ``decisions`` (an ``Execution.decisions``) strictly up to ``violation``, and
    write the mmlist replay file (``mmlist.sched.explore.make_replay_dict``'s format) to
    ``path`` (overwritten). Returns ``(path, table, replay_dict)``. A built-in scenario's file
    runs with ``mmlist replay PATH`` (``--variant FILE`` for a variant file of yours); your own
    scenario's with ``mmlist.sched.replay(PATH, scenario=yours)``."""
    from .sched.affinity import one_cpu
    from .sched.controller import WorkerPool
    from .sched.explore import RunConfig, Session, make_replay_dict, save_replay, Failure
    from .sched.shrink import match
    from .sched.strategies.replay import Replay
    from .sched.suite import variant_applied
    from .sched.table import counterexample_table
    sc, v = _resolve(scenario), _load(variant)
    cfg = RunConfig(step_budget=step_budget).stopping_at(violation)
    with one_cpu(), variant_applied(v), WorkerPool() as pool:
        final = Session(pool, restore=False).run(sc, Replay(list(decisions), strict=True), cfg,
                                                 record=2)
    got = match(final.violations, (violation.check, violation.function)) or violation
    rd = make_replay_dict(sc, final.threads, [], final.decisions, got, cfg, v,
                          "hypothesis (mmlist.strategies.schedules)", 0)
    table = counterexample_table(final, got, sc.name, "FILE")
    if final.divergence:
        table += f"\nDIVERGED: {final.divergence}"
    f = Failure(violation=got, schedule=list(final.decisions), table_text=table, replay_dict=rd)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    written = save_replay(f, path)
    return written, f.table_text, rd


def check_schedule(scenario: Any, schedule: Strategy, variant: Any = None,
                   replay_dir: str | None = "mmlist-out", strict: bool = False,
                   step_budget: int = 5000) -> list[ScheduleFailure]:
    """Run ``schedule`` once and fail (``AssertionError``) on a violation the findings
    registry does not explain (``[NEW]``; a known finding too with ``strict``), with the
    counterexample table and the command that replays it. Benign judgements and (without
    ``strict``) known findings are returned, not raised: on the faithful model they are the
    seed's, as in ``mmlist hunt``.

    The replay file is ``replay_dir/<scenario>-<check>-hypothesis.json``, overwritten by each
    failing example: Hypothesis runs its minimal example last, so the file left is the
    shrunk one. ``replay_dir=None``: no file."""
    from .findings import classify
    sc, v = _resolve(scenario), _load(variant)
    ex = run_schedule(sc, schedule, v, step_budget)
    out: list[ScheduleFailure] = []
    seen: set = set()
    for violation in ex.violations:
        if violation.key in seen:
            continue
        seen.add(violation.key)
        label = classify(violation, sc.config)
        fails = label.kind == "new" or (strict and label.kind == "known")
        path, table, rd = None, "", {}
        if fails and replay_dir is not None:
            name = f"{_slug(sc.name)}-{_slug(violation.check)}-hypothesis.json"
            path, table, rd = save_schedule_replay(sc, ex.decisions, violation,
                                                   os.path.join(replay_dir, name), v,
                                                   step_budget)
        out.append(ScheduleFailure(violation, label, table, path, rd))
        if fails:
            raise AssertionError(_failure_text(sc, violation, label, table, path,
                                               rd.get("variant_path")))
    return out


def _failure_text(sc: Any, violation: Any, label: Any, table: str, path: str | None,
                  variant_path: str | None) -> str:
    """The assertion message: the violation and its label, the table, the replay command (a
    user's variant file must be named again: a replay file never names code to run)."""
    from .scenarios import BUILTIN
    lines = [f"{sc.name}: {violation} {label.text()}"]
    if table:
        # the table's own footer knows neither the variant file nor your own scenario
        lines.append(re.sub(r"(?m)^Replay: mmlist replay .*$\n?", "", table).rstrip())
    if path:
        if BUILTIN.get(sc.name) is sc:
            extra = f" --variant {variant_path}" if variant_path else ""
            lines.append(f"replay: mmlist replay {path}{extra}")
        else:
            lines.append(f"replay: mmlist.sched.replay({path!r}, scenario=<your Scenario>"
                         f"{', variant=' + repr(variant_path) if variant_path else ''})")
    return "\n".join(lines)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:60]
