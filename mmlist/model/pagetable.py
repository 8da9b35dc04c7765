"""Simulated page tables: per mm, a few PMD-sized regions of ``PTRS_PER_PTE`` PTE slots.

Each slot holds (present, young, memcg, node, gen) in numpy arrays, one row per region.
Departure from the C: page-table accesses (setting and clearing the accessed bit, promotion)
are not scheduling points; they are not part of the mm_struct list protocol, and walkers of
different lruvecs touch disjoint pages (a page is charged to one memcg and lives on one node).
"""
from __future__ import annotations

import numpy as np

PMD_SHIFT = 21
PMD_SIZE = 1 << PMD_SHIFT
FIRST_USER_ADDRESS = 0


class PageTables:
    def __init__(self, nr_regions: int, ptes_per_pmd: int, memcg_id: int, node_id: int,
                 pgd: int):
        shape = (nr_regions, ptes_per_pmd)
        self.pgd = pgd
        self.label = f"pgtables@{pgd:#x}"
        self.present = np.ones(shape, dtype=bool)
        self.young = np.zeros(shape, dtype=bool)
        self.memcg = np.full(shape, memcg_id, dtype=np.int32)
        self.node = np.full(shape, node_id, dtype=np.int16)
        self.gen = np.zeros(shape, dtype=np.int64)

    @property
    def nr_regions(self) -> int:
        return self.present.shape[0]

    @property
    def ptes_per_pmd(self) -> int:
        return self.present.shape[1]

    def pmd_entry(self, region: int) -> int:
        """The address of the PMD entry mapping ``region``: the Bloom filter's item."""
        return self.pgd + 8 * region

    def region_of(self, addr: int) -> int:
        return (addr - FIRST_USER_ADDRESS) >> PMD_SHIFT

    def addr_of(self, region: int) -> int:
        return FIRST_USER_ADDRESS + (region << PMD_SHIFT)

    def end(self) -> int:
        return self.addr_of(self.nr_regions)

    def touch(self, region: int, first: int = 0, count: int | None = None) -> None:
        """A CPU accesses pages: the MMU sets the accessed bit of their PTEs."""
        stop = self.ptes_per_pmd if count is None else first + count
        sl = slice(first, stop)
        self.young[region, sl] |= self.present[region, sl]

    def nr_present(self) -> int:
        return int(self.present.sum())
