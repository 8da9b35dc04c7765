"""Bitops and bitmaps on ``bitarray``: ``bitops.h``, ``bitmap.h``, ``nodemask.h``,
``cpumask.h``. The atomic bitops (``set_bit``, ``clear_bit``, ``test_bit``) are marked accesses
and scheduling points (``BIT_READ``/``BIT_WRITE``); the whole-map operations are plain word
loops in the C (``bitmap_clear``, ``bitmap_fill``, ``bitmap_full``, ``bitmap_empty``) and are
plain ``READ``/``WRITE`` of the map here. Both name the map's contents ``"#bits"``, so the
reduction sees a ``set_bit`` and a ``bitmap_clear`` of one map as dependent.
"""
from __future__ import annotations

from bitarray import bitarray

from .. import runtime as rt


class bitmap:
    """An ``unsigned long *`` bitmap of ``nbits`` bits."""

    __slots__ = ("bits", "label", "__weakref__")

    def __init__(self, nbits: int, label: str = "bitmap", fill: int = 0):
        self.bits = bitarray(nbits)
        self.bits.setall(fill)
        self.label = label

    def __len__(self) -> int:
        return len(self.bits)

    def __repr__(self) -> str:
        return f"<{self.label}:{self.bits.count()}/{len(self.bits)}>"


def bitmap_zalloc(nbits: int, gfp: str = "GFP_KERNEL", label: str = "bitmap") -> bitmap | None:
    """``bitmap_zalloc()``. A ``GFP_ATOMIC`` allocation may fail when the world allows it."""
    w = rt._world
    if gfp == "GFP_ATOMIC" and w is not None and w.config.gfp_atomic_may_fail:
        if rt.choose(2):
            rt.trace("alloc_fail", what=label)
            return None
    bm = bitmap(nbits, label)
    if w is not None:
        w.allocated_bitmaps.append(bm)          # model bookkeeping for the leak check
    return bm


def bitmap_free(bm: bitmap | None) -> None:
    """``bitmap_free()``: the memory goes back (kfree(NULL) is fine). The model keeps the
    object (garbage collected) but forgets the allocation: ``kmemleak`` reports the rest."""
    w = rt._world
    if bm is not None and w is not None:
        live = w.allocated_bitmaps
        for i, x in enumerate(live):
            if x is bm:
                del live[i]
                break


BITS = "#bits"


def bitmap_clear(bm: bitmap, start: int, nbits: int) -> None:
    rt.hook(rt.WRITE, bm, BITS)                 # memset(): plain
    if start < 0 or nbits < 0 or start + nbits > len(bm.bits):
        from .bug import KASAN_out_of_bounds
        KASAN_out_of_bounds(bm, f"bitmap_clear({start}, {nbits})",
                            f"the bitmap holds {len(bm.bits)} bits")
    bm.bits[max(0, start):max(0, start + nbits)] = 0


def set_bit(nr: int, bm: bitmap) -> None:
    rt.hook(rt.BIT_WRITE, bm, nr)
    bm.bits[nr] = 1


def clear_bit(nr: int, bm: bitmap) -> None:
    rt.hook(rt.BIT_WRITE, bm, nr)
    bm.bits[nr] = 0


def test_bit(nr: int, bm: bitmap) -> bool:
    rt.hook(rt.BIT_READ, bm, nr)
    return bool(bm.bits[nr])


# --- nodemask_t and cpumask: fixed-size bitmaps ------------------------------------------------

class nodemask_t(bitmap):
    __slots__ = ()


class cpumask_t(bitmap):
    __slots__ = ()


def nodes_clear(mask: nodemask_t) -> None:
    rt.hook(rt.WRITE, mask, BITS)               # bitmap_zero(): plain
    mask.bits.setall(0)


def nodes_setall(mask: nodemask_t) -> None:
    rt.hook(rt.WRITE, mask, BITS)               # bitmap_fill(): plain, racy by design
    mask.bits.setall(1)


def nodes_full(mask: nodemask_t) -> bool:
    rt.hook(rt.READ, mask, BITS)                # bitmap_full(): plain
    return mask.bits.all()


def node_isset(nid: int, mask: nodemask_t) -> bool:
    return test_bit(nid, mask)


def node_set(nid: int, mask: nodemask_t) -> None:
    set_bit(nid, mask)


def node_clear(nid: int, mask: nodemask_t) -> None:
    clear_bit(nid, mask)


def cpumask_empty(mask: cpumask_t) -> bool:
    rt.hook(rt.READ, mask, BITS)                # bitmap_empty(): plain
    return not mask.bits.any()


def cpumask_set_cpu(cpu: int, mask: cpumask_t) -> None:
    set_bit(cpu, mask)


def cpumask_clear_cpu(cpu: int, mask: cpumask_t) -> None:
    clear_bit(cpu, mask)
