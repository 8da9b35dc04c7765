"""Reading the protocol state without touching it: the last column of a counterexample, and the
input of the structural checks. Every read here is raw (no hook), so taking a snapshot never
changes an execution.
"""
from __future__ import annotations

from typing import Any

from ..kernel.list import ListHead, raw_iter


def _raw(obj: Any, name: str) -> Any:
    return obj.__dict__["_" + name]


def node_name(node: ListHead | None, fifo: ListHead) -> str:
    """``fifo`` for the sentinel, ``mm3`` for an mm's node, ``?mm3`` for a node of another list."""
    if node is None:
        return "NULL"
    if node is fifo:
        return "fifo"
    owner = node.container
    name = getattr(owner, "label", "?").replace("#", "")
    if node.__dict__["_next"] is node and node.__dict__["_prev"] is node:
        return f"!{name}"               # unlinked (list_del_init'ed) node: a dangling cursor
    return name


def fifo_names(fifo: ListHead) -> list[str]:
    return [getattr(n.container, "label", "?").replace("#", "") for n in raw_iter(fifo)]


def describe_lruvec(lv: Any, mm_list: Any) -> str:
    """``fifo=[mm1 mm2 mm3] head=mm2 tail=fifo seq=4 max_seq=5 nr_walkers=1``."""
    st = lv.mm_state
    fifo = mm_list.fifo
    return (f"fifo=[{' '.join(fifo_names(fifo))}] head={node_name(_raw(st, 'head'), fifo)} "
            f"tail={node_name(_raw(st, 'tail'), fifo)} seq={_raw(st, 'seq')} "
            f"max_seq={_raw(lv.lrugen, 'max_seq')} nr_walkers={_raw(st, 'nr_walkers')}")


def _pristine(lv: Any, mm_list: Any) -> bool:
    """An lruvec nothing has happened to yet: an empty list and the initial sequence numbers."""
    from ..config import MIN_NR_GENS
    st = lv.mm_state
    return (not list(raw_iter(mm_list.fifo)) and _raw(st, "seq") == MIN_NR_GENS
            and _raw(lv.lrugen, "max_seq") == MIN_NR_GENS + 1 and not _raw(st, "nr_walkers"))


def describe_world(world: Any, only: Any = None) -> str:
    """One clause per lruvec (or only ``only``), e.g. for the counterexample's state column.
    lruvecs nothing has happened to (empty list, initial seq) are left out."""
    parts = []
    entries = []
    for memcg, mm_list in world.mm_lists():
        lvs = ([pn.lruvec for pn in memcg.nodeinfo] if memcg is not None
               else [p.lruvec for p in world.nodes])
        for lv in lvs:
            if only is None or lv is only:
                entries.append((lv, mm_list))
    shown = [e for e in entries if not _pristine(*e)] or entries[:1]
    for lv, mm_list in shown:
        prefix = "" if len(entries) == 1 else f"{lv.label}: "
        parts.append(prefix + describe_lruvec(lv, mm_list))
    return " | ".join(parts)


def snapshot(world: Any) -> dict[str, Any]:
    """A JSON-ready picture of every list and cursor."""
    out: dict[str, Any] = {"lists": {}, "lruvecs": {}}
    for memcg, mm_list in world.mm_lists():
        key = memcg.label if memcg is not None else "global"
        out["lists"][key] = fifo_names(mm_list.fifo)
        lvs = ([pn.lruvec for pn in memcg.nodeinfo] if memcg is not None
               else [p.lruvec for p in world.nodes])
        for lv in lvs:
            st = lv.mm_state
            out["lruvecs"][lv.label] = {
                "head": node_name(_raw(st, "head"), mm_list.fifo),
                "tail": node_name(_raw(st, "tail"), mm_list.fifo),
                "seq": _raw(st, "seq"),
                "max_seq": _raw(lv.lrugen, "max_seq"),
                "nr_walkers": _raw(st, "nr_walkers"),
            }
    return out
