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
    mig = _last(v, "migrate")
    if mig is None or mig[1].get("mm") != mm:
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

    @property
    def link(self) -> str:
        return f"docs/findings.md#{self.anchor}"


def _no_hw_young(c: Any) -> bool:
    return not c.arch_has_hw_pte_young


def _memcg(c: Any) -> bool:
    return bool(c.CONFIG_MEMCG)


def _always(c: Any) -> bool:
    return True


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
                    "check's allowlist (mmlist/checks/races.py BENIGN) holds these reads, and "
                    "every run prints the ones it saw",
          "any", _always, (), anchor="b1-lru_gen_use_mm-reads-the-list-node-without-the-lock-benign"),
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
)

BY_ID: dict[str, Entry] = {e.id: e for e in REGISTRY}


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
