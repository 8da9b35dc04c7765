"""Scenarios: a World to build and the threads to race in it.

A scenario is data plus two small functions: ``setup(world)`` creates memcgs and tasks (with the
model's own functions), ``threads(world)`` returns the ``ThreadSpec``s. Every execution builds a
fresh World, so executions are independent and deterministic. Users write their own the same way:

    from mmlist.scenarios import Scenario
    from mmlist import programs as P

    def setup(w):
        w.mem_cgroup_alloc("A"); w.spawn("A", comm="app"); w.user_task("reclaimer", "A")

    my = Scenario("my-race", "a walker against an exit", setup=setup,
                  threads=lambda w: [P.direct_reclaim("reclaimer", "A"), P.exiter("app")])
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Callable

from . import programs as P
from . import runtime as rt
from .config import Config
from . import errors
from .errors import SetupError
from .model.world import World
from .programs import ThreadSpec


@dataclass
class Scenario:
    name: str
    description: str
    setup: Callable[[World], None]
    threads: Callable[[World], list[ThreadSpec]]
    config: Config = field(default_factory=lambda: Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64,
                                                          PTRS_PER_PTE=16))
    #: the callers of protocol.md this scenario exercises (documentation and coverage)
    covers: tuple[str, ...] = ()
    #: a scenario made of data, not code (``mmlist.stress_replay``: a stress find): saved whole
    #: in its replay files, which rebuild it from there
    definition: dict | None = None

    def build(self) -> tuple[World, list[ThreadSpec]]:
        world = World(self.config)
        ctx = rt.current_ctx()
        held, preempt = len(ctx.locks_held), ctx.preempt_count
        try:
            with world, rt.installed(_SetupEngine(self.name)):
                try:
                    self.setup(world)
                except KeyboardInterrupt as e:
                    where = _variant_frame(e)
                    if where is None or errors.signalled:
                        raise                   # a real Ctrl-C
                    raise SetupError(f"set-up of scenario {self.name}: {where} raised "
                                     f"KeyboardInterrupt (a variant's own, not a Ctrl-C)") \
                        from None
                except (SetupError, rt.KernelPanic):
                    raise
                except Exception as e:
                    from .variants import ACTIVE
                    if not ACTIVE or _variant_frame(e) is not None:
                        raise       # mmlist's own bug, or the variant's code (blamed as such)
                    raise SetupError(f"set-up of scenario {self.name} crashed under variant "
                                     f"{ACTIVE[-1]} in {_model_frame(e)}: "
                                     f"{type(e).__name__}: {e}") from None
                specs = self.threads(world)
                world.kworker_present = any(s.kind == "kworker" for s in specs)
                world.walkers_left = sum(s.kind == "walker" for s in specs)
                left = ctx.locks_held[held:]
                if left:
                    raise SetupError(f"set-up of scenario {self.name} returned holding "
                                     f"{', '.join(_label(lk) for lk in left)} (a missing "
                                     f"unlock)")
        finally:
            del ctx.locks_held[held:]           # the World is dropped: so are its locks
            ctx.preempt_count = preempt
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"scenario {self.name}: thread names must be unique: {names}")
        return world, specs


def _label(obj: object) -> str:
    return str(getattr(obj, "label", None) or obj)


def _variant_frame(e: BaseException) -> str | None:
    """The variant function (``<variant NAME: fn>``) that raised ``e`` itself, or None."""
    tb, last = e.__traceback__, None
    while tb is not None:
        last, tb = tb, tb.tb_next
    if last is None or not last.tb_frame.f_code.co_filename.startswith("<variant "):
        return None
    return f"{last.tb_frame.f_code.co_name}() ({last.tb_frame.f_code.co_filename}:{last.tb_lineno})"


def _model_frame(e: BaseException) -> str:
    """The innermost model function (or variant function) on ``e``'s traceback (file:line)."""
    here = os.path.dirname(os.path.abspath(__file__))
    found = "?"
    tb = e.__traceback__
    while tb is not None:
        fn = tb.tb_frame.f_code.co_filename
        if fn.startswith(os.path.join(here, "model")) or fn.startswith("<variant "):
            found = f"{tb.tb_frame.f_code.co_name}() ({os.path.basename(fn)}:{tb.tb_lineno})"
        tb = tb.tb_next
    return found


def _setup_step() -> str:
    """The innermost model function on the set-up thread's stack (file:line)."""
    import traceback
    here = os.path.dirname(os.path.abspath(__file__))
    skip = (os.path.join(here, "kernel"), os.path.join(here, "runtime.py"), __file__)
    for fr in reversed(traceback.extract_stack()[:-1]):
        if not fr.filename.startswith(skip):
            return f"{fr.name}() ({os.path.basename(fr.filename)}:{fr.lineno})"
    return "?"


class _SetupEngine(rt.DirectEngine):
    """The direct engine, refusing what would hang a one-thread set-up (``SetupError``)."""

    def __init__(self, scenario: str):
        super().__init__()
        self.scenario = scenario

    def hook(self, op: int, obj: object = None, arg: object = None) -> object:
        if op == rt.LOCK:
            if not obj.real_lock().acquire(blocking=False):      # type: ignore[union-attr]
                raise SetupError(f"set-up of scenario {self.scenario}: {_setup_step()} takes "
                                 f"{_label(obj)}, which set-up already holds (it would hang)")
            return None
        locked = getattr(obj.real_lock(), "locked", None) if op == rt.UNLOCK else None
        if locked is not None and not locked():          # (an rw_semaphore never blocks)
            raise SetupError(f"set-up of scenario {self.scenario}: {_setup_step()} releases "
                             f"{_label(obj)}, which is not held")
        if op == rt.WAIT_SCHEDULE:
            raise SetupError(f"set-up of scenario {self.scenario}: {_setup_step()} waits on "
                             f"{_label(obj)}, and set-up has no other thread to wake it")
        return super().hook(op, obj, arg)


def _base(w: World, memcgs: tuple[str, ...] = ("A",), apps: dict[str, str] | None = None,
          walkers: tuple[str, ...] = ("reclaim0", "reclaim1"), kswapd_nodes: int = 0,
          nr_regions: int = 2) -> None:
    for m in memcgs:
        w.mem_cgroup_alloc(m)
    for comm, memcg in (apps or {"app1": memcgs[0], "app2": memcgs[0]}).items():
        w.spawn(memcg, comm=comm, nr_regions=nr_regions)
    for wk in walkers:
        w.user_task(wk, memcgs[0])
    for nid in range(kswapd_nodes):
        w.kthread(f"kswapd{nid}", kswapd=True)
    w.user_task("sh")
    w.kthread("kworker/u8:0")


BUILTIN: dict[str, Scenario] = {}


def register(s: Scenario) -> Scenario:
    if s.name in BUILTIN:
        raise ValueError(f"duplicate scenario {s.name}")
    BUILTIN[s.name] = s
    return s


register(Scenario(
    "walkers", "two direct reclaimers share one iteration of memcg A's list (one node)",
    setup=lambda w: _base(w),
    threads=lambda w: [P.direct_reclaim("reclaim0", "A", rounds=2),
                       P.direct_reclaim("reclaim1", "A", rounds=2)],
    covers=("direct reclaim", "get_next_mm")))

register(Scenario(
    "kswapd-direct", "kswapd and a direct reclaimer age memcg A; kswapd never waits",
    setup=lambda w: _base(w, walkers=("reclaim0",), kswapd_nodes=1),
    threads=lambda w: [P.kswapd("kswapd0", 0, rounds=2),
                       P.direct_reclaim("reclaim0", "A", rounds=2)],
    covers=("kswapd", "direct reclaim")))

register(Scenario(
    "fork", "app1 forks while two walkers iterate memcg A",
    setup=lambda w: _base(w),
    threads=lambda w: [P.direct_reclaim("reclaim0", "A"), P.direct_reclaim("reclaim1", "A"),
                       P.forker("app1")],
    covers=("fork", "lru_gen_add_mm")))

register(Scenario(
    "exit", "app1 exits (its mm's last user) while two walkers iterate memcg A",
    setup=lambda w: _base(w),
    threads=lambda w: [P.direct_reclaim("reclaim0", "A"), P.direct_reclaim("reclaim1", "A"),
                       P.exiter("app1"), P.kworker()],
    covers=("exit", "__mmput", "lru_gen_del_mm", "mmput_async", "kworker")))

register(Scenario(
    "exec", "app1 execs (new mm added, old mm put) while a walker iterates memcg A",
    setup=lambda w: _base(w, walkers=("reclaim0",)),
    threads=lambda w: [P.direct_reclaim("reclaim0", "A", rounds=2), P.execer("app1"),
                       P.kworker()],
    covers=("exec", "exec_mmap", "lru_gen_add_mm", "lru_gen_del_mm")))

register(Scenario(
    "migrate", "app1 moves from memcg A to B while walkers iterate both lists",
    setup=lambda w: _base(w, memcgs=("A", "B"), apps={"app1": "A", "app2": "B"},
                          walkers=("reclaim0",)) or w.user_task("reclaimB", "B"),
    threads=lambda w: [P.direct_reclaim("reclaim0", "A"), P.direct_reclaim("reclaimB", "B"),
                       P.migrator(_pid_of(w, "app1"), "B")],
    covers=("cgroup migration", "mem_cgroup_attach", "lru_gen_migrate_mm")))

register(Scenario(
    "fork-migrate", "app1 forks; the child is moved to memcg B as soon as it is visible",
    setup=lambda w: _base(w, memcgs=("A", "B"), apps={"app1": "A"}, walkers=("reclaim0",)),
    threads=lambda w: [P.forker("app1"), P.migrator(w._next_pid, "B", name="migrate(child)"),
                       P.direct_reclaim("reclaim0", "A")],
    covers=("fork", "cgroup migration", "mem_cgroup_attach")))

register(Scenario(
    "exit-new-owner", "app1 and its CLONE_VM thread share an mm; app1 (the owner) exits, "
                      "ownership passes to the thread, which was moved to memcg B",
    setup=lambda w: _setup_new_owner(w),
    threads=lambda w: [P.exiter("app1"), P.direct_reclaim("reclaim0", "A"),
                       P.direct_reclaim("reclaimB", "B")],
    covers=("exit", "mm_update_next_owner", "lru_gen_migrate_mm")))

register(Scenario(
    "context-switch", "two CPUs switch between app1 and app2 while two walkers iterate",
    config=Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16, nr_cpus=2),
    setup=lambda w: _base(w),
    threads=lambda w: [P.direct_reclaim("reclaim0", "A", rounds=2),
                       P.direct_reclaim("reclaim1", "A", rounds=2),
                       P.cpu(0, ["app1", "app2"]), P.cpu(1, ["app2"])],
    covers=("context_switch", "lru_gen_use_mm", "should_skip_mm")))

register(Scenario(
    "kthread-use-mm", "a kthread borrows app1's mm while a walker iterates",
    setup=lambda w: _base(w, walkers=("reclaim0",)) or w.kthread("kworker/0:1"),
    threads=lambda w: [P.kthread_borrow("kworker/0:1", "app1"),
                       P.direct_reclaim("reclaim0", "A", rounds=2)],
    covers=("kthread_use_mm",)))

register(Scenario(
    "two-nodes", "two NUMA nodes: a walker per node on memcg A's list while app1 exits",
    config=Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16, nr_nodes=2),
    setup=lambda w: _base(w) or w.user_task("reclaimN1", "A"),
    threads=lambda w: [P.direct_reclaim("reclaim0", "A", nid=0),
                       P.direct_reclaim("reclaimN1", "A", nid=1), P.exiter("app1"),
                       P.kworker()],
    covers=("lru_gen_del_mm on two lruvecs", "NUMA")))

register(Scenario(
    "debugfs", "debugfs full_scan aging against kswapd on a machine without a hardware "
               "accessed bit",
    config=Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16,
                  arch_has_hw_pte_young=False),
    setup=lambda w: _base(w, walkers=("debugfs",), kswapd_nodes=1),
    threads=lambda w: [P.kswapd("kswapd0", 0, rounds=2),
                       P.debugfs_aging("debugfs", "A", full_scan=True)],
    covers=("debugfs", "arch_has_hw_pte_young", "full_scan")))

register(Scenario(
    "look-around", "kswapd evicts memcg A with its preallocated walk lent: the rmap's "
                   "lru_gen_look_around fills the Bloom filter while walkers iterate",
    setup=lambda w: _base(w, kswapd_nodes=1),
    threads=lambda w: [P.direct_reclaim("reclaim0", "A", rounds=2),
                       P.direct_reclaim("reclaim1", "A"), P.evictor("kswapd0", "A", 0, "app1")],
    covers=("lru_gen_look_around", "Bloom filters", "kswapd eviction")))

register(Scenario(
    "look-around-running", "app1 stays on a CPU (its mm is never skipped as unused), so a "
                           "second iteration walks it again and allocates the other Bloom "
                           "filter while kswapd's look-around reports into it, and a third "
                           "clears the first filter for reuse",
    config=Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16, nr_cpus=1),
    setup=lambda w: _base(w, walkers=("reclaim0",), kswapd_nodes=1),
    threads=lambda w: [P.cpu(0, ["app1"]), P.direct_reclaim("reclaim0", "A", rounds=3),
                       P.evictor("kswapd0", "A", 0, "app1")],
    covers=("lru_gen_look_around", "Bloom filters", "kswapd eviction", "a second walk")))

register(Scenario(
    "priorities", "who waits, at its edges: direct reclaimers at sc->priority 10 "
                  "(DEF_PRIORITY - 2: never waits) and 9 (waits when not last), and kswapd "
                  "under pressure at priority 2 (never waits)",
    setup=lambda w: _base(w, walkers=("reclaim10", "reclaim9"), kswapd_nodes=1),
    threads=lambda w: [P.direct_reclaim("reclaim10", "A", priority=10),
                       P.direct_reclaim("reclaim9", "A", priority=9),
                       P.kswapd("kswapd0", 0, priority=2)],
    covers=("try_to_inc_max_seq", "who waits", "kswapd")))

register(Scenario(
    "lazy-tlb", "a CPU switches from app1 to two kernel threads in a row (they borrow app1's mm "
                "lazily) and back to user tasks while a walker iterates: the lazy active_mm "
                "references and mm_cpumask of every kind of switch",
    config=Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16, nr_cpus=1),
    setup=lambda w: _base(w, walkers=("reclaim0",), kswapd_nodes=1),
    threads=lambda w: [P.cpu(0, ["app1", "kworker/u8:0", "kswapd0", "app2", "kswapd0", "app1"]),
                       P.direct_reclaim("reclaim0", "A", rounds=2)],
    covers=("context_switch", "lazy TLB", "lru_gen_use_mm", "should_skip_mm")))

register(Scenario(
    "stats-history", "CONFIG_LRU_GEN_STATS: app1 stays on a CPU and one walker ages memcg A five "
                     "times, so the last walker of an iteration zeroes a history slot that an "
                     "earlier iteration filled (NR_HIST_GENS = 4)",
    config=Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16, nr_cpus=1,
                  CONFIG_LRU_GEN_STATS=True),
    setup=lambda w: _base(w, walkers=("reclaim0",)),
    threads=lambda w: [P.cpu(0, ["app1"]), P.direct_reclaim("reclaim0", "A", rounds=5)],
    covers=("reset_mm_stats", "CONFIG_LRU_GEN_STATS")))

register(Scenario(
    "rmdir", "memcg B is removed while its last mm migrates back to A",
    setup=lambda w: _base(w, memcgs=("A", "B"), apps={"app1": "B", "app2": "A"},
                          walkers=("reclaim0",)),
    threads=lambda w: [P.migrator(_pid_of(w, "app1"), "A"), P.memcg_rmdir("B"),
                       P.direct_reclaim("reclaim0", "A")],
    covers=("memcg free", "lru_gen_free_memcg")))

register(Scenario(
    "preempt-rt-exec", "PREEMPT_RT: app1 execs while a walker iterates",
    config=Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16, PREEMPT_RT=True),
    setup=lambda w: _base(w, walkers=("reclaim0",)),
    threads=lambda w: [P.execer("app1"), P.direct_reclaim("reclaim0", "A")],
    covers=("exec", "PREEMPT_RT")))

register(Scenario(
    "no-memcg", "CONFIG_MEMCG=n: the global list, two walkers and an exit",
    config=Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16, CONFIG_MEMCG=False),
    setup=lambda w: _base_nomemcg(w),
    threads=lambda w: [P.direct_reclaim("reclaim0", None), P.direct_reclaim("reclaim1", None),
                       P.exiter("app1"), P.kworker()],
    covers=("CONFIG_MEMCG=n", "get_mm_list")))

register(Scenario(
    "migrate-back", "app1 is moved from memcg A to B and back to A while one walker iterates "
                    "A's list: behind head again, it may be handed out twice in one iteration "
                    "(the seed accepts this: a duplicate walk)",
    setup=lambda w: _base(w, memcgs=("A", "B"), walkers=("reclaim0",)),
    threads=lambda w: [P.direct_reclaim("reclaim0", "A"), _migrate_back(w, "app1", "A", "B")],
    covers=("cgroup migration", "lru_gen_migrate_mm", "get_next_mm")))

register(Scenario(
    "migrate-back-2walkers", "app1 is moved from memcg A to B and back to A while two walkers "
                             "share one iteration of A's list (three apps: the second walker "
                             "would otherwise end the iteration at once)",
    setup=lambda w: _base(w, memcgs=("A", "B"), apps={"app1": "A", "app2": "A", "app3": "A"}),
    threads=lambda w: [P.direct_reclaim("reclaim0", "A"), P.direct_reclaim("reclaim1", "A"),
                       _migrate_back(w, "app1", "A", "B")],
    covers=("cgroup migration", "lru_gen_migrate_mm", "get_next_mm")))

register(Scenario(
    "switch-migrate", "a CPU switches to app1 while app1 moves from memcg A to B: "
                      "lru_gen_use_mm() may find its mm between lru_gen_migrate_mm()'s del and "
                      "add (the seed's VM_WARN_ON, \"unlikely but not a bug\")",
    setup=lambda w: _base(w, memcgs=("A", "B"), apps={"app1": "A"}, walkers=()),
    threads=lambda w: [P.cpu(0, ["app1"]), P.migrator(_pid_of(w, "app1"), "B")],
    covers=("context_switch", "lru_gen_use_mm", "lru_gen_migrate_mm")))


def _migrate_back(w: World, comm: str, src: str, dst: str) -> ThreadSpec:
    """One shell moves ``comm`` to ``dst`` and then back to ``src``: two cgroup.procs writes."""
    pid = _pid_of(w, comm)
    return P.sequence(f"migrate({comm}:{src}->{dst}->{src})", "sh", P.migrator(pid, dst),
                      P.migrator(pid, src))


def _pid_of(w: World, comm: str) -> int:
    for t in w.all_tasks:
        if t.label == comm:
            return t.pid
    raise KeyError(comm)


def _setup_new_owner(w: World) -> None:
    _base(w, memcgs=("A", "B"), apps={"app1": "A", "app2": "A"}, walkers=("reclaim0",))
    w.user_task("reclaimB", "B")
    thread = _clone_thread(w, "app1")                   # app1's thread shares mm#1
    # the thread alone is moved to B (cgroup v1 allows it): the mm stays with its owner app1
    from .model.memcontrol import css_get, mem_cgroup_put
    b = w.memcg("B")
    css_get(b)
    old = thread.__dict__["_memcg"]
    thread.__dict__["_memcg"] = b
    mem_cgroup_put(old)


def _base_nomemcg(w: World) -> None:
    w.spawn(None, comm="app1", nr_regions=2)
    w.spawn(None, comm="app2", nr_regions=2)
    w.user_task("reclaim0")
    w.user_task("reclaim1")
    w.user_task("sh")
    w.kthread("kworker/u8:0")


def scenario_without(scenario: Scenario, dropped: list[str] | tuple = ()) -> Scenario:
    """The scenario minus some threads (by name): what shrinking drops."""
    if not dropped:
        return scenario
    gone = set(dropped)
    orig = scenario.threads
    return dataclasses.replace(scenario,
                               threads=lambda w: [s for s in orig(w) if s.name not in gone])


def get(name: str) -> Scenario:
    try:
        return BUILTIN[name]
    except KeyError:
        raise KeyError(f"unknown scenario {name!r} (known: {', '.join(sorted(BUILTIN))})") \
            from None


# --- the rarer branches (issue 8): every coverage point is reached by some built-in ---------------
# Each of these is small on purpose (two to four threads): `mmlist coverage` names, per point, the
# scenario that reaches it; tests/test_coverage.py fails when a point is reached by none.

def _three_in_a(w: World) -> None:
    _base(w, apps={"app1": "A", "app2": "A", "app3": "A"}, walkers=("reclaim0",))


register(Scenario(
    "exit-head", "three mms; app2 exits while a walker's iteration stands on it (head has a "
                 "successor) and a CPU runs app1: lru_gen_del_mm() moves head to the next mm",
    config=Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16, nr_cpus=1),
    setup=_three_in_a,
    threads=lambda w: [P.direct_reclaim("reclaim0", "A", rounds=2), P.cpu(0, ["app1"]),
                       P.exiter("app2"), P.kworker()],
    covers=("exit", "lru_gen_del_mm", "get_next_mm", "should_skip_mm")))

register(Scenario(
    "switch-two-memcgs", "a CPU switches between tasks of memcgs A and B while walkers of both "
                         "clear the node bits: lru_gen_use_mm() makes mms eligible again",
    config=Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16, nr_cpus=1),
    setup=lambda w: _base(w, memcgs=("A", "B"), apps={"app1": "A", "app2": "B"},
                          walkers=("reclaim0",)) or w.user_task("reclaimB", "B"),
    threads=lambda w: [P.direct_reclaim("reclaim0", "A", rounds=2),
                       P.direct_reclaim("reclaimB", "B", rounds=2),
                       P.cpu(0, ["app1", "app2", "app1"])],
    covers=("context_switch", "lru_gen_use_mm", "should_skip_mm")))

register(Scenario(
    "two-forks", "app1 and app2 fork into memcg A while a walker makes two passes: the "
                 "children are added during or after the first iteration and are new mms on "
                 "the second (the kernel's own path, not set-up)",
    setup=lambda w: _base(w, walkers=("reclaim0",)),
    threads=lambda w: [P.direct_reclaim("reclaim0", "A", rounds=2), P.forker("app1"),
                       P.forker("app2")],
    covers=("fork", "lru_gen_add_mm", "get_next_mm")))

register(Scenario(
    "fork-thread-exec-fail", "app1 clones a thread (CLONE_VM: no new mm) and app2's exec fails "
                             "after mm_alloc(): an mm that never reached lru_gen_add_mm() is "
                             "freed (lru_gen_del_mm() on an mm not on the list)",
    setup=lambda w: _base(w, walkers=("reclaim0",)),
    threads=lambda w: [P.forker("app1", clone_vm=True), P.exec_fail("app2"),
                       P.direct_reclaim("reclaim0", "A")],
    covers=("fork", "exec", "lru_gen_del_mm")))

register(Scenario(
    "exec-migrate", "app1 execs while it moves from A to B, on an arch that activates the new "
                    "mm with IRQs off (CONFIG_ARCH_WANT_IRQS_OFF_ACTIVATE_MM)",
    config=Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16,
                  CONFIG_ARCH_WANT_IRQS_OFF_ACTIVATE_MM=True),
    setup=lambda w: _base(w, memcgs=("A", "B"), apps={"app1": "A", "app2": "A"},
                          walkers=("reclaim0",)),
    threads=lambda w: [P.execer("app1"), P.migrator(_pid_of(w, "app1"), "B"),
                       P.direct_reclaim("reclaim0", "A"), P.kworker()],
    covers=("exec", "exec_mmap", "cgroup migration", "lru_gen_migrate_mm")))

register(Scenario(
    "faults", "two walkers where allocations fail and locks are contended: GFP_ATOMIC Bloom "
              "filter, alloc_mm_walk(), mmap_read_trylock(); one walker at low priority that "
              "does not wait; CONFIG_LRU_GEN_STATS keeps per-generation stats",
    config=Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16, CONFIG_LRU_GEN_STATS=True,
                  gfp_atomic_may_fail=True, mm_walk_alloc_may_fail=True,
                  mmap_lock_contended=True),
    setup=lambda w: _base(w),
    threads=lambda w: [P.direct_reclaim("reclaim0", "A", rounds=2),
                       P.direct_reclaim("reclaim1", "A", priority=12)],
    covers=("allocation failures", "mmap_lock", "CONFIG_LRU_GEN_STATS", "try_to_inc_max_seq")))


def _skips(w: World) -> None:
    _base(w, walkers=("reclaim0",))
    w.spawn("A", comm="tiny", nr_regions=1, rss=0)


register(Scenario(
    "skips", "a walker meets a tiny mm, an OOM victim chosen mid-walk and charges moving out "
             "of its memcg: every reason should_skip_mm() and walk_mm() have to leave an mm",
    config=Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=8, PTRS_PER_PTE=16),
    setup=_skips,
    threads=lambda w: [P.direct_reclaim("reclaim0", "A"), P.oom_kill("app1"),
                       P.move_charge("A")],
    covers=("should_skip_mm", "walk_mm", "OOM")))


def _thread_of_app1(w: World) -> None:
    """app1 and a thread of it (CLONE_VM, same mm, same memcg A); app2 in A too."""
    _base(w, memcgs=("A", "B"), apps={"app1": "A", "app2": "A"}, walkers=("reclaim0",))
    _clone_thread(w, "app1")


def _clone_thread(w: World, comm: str, name: str | None = None) -> object:
    """``comm`` clones a thread (CLONE_VM: same mm, same memcg), named ``name`` (default
    ``<comm>-thread``)."""
    from . import runtime as rt
    from .model import fork
    from .model.structs import CLONE_VM
    parent = next(t for t in w.all_tasks if t.label == comm)
    ctx = rt.current_ctx()
    saved, ctx.task = ctx.task, parent
    try:
        thread = fork.kernel_clone(parent, CLONE_VM)
    finally:
        ctx.task = saved
    thread.label = name or f"{comm}-thread"
    return thread


def _two_sharers_of_app1(w: World) -> None:
    """app1 and two CLONE_VM children of it (processes of their own sharing mm#1, in A)."""
    _base(w, memcgs=("A", "B"), apps={"app1": "A", "app2": "A"}, walkers=("reclaim0",))
    _clone_thread(w, "app1", "vm1")
    _clone_thread(w, "app1", "vm2")


register(Scenario(
    "owner-exits-migrate", "app1, the owner of an mm shared with two CLONE_VM children, exits "
                           "while app2 exits too and the second child is moved to memcg B: "
                           "mm_update_next_owner() hands the mm to the first child as "
                           "mem_cgroup_attach() reads mm->owner, and scans the tasks' flags as "
                           "app2 sets PF_EXITING",
    setup=_two_sharers_of_app1,
    threads=lambda w: [P.exiter("app1"), P.exiter("app2"), P.migrator(_pid_of(w, "vm2"), "B"),
                       P.direct_reclaim("reclaim0", "A"), P.kworker()],
    covers=("exit", "mm_update_next_owner", "mem_cgroup_attach", "lru_gen_migrate_mm")))


register(Scenario(
    "owner-exits", "app1 exits while its thread (same mm, same memcg) execs: "
                   "mm_update_next_owner() retries and hands the mm to the thread, or finds it "
                   "is no longer the owner",
    setup=_thread_of_app1,
    threads=lambda w: [P.exiter("app1"), P.execer("app1-thread"),
                       P.direct_reclaim("reclaim0", "A"), P.kworker()],
    covers=("exit", "mm_update_next_owner", "exec")))

register(Scenario(
    "owner-exits-kthread", "app1, alone with its mm, exits while a kernel thread borrows the mm "
                           "(kthread_use_mm): mm_update_next_owner() must not make the kthread "
                           "the owner",
    setup=lambda w: _base(w, walkers=("reclaim0",)) or w.kthread("kworker/0:1"),
    threads=lambda w: [P.kthread_borrow("kworker/0:1", "app1"), P.exiter("app1"),
                       P.direct_reclaim("reclaim0", "A"), P.kworker()],
    covers=("exit", "mm_update_next_owner", "kthread_use_mm")))

register(Scenario(
    "migrate-odd", "cgroup.procs writes that lru_gen_migrate_mm() must leave alone: a thread "
                   "that does not own its mm, a kthread without an mm, a task into its own "
                   "memcg",
    setup=_thread_of_app1,
    threads=lambda w: [P.sequence("migrations", "sh",
                                  P.migrator(_pid_of(w, "app1-thread"), "B"),
                                  P.migrator(_pid_of(w, "kworker/u8:0"), "B"),
                                  P.migrator(_pid_of(w, "app2"), "A")),
                       P.direct_reclaim("reclaim0", "A")],
    covers=("cgroup migration", "mem_cgroup_attach", "lru_gen_migrate_mm")))

register(Scenario(
    "memcg-disabled", "cgroup_disable=memory: app1 exits and its thread becomes the owner; "
                      "lru_gen_migrate_mm() returns at once",
    config=Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16, mem_cgroup_disabled=True),
    setup=_thread_of_app1,
    threads=lambda w: [P.exiter("app1"), P.direct_reclaim("reclaim0", "A")],
    covers=("cgroup_disable=memory", "mm_update_next_owner", "lru_gen_migrate_mm")))

register(Scenario(
    "exit-rmdir", "app1, alone in memcg B, exits while B is removed and a walker (a task of "
                  "A) ages B: the walker may hold app1's mm, so __mmput() and "
                  "lru_gen_del_mm() run in the kworker after B lost every other reference",
    setup=lambda w: _base(w, memcgs=("A", "B"), apps={"app1": "B"}, walkers=("reclaimB",)),
    threads=lambda w: [P.direct_reclaim("reclaimB", "B"), P.exiter("app1"),
                       P.memcg_rmdir("B"), P.kworker()],
    covers=("exit", "memcg free", "lru_gen_del_mm", "mmput_async")))
