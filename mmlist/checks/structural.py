"""Structural checks on a consistent snapshot: every mm_list whose lock is free, and its lruvecs.

Raw reads only (``obj.__dict__['_field']``, ``raw_iter``): checking never changes an execution.
"""
from __future__ import annotations

from typing import Any

from ..model.structs import mm_struct
from .report import label


def _raw(obj: Any, name: str) -> Any:
    return obj.__dict__["_" + name]


class Structural:
    def __init__(self, suite: Any, world: Any, history: Any, ownership: Any = None):
        self.suite = suite
        self.world = world
        self.history = history
        #: ``mmlist.checks.ownership.Ownership``: judged here, on the lists whose lock is free
        self.ownership = ownership
        self.last_seq: dict[Any, int] = {}
        self.limit = 4096

    def check(self) -> bool:
        """Check every list whose lock is free. Returns True when every list could be checked."""
        w = self.world
        all_free = True
        where: dict[Any, Any] = {}
        for memcg, mm_list in w.mm_lists():
            if mm_list.lock.owner is not None:
                all_free = False
                continue
            nodes = self.check_fifo(mm_list)
            expect = memcg if w.config.CONFIG_MEMCG else None
            for node in nodes:
                mm = node.container
                if not isinstance(mm, mm_struct):
                    self._bad("fifo", f"{label(node)} on {label(mm_list)} is not an mm's node")
                    continue
                if mm in where:
                    self._bad("mm_list_membership",
                              f"{label(mm)} is on two lists: {label(where[mm])} and "
                              f"{label(mm_list)}")
                where[mm] = mm_list
                got = mm.lru_gen.__dict__["_memcg"]
                if got is not expect:
                    self._bad("mm_list_membership",
                              f"{label(mm)} is on {label(mm_list)} but mm->lru_gen.memcg is "
                              f"{label(got)}")
            if self.ownership is not None:
                self.ownership.check_list(memcg, mm_list, [n.container for n in nodes
                                                           if isinstance(n.container, mm_struct)])
            members = set(nodes)
            members.add(mm_list.fifo)
            for lv in self.history.lruvecs_of(memcg):
                self.check_lruvec(lv, mm_list, members)
        return all_free

    def _bad(self, check: str, msg: str, condition: str | None = None,
             lruvec: Any = None) -> None:
        details = {"lruvec": label(lruvec)} if lruvec is not None else None
        self.suite.report(check, msg, condition=condition or check, details=details)

    def check_fifo(self, mm_list: Any) -> list:
        """The nodes of a well-formed circular list, sentinel excluded (as far as it is sane)."""
        fifo = mm_list.fifo
        nodes: list = []
        seen = {fifo}
        node = fifo
        for _ in range(self.limit):
            nxt = node.__dict__["_next"]
            if nxt.__dict__["_prev"] is not node:
                self._bad("fifo", f"{label(mm_list)}: {label(nxt)}->prev is "
                          f"{label(nxt.__dict__['_prev'])}, not {label(node)}",
                          "next->prev == node")
            if nxt is fifo:
                return nodes
            if nxt in seen:
                self._bad("fifo", f"{label(mm_list)}: {label(nxt)} reached twice without "
                          f"coming back to the sentinel", "no cycle without the sentinel")
                return nodes
            seen.add(nxt)
            nodes.append(nxt)
            node = nxt
        self._bad("fifo", f"{label(mm_list)}: more than {self.limit} nodes", "finite")
        return nodes

    def check_lruvec(self, lv: Any, mm_list: Any, members: set) -> None:
        st = lv.mm_state
        for cursor in ("head", "tail"):
            node = _raw(st, cursor)
            if node not in members:
                what = ("an unlinked node" if node is not None and node.__dict__["_next"] is node
                        else "not on the list")
                self._bad("cursor", f"{label(lv)}.mm_state.{cursor} points to {label(node)}: "
                          f"{what} of {label(mm_list)}", f"{cursor} on the list")
        seq = _raw(st, "seq")
        max_seq = _raw(lv.lrugen, "max_seq")
        last = self.last_seq.get(lv)
        if last is not None and seq < last:
            self._bad("seq", f"{label(lv)}.mm_state.seq went back from {last} to {seq}",
                      "seq never decreases", lv)
        self.last_seq[lv] = seq
        if not (max_seq - 1 <= seq <= max_seq):
            self._bad("seq", f"{label(lv)}: mm_state.seq={seq} with max_seq={max_seq}: not "
                      f"max_seq - 1 <= seq <= max_seq", "max_seq - 1 <= seq <= max_seq", lv)
        nr = _raw(st, "nr_walkers")
        holders = self.history.nholders.get(lv, 0)
        if nr != holders or nr < 0:
            self._bad("nr_walkers", f"{label(lv)}.mm_state.nr_walkers={nr} but {holders} "
                      f"walker(s) hold an mm of it", "nr_walkers == holders")
        memcg = lv.memcg
        alive = memcg is None or (not memcg.freed and memcg.css_refcnt.counter > 0)
        if alive:
            for gen in self.history.filter_allocated.get(lv, ()):
                if st.filters.raw[gen] is None:
                    self._bad("bloom_filter_present",
                              f"{label(lv)}.mm_state.filters[{gen}] was allocated and is NULL "
                              f"again on a live lruvec", "filters[gen] != NULL")
        self.history.check_stats(lv)
