"""The findings registry: what mmlist found in the seed, and what the seed accepts by design,
as data.

Each ``Entry`` has an id, a title, a judgement (``bug``: a real bug in the seed; ``benign``: the
seed accepts it, with the reason; ``modelling``: an error of the model, if one is ever
recorded), the configuration under which it can occur, and signatures. A signature names the
check, the function and the condition of a violation *and* the protocol events that must be
present in its trace (``Violation.trace``: ``[thread, event, {fact: label}]``). A violation is
labelled with an entry only when the configuration and a whole signature match; otherwise it is
new. When in doubt, it is new (pitfalls.md #8).

``docs/findings.md`` carries the table ``render_table()`` prints (a test checks they agree), and
one section per entry, anchored by ``Entry.anchor``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from .violation import Violation

# --- trace predicates -------------------------------------------------------------------------
def _events(v: Violation, name: str, thread: str | None = None) -> Iterable[tuple[int, dict]]:
    for i, (who, ev, facts) in enumerate(v.trace):
        if ev == name and (thread is None or who == thread):
            yield i, facts


def _last(v: Violation, name: str, thread: str | None = None) -> tuple[int, dict] | None:
    found = None
    for i, facts in _events(v, name, thread):
        found = (i, facts)
    return found


def _walkless_agings(v: Violation, lruvec: str | None) -> list[tuple[str, int, float]]:
    """Every ``try_to_inc_max_seq()`` on ``lruvec`` that took the walk-less path (without a
    hardware accessed bit, ``!full_scan`` creates a generation without iterating the list):
    ``(thread, start, end)`` trace positions, ``end`` infinite while it is still running."""
    spans = []
    for i, (who, ev, facts) in enumerate(v.trace):
        if ev != "aging_start" or facts.get("full_scan") != "False":
            continue
        if lruvec is not None and facts.get("lruvec") != lruvec:
            continue
        end = float("inf")
        walked = False
        for j in range(i + 1, len(v.trace)):
            w, e, f = v.trace[j]
            if w != who:
                continue
            if e == "get_next_mm":
                walked = True
            if e == "aging_end":
                end = j
                break
        if not walked:
            spans.append((who, i, end))
    return spans


def _lruvec_of(v: Violation) -> str | None:
    """The lruvec a violation is about: its details, or the violating walker's aging."""
    if v.details.get("lruvec"):
        return str(v.details["lruvec"])
    start = _last(v, "aging_start", v.thread)
    return start[1].get("lruvec") if start else None


def f1_seq_left_behind(v: Violation) -> bool:
    """A walk-less aging of this lruvec ran before the violation."""
    return bool(_walkless_agings(v, _lruvec_of(v)))


def f2_walkless_during_walk(v: Violation) -> bool:
    """*Another* thread's walk-less aging created the very generation the violating walker was
    iterating for: an ``inc_max_seq()`` of this lruvec from the walker's ``max_seq`` that
    succeeded, by a ``try_to_inc_max_seq()`` that took the walk-less path (whenever it ran
    after the walker read ``max_seq``)."""
    start = _last(v, "aging_start", v.thread)
    if start is None:
        return False
    lv, seq = start[1].get("lruvec"), start[1].get("max_seq")
    for who, first, end in _walkless_agings(v, lv):
        if who == v.thread:
            continue
        stop = len(v.trace) if end == float("inf") else int(end) + 1
        for j in range(first, stop):
            w, ev, f = v.trace[j]
            if (w == who and ev == "inc_max_seq" and f.get("max_seq") == seq
                    and f.get("done") == "True"):
                return True
    return False


def f3_migrated_before_add(v: Violation) -> bool:
    """The mm belongs to a child that ``copy_process()`` made visible to cgroup migration
    (``cgroup_post_fork``) and whose ``lru_gen_add_mm()`` had not run yet; the migration is the
    cgroup core's ``mem_cgroup_attach()``."""
    mm = v.details.get("mm")
    if not mm or "mem_cgroup_attach" not in v.stack:
        return False
    forked = [i for i, f in _events(v, "copy_process") if f.get("mm") == mm
              and f.get("clone_vm") == "False"]
    if not forked:
        return False
    return not any(i > forked[-1] for i, f in _events(v, "add") if f.get("mm") == mm)


def f4_exec_irqs_off(v: Violation) -> bool:
    """The lock was taken on exec's path, inside ``exec_mmap()``'s IRQs-off region."""
    return "exec_mmap" in v.stack and v.details.get("why") == "with IRQs disabled"


def b3_readded_during_iteration(v: Violation) -> bool:
    """The history check says the mm left this list and came back between its two hand-outs,
    and the trace shows a ``del`` and then an ``add`` of that mm between them."""
    if v.details.get("re_added") is not True:
        return False
    mm, lv = v.details.get("mm"), v.details.get("lruvec")
    outs = [i for i, f in _events(v, "get_next_mm")
            if f.get("mm") == mm and f.get("lruvec") == lv]
    if len(outs) < 2:
        return False
    a, b = outs[-2], outs[-1]
    dels = [i for i, f in _events(v, "del") if f.get("mm") == mm and a < i < b]
    return bool(dels) and any(dels[0] < i < b for i, f in _events(v, "add")
                              if f.get("mm") == mm)


def b4_use_mm_in_migration_window(v: Violation) -> bool:
    """The CPU switched to an mm that another thread's ``lru_gen_migrate_mm()`` had deleted
    from its old list and not yet added to the new one."""
    if "context_switch" not in v.stack:
        return False
    sw = _last(v, "context_switch", v.thread)
    mm = sw[1].get("mm") if sw else None
    if not mm or mm == "NULL":
        return False
    # the last migration of *this* mm: other threads may migrate other mms meanwhile (a
    # free-running stress does; mm_update_next_owner() migrates too)
    mig = next(((i, f) for i, f in reversed(list(_events(v, "migrate")))
                if f.get("mm") == mm), None)
    if mig is None:
        return False
    who = v.trace[mig[0]][0]
    deleted = any(i > mig[0] for i, f in _events(v, "del", who) if f.get("mm") == mm)
    added = any(i > mig[0] for i, f in _events(v, "add", who) if f.get("mm") == mm)
    return deleted and not added


# --- the registry ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Signature:
    check: str
    function: str | None            # None: any
    condition: str | None           # None: any
    trace: Callable[[Violation], bool] | None = None

    def matches(self, v: Violation) -> bool:
        if v.check != self.check:
            return False
        if self.function is not None and v.function != self.function:
            return False
        if self.condition is not None and v.condition != self.condition:
            return False
        return self.trace is None or bool(self.trace(v))

    def describe(self) -> str:
        parts = [self.check]
        if self.function:
            parts.append(f"in {self.function}()")
        if self.condition:
            parts.append(f"[{self.condition}]")
        if self.trace is not None:
            doc = (self.trace.__doc__ or self.trace.__name__).strip().split("\n\n")[0]
            parts.append("with: " + " ".join(doc.split()))
        return " ".join(parts)


@dataclass(frozen=True)
class BenignRace:
    """A race the seed makes on purpose, judged by its registry entry: the race check
    (``mmlist.checks.races``) calls a data race benign when one of its two accesses is made,
    without the protecting lock, in ``function`` through the kernel helper ``via`` (None: none)
    on ``field`` (as ``mmlist.checks.races.field_name`` names it)."""

    function: str
    via: str | None
    field: str
    why: str
    entry: str = ""                 # filled in from the Entry holding it
    #: the model function that called ``function`` for the unlocked access (None: any caller)
    within: str | None = None
    #: excused only against a marked access (WRITE_ONCE/READ_ONCE, atomics): a plain-plain race
    #: on the same field stays a data race
    other_marked: bool = False


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    judgement: str                  # "bug" | "benign" | "modelling"
    reason: str                     # why this judgement, in one sentence
    config_text: str                # the configuration under which it can occur
    config: Callable[[Any], bool]
    signatures: tuple[Signature, ...] = ()
    fix: str | None = None
    anchor: str = ""
    #: the data races this (benign) entry judges intended: the race check's allowlist
    benign_races: tuple[BenignRace, ...] = ()

    @property
    def link(self) -> str:
        return f"docs/findings.md#{self.anchor}"


def _no_hw_young(c: Any) -> bool:
    return not c.arch_has_hw_pte_young


def _memcg(c: Any) -> bool:
    return bool(c.CONFIG_MEMCG)


def _always(c: Any) -> bool:
    return True


def _gfp_atomic_may_fail(c: Any) -> bool:
    return bool(c.gfp_atomic_may_fail)


REGISTRY: tuple[Entry, ...] = (
    Entry("F1", "without a hardware accessed bit, mm_state->seq falls behind max_seq; a later "
                "page-table walk trips VM_BUG_ON(walk->max_seq > mm_state->seq + 1)",
          "bug", "try_to_inc_max_seq() creates a generation without an iteration of the list, "
                 "so mm_state->seq is never advanced for it",
          "arch_has_hw_pte_young() false", _no_hw_young,
          (Signature("seq", None, "max_seq - 1 <= seq <= max_seq", f1_seq_left_behind),
           Signature("VM_BUG_ON", "get_next_mm", "walk->max_seq > mm_state->seq + 1",
                     f1_seq_left_behind)),
          fix="fix-nowalk-seq", anchor="f1-without-a-hardware-accessed-bit-mm_state-seq-is-left-behind"),
    Entry("F2", "without a hardware accessed bit, another caller's walk-less inc_max_seq() races "
                "the last walker's VM_BUG_ON(max_seq != READ_ONCE(lrugen->max_seq))",
          "bug", "the walk-less path increments max_seq while an iteration for the old max_seq "
                 "is still running",
          "arch_has_hw_pte_young() false", _no_hw_young,
          (Signature("VM_BUG_ON", "try_to_inc_max_seq", "max_seq != READ_ONCE(lrugen->max_seq)",
                     f2_walkless_during_walk),),
          fix="fix-nowalk-seq", anchor="f2-the-walk-less-path-races-the-last-walker"),
    Entry("F3", "a fork child moved to another memcg before kernel_clone() adds its mm trips "
                "VM_BUG_ON_MM(!mm->lru_gen.memcg)",
          "bug", "cgroup_post_fork() makes the child visible to cgroup migration before "
                 "lru_gen_add_mm() has set mm->lru_gen.memcg",
          "CONFIG_MEMCG", _memcg,
          (Signature("VM_BUG_ON_MM", "lru_gen_migrate_mm", "!mm->lru_gen.memcg",
                     f3_migrated_before_add),),
          fix="fix-migrate-before-add", anchor="f3-migration-before-addition"),
    Entry("F4", "PREEMPT_RT: exec_mmap() takes the mm_list spinlock (a sleeping lock there) with "
                "IRQs off",
          "bug", "lru_gen_add_mm() runs inside exec_mmap()'s local_irq_disable() region, and a "
                 "spinlock_t sleeps on PREEMPT_RT",
          "PREEMPT_RT", lambda c: bool(c.PREEMPT_RT),
          (Signature("sleep_in_atomic", "lru_gen_add_mm", "mm_list lock", f4_exec_irqs_off),),
          fix="fix-exec-add-after-irq-enable", anchor="f4-a-sleeping-lock-with-irqs-off-under-preempt_rt"),
    Entry("B1", "lru_gen_use_mm() (and the list_empty() tests of add/del/migrate) read the mm's "
                "list node without the mm_list lock",
          "benign", "the seed says so ('unlikely but not a bug when racing with "
                    "lru_gen_migrate_mm()'); list_empty() is a READ_ONCE in the C. The race "
                    "check judges these reads through this entry's allowlist (B1's "
                    "benign_races in mmlist/findings.py), and every run prints the ones it saw",
          "any", _always, (), anchor="b1-lru_gen_use_mm-reads-the-list-node-without-the-lock-benign",
          benign_races=(
              BenignRace(
                  "lru_gen_use_mm", "list_empty", "list_head.next",
                  "lru_gen_use_mm(): VM_WARN_ON(list_empty(&mm->lru_gen.list)) reads the node "
                  "without the mm_list lock; the seed says: 'unlikely but not a bug when racing "
                  "with lru_gen_migrate_mm()'. list_empty() is a READ_ONCE in the C."),
              BenignRace(
                  "lru_gen_del_mm", "list_empty", "list_head.next",
                  "lru_gen_del_mm(): 'if (list_empty(&mm->lru_gen.list)) return;' reads the "
                  "mm's own node before taking the lock. list_empty() is a READ_ONCE in the C, "
                  "and a concurrent list_add_tail()/list_del_init() of a *neighbour* rewrites "
                  "this node's next pointer without changing whether it points to itself; "
                  "adding or deleting the mm itself is excluded by its owner's task_lock and by "
                  "mm_users."),
              BenignRace(
                  "lru_gen_add_mm", "list_empty", "list_head.next",
                  "lru_gen_add_mm(): VM_BUG_ON_MM(!list_empty(&mm->lru_gen.list)) reads the "
                  "mm's own node before taking the lock (READ_ONCE in the C); same reasoning as "
                  "lru_gen_del_mm()."),
              BenignRace(
                  "lru_gen_migrate_mm", "list_empty", "list_head.next",
                  "lru_gen_migrate_mm(): VM_BUG_ON_MM(list_empty(&mm->lru_gen.list)) reads the "
                  "mm's own node under its owner's task_lock (READ_ONCE in the C); same "
                  "reasoning as lru_gen_del_mm()."),
          )),
    Entry("B2", "lru_gen_use_mm() tests PF_KTHREAD of current (prev), not of the task switched "
                "to, in context_switch()",
          "benign", "a behaviour to know, not a correctness problem: the hint is only "
                    "approximate by design; no check fires on it",
          "any", _always, (), anchor="b2-lru_gen_use_mm-tests-the-previous-tasks-pf_kthread"),
    Entry("B3", "an mm migrated out of a memcg and back during one iteration is re-appended "
                "behind head and handed out again",
          "benign", "the seed accepts a duplicate walk: an mm is handed out at most once per "
                    "stay on the list in an iteration, and leaving and re-joining the list "
                    "starts a new stay",
          "CONFIG_MEMCG", _memcg,
          (Signature("handout_once", "get_next_mm", "handout_once",
                     b3_readded_during_iteration),),
          anchor="b3-an-mm-migrated-out-and-back-is-handed-out-again"),
    Entry("B4", "VM_WARN_ON(list_empty(&mm->lru_gen.list)) in lru_gen_use_mm() fires when a "
                "context switch races lru_gen_migrate_mm()'s window between its del and add",
          "benign", "the seed's own comment: 'unlikely but not a bug when racing with "
                    "lru_gen_migrate_mm()'; a warning, and the mm is added back right after",
          "CONFIG_MEMCG", _memcg,
          (Signature("VM_WARN_ON", "lru_gen_use_mm", "list_empty(&mm->lru_gen.list)",
                     b4_use_mm_in_migration_window),),
          anchor="b4-vm_warn_on-in-lru_gen_use_mm-during-a-migration"),
    Entry("B5", "clear_bloom_filter()'s GFP_ATOMIC bitmap_zalloc() fails: that generation "
                "has no Bloom filter",
          "benign", "the seed copes by design: set_bloom_filter() then records nothing and "
                    "test_bloom_filter() answers false, so the next iteration's walkers skip "
                    "the PMD regions they would have rescanned (less aging, never a wrong "
                    "state); the check reports it (severity info) so that a run says what "
                    "degraded",
          "a GFP_ATOMIC allocation may fail (the model: gfp_atomic_may_fail)",
          _gfp_atomic_may_fail,
          (Signature("bloom_filter_alloc_failed", "clear_bloom_filter", "GFP_ATOMIC"),),
          anchor="b5-a-bloom-filter-allocation-fails"),
    Entry("B6", "the usage hints are read and written without a lock: lru_gen_use_mm()'s "
                "nodes_full()/nodes_setall() and should_skip_mm()'s cpumask_empty() race with "
                "the atomic bitops of walkers and context switches",
          "benign", "racy by design: the seed calls mm->lru_gen.nodes 'a hint of whether it has "
                    "been used since the last time per-node page table walkers cleared the "
                    "corresponding bits' (protocol.md: 'nodes: none (racy bitops, by design)'), "
                    "and mm_cpumask is changed by every CPU switching to or from the mm with "
                    "no lock anyone could take; a stale hint walks an idle mm or skips a used "
                    "one once",
          "any", _always, (), anchor="b6-the-usage-hints-are-racy-by-design",
          benign_races=(
              BenignRace(
                  "lru_gen_use_mm", "nodes_full", "lru_gen.nodes",
                  "lru_gen_use_mm(): !nodes_full(mm->lru_gen.nodes) is a plain read of the hint "
                  "that walkers clear with node_clear() (an atomic bitop) without a lock: "
                  "racy by design (protocol.md: 'nodes: none (racy bitops, by design)')."),
              BenignRace(
                  "lru_gen_use_mm", "nodes_setall", "lru_gen.nodes",
                  "lru_gen_use_mm(): nodes_setall(mm->lru_gen.nodes) is a plain write of the "
                  "hint ('a hint of whether it has been used since the last time per-node page "
                  "table walkers cleared the corresponding bits'), racing with node_clear() "
                  "and node_isset() in should_skip_mm(): racy by design."),
              BenignRace(
                  "should_skip_mm", "cpumask_empty", "mm_cpumask",
                  "should_skip_mm(): cpumask_empty(mm_cpumask(mm)) reads the mask that "
                  "switch_mm_irqs_off() sets and clears with atomic bitops on every CPU "
                  "switching to or from the mm; no lock protects it, the walker only wants a "
                  "hint (protocol.md 2: 'an empty mask means nobody runs the mm right now')."),
          )),
    Entry("B7", "mm_update_next_owner() (kernel/exit.c, not the seed) reads mm->owner and the "
                "candidates' ->mm without a lock",
          "benign", "by the C's design: 'if (mm->owner != p) return;' (the owner can only be "
                    "changed by the owner itself, and p has already left the mm under its "
                    "task_lock, so the comparison cannot change), and the candidate scan's "
                    "'c->mm == mm' is re-checked under task_lock(c) ('if (c->mm != mm) goto "
                    "retry')",
          "any", _always, (), anchor="b7-mm_update_next_owner-reads-the-owner-without-a-lock",
          benign_races=(
              BenignRace(
                  "mm_update_next_owner", None, "mm.owner",
                  "mm_update_next_owner(): 'if (mm->owner != p) return' reads mm->owner "
                  "without a lock ('If the exiting or execing task is not the owner, it's "
                  "someone else's problem'): only the current owner changes it (mm_types.h), "
                  "with WRITE_ONCE(), and p left the mm under its task_lock before, so no "
                  "concurrent change makes it p.", other_marked=True),
              BenignRace(
                  "mm_update_next_owner", None, "task.mm",
                  "mm_update_next_owner(): the candidate scan reads c->mm without task_lock(c) "
                  "(under read_lock(&tasklist_lock) in the C) and re-checks it under "
                  "task_lock(c) before using it ('if (c->mm != mm) goto retry' in the C)."),
              BenignRace(
                  "mm_update_next_owner", None, "task.flags",
                  "mm_update_next_owner(): 'if (g->flags & PF_KTHREAD) continue;' in the "
                  "for_each_process() scan reads another task's flags while that task's "
                  "exit_signals() sets PF_EXITING in the same word: PF_KTHREAD, the only bit "
                  "read, is fixed when the task is created, so the test's answer does not "
                  "depend on the order."),
          )),
    Entry("B9", "mem_cgroup_attach() (the seed) reads mm->owner without READ_ONCE() while "
                "mm_update_next_owner() of an exiting sharer of the mm changes it",
          "benign", "the comparison 'task->mm->owner == task' cannot depend on the race: "
                    "mm->owner becomes task only by mm_update_next_owner() choosing it, under "
                    "task_lock(task), which mem_cgroup_attach() holds; it stops being task only "
                    "when task itself exits, after exit_mm() cleared task->mm under the same "
                    "lock. A concurrent change is from one other task to another, and both "
                    "compare unequal (a READ_ONCE() there would only document it)",
          "any", _always, (), anchor="b9-mem_cgroup_attach-reads-the-owner-as-it-changes",
          benign_races=(
              BenignRace(
                  "mem_cgroup_attach", None, "mm.owner",
                  "mem_cgroup_attach(): 'if (task->mm && task->mm->owner == task)' under "
                  "task_lock(task) reads mm->owner plainly while an exiting sharer's "
                  "mm_update_next_owner() hands the mm to another task with WRITE_ONCE() under "
                  "that task's task_lock: neither value is task, so the test is false either "
                  "way.", other_marked=True),
          )),
    Entry("B8", "the look-around's report into the Bloom filter of the max_seq it read races "
                "the clear of that filter for a later generation",
          "benign", "the double buffering by design: filters[S % 2] is cleared for S + 2 by the "
                    "first walker of the iteration for S + 1, while a look-around that read "
                    "max_seq = S earlier may still set_bit() its PMD entry into it (no lock: "
                    "the rmap walk holds none of the mm_list's). Either order is harmless: the "
                    "bit is cleared (the entry belonged to a generation that is gone) or "
                    "survives as one false positive, which a Bloom filter allows (a walker "
                    "scans a PTE table it could have skipped); no walker of S + 2 can miss an "
                    "entry because of it",
          "any", _always, (), anchor="b8-the-look-around-races-the-next-clear",
          benign_races=(
              BenignRace(
                  "set_bloom_filter", "test_bit", "filters[].bits",
                  "lru_gen_look_around() -> set_bloom_filter(lruvec, max_seq, pmd): test_bit() "
                  "on a filter that the first walker of a later iteration clears with "
                  "bitmap_clear() under the mm_list lock; the stale report is cleared or "
                  "stays a false positive", within="lru_gen_look_around"),
              BenignRace(
                  "set_bloom_filter", "set_bit", "filters[].bits",
                  "lru_gen_look_around() -> set_bloom_filter(lruvec, max_seq, pmd): set_bit() "
                  "(atomic) on a filter that a later iteration clears with bitmap_clear(); the "
                  "bit is cleared or stays a false positive", within="lru_gen_look_around"),
          )),
)

BY_ID: dict[str, Entry] = {e.id: e for e in REGISTRY}

#: Every benign race of the registry, each with its entry's id (the race check's allowlist).
BENIGN_RACES: tuple[BenignRace, ...] = tuple(
    BenignRace(r.function, r.via, r.field, r.why, e.id, r.within, r.other_marked)
    for e in REGISTRY for r in e.benign_races)


def benign_race_entry(field: str, why: str) -> Entry | None:
    """The registry entry that judged a benign race (by its field and reason)."""
    for r in BENIGN_RACES:
        if r.field == field and r.why == why:
            return BY_ID[r.entry]
    return None


@dataclass(frozen=True)
class Label:
    """``kind``: "known" (a registered bug of the seed), "benign" (accepted by the seed) or
    "new"; ``entry`` the registry entry for the first two."""

    kind: str
    entry: Entry | None = None

    @property
    def id(self) -> str | None:
        return self.entry.id if self.entry else None

    def text(self) -> str:
        if self.entry is None:
            return "[NEW]"
        e = self.entry
        if self.kind == "benign":
            return f"[benign {e.id}: judged: {e.reason}; {e.link}]"
        return f"[known finding {e.id}: {e.title}; {e.link}]"


NEW = Label("new")


def classify(violation: Violation, config: Any) -> Label:
    """The label of ``violation`` found under ``config`` (a ``mmlist.config.Config``)."""
    for e in REGISTRY:
        if not e.config(config):
            continue
        if any(s.matches(violation) for s in e.signatures):
            return Label("known" if e.judgement == "bug" else "benign", e)
    return NEW


def finding_key(violation: Violation, config: Any) -> tuple[Any, ...]:
    """What makes two violations the same finding: the registry entry, or for a new one its
    meaning (``Violation.key``)."""
    lab = classify(violation, config)
    if lab.entry is not None:
        return ("registry", lab.entry.id)
    return ("new",) + violation.key


# --- the table in docs/findings.md ------------------------------------------------------------
TABLE_BEGIN = "<!-- registry table: generated by mmlist.findings.render_table(); do not edit -->"
TABLE_END = "<!-- end of registry table -->"

_JUDGEMENT = {"bug": "real bug in the seed (v6)", "benign": "benign, by design",
              "modelling": "modelling error"}


def render_table() -> str:
    rows = ["| id | what | judgement | configuration | recognised by | fix variant |",
            "|---|---|---|---|---|---|"]
    for e in REGISTRY:
        sigs = "; ".join(s.describe() for s in e.signatures) or "no check fires (documented only)"
        rows.append(f"| [{e.id}](#{e.anchor}) | {e.title} | {_JUDGEMENT[e.judgement]}: "
                    f"{e.reason} | {e.config_text} | {sigs} | {e.fix or '-'} |")
    return "\n".join([TABLE_BEGIN] + rows + [TABLE_END])


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a markdown heading (``## F3: migration before addition``)."""
    import re
    text = heading.lstrip("#").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def docs_table(text: str) -> str | None:
    """The registry table as it stands in ``text`` (docs/findings.md), or None."""
    a, b = text.find(TABLE_BEGIN), text.find(TABLE_END)
    if a < 0 or b < 0:
        return None
    return text[a:b + len(TABLE_END)]


KNOWN: dict[str, str] = {e.id: e.title for e in REGISTRY if e.judgement == "bug"}
