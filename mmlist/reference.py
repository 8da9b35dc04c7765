"""An independent reference model of the mm_struct list protocol (issue 13, item 1).

This is the seed (``../shared/seed/mglru-v6-5of9-mm_struct-list.txt``) and protocol.md read again
and written down abstractly, *without* calling or copying ``mmlist.model``: no list nodes, no
locks, no hook. Objects are named by the labels the real model gives them (``mm#3``, ``A``, task
pids), so the two can be compared name for name:

* per memcg, the ordered list of its mms (``lists``);
* per lruvec ``(memcg, nid)``: ``seq``, ``max_seq``, ``head`` and ``tail`` as the *identity* of
  the mm they point at (``FIFO`` for the sentinel), ``nr_walkers``, and the mms handed out in the
  running iteration;
* per mm: ``mm_users``, its owner, the list it is on, its usage hints (``nodes``: used since the
  walkers last cleared the node's bit; the CPUs that have it loaded: ``mm_cpumask``), its size;
* per task: memcg, mm, PF_KTHREAD; per CPU: the task running and the mm loaded.

Operations mirror the real ones at two levels: the protocol (``add_mm``, ``del_mm``,
``migrate_mm``, ``use_mm``, ``get_next_mm``, ``inc_max_seq``) and the life cycle that calls it
(``spawn``, ``fork``, ``exec``, ``exit``, ``cgroup_migrate``, ``context_switch``,
``kthread_use_mm``/``kthread_unuse_mm``, ``mkdir``/``rmdir``, walker rounds). Deferred work
(``mmput_async``'s ``__mmput``) waits in ``pending`` until ``run_pending_work()``, as a kworker.

Where the seed's behaviour departs from the abstract protocol on purpose, the reference follows
the seed (its results must agree with the real model) and records the departure as an
``Excuse`` naming the findings registry entry that accepts it (``mmlist.findings``): B2
(``lru_gen_use_mm()`` tests ``current``, the previous task, for PF_KTHREAD) and B3 (an mm that
left the list and came back is handed out again in the same iteration). A departure the registry
does not accept under the World's configuration raises ``ReferenceViolation``.

After an operation the reference does not model step by step (a batch of threads run under the
controlled scheduler), ``resync(world)`` rebuilds it from the real World: the one place here
that reads the real model, raw, and only its state, never its code.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from . import findings

#: the sentinel ``&mm_list->fifo`` as a cursor position
FIFO = "fifo"
#: ``MIN_NR_GENS`` (patch 4): ``lru_gen_init_state()`` starts with ``seq = MIN_NR_GENS`` and
#: ``max_seq = MIN_NR_GENS + 1``. Written here again on purpose (independence).
MIN_NR_GENS = 2
ROOT = "root"


class ReferenceViolation(AssertionError):
    """The seed's cursor rules did something the abstract protocol forbids and no registry
    entry accepts (e.g. an mm handed out twice in one iteration without leaving the list)."""


@dataclass(frozen=True)
class Excuse:
    """A departure of the seed from the abstract protocol, accepted by registry entry ``id``."""

    id: str
    what: str


@dataclass
class MM:
    name: str
    users: int = 1
    owner: int | None = None            # pid
    memcg: str | None = None            # the list it is on (``mm->lru_gen.memcg``)
    nodes: set[int] = field(default_factory=set)
    size: int = 0                       # anon + shmem + file pages (``get_mm_counter``)
    oom_victim: bool = False
    freed: bool = False                 # ``__mmput`` ran


@dataclass
class Task:
    pid: int
    memcg: str | None
    mm: str | None = None
    kthread: bool = False
    exited: bool = False


@dataclass
class Lruvec:
    seq: int = MIN_NR_GENS
    max_seq: int = MIN_NR_GENS + 1
    head: str = FIFO
    tail: str = FIFO
    nr_walkers: int = 0
    #: mms handed out in the running iteration, and those of them that left the list since
    handed_out: set[str] = field(default_factory=set)
    left: set[str] = field(default_factory=set)


@dataclass
class Walker:
    """A walker's private state: ``struct lru_gen_mm_walk`` and its ``*iter``."""

    lruvec: tuple[str, int] | None = None
    max_seq: int = 0
    iter: str | None = None
    full_scan: bool = False
    can_swap: bool = True


@dataclass(frozen=True)
class NextResult:
    """What one ``get_next_mm()`` call shows: the mm handed out, ``last``, and the mms
    ``should_skip_mm()`` skipped, each with its reason (the real model's ``skip`` trace)."""

    mm: str | None
    last: bool
    skipped: tuple[tuple[str, str], ...]


class Reference:
    """The abstract protocol state of one World (CONFIG_MEMCG, memcgs enabled)."""

    def __init__(self, nr_nodes: int, nr_cpus: int, min_lru_batch: int, config: Any = None):
        self.nr_nodes = nr_nodes
        self.min_lru_batch = min_lru_batch
        #: the real World's ``Config`` (for the registry's configuration tests), or None
        self.config = config
        self.lists: dict[str, list[str]] = {}
        self.lruvecs: dict[tuple[str, int], Lruvec] = {}
        self.online: dict[str, bool] = {}
        self.freed: set[str] = set()
        self.mms: dict[str, MM] = {}
        self.tasks: dict[int, Task] = {}
        #: per CPU: the running task's pid (None: its idle task) and the mm it has loaded
        self.curr: list[int | None] = [None] * nr_cpus
        self.loaded: list[str | None] = [None] * nr_cpus
        self.walkers: dict[str, Walker] = {}
        self.walker_css: dict[str, str] = {}     # walker -> memcg it holds a css reference on
        self.pending: list[str] = []             # mms whose __mmput is queued (mmput_async)
        self.excused: list[Excuse] = []
        self.mkdir(ROOT)

    # --- the registry ----------------------------------------------------------------------------
    def excuse(self, entry_id: str, what: str) -> None:
        """Record a departure accepted by the registry entry ``entry_id``; refuse one the entry
        does not accept (unknown id, not benign, or not under this configuration)."""
        entry = findings.BY_ID.get(entry_id)
        if entry is None or entry.judgement != "benign":
            raise ReferenceViolation(f"{what}: no benign registry entry {entry_id}")
        if self.config is not None and not entry.config(self.config):
            raise ReferenceViolation(f"{what}: {entry_id} does not apply to this configuration")
        self.excused.append(Excuse(entry_id, what))

    # --- memcgs -----------------------------------------------------------------------------------
    def mkdir(self, memcg: str) -> None:
        """``mem_cgroup_alloc()`` -> ``lru_gen_init_memcg()``: an empty list, fresh lruvecs."""
        self.lists[memcg] = []
        self.online[memcg] = True
        for nid in range(self.nr_nodes):
            self.lruvecs[(memcg, nid)] = Lruvec()

    def rmdir(self, memcg: str) -> bool:
        """Offline: the base css reference goes; the memcg is freed with its last one. False
        (-EBUSY, cgroup v2) while a live task is in it."""
        if any(t.memcg == memcg and not t.exited for t in self.tasks.values()):
            return False
        self.online[memcg] = False
        self._maybe_free(memcg)
        return True

    def css_refs(self, memcg: str) -> int:
        """Who holds the memcg's css: online, its tasks, the mms on its list, its walkers."""
        return (int(self.online[memcg])
                + sum(1 for t in self.tasks.values() if t.memcg == memcg and not t.exited)
                + sum(1 for m in self.mms.values() if m.memcg == memcg)
                + sum(1 for m in self.walker_css.values() if m == memcg))

    def _maybe_free(self, memcg: str | None) -> None:
        if memcg is None or memcg == ROOT or memcg in self.freed:
            return                      # the root css is not reference counted (CSS_NO_REF)
        if self.css_refs(memcg) == 0:
            self.freed.add(memcg)
            del self.lists[memcg]
            for nid in range(self.nr_nodes):
                del self.lruvecs[(memcg, nid)]

    def live_memcgs(self) -> list[str]:
        return [m for m in self.lists if m not in self.freed]

    # --- the protocol: the seed's list operations -------------------------------------------------
    def _owner_memcg(self, mm: MM) -> str:
        """``get_mem_cgroup_from_mm()``: the owner's memcg, or the root without one."""
        owner = self.tasks.get(mm.owner) if mm.owner is not None else None
        return owner.memcg if owner is not None and owner.memcg is not None else ROOT

    def _next(self, memcg: str, mm: str) -> str:
        fifo = self.lists[memcg]
        i = fifo.index(mm)
        return fifo[i + 1] if i + 1 < len(fifo) else FIFO

    def add_mm(self, name: str) -> None:
        """``lru_gen_add_mm()``: append; an lruvec whose tail is on the sentinel points it at
        the new mm (everything from ``tail`` on gets a full scan)."""
        mm = self.mms[name]
        memcg = self._owner_memcg(mm)
        if mm.memcg is not None:
            raise ReferenceViolation(f"{name} added while on {mm.memcg}'s list")
        mm.memcg = memcg
        self.lists[memcg].append(name)
        for nid in range(self.nr_nodes):
            lv = self.lruvecs[(memcg, nid)]
            if lv.tail == FIFO:
                lv.tail = name

    def del_mm(self, name: str) -> None:
        """``lru_gen_del_mm()``: move ``tail`` and ``head`` off the mm; ``head`` reaching the
        sentinel ends the iteration (``seq + 1``)."""
        mm = self.mms[name]
        memcg = mm.memcg
        if memcg is None:
            return
        for nid in range(self.nr_nodes):
            lv = self.lruvecs[(memcg, nid)]
            nxt = self._next(memcg, name)
            if lv.tail == name:
                lv.tail = nxt
            if name in lv.handed_out:
                lv.left.add(name)
            if lv.head != name:
                continue
            lv.head = nxt
            if lv.head == FIFO:
                lv.seq += 1
        self.lists[memcg].remove(name)
        mm.memcg = None
        self._maybe_free(memcg)

    def migrate_mm(self, name: str) -> None:
        """``lru_gen_migrate_mm()``: follow the owner to its memcg (del, then add)."""
        mm = self.mms[name]
        if self._owner_memcg(mm) == mm.memcg:
            return
        if mm.memcg is None:
            raise ReferenceViolation(f"{name} migrated before it was added (F3's state)")
        self.del_mm(name)
        self.add_mm(name)

    def use_mm(self, name: str, current_kthread: bool, next_kthread: bool) -> None:
        """``lru_gen_use_mm()``: mark the mm used on every node, unless ``current`` is a
        kthread. The seed tests ``current`` (in ``context_switch()`` still the previous task),
        not the task switched to: where the two differ, B2 accepts it."""
        if current_kthread != next_kthread:
            self.excuse("B2", f"lru_gen_use_mm({name}) judged by the previous task's "
                              f"PF_KTHREAD ({current_kthread}), not the next's ({next_kthread})")
        if not current_kthread:
            self.mms[name].nodes = set(range(self.nr_nodes))

    def cpumask(self, name: str) -> set[int]:
        return {c for c, m in enumerate(self.loaded) if m == name}

    def should_skip_mm(self, name: str, walker: Walker) -> str | None:
        """``should_skip_mm()``: the reason to skip (the real model's trace names), or None
        (then the node's usage bit is cleared and the walker holds a user reference)."""
        mm = self.mms[name]
        assert walker.lruvec is not None
        nid = walker.lruvec[1]
        if not walker.full_scan and not self.cpumask(name) and nid not in mm.nodes:
            return "unused"
        if mm.size < self.min_lru_batch:
            return "small"
        if mm.oom_victim:
            return "oom_victim"
        if mm.users == 0:
            return "mm_users==0"            # mmget_not_zero() failed
        mm.users += 1
        mm.nodes.discard(nid)
        return None

    def get_next_mm(self, wname: str) -> NextResult:
        """``get_next_mm()``: hand ``*iter`` back and take the next mm of this iteration."""
        wk = self.walkers[wname]
        assert wk.lruvec is not None
        lv = self.lruvecs[wk.lruvec]
        memcg = wk.lruvec[0]
        last, mm = True, None
        skipped: list[tuple[str, str]] = []
        prev = wk.iter
        if prev is not None:
            self.mmput_async(prev)
        elif wk.max_seq <= lv.seq:
            return NextResult(None, False, ())      # case 1: a stale max_seq
        if wk.max_seq > lv.seq + 1:
            raise ReferenceViolation(f"{wname}: walk->max_seq {wk.max_seq} > seq {lv.seq} + 1")
        if wk.max_seq <= lv.seq:
            if prev is None:
                last = False
        else:
            if lv.head == FIFO:
                if lv.nr_walkers:
                    raise ReferenceViolation(f"{wk.lruvec}: a new iteration with walkers")
                # case 2, the first walker (its Bloom filter work is not modelled here)
                lv.head = self.lists[memcg][0] if self.lists[memcg] else FIFO
                lv.handed_out.clear()
                lv.left.clear()
            while mm is None and lv.head != FIFO:
                mm = lv.head
                lv.head = self._next(memcg, mm)
                # full scan for those added after the last iteration
                if lv.tail == mm:
                    lv.tail = self._next(memcg, mm)
                    wk.full_scan = True
                why = self.should_skip_mm(mm, wk)
                if why is not None:
                    skipped.append((mm, why))
                    mm = None
            if lv.head == FIFO:
                lv.seq += 1
        if prev is not None and mm is None:
            lv.nr_walkers -= 1
        if prev is None and mm is not None:
            lv.nr_walkers += 1
        if lv.nr_walkers:
            last = False
        if mm is not None:
            self._handed_out(lv, wk.lruvec, mm)
        wk.iter = mm
        return NextResult(mm, last, tuple(skipped))

    def _handed_out(self, lv: Lruvec, key: tuple[str, int], mm: str) -> None:
        """The abstract protocol hands an mm out at most once per iteration; B3 accepts a second
        time after it left the list and came back (a new stay)."""
        if mm in lv.handed_out:
            if mm not in lv.left:
                raise ReferenceViolation(f"{mm} handed out twice on {key} in one iteration")
            self.excuse("B3", f"{mm} re-added during the iteration on {key}, handed out again")
            lv.left.discard(mm)
        lv.handed_out.add(mm)

    def inc_max_seq(self, key: tuple[str, int], max_seq: int) -> bool:
        """``inc_max_seq()``: a new generation, unless another caller made it already."""
        lv = self.lruvecs[key]
        if max_seq != lv.max_seq:
            return False
        lv.max_seq += 1
        return True

    # --- mm references ----------------------------------------------------------------------------
    def mmput(self, name: str) -> None:
        mm = self.mms[name]
        mm.users -= 1
        if mm.users == 0:
            self.__mmput(name)

    def mmput_async(self, name: str) -> None:
        mm = self.mms[name]
        mm.users -= 1
        if mm.users == 0:
            self.pending.append(name)

    def __mmput(self, name: str) -> None:
        self.del_mm(name)
        self.mms[name].freed = True

    def run_pending_work(self) -> None:
        """The kworker: every queued ``__mmput``, in order."""
        while self.pending:
            self.__mmput(self.pending.pop(0))

    # --- the life cycle -----------------------------------------------------------------------------
    def new_mm(self, name: str, owner: int, size: int, used: bool) -> MM:
        mm = MM(name, users=1, owner=owner, size=size,
                nodes=set(range(self.nr_nodes)) if used else set())
        self.mms[name] = mm
        return mm

    def spawn(self, pid: int, memcg: str, mm: str, size: int, used: bool = True) -> None:
        """``World.spawn``: a task that exec'd; its mm on its memcg's list."""
        self.tasks[pid] = Task(pid, memcg, mm)
        self.new_mm(mm, pid, size, used=False)
        self.add_mm(mm)
        if used:
            self.mms[mm].nodes = set(range(self.nr_nodes))

    def add_task(self, pid: int, memcg: str | None = ROOT, kthread: bool = False) -> None:
        """A task with no mm (a shell, a kthread, a reclaimer)."""
        self.tasks[pid] = Task(pid, memcg, None, kthread)

    def fork(self, parent: int, child: int, clone_vm: bool, child_mm: str | None) -> None:
        """``kernel_clone()``: the child shares the parent's memcg; without CLONE_VM its new mm
        (usage bits cleared by ``lru_gen_init_mm``) joins the list."""
        p = self.tasks[parent]
        assert p.mm is not None
        self.tasks[child] = Task(child, p.memcg)
        if clone_vm:
            self.tasks[child].mm = p.mm
            self.mms[p.mm].users += 1
            return
        assert child_mm is not None
        self.new_mm(child_mm, child, self.mms[p.mm].size, used=False)
        self.tasks[child].mm = child_mm
        self.add_mm(child_mm)

    def _cpu_of(self, pid: int) -> int:
        for cpu, cur in enumerate(self.curr):
            if cur == pid:
                return cpu
        raise ReferenceViolation(f"task {pid} runs on no CPU")

    def exec(self, pid: int, new_mm: str, size: int) -> None:
        """``exec_mmap()``: add the new mm, load it, mark it used, pass the old one on."""
        t = self.tasks[pid]
        cpu = self._cpu_of(pid)
        old = t.mm
        self.new_mm(new_mm, pid, size, used=False)
        t.mm = new_mm
        self.add_mm(new_mm)
        self.loaded[cpu] = new_mm                    # activate_mm()
        self.use_mm(new_mm, t.kthread, t.kthread)
        if old is not None:
            self.mm_update_next_owner(old, pid)
            self.mmput(old)

    def mm_update_next_owner(self, name: str, pid: int) -> None:
        """Hand ``mm->owner`` to the first other user task of the mm in pid order (the model's
        order); the mm follows the new owner's memcg."""
        mm = self.mms[name]
        if mm.owner != pid:
            return
        if mm.users <= 1:
            mm.owner = None
            return
        for c in sorted(self.tasks):
            t = self.tasks[c]
            if c != pid and not t.kthread and not t.exited and t.mm == name:
                mm.owner = c
                self.migrate_mm(name)
                return
        mm.owner = None

    def exit(self, pid: int) -> None:
        """``do_exit()``: leave the mm (ownership passed on, reference dropped), drop the css,
        and the last switch away unloads the mm from this CPU."""
        t = self.tasks[pid]
        cpu = self._cpu_of(pid)
        old = t.mm
        if old is not None:
            t.mm = None
            self.mm_update_next_owner(old, pid)
            self.mmput(old)
        t.exited = True
        memcg, t.memcg = t.memcg, None
        self._maybe_free(memcg)
        self.loaded[cpu] = None
        self.curr[cpu] = None
        del self.tasks[pid]

    def cgroup_migrate(self, pid: int, dst: str) -> None:
        """A write to ``dst``'s ``cgroup.procs``; ``mem_cgroup_attach()`` moves the mm when the
        task owns it."""
        t = self.tasks.get(pid)
        if t is None or t.exited or t.memcg == dst:
            return
        src, t.memcg = t.memcg, dst
        if t.mm is not None and self.mms[t.mm].owner == pid:
            self.migrate_mm(t.mm)
        self._maybe_free(src)

    def mark_oom_victim(self, pid: int) -> None:
        """``mark_oom_victim()``: the OOM killer flags the task's mm; walkers skip it."""
        name = self.tasks[pid].mm
        if name is not None:
            self.mms[name].oom_victim = True

    def context_switch(self, cpu: int, nxt: int) -> None:
        """``context_switch()``: a user task's mm is loaded (``switch_mm_irqs_off``) and marked
        used with ``current`` still the previous task; a kthread without an mm keeps the loaded
        mm (lazy TLB)."""
        prev = self.curr[cpu]
        prev_kthread = prev is None or self.tasks[prev].kthread
        t = self.tasks[nxt]
        if t.mm is not None:
            self.loaded[cpu] = t.mm
            self.use_mm(t.mm, prev_kthread, t.kthread)
        self.curr[cpu] = nxt

    def kthread_use_mm(self, pid: int, name: str) -> bool:
        """``mmget_not_zero()`` then ``kthread_use_mm()``: the mm is loaded, no usage bit set
        (the seed adds no hook there). False when the mm has no user left."""
        mm = self.mms[name]
        if mm.users == 0:
            return False
        mm.users += 1
        self.tasks[pid].mm = name
        self.loaded[self._cpu_of(pid)] = name
        return True

    def kthread_unuse_mm(self, pid: int) -> None:
        """``kthread_unuse_mm()`` then ``mmput()``: the mm stays loaded (lazy TLB)."""
        t = self.tasks[pid]
        name, t.mm = t.mm, None
        assert name is not None
        self.mmput(name)

    # --- walkers ------------------------------------------------------------------------------------
    def start_round(self, wname: str, memcg: str, nid: int, full_scan: bool) -> bool:
        """``try_to_inc_max_seq()`` starts: a css reference on an online memcg (as
        ``mem_cgroup_iter()`` takes), ``walk->max_seq`` from the lruvec. False: not online."""
        if memcg not in self.lists or not self.online[memcg]:
            return False
        self.walker_css[wname] = memcg
        self.walkers[wname] = Walker((memcg, nid), self.lruvecs[(memcg, nid)].max_seq, None,
                                     full_scan)
        return True

    def end_round(self, wname: str, last: bool) -> bool:
        """The round ends: the last walker creates the next generation; the css goes."""
        wk = self.walkers.pop(wname)
        assert wk.lruvec is not None
        made = self.inc_max_seq(wk.lruvec, wk.max_seq) if last else False
        memcg = self.walker_css.pop(wname)
        self._maybe_free(memcg)
        return made

    # --- comparing with the real model -----------------------------------------------------------------
    def observe(self) -> dict[str, Any]:
        """What the real model must show too (``observe_world``): lists in order, cursors,
        sequence numbers, walkers, and each listed mm's users and usage hints."""
        mms = {}
        for memcg in self.live_memcgs():
            for name in self.lists[memcg]:
                mm = self.mms[name]
                mms[name] = (mm.users, tuple(sorted(mm.nodes)), tuple(sorted(self.cpumask(name))))
        return {
            "lists": {m: list(self.lists[m]) for m in self.live_memcgs()},
            "lruvecs": {f"{m}/{nid}": (lv.head, lv.tail, lv.seq, lv.max_seq, lv.nr_walkers)
                        for (m, nid), lv in self.lruvecs.items() if m not in self.freed},
            "mms": mms,
        }

    def resync(self, world: Any, walkers: Mapping[str, tuple[Any, Any, Any]] | None = None
               ) -> None:
        """Rebuild the reference from the real ``world`` (raw reads, no hook) after operations it
        did not follow step by step, e.g. a batch of threads under the controlled scheduler.

        ``walkers``: name -> (lruvec, walk, iter box) of walkers still inside a round (their
        private state lives outside the World). The handed-out sets restart empty: the
        iteration running at a resync is not judged for duplicates."""
        snap = observe_world(world)
        self.nr_nodes = world.config.nr_nodes
        self.lists, self.lruvecs, self.online, self.freed = {}, {}, {}, set()
        for memcg in world.memcgs:
            name = memcg.label
            if memcg.freed:
                self.freed.add(name)
                continue
            self.lists[name] = list(snap["lists"][name])
            self.online[name] = memcg.online
            for nid in range(self.nr_nodes):
                head, tail, seq, max_seq, nr = snap["lruvecs"][f"{name}/{nid}"]
                self.lruvecs[(name, nid)] = Lruvec(seq, max_seq, head, tail, nr)
        self.mms = {}
        for mm in world.mms:
            d = mm.__dict__
            owner = d["_owner"]
            memcg = mm.lru_gen.__dict__["_memcg"]
            self.mms[mm.label] = MM(
                mm.label, users=mm.mm_users.counter, owner=owner.pid if owner else None,
                memcg=memcg.label if memcg is not None else None,
                nodes={n for n in range(self.nr_nodes) if mm.lru_gen.nodes.bits[n]},
                size=_size(mm), oom_victim=bool(mm.oom_victim), freed=bool(mm.freed))
        self.tasks = {}
        for t in world.tasks.values():
            memcg = t.__dict__["_memcg"]
            mm = t.__dict__["_mm"]
            self.tasks[t.pid] = Task(t.pid, memcg.label if memcg is not None else None,
                                     mm.label if mm is not None else None,
                                     kthread=bool(t.flags & _PF_KTHREAD), exited=t.exited)
        for cpu, rq in enumerate(world.runqueues):
            cur = rq.curr
            self.curr[cpu] = None if cur.flags & _PF_KTHREAD and cur.pid not in world.tasks \
                else cur.pid
            self.loaded[cpu] = cur.active_mm.label if cur.active_mm is not None else None
        self.pending = [arg.label for _, arg in world.system_wq]
        self.walkers, self.walker_css = {}, {}
        for name, (lv, walk, it) in (walkers or {}).items():
            key = (lv.memcg.label, lv.pgdat.node_id)
            held = it[0]
            self.walkers[name] = Walker(key, walk.max_seq, held.label if held else None,
                                        walk.full_scan, walk.can_swap)
            self.walker_css[name] = key[0]


_PF_KTHREAD = 0x00200000


def _size(mm: Any) -> int:
    """file + anon + shmem pages (``MM_FILEPAGES``, ``MM_ANONPAGES``, ``MM_SHMEMPAGES``: rss_stat
    slots 0, 1 and 3; slot 2 counts swap entries): what ``should_skip_mm()`` compares with
    MIN_LRU_BATCH when the walker may swap."""
    rss = mm.rss_stat
    return int(rss[0] + rss[1] + rss[3])


def observe_world(world: Any) -> dict[str, Any]:
    """The real World's side of ``Reference.observe()``, read raw (checking never changes a run).
    The CPUs of an mm are its ``mm_cpumask`` bits."""
    lists: dict[str, list[str]] = {}
    lruvecs: dict[str, tuple] = {}
    mms: dict[str, tuple] = {}
    nr_cpus = world.config.nr_cpus
    for memcg, mm_list in world.mm_lists():
        fifo = mm_list.fifo
        names = []
        node = fifo.__dict__["_next"]
        while node is not fifo and len(names) <= len(world.mms):
            names.append(node.container.label)
            node = node.__dict__["_next"]
        lists[memcg.label] = names
        for pn in memcg.nodeinfo:
            lv = pn.lruvec
            st = lv.mm_state.__dict__
            lruvecs[f"{memcg.label}/{lv.pgdat.node_id}"] = (
                _cursor(st["_head"], fifo), _cursor(st["_tail"], fifo), st["_seq"],
                lv.lrugen.__dict__["_max_seq"], st["_nr_walkers"])
        for node_mm in (n.container for n in _nodes(fifo, len(world.mms))):
            bits = node_mm.lru_gen.nodes.bits
            cpus = tuple(c for c in range(nr_cpus) if node_mm.cpu_bitmap.bits[c])
            mms[node_mm.label] = (node_mm.mm_users.counter,
                                  tuple(n for n in range(world.config.nr_nodes) if bits[n]),
                                  cpus)
    return {"lists": lists, "lruvecs": lruvecs, "mms": mms}


def _nodes(fifo: Any, limit: int) -> list:
    out = []
    node = fifo.__dict__["_next"]
    while node is not fifo and len(out) <= limit:
        out.append(node)
        node = node.__dict__["_next"]
    return out


def _cursor(node: Any, fifo: Any) -> str:
    if node is fifo:
        return FIFO
    owner = getattr(node, "container", None)
    label = getattr(owner, "label", repr(node))
    if node.__dict__.get("_next") is node:
        return f"!{label}"              # an unlinked node: a dangling cursor
    return label


def differences(ref: dict[str, Any], real: dict[str, Any]) -> list[str]:
    """Every observable on which the reference and the real model disagree, one line each."""
    out = []
    for part in ("lists", "lruvecs", "mms"):
        a, b = ref[part], real[part]
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                out.append(f"{part}[{key}]: reference {a.get(key)!r}, model {b.get(key)!r}")
    return out
