"""Build-time and boot-time configuration of the modelled kernel.

Names follow the C (``CONFIG_*``, ``MAX_NR_GENS``...). A ``World`` is built from one ``Config``;
``check_build()`` evaluates the seed's ``BUILD_BUG_ON``s against it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

MIN_NR_GENS = 2
NR_BLOOM_FILTERS = 2
BLOOM_FILTER_SHIFT = 15
DEF_PRIORITY = 12
ANON_AND_FILE = 2
MM_STAT_CODES = "toydfa"
(MM_PTE_TOTAL, MM_PTE_OLD, MM_PTE_YOUNG, MM_PMD_TOTAL, MM_PMD_FOUND, MM_PMD_ADDED,
 NR_MM_STATS) = range(7)
(MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES) = range(4)


@dataclass(frozen=True)
class Config:
    CONFIG_MEMCG: bool = True
    #: keep historical mm stats for NR_HIST_GENS = MAX_NR_GENS generations
    CONFIG_LRU_GEN_STATS: bool = False
    #: CONFIG_NR_LRU_GENS
    MAX_NR_GENS: int = 4
    #: MIN_LRU_BATCH is BITS_PER_LONG in the C; scenarios shrink it to keep mms small
    MIN_LRU_BATCH: int = 64
    #: MAX_LRU_BATCH is MIN_LRU_BATCH * 128 in the C
    MAX_LRU_BATCH: int = 64 * 128
    nr_nodes: int = 1
    nr_cpus: int = 2
    #: arch_has_hw_pte_young(): without it the aging does not walk page tables
    arch_has_hw_pte_young: bool = True
    #: spinlock_t is a sleeping lock, spin_lock_irq leaves IRQs on
    PREEMPT_RT: bool = False
    CONFIG_ARCH_WANT_IRQS_OFF_ACTIVATE_MM: bool = False
    #: cgroup_disable=memory on the command line
    mem_cgroup_disabled: bool = False
    #: PTRS_PER_PTE in the page-table model (512 in the C)
    PTRS_PER_PTE: int = 64
    #: a GFP_ATOMIC bitmap_zalloc() (the Bloom filter) may fail: a decision of the engine
    gfp_atomic_may_fail: bool = False
    #: alloc_mm_walk()'s kzalloc may fail: a decision of the engine
    mm_walk_alloc_may_fail: bool = False
    #: mmap_read_trylock() in walk_mm may fail (a writer holds mmap_lock): a decision
    mmap_lock_contended: bool = False

    @property
    def NR_HIST_GENS(self) -> int:
        return self.MAX_NR_GENS if self.CONFIG_LRU_GEN_STATS else 1

    def check_build(self) -> None:
        from .kernel.bug import BUILD_BUG_ON
        BUILD_BUG_ON(MIN_NR_GENS + 1 >= self.MAX_NR_GENS, "MIN_NR_GENS + 1 >= MAX_NR_GENS")
        BUILD_BUG_ON(BLOOM_FILTER_SHIFT * 2 > 32, "BLOOM_FILTER_SHIFT * 2 > BITS_PER_TYPE(u32)")
        BUILD_BUG_ON(len(MM_STAT_CODES) + 1 != NR_MM_STATS + 1,
                     "sizeof(MM_STAT_CODES) != NR_MM_STATS + 1")
        if self.nr_nodes < 1 or self.nr_cpus < 1 or self.MIN_LRU_BATCH < 1:
            raise ValueError("nr_nodes, nr_cpus and MIN_LRU_BATCH must be positive")

    def with_(self, **changes: Any) -> "Config":
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
