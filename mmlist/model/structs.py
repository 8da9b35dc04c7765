"""The structures the seed adds or touches, field by field as in the C.

Fields that another thread can see are ``tracked`` (plain accesses recorded for the lockset and
lockdep checks) or reached with ``READ_ONCE``/``WRITE_ONCE``/bitops/atomics. Private objects
(``lru_gen_mm_walk``) use plain Python attributes. Every object has a stable ``label`` (``mm#3``,
``lruvec(memcg=1,node=0)``): labels, never ``id()``, name objects in events and replay files.
"""
from __future__ import annotations

from typing import Any

from .. import runtime as rt
from ..config import NR_BLOOM_FILTERS, NR_MM_STATS, Config
from ..kernel import (ListHead, atomic_t, cpumask_t, nodemask_t, rw_semaphore, spinlock_t,
                      tracked, wait_queue_head)
from ..kernel.fields import init_fields
from .pagetable import PageTables

PF_KTHREAD = 0x00200000
PF_KSWAPD = 0x00020000
PF_EXITING = 0x00000004
CLONE_VM = 0x00000100
CLONE_THREAD = 0x00010000


class tracked_array:
    """A fixed array of shared words (``filters[]``, ``stats[hist][]``): element accesses are
    recorded like tracked fields; ``READ_ONCE(arr, i)`` reaches ``raw`` directly."""

    __slots__ = ("raw", "label")

    def __init__(self, values: list, label: str):
        self.raw = list(values)
        self.label = label

    def __getitem__(self, i: int) -> Any:
        rt.hook(rt.READ, self, i)
        return self.raw[i]

    def __setitem__(self, i: int, value: Any) -> None:
        rt.hook(rt.WRITE, self, i)
        self.raw[i] = value

    def __len__(self) -> int:
        return len(self.raw)

    def __repr__(self) -> str:
        return f"<{self.label}>"


# --- include/linux/mm_types.h ------------------------------------------------------------------

class lru_gen_mm_list:
    """``struct lru_gen_mm_list``: ``fifo`` (the sentinel) and the ``lock`` protecting it."""

    def __init__(self, label: str):
        self.label = label
        self.fifo = ListHead(self, f"{label}.fifo")
        self.lock = spinlock_t(f"{label}.lock", "mm_list lock")


class mm_lru_gen:
    """The ``lru_gen`` part of ``struct mm_struct``."""

    memcg = tracked()

    def __init__(self, mm: "mm_struct", nr_nodes: int):
        self.label = f"{mm.label}.lru_gen"
        self.list = ListHead(mm, f"{mm.label}.lru_gen.list")
        init_fields(self, memcg=None)
        self.nodes = nodemask_t(nr_nodes, f"{mm.label}.lru_gen.nodes")


class mm_struct:
    owner = tracked()
    #: MMF_OOM_VICTIM of mm->flags: set_bit()/test_bit() in the C (race table: marked); tracked
    #: so that mm_is_oom_victim()'s read is seen by the reductions and the race check
    oom_victim = tracked()

    def __init__(self, world: "Any", mm_id: int, nr_regions: int = 4):
        cfg: Config = world.config
        self.id = mm_id
        self.label = f"mm#{mm_id}"
        self.mm_users = atomic_t(1, f"{self.label}.mm_users")
        self.mm_count = atomic_t(1, f"{self.label}.mm_count")
        init_fields(self, owner=None)
        self.lru_gen = mm_lru_gen(self, cfg.nr_nodes)
        self.cpu_bitmap = cpumask_t(cfg.nr_cpus, f"{self.label}.cpumask")
        self.mmap_lock = rw_semaphore(f"{self.label}.mmap_lock")
        # get_mm_counter(): rss per type (MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES)
        self.rss_stat = [0, 0, 0, 0]
        init_fields(self, oom_victim=False)     # MMF_OOM_VICTIM
        # The address of the PGD page: PMD entries live at pgd + 8 * region (Bloom filter items).
        self.pgd = 0xFFFF888100000000 + (mm_id << 20)
        self.pgtables: PageTables | None = None
        self.nr_regions = nr_regions
        self.mmap_exited = False        # exit_mmap() ran: the page tables are gone
        self.freed = False              # __mmdrop() ran: the mm_struct is gone

    def __repr__(self) -> str:
        return f"<{self.label}>"


def mm_cpumask(mm: mm_struct) -> cpumask_t:
    return mm.cpu_bitmap


class reclaim_state:
    def __init__(self) -> None:
        self.reclaimed_slab = 0
        self.mm_walk: lru_gen_mm_walk | None = None


class task_struct:
    """``struct task_struct``: only what the protocol reads. ``memcg`` is the task's memory
    css (``task_css(p, memory_cgrp_id)``), written by cgroup migration, read under RCU."""

    mm = tracked()
    memcg = tracked()

    def __init__(self, pid: int, name: str | None = None, flags: int = 0):
        self.pid = pid
        self.label = name or f"task#{pid}"
        self.flags = flags
        init_fields(self, mm=None, memcg=None)
        self.active_mm: mm_struct | None = None
        self.alloc_lock = spinlock_t(f"{self.label}.alloc_lock", "task_lock")
        self.reclaim_state: reclaim_state | None = None
        self.visible = False            # cgroup_post_fork() ran: migration can find it
        self.on_cpu: int | None = None  # the CPU whose rq->curr this task is
        self.exited = False

    def __repr__(self) -> str:
        return f"<{self.label}>"


# --- include/linux/mmzone.h --------------------------------------------------------------------

class page_counts(dict):
    """``lrugen->nr_pages[gen]`` (per type and zone in the C): each read and write of the model's
    code is a plain access the race check sees (``lrugen.nr_pages``: under ``lru_lock``).
    Checks read it raw (``dict.get``, ``dict(...)``)."""

    __slots__ = ("owner",)

    def __init__(self, owner: Any):
        super().__init__()
        self.owner = owner

    def get(self, key: Any, default: Any = None) -> Any:
        rt.hook(rt.READ, self.owner, "nr_pages")
        return dict.get(self, key, default)

    def __getitem__(self, key: Any) -> Any:
        rt.hook(rt.READ, self.owner, "nr_pages")
        return dict.__getitem__(self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        rt.hook(rt.WRITE, self.owner, "nr_pages")
        dict.__setitem__(self, key, value)


class lru_gen_struct:
    """``struct lru_gen_struct`` (patch 4): only the sequence numbers and page counts."""

    max_seq = tracked()

    def __init__(self, label: str):
        self.label = label
        init_fields(self, max_seq=0)
        self.min_seq = [0, 0]
        self.nr_pages = page_counts(self)       # gen seq -> pages promoted into it
        self.enabled = True


class lru_gen_mm_state:
    """``struct lru_gen_mm_state``: one per lruvec; everything under the memcg's mm_list lock,
    except ``seq`` and ``filters[]`` which are also read with READ_ONCE."""

    seq = tracked()
    head = tracked()
    tail = tracked()
    nr_walkers = tracked()

    def __init__(self, label: str, nr_hist_gens: int):
        self.label = label
        init_fields(self, seq=0, head=None, tail=None, nr_walkers=0)
        self.wait = wait_queue_head(f"{label}.wait")
        self.wait.waiters = None    # kzalloc'd: no list until init_waitqueue_head()
        self.filters = tracked_array([None] * NR_BLOOM_FILTERS, f"{label}.filters")
        self.stats = [tracked_array([0] * NR_MM_STATS, f"{label}.stats[{h}]")
                      for h in range(nr_hist_gens)]


class lru_gen_mm_walk:
    """``struct lru_gen_mm_walk``: private to one walker."""

    def __init__(self, label: str = "mm_walk"):
        self.label = label
        self.lruvec: lruvec | None = None
        self.max_seq = 0
        self.next_addr = 0
        self.nr_pages: dict[int, int] = {}      # batched promotions: gen seq -> pages
        self.mm_stats = [0] * NR_MM_STATS
        self.batched = 0
        self.can_swap = True
        self.full_scan = False


class lruvec:
    def __init__(self, memcg: "mem_cgroup | None", pgdat: "pglist_data", nr_hist_gens: int):
        mid = memcg.id if memcg is not None else "-"
        self.label = f"lruvec(memcg={mid},node={pgdat.node_id})"
        self.memcg = memcg
        self.pgdat = pgdat
        self.lru_lock = spinlock_t(f"{self.label}.lru_lock", "lru_lock")
        self.lrugen = lru_gen_struct(f"{self.label}.lrugen")
        self.mm_state = lru_gen_mm_state(f"{self.label}.mm_state", nr_hist_gens)


class mem_cgroup_per_node:
    def __init__(self, lv: lruvec):
        self.lruvec = lv


class mem_cgroup:
    def __init__(self, memcg_id: int, name: str | None = None):
        self.id = memcg_id
        self.label = name or f"memcg#{memcg_id}"
        self.css_refcnt = atomic_t(1, f"{self.label}.css.refcnt")
        self.mm_list = lru_gen_mm_list(f"{self.label}.mm_list")
        # kzalloc'd: the fifo's pointers are NULL until lru_gen_init_memcg()'s INIT_LIST_HEAD()
        # (the global list of get_mm_list() is static, LIST_HEAD_INIT())
        self.mm_list.fifo.__dict__["_next"] = self.mm_list.fifo.__dict__["_prev"] = None
        self.nodeinfo: list[mem_cgroup_per_node] = []
        self.online = True
        self.freed = False
        self.moving_account = False     # mem_cgroup_move_charge() in progress (cgroup v1)

    def __repr__(self) -> str:
        return f"<{self.label}>"


class pglist_data:
    def __init__(self, node_id: int, nr_hist_gens: int):
        self.node_id = node_id
        self.label = f"node#{node_id}"
        # CONFIG_MEMCG=n: the node's only lruvec. Built by the World.
        self.__lruvec: lruvec | None = None
        # kswapd's preallocated walk, lent to current->reclaim_state by lru_gen_age_node()
        self.mm_walk = lru_gen_mm_walk(f"{self.label}.mm_walk")

    @property
    def lruvec(self) -> lruvec | None:
        return self.__lruvec

    @lruvec.setter
    def lruvec(self, lv: lruvec) -> None:
        self.__lruvec = lv


class scan_control:
    """``struct scan_control``: what the aging path reads."""

    def __init__(self, priority: int = 12, may_swap: bool = True):
        self.priority = priority
        self.may_swap = may_swap
        self.nr_reclaimed = 0
