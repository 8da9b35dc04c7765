"""Structural checks on a consistent snapshot: every mm_list whose lock is free, and its lruvecs.

Raw reads only (``obj.__dict__['_field']``, ``raw_iter``): checking never changes an execution.
"""
from __future__ import annotations

from typing import Any

from ..model.structs import mm_struct
from .report import label


def _raw(obj: Any, name: str) -> Any:
    return obj.__dict__["_" + name]


#: Types whose writes no structural check reads: page tables, Bloom filter and CPU/node
#: bitmaps, wait queues, walks (``Structural.touch`` ignores them).
IRRELEVANT = frozenset({"PageTables", "bitmap", "cpumask_t", "nodemask_t", "wait_queue_head",
                        "lru_gen_mm_walk", "page_counts"})
#: What of a lruvec a check looks at (``Structural.check_lruvec``), as bits: a write marks
#: only the aspects that read the field it wrote.
CURSORS, SEQ, NR_WALKERS, FILTERS, STATS = 1, 2, 4, 8, 16
ALL = CURSORS | SEQ | NR_WALKERS | FILTERS | STATS
#: field of ``lru_gen_mm_state`` / ``lru_gen_struct`` -> the aspects that read it (others: ALL)
_STATE_FIELD = {"head": CURSORS, "tail": CURSORS, "seq": SEQ, "nr_walkers": NR_WALKERS}
_LRUGEN_FIELD = {"max_seq": SEQ, "nr_pages": 0}
#: what the history and ownership say changed (``touch_lruvec``)
ASPECT = {"nr_walkers": NR_WALKERS, "filters": FILTERS, "stats": STATS, None: ALL}


class Structural:
    """The structural checks, incrementally: ``check`` re-examines only what changed since the
    last check (``touch``, ``touch_all``, ``touch_lruvec`` say what), and is equal to a full
    pass (``full_check``) at every step: tests/test_structural_incremental.py runs both on every
    step of the built-in scenarios and mutants and compares their reports.

    Units: the list of each memcg (its nodes, their membership, ownership) and each lruvec (its
    cursors, seq, nr_walkers, filters, stats). A list is checked only while its lock is free: a
    dirty unit of a locked list stays dirty until a later step finds it free."""

    def __init__(self, suite: Any, world: Any, history: Any, ownership: Any = None):
        self.suite = suite
        self.world = world
        self.history = history
        #: ``mmlist.checks.ownership.Ownership``: judged here, on the lists whose lock is free
        self.ownership = ownership
        self.last_seq: dict[Any, int] = {}
        self.limit = 4096
        # what changed since the last check
        self.all_dirty = True
        self.dirty_lists: set = set()
        self.dirty_lvs: dict[Any, int] = {}     # lruvec -> aspects to check again
        # what the last check of each list found: its nodes (sentinel excluded) and members
        self.nodes: dict[Any, list] = {}
        self.members: dict[Any, set] = {}
        #: per-lruvec object -> (its lruvec, field -> aspects, aspects of any other field)
        self._unit_of: dict[Any, tuple] = {}
        self._memcgs: tuple = ()                # the lists' memcgs at the last check
        self._nmemcgs = -1                      # len(world.memcgs) then
        self._memcg_enabled = world.memcg_enabled       # fixed by the World's config
        #: lruvec -> (its place in the full pass's order, memcg, mm_list)
        self._place: dict[Any, tuple] = {}
        self._css: frozenset = frozenset()      # their css refcounts (alive or not)

    # --- what changed ------------------------------------------------------------------------------
    def touch(self, obj: Any, field: Any = None) -> None:
        """A write to ``obj`` (its ``field``; or a release of it, when it is a lock) took
        effect."""
        unit = self._unit_of.get(obj)
        if unit is not None:
            lv, fields, other = unit
            bits = fields.get(field, other)
            if bits:
                self.dirty_lvs[lv] = self.dirty_lvs.get(lv, 0) | bits
            return
        kind = type(obj).__name__
        if kind in IRRELEVANT:
            return
        if kind == "spinlock_t" or kind == "rw_semaphore" or kind == "mutex":
            # an mm_list lock: its list, skipped while locked, is still dirty; any other
            # lock: an ownership window it closes says so itself (Ownership.changed)
            return
        elif kind == "atomic_t" and obj not in self._css:
            return                      # only a memcg's css refcount decides "alive"
        self.all_dirty = True           # anything else: the whole state, conservatively

    def touch_all(self) -> None:
        self.all_dirty = True

    def touch_lruvec(self, lv: Any, what: str | None = None) -> None:
        """The history's record of ``lv`` changed (``what``: ``nr_walkers``, ``filters``,
        ``stats``; None: all of it); ``lv`` None: anything may have."""
        if lv is None:
            self.all_dirty = True
        else:
            self.dirty_lvs[lv] = self.dirty_lvs.get(lv, 0) | ASPECT[what]

    def _refresh(self, memcgs: tuple) -> None:
        self._memcgs = memcgs
        self._nmemcgs = len(self.world.memcgs) if self.world.memcg_enabled else 0
        self._unit_of = {}
        css = []
        for lv in self.world.lruvecs():
            st = lv.mm_state
            self._unit_of[st] = (lv, _STATE_FIELD, ALL)
            self._unit_of[lv.lrugen] = (lv, _LRUGEN_FIELD, ALL)
            self._unit_of[st.filters] = (lv, {}, FILTERS)
            for arr in st.stats:
                self._unit_of[arr] = (lv, {}, STATS)
        for memcg in self.world.memcgs if self.world.memcg_enabled else ():
            css.append(memcg.css_refcnt)
        self._place = {}
        for memcg, mm_list in self.world.mm_lists():
            for lv in self.history.lruvecs_of(memcg):
                self._place[lv] = (len(self._place), memcg, mm_list)
        self._css = frozenset(css)

    # --- checking ------------------------------------------------------------------------------------
    def check(self) -> bool:
        """Check what changed on the lists whose lock is free. Returns True when nothing is
        left to check (every changed unit could be checked)."""
        w = self.world
        if not self.all_dirty and not self.dirty_lists and (
                not self._memcg_enabled or len(w.memcgs) == self._nmemcgs):
            if self.dirty_lvs:
                return self._check_lruvecs()
            return True                 # nothing changed (a new memcg is a change)
        lists = list(w.mm_lists())
        memcgs = tuple(m for m, _ in lists)
        if memcgs != self._memcgs:
            self._refresh(memcgs)
            self.all_dirty = True
        if self.all_dirty:
            self.all_dirty = False
            self.dirty_lists = set(memcgs)
        elif not self.dirty_lists and not self.dirty_lvs:
            return True
        dirty_lists, dirty_lvs = self.dirty_lists, self.dirty_lvs
        self.dirty_lists, self.dirty_lvs = set(), {}
        where: dict[Any, Any] | None = {} if dirty_lists else None
        for memcg, mm_list in lists:
            list_dirty = memcg in dirty_lists or memcg not in self.nodes
            lvs = self.history.lruvecs_of(memcg)
            if mm_list.lock.owner is not None:
                if list_dirty:
                    self.dirty_lists.add(memcg)
                else:
                    self.dirty_lvs.update((lv, dirty_lvs[lv]) for lv in lvs if lv in dirty_lvs)
                continue
            if list_dirty:
                self.check_list(memcg, mm_list, where)
            elif where is not None:
                self._membership(memcg, mm_list, self.nodes[memcg], where, recheck=False)
            members = self.members[memcg]
            for lv in lvs:
                if list_dirty:
                    self.check_lruvec(lv, mm_list, members)
                elif lv in dirty_lvs:
                    self.check_lruvec(lv, mm_list, members, dirty_lvs[lv])
        return not self.dirty_lists and not self.dirty_lvs

    def _check_lruvecs(self) -> bool:
        """Only lruvecs changed: check those of free lists, in the full pass's order."""
        dirty, self.dirty_lvs = self.dirty_lvs, {}
        place = self._place
        items: Any = dirty.items()
        if len(dirty) > 1:
            items = sorted(items, key=lambda kv: place[kv[0]][0] if kv[0] in place else -1)
        for lv, aspects in items:
            p = place.get(lv)
            if p is None:
                continue                                # on no list any more
            _, memcg, mm_list = p
            members = self.members.get(memcg)
            if mm_list.lock.owner is not None or members is None:
                self.dirty_lvs[lv] = aspects
                if members is None:
                    self.dirty_lists.add(memcg)
                continue
            self.check_lruvec(lv, mm_list, members, aspects)
        return not self.dirty_lvs

    def full_check(self) -> bool:
        """The full pass: every list whose lock is free, and its lruvecs, whatever changed."""
        self.all_dirty = True
        return self.check()

    def check_list(self, memcg: Any, mm_list: Any, where: dict) -> None:
        nodes = self.check_fifo(mm_list)
        self._membership(memcg, mm_list, nodes, where, recheck=True)
        if self.ownership is not None:
            self.ownership.check_list(memcg, mm_list, [n.container for n in nodes
                                                       if isinstance(n.container, mm_struct)])
        self.nodes[memcg] = nodes
        members = set(nodes)
        members.add(mm_list.fifo)
        self.members[memcg] = members

    def _membership(self, memcg: Any, mm_list: Any, nodes: list, where: dict,
                    recheck: bool) -> None:
        """Each mm on one list at most (``where``: the lists checked before this one), and on
        the list of its ``mm->lru_gen.memcg`` (``recheck``: a list unchanged since its last
        check passed that part then)."""
        expect = memcg if self.world.config.CONFIG_MEMCG else None
        for node in nodes:
            mm = node.container
            if not isinstance(mm, mm_struct):
                if recheck:
                    self._bad("fifo", f"{label(node)} on {label(mm_list)} is not an mm's node")
                continue
            if mm in where:
                self._bad("mm_list_membership",
                          f"{label(mm)} is on two lists: {label(where[mm])} and "
                          f"{label(mm_list)}")
            where[mm] = mm_list
            if recheck:
                got = mm.lru_gen.__dict__["_memcg"]
                if got is not expect:
                    self._bad("mm_list_membership",
                              f"{label(mm)} is on {label(mm_list)} but mm->lru_gen.memcg is "
                              f"{label(got)}")

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

    def check_lruvec(self, lv: Any, mm_list: Any, members: set, aspects: int = ALL) -> None:
        """The invariants of one lruvec: those of ``aspects`` (what changed)."""
        st = lv.mm_state
        d = st.__dict__                         # raw reads (``_raw``), inlined: every step
        for cursor in ("head", "tail") if aspects & CURSORS else ():
            node = d["_" + cursor]
            if node not in members:
                what = ("an unlinked node" if node is not None and node.__dict__["_next"] is node
                        else "not on the list")
                self._bad("cursor", f"{label(lv)}.mm_state.{cursor} points to {label(node)}: "
                          f"{what} of {label(mm_list)}", f"{cursor} on the list")
        if aspects & SEQ:
            seq = d["_seq"]
            max_seq = lv.lrugen.__dict__["_max_seq"]
            last = self.last_seq.get(lv)
            if last is not None and seq < last:
                self._bad("seq", f"{label(lv)}.mm_state.seq went back from {last} to {seq}",
                          "seq never decreases", lv)
            self.last_seq[lv] = seq
            if not (max_seq - 1 <= seq <= max_seq):
                self._bad("seq", f"{label(lv)}: mm_state.seq={seq} with max_seq={max_seq}: "
                          f"not max_seq - 1 <= seq <= max_seq", "max_seq - 1 <= seq <= max_seq",
                          lv)
        if aspects & NR_WALKERS:
            nr = d["_nr_walkers"]
            holders = self.history.nholders.get(lv, 0)
            if nr != holders or nr < 0:
                self._bad("nr_walkers", f"{label(lv)}.mm_state.nr_walkers={nr} but {holders} "
                          f"walker(s) hold an mm of it", "nr_walkers == holders")
        memcg = lv.memcg
        if aspects & FILTERS and (memcg is None or (not memcg.freed
                                                    and memcg.css_refcnt.counter > 0)):
            for gen in self.history.filter_allocated.get(lv, ()):      # a live lruvec's
                if st.filters.raw[gen] is None:
                    self._bad("bloom_filter_present",
                              f"{label(lv)}.mm_state.filters[{gen}] was allocated and is NULL "
                              f"again on a live lruvec", "filters[gen] != NULL")
        if aspects & STATS:
            self.history.check_stats(lv)
