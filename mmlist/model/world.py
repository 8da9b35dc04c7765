"""The World: the kernel's globals for one execution (nodes, memcgs, tasks, mms, CPUs).

A scenario builds a World, then starts threads that run model code against it. Building runs
the model's own functions (``mem_cgroup_alloc`` -> ``lru_gen_init_memcg``, ``mm_init``,
``lru_gen_add_mm``...) in the set-up context, so every initial state is one the kernel can reach.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

from .. import runtime as rt
from ..config import MM_ANONPAGES, Config
from ..kernel import mutex, wait_queue_head, wake_up_all
from ..kernel.fields import note_read, note_write
from .pagetable import PageTables
from .structs import (PF_KSWAPD, PF_KTHREAD, lru_gen_mm_list, lruvec, mem_cgroup,
                      mem_cgroup_per_node, mm_struct, pglist_data, reclaim_state, task_struct)


class World:
    def __init__(self, config: Config | None = None):
        self.config = config = config or Config()
        self.label = "world"
        config.check_build()
        hist = config.NR_HIST_GENS
        self.nodes = [pglist_data(nid, hist) for nid in range(config.nr_nodes)]
        self.mm_list = lru_gen_mm_list("mm_list")      # get_mm_list()'s static list
        self.memcgs: list[mem_cgroup] = []
        self.root_mem_cgroup: mem_cgroup | None = None
        self.tasks: dict[int, task_struct] = {}
        self.all_tasks: list[task_struct] = []
        self.mms: list[mm_struct] = []
        #: every bitmap_zalloc() not yet bitmap_free()d, in allocation order: the kmemleak
        #: check (a list, not keyed by id(): the final-state digest must not see addresses)
        self.allocated_bitmaps: list = []
        self.cgroup_threadgroup_rwsem = mutex("cgroup_threadgroup_rwsem",
                                              "cgroup_threadgroup_rwsem")
        self.system_wq: list[tuple[Callable, Any]] = []
        # A kworker thread in the scenario runs system_wq; without one, the walker that queued
        # a work item runs it at the end of its aging round.
        self.kworker_present = False
        self.walkers_left = 0
        self.kworker_wait = wait_queue_head("system_wq.worklist")
        self._next_pid = 1
        self._next_mm = 1
        self._next_memcg = 0
        from .sched import runqueue
        self.runqueues = []
        old = rt._world
        rt.set_world(self)
        try:
            if config.CONFIG_MEMCG:
                self.root_mem_cgroup = self.mem_cgroup_alloc("root")
            if not self.memcg_enabled:
                from .mm_list import lru_gen_init_state
                for pgdat in self.nodes:
                    pgdat.lruvec = lruvec(None, pgdat, hist)
                    lru_gen_init_state(None, pgdat.lruvec)
            for cpu in range(config.nr_cpus):
                idle = self.alloc_task(f"swapper/{cpu}", PF_KTHREAD)
                self.runqueues.append(runqueue(cpu, idle))
        finally:
            rt.set_world(old)

    # --- activation ---------------------------------------------------------------------------
    def activate(self) -> "World":
        rt.set_world(self)
        return self

    def __enter__(self) -> "World":
        self._prev = rt._world
        rt.set_world(self)
        return self

    def __exit__(self, *exc: object) -> None:
        rt.set_world(self._prev)

    @property
    def memcg_enabled(self) -> bool:
        """CONFIG_MEMCG and not ``cgroup_disable=memory``: mms live on per-memcg lists."""
        return self.config.CONFIG_MEMCG and not self.config.mem_cgroup_disabled

    # --- the kernel's iterators ---------------------------------------------------------------
    def for_each_node(self) -> range:
        return range(self.config.nr_nodes)

    def lruvecs(self) -> Iterator[lruvec]:
        if not self.memcg_enabled:
            for pgdat in self.nodes:
                yield pgdat.lruvec
            return
        for memcg in self.memcgs:
            if not memcg.freed:
                for pn in memcg.nodeinfo:
                    yield pn.lruvec

    def mm_lists(self) -> Iterator[tuple[mem_cgroup | None, lru_gen_mm_list]]:
        if not self.memcg_enabled:
            yield None, self.mm_list
            return
        for memcg in self.memcgs:
            if not memcg.freed:
                yield memcg, memcg.mm_list

    # --- memcgs -------------------------------------------------------------------------------
    def mem_cgroup_alloc(self, name: str | None = None) -> mem_cgroup:
        """``mem_cgroup_alloc()``: a memcg with one lruvec per node, then
        ``lru_gen_init_memcg()``."""
        from .mm_list import lru_gen_init_memcg
        memcg = mem_cgroup(self._next_memcg, name)
        self._next_memcg += 1
        memcg.nodeinfo = [mem_cgroup_per_node(lruvec(memcg, pgdat, self.config.NR_HIST_GENS))
                          for pgdat in self.nodes]
        old = rt._world
        rt.set_world(self)
        try:
            lru_gen_init_memcg(memcg)
        finally:
            rt.set_world(old)
        # online_css(): the css joins the hierarchy (list_add_tail_rcu() under cgroup_mutex in
        # the C), initialised, where css iterators find it: shared state (race table:
        # world.memcgs, published by RCU)
        note_write(self, "memcgs")
        self.memcgs.append(memcg)
        return memcg

    def memcg(self, name_or_id: str | int) -> mem_cgroup:
        for m in self.memcgs:
            if m.label == name_or_id or m.id == name_or_id:
                return m
        raise KeyError(name_or_id)

    def lruvec(self, memcg: str | int | None, nid: int = 0) -> lruvec:
        if memcg is None or not self.memcg_enabled:
            return self.nodes[nid].lruvec
        return self.memcg(memcg).nodeinfo[nid].lruvec

    # --- tasks and mms --------------------------------------------------------------------------
    def alloc_task(self, comm: str | None = None, flags: int = 0) -> task_struct:
        """``dup_task_struct()`` + ``alloc_pid()``: the pid allocation (under ``pidmap_lock`` in
        the C) and the World's list of tasks are shared: a fork on another CPU allocates from
        them too (race table: world.all_tasks)."""
        note_write(self, "all_tasks")
        pid = self._next_pid
        self._next_pid += 1
        t = task_struct(pid, comm, flags)
        self.all_tasks.append(t)
        return t

    # The pid table and the task list (race table: world.tasks, under tasklist_lock in the C).
    def attach_task(self, t: task_struct) -> None:
        """``attach_pid()``: ``find_task_by_pid()`` finds it from now on."""
        note_write(self, "tasks")
        self.tasks[t.pid] = t

    def release_task(self, t: task_struct) -> None:
        note_write(self, "tasks")
        self.tasks.pop(t.pid, None)

    def find_task_by_pid(self, pid: int) -> task_struct | None:
        note_read(self, "tasks")
        return self.tasks.get(pid)

    def tasks_in_pid_order(self) -> list[task_struct]:
        """``for_each_process()`` (model: in pid order)."""
        note_read(self, "tasks")
        return [self.tasks[p] for p in sorted(self.tasks)]

    def allocate_mm(self, like: mm_struct | None = None, nr_regions: int | None = None,
                    memcg_id: int = -1, rss: int | None = None) -> mm_struct:
        """``allocate_mm()`` plus the page tables a scenario gives it (regions spread over
        nodes round-robin, every page charged to ``memcg_id``)."""
        cfg = self.config
        # The mm's id names it and places its page tables (the Bloom filters' items): two
        # allocations on different CPUs do not commute. Model bookkeeping for the race check
        # (the slab allocator orders nothing; race table: world.mms), hooked for the reductions.
        note_write(self, "mms")
        mm = mm_struct(self, self._next_mm, nr_regions or (like.nr_regions if like else 4))
        self._next_mm += 1
        if like is not None and like.pgtables is not None:
            # dup_mmap() copies the parent's page tables while reclaim may be clearing their
            # accessed bits: a read of shared state, so the hook must see it (the reductions
            # of the bounded search depend on every shared access being in a footprint)
            note_read(like.pgtables, "ptes")
            pt = PageTables(mm.nr_regions, cfg.PTRS_PER_PTE, 0, 0, mm.pgd)
            pt.present[:] = like.pgtables.present
            pt.young[:] = like.pgtables.young
            pt.memcg[:] = like.pgtables.memcg
            pt.node[:] = like.pgtables.node
            pt.gen[:] = like.pgtables.gen
            mm.rss_stat = list(like.rss_stat)
        else:
            pt = PageTables(mm.nr_regions, cfg.PTRS_PER_PTE, memcg_id, 0, mm.pgd)
            for r in range(mm.nr_regions):
                pt.node[r, :] = r % cfg.nr_nodes
            pt.young[:] = True
            mm.rss_stat[MM_ANONPAGES] = pt.nr_present() if rss is None else rss
        pt.label = f"{mm.label}.pgtables"
        mm.pgtables = pt
        self.mms.append(mm)
        return mm

    def spawn(self, memcg: str | int | None = None, comm: str | None = None,
              nr_regions: int = 4, rss: int | None = None, used: bool = True) -> task_struct:
        """A user task that already exec'd: its mm on its memcg's list, as ``exec_mmap`` left
        it. ``used``: it has run since (``lru_gen_use_mm`` set every node bit)."""
        from ..kernel import nodes_setall
        from .fork import mm_init
        from .memcontrol import css_get
        from .mm_list import lru_gen_add_mm
        old = rt._world
        rt.set_world(self)
        try:
            t = self.alloc_task(comm)
            m = None
            if self.config.CONFIG_MEMCG:
                m = self.root_mem_cgroup if memcg is None else self.memcg(memcg)
                css_get(m)
            t.memcg = m
            mm = self.allocate_mm(nr_regions=nr_regions, memcg_id=m.id if m else -1, rss=rss)
            mm_init(mm, t)
            t.mm = mm
            t.active_mm = mm
            self.attach_task(t)
            t.visible = True
            ctx = rt.current_ctx()
            saved, ctx.task = ctx.task, t
            try:
                lru_gen_add_mm(mm)
            finally:
                ctx.task = saved
            if used:
                nodes_setall(mm.lru_gen.nodes)
            return t
        finally:
            rt.set_world(old)

    def kthread(self, comm: str, kswapd: bool = False) -> task_struct:
        t = self.alloc_task(comm, PF_KTHREAD | (PF_KSWAPD if kswapd else 0))
        t.reclaim_state = reclaim_state()
        t.memcg = self.root_mem_cgroup            # the root css is not reference counted
        self.attach_task(t)
        t.visible = True
        return t

    def user_task(self, comm: str, memcg: str | int | None = None) -> task_struct:
        """A task with no mm of interest (a shell writing to cgroup.procs, a debugfs user)."""
        from .memcontrol import css_get
        t = self.alloc_task(comm)
        m = self.root_mem_cgroup if memcg is None else self.memcg(memcg)
        if m is not None:
            with self:
                css_get(m)
        t.memcg = m
        t.reclaim_state = reclaim_state()
        self.attach_task(t)
        t.visible = True
        return t

    # --- deferred work (mmput_async) ------------------------------------------------------------
    def queue_work(self, fn: Callable, arg: Any) -> None:
        rt.trace("queue_work", fn=fn.__name__, arg=arg)
        note_write(self, "system_wq")
        self.system_wq.append((fn, arg))
        if self.kworker_present:
            wake_up_all(self.kworker_wait)      # the pool's idle worker is woken

    def aging_round_done(self) -> None:
        """A walker finished an aging call: without a kworker, it runs what it queued."""
        if not self.kworker_present:
            self.run_pending_work()

    def walker_done(self) -> None:
        """A walker thread ends: once none is left, the kworker may exit when idle."""
        note_write(self, "walkers_left")
        self.walkers_left -= 1
        if self.kworker_present:
            wake_up_all(self.kworker_wait)

    def run_pending_work(self) -> None:
        """Run the queued work items: the model's stand-in for a kworker (see ``mmput_async``)."""
        while True:
            note_write(self, "system_wq")
            try:
                fn, arg = self.system_wq.pop(0)
            except IndexError:
                return
            fn(arg)
