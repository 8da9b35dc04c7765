"""Thread programs: what one model thread runs, built from the model's kernel entry points.

A program is a ``ThreadSpec``: a name, the task it runs as (``current``), the CPU, and a body
taking the World. Scenarios (``mmlist.scenarios``) are lists of these; every engine runs them.
The builders below cover every caller of protocol.md sections 2 and 3.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import runtime as rt
from .kernel import READ_ONCE, WRITE_ONCE
from .kernel.fields import _raw_get, note_read, note_write
from .model import aging, exec as exec_, exit as exit_, fork, memcontrol, sched
from .model.structs import CLONE_VM, scan_control
from .model.world import World

Body = Callable[[World], None]


@dataclass
class ThreadSpec:
    name: str
    body: Body
    task: Callable[[World], object] | None = None   # resolves `current` when the thread starts
    cpu: int = 0
    kind: str = "lifecycle"                          # "walker" or "lifecycle"
    describe: str = ""

    def __post_init__(self) -> None:
        if self.kind == "walker":
            body = self.body

            def walker_body(w: World) -> None:
                try:
                    body(w)
                finally:
                    w.walker_done()             # harness bookkeeping, even after an oops
            self.body = walker_body

    def ctx(self, world: World, tid: int) -> rt.ThreadCtx:
        ctx = rt.ThreadCtx(name=self.name, tid=tid)
        ctx.task = self.task(world) if self.task is not None else None
        ctx.cpu = self.cpu  # type: ignore[attr-defined]
        return ctx


def _pid(pid: int) -> Callable[[World], object]:
    return lambda w: w.all_tasks[pid - 1]


def _by_comm(comm: str) -> Callable[[World], object]:
    def find(w: World) -> object:
        for t in w.all_tasks:
            if t.label == comm:
                return t
        raise KeyError(f"no task named {comm!r}")
    return find


class _css_ref:
    """``mem_cgroup_iter()`` holds a css reference on the memcg it hands out: a walker's
    lruvec cannot be freed under it. It takes it with ``css_tryget()``, which fails once the
    last reference is gone: such a memcg is never handed out (``with ... as alive``: False,
    and the caller leaves it alone), where a plain ``css_get()`` would bring it back to life
    and free it twice."""

    def __init__(self, memcg: object):
        self.memcg = memcg
        self.held = False

    def __enter__(self) -> bool:
        if self.memcg is None:
            return True
        self.held = memcontrol.css_tryget(self.memcg)
        return self.held

    def __exit__(self, *exc: object) -> None:
        if self.held:
            memcontrol.mem_cgroup_put(self.memcg)


# --- walkers: the three callers of the aging -----------------------------------------------------

def kswapd(name: str = "kswapd0", nid: int = 0, rounds: int = 1,
           priority: int = 12) -> ThreadSpec:
    """kswapd balancing node ``nid``: ``priority`` below DEF_PRIORITY - 2 is kswapd under
    pressure (it still never waits)."""
    def kswapd(w: World) -> None:
        sc = scan_control(priority=priority)
        for _ in range(rounds):
            aging.lru_gen_age_node(w.nodes[nid], sc)
            w.aging_round_done()
    return ThreadSpec(name, kswapd, _by_comm(name), kind="walker",
                      describe=f"kswapd on node {nid}, {rounds} round(s)"
                               + (f", priority {priority}" if priority != 12 else ""))


def direct_reclaim(name: str, memcg: str | None = None, nid: int = 0, rounds: int = 1,
                   priority: int = 0) -> ThreadSpec:
    """A task in direct reclaim; ``priority < DEF_PRIORITY - 2`` makes a non-last walker wait."""
    def try_to_free_pages(w: World) -> None:
        lv = w.lruvec(memcg, nid)
        sc = scan_control(priority=priority)
        with _css_ref(lv.memcg) as alive:
            for _ in range(rounds):
                if alive:
                    aging.get_nr_to_scan(lv, sc, True)
                w.aging_round_done()
    return ThreadSpec(name, try_to_free_pages, _by_comm(name), kind="walker",
                      describe=f"direct reclaim of {memcg or 'root'}/node {nid}, "
                               f"priority {priority}, {rounds} round(s)")


def lru_gen_seq_write(w: World, memcg: str | None, nid: int, rounds: int = 1,
                      full_scan: bool = True) -> None:
    """``echo '+ memcg nid seq 1 full_scan' > /sys/kernel/debug/lru_gen`` by ``current``
    (sc.priority is 0): ``rounds`` aging calls of the lruvec."""
    from .model.structs import lru_gen_mm_walk
    lv = w.lruvec(memcg, nid)
    sc = scan_control(priority=0)
    task = rt.current_ctx().task
    # lru_gen_seq_write(): sc.reclaim_state.mm_walk = alloc_mm_walk();
    # set_task_reclaim_state(current, &sc.reclaim_state)
    task.reclaim_state.mm_walk = lru_gen_mm_walk(f"{task.label}.mm_walk")
    for _ in range(rounds):
        seq = READ_ONCE(lv.lrugen, "max_seq")
        # run_cmd(): css_tryget(&memcg->css) around run_aging()
        if lv.memcg is not None and not memcontrol.css_tryget(lv.memcg):
            continue
        aging.run_aging(lv, seq, sc, True, full_scan)
        memcontrol.mem_cgroup_put(lv.memcg)
        w.aging_round_done()
    task.reclaim_state.mm_walk = None


def debugfs_aging(name: str, memcg: str | None = None, nid: int = 0, rounds: int = 1,
                  full_scan: bool = True) -> ThreadSpec:
    """``echo '+ memcg nid seq 1 full_scan' > /sys/kernel/debug/lru_gen`` (sc.priority is 0)."""
    def lru_gen_seq_write_(w: World) -> None:
        lru_gen_seq_write(w, memcg, nid, rounds, full_scan)
    return ThreadSpec(name, lru_gen_seq_write_, _by_comm(name), kind="walker",
                      describe=f"debugfs aging of {memcg or 'root'}/node {nid}"
                               f"{' full_scan' if full_scan else ''}, {rounds} round(s)")


def evictor(name: str, memcg: str | None, nid: int, mm_owner: str, region: int = 0,
            pte: int = 0) -> ThreadSpec:
    """Eviction (``lru_gen_shrink_lruvec()``) of ``memcg``'s lruvec on node ``nid`` by the task
    ``name``: the rmap walk of ``shrink_page_list()`` finds a young PTE of ``mm_owner``'s mm and
    calls ``lru_gen_look_around``. As in v6, the look-around does its work only with a walk
    lent in ``current->reclaim_state``: kswapd lends its preallocated one while it evicts; a
    direct reclaimer lends none, and its look-around returns at once."""
    def shrink_node(w: World) -> None:
        lv = w.lruvec(memcg, nid)
        owner = _by_comm(mm_owner)(w)
        mm = owner.__dict__["_mm"]

        def shrink_page_list() -> None:
            if mm is not None:
                note_read(mm, "freed")
            if mm is not None and not mm.freed:
                rt.trace("look_around_enter", lruvec=lv, mm=mm, region=region, pte=pte)
                aging.lru_gen_look_around(lv, mm, region, pte)
                rt.trace("look_around_exit", lruvec=lv, mm=mm, region=region, pte=pte)

        with _css_ref(lv.memcg) as alive:       # shrink_node_memcgs() -> mem_cgroup_iter()
            if alive:
                aging.lru_gen_shrink_lruvec(lv, scan_control(priority=12), shrink_page_list)
    return ThreadSpec(name, shrink_node, _by_comm(name), kind="evictor",
                      describe=f"{name} evicts {memcg or 'root'}/node {nid}: rmap look-around "
                               f"on {mm_owner}'s mm")


def kworker(name: str = "kworker/u8:0") -> ThreadSpec:
    """A kworker of the unbound pool: ``worker_thread()`` runs ``system_wq``'s items (the
    ``__mmput`` that ``mmput_async`` deferred) concurrently with everything else; it sleeps
    while the list is empty and exits once no walker is left to queue more. Put it last in a
    scenario's thread list."""
    def worker_thread(w: World) -> None:
        from .kernel import wait_event

        def more() -> bool:
            note_read(w, "system_wq")
            note_read(w, "walkers_left")
            return bool(w.system_wq) or w.walkers_left <= 0
        while True:
            wait_event(w.kworker_wait, more)
            if w.system_wq:
                fn, arg = w.system_wq.pop(0)
                note_write(w, "system_wq")
                rt.trace("process_one_work", fn=fn.__name__, arg=arg)
                fn(arg)
            elif w.walkers_left <= 0:
                return
    return ThreadSpec(name, worker_thread, _by_comm(name), kind="kworker",
                      describe="a kworker running system_wq (mmput_async's __mmput)")


# --- life cycle -----------------------------------------------------------------------------------

def forker(parent: str, clone_vm: bool = False) -> ThreadSpec:
    def __do_sys_clone(w: World) -> None:
        fork.kernel_clone(rt.current_ctx().task, CLONE_VM if clone_vm else 0)
    return ThreadSpec(f"fork({parent})", __do_sys_clone, _by_comm(parent),
                      describe=f"{parent} forks{' a thread (CLONE_VM)' if clone_vm else ''}")


def execer(comm: str) -> ThreadSpec:
    def do_execveat_common(w: World) -> None:
        exec_.do_execve()
    return ThreadSpec(f"exec({comm})", do_execveat_common, _by_comm(comm), describe=f"{comm} execs")


def exiter(comm: str) -> ThreadSpec:
    def do_group_exit(w: World) -> None:
        exit_.do_exit()
    return ThreadSpec(f"exit({comm})", do_group_exit, _by_comm(comm), describe=f"{comm} exits")


def migrator(pid: int, dst: str, name: str | None = None, shell: str = "sh") -> ThreadSpec:
    """``echo pid > /sys/fs/cgroup/dst/cgroup.procs``, written by ``shell``."""
    def cgroup_procs_write(w: World) -> None:
        memcontrol.cgroup_migrate(pid, w.memcg(dst))
    return ThreadSpec(name or f"migrate({pid}->{dst})", cgroup_procs_write, _by_comm(shell),
                      describe=f"task#{pid} moves to {dst}")


def cpu(cpu_id: int, switch_to: list[str], name: str | None = None) -> ThreadSpec:
    """A CPU that context-switches through ``switch_to`` (task names), starting from idle."""
    def schedule(w: World) -> None:
        rq = w.runqueues[cpu_id]
        for comm in switch_to:
            nxt = _by_comm(comm)(w)
            note_read(nxt, "exited")
            note_read(nxt, "on_cpu")
            picked = nxt.__dict__.get("picked_by")
            if nxt.exited or nxt.on_cpu is not None or picked is not None:
                continue                             # pick_next_task() takes no running task
            # model: a task sits on one runqueue, so two CPUs never pick it at once; the claim
            # is made in the same step as the test (no scheduling point in between)
            nxt.__dict__["picked_by"] = cpu_id
            prev = rq.curr
            loaded = _raw_get(prev, "active_mm")      # the mm this CPU has loaded
            sched.context_switch(rq, prev, nxt)
            prev.__dict__["picked_by"] = None
            rt.trace("switched", cpu=cpu_id, prev=prev, next=nxt, loaded=loaded)
            mm = nxt.__dict__["_mm"]
            if mm is not None and mm.pgtables is not None:
                note_read(mm, "mmap_exited")
                if not mm.mmap_exited:
                    note_write(mm.pgtables, "ptes")
                    mm.pgtables.touch(0)             # it runs and touches some memory
    return ThreadSpec(name or f"cpu{cpu_id}", schedule, lambda w: w.runqueues[cpu_id].curr,
                      cpu=cpu_id, describe=f"CPU {cpu_id} switches to {', '.join(switch_to)}")


def kthread_borrow(kthread: str, owner: str) -> ThreadSpec:
    def kthread_worker_fn(w: World) -> None:
        mm = _by_comm(owner)(w).__dict__["_mm"]
        if mm is None or not fork.mmget_not_zero(mm):
            return
        sched.kthread_use_mm(mm)
        sched.kthread_unuse_mm(mm)
        fork.mmput(mm)
    return ThreadSpec(f"use_mm({kthread})", kthread_worker_fn, _by_comm(kthread),
                      describe=f"{kthread} borrows {owner}'s mm")


def cgroup_rmdir(w: World, memcg: str) -> None:
    """``rmdir``: the memcg goes offline and drops its base reference; the css (and the seed's
    Bloom filters, in ``lru_gen_free_memcg``) is freed with the last reference."""
    m = w.memcg(memcg)
    note_write(m, "online")
    m.online = False
    rt.trace("memcg_offline", memcg=m)
    memcontrol.mem_cgroup_put(m)


def memcg_rmdir(memcg: str) -> ThreadSpec:
    """``rmdir`` of ``memcg`` (``cgroup_rmdir``)."""
    def cgroup_rmdir_(w: World) -> None:
        cgroup_rmdir(w, memcg)
    return ThreadSpec(f"rmdir({memcg})", cgroup_rmdir_, _by_comm("sh"),
                      describe=f"rmdir {memcg}")


def memcg_mkdir(memcg: str) -> ThreadSpec:
    def cgroup_mkdir(w: World) -> None:
        w.mem_cgroup_alloc(memcg)
    return ThreadSpec(f"mkdir({memcg})", cgroup_mkdir, _by_comm("sh"), describe=f"mkdir {memcg}")


def sequence(name: str, task: str, *steps: ThreadSpec) -> ThreadSpec:
    """Several programs, one after another, on one thread running as ``task``."""
    def run_in_sequence(w: World) -> None:
        ctx = rt.current_ctx()
        for step in steps:
            if step.task is not None:
                ctx.task = step.task(w)
            step.body(w)
    return ThreadSpec(name, run_in_sequence, _by_comm(task),
                      describe="; ".join(s.describe for s in steps))


# --- rarer callers: failed exec, the OOM killer, charge moving ------------------------------------

def exec_fail(comm: str) -> ThreadSpec:
    """An exec that fails after ``bprm_mm_init()``: the new mm is dropped by ``free_bprm()``
    without ever reaching ``exec_mmap()`` (so without ``lru_gen_add_mm()``)."""
    def bprm_execve(w: World) -> None:
        mm = fork.mm_alloc(rt.current_ctx().task)   # bprm_mm_init() -> mm_alloc()
        fork.mmput(mm)                               # free_bprm() -> mmput(bprm->mm)
    return ThreadSpec(f"exec-fail({comm})", bprm_execve, _by_comm(comm),
                      describe=f"{comm} execs and fails before exec_mmap()")


def oom_kill(victim: str, killer: str = "sh") -> ThreadSpec:
    """``mark_oom_victim()``: the OOM killer sets MMF_OOM_VICTIM on ``victim``'s mm."""
    def out_of_memory(w: World) -> None:
        mm = _by_comm(victim)(w).__dict__["_mm"]
        if mm is None:
            return
        WRITE_ONCE(mm, "oom_victim", True)          # set_bit(MMF_OOM_VICTIM, &mm->flags)
    return ThreadSpec(f"oom_kill({victim})", out_of_memory, _by_comm(killer),
                      describe=f"the OOM killer picks {victim}")


def move_charge(memcg: str, shell: str = "sh") -> ThreadSpec:
    """cgroup v1 ``mem_cgroup_move_charge()``: ``moving_account`` is raised on the source memcg
    while charges move, then dropped; ``walk_mm()`` leaves a memcg alone meanwhile."""
    def mem_cgroup_move_charge(w: World) -> None:
        m = w.memcg(memcg)
        # atomic_inc(&mc.from->moving_account) ... atomic_dec(): the model keeps a flag
        WRITE_ONCE(m, "moving_account", True)
        WRITE_ONCE(m, "moving_account", False)
    return ThreadSpec(f"move_charge({memcg})", mem_cgroup_move_charge, _by_comm(shell),
                      describe=f"charges move out of {memcg}")
