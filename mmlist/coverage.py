"""Coverage of the protocol: which branches of the seed's functions, and of the callers'
windows, a search reached.

"No violation found" is only worth the part of the protocol the search reached. Every branch
that matters is a named point (``POINTS``), marked in the model by one ``cover("...")`` line
(``mmlist.runtime.cover``). A mark is not an operation: it never goes through the runtime hook,
so it adds no scheduling point and changes no schedule, footprint or replay file; with no
recorder active it costs one global load.

    from mmlist import coverage
    with coverage.recording() as cov:
        sched.explore("walkers", max_executions=300)
    print(coverage.summary(cov.hit))
    print(coverage.unreached(cov.hit))

    per = coverage.measure(["walkers", "exit"], strategy="random", max_executions=100)
    print(coverage.render(per))

``Coverage.hit`` holds the points reached by model threads (what a search explores);
``Coverage.setup`` those reached while a scenario built its World (sequential set-up, not
searched). ``python -m mmlist.coverage [scenario...]`` measures the built-in scenarios.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from . import runtime as rt

#: point -> what reaching it means, in kernel words; grouped by function, in the seed's order
POINTS: dict[str, str] = {
    # --- get_mm_list() ---------------------------------------------------------------------------
    "get_mm_list:global":
        "memcg is NULL (CONFIG_MEMCG=n or cgroup_disable=memory): the static global list",

    # --- lru_gen_add_mm() ------------------------------------------------------------------------
    "lru_gen_add_mm:tail-on-fifo":
        "a lruvec's mm_state->tail is &fifo: tail moves back onto the new mm",
    "lru_gen_add_mm:tail-on-mm":
        "a lruvec's mm_state->tail is on an mm: it stays (the new mm is behind it)",
    "lru_gen_add_mm:mid-iteration":
        "added while an iteration of that lruvec is running (mm_state->head is not &fifo)",

    # --- lru_gen_del_mm() ------------------------------------------------------------------------
    "lru_gen_del_mm:not-on-list":
        "early return: list_empty(&mm->lru_gen.list), the mm is on no list",
    "lru_gen_del_mm:neither-moved":
        "neither head nor tail of a lruvec is on the mm: no fix-up",
    "lru_gen_del_mm:tail-moved":
        "only mm_state->tail is on the mm: tail moves to tail->next",
    "lru_gen_del_mm:head-moved":
        "only mm_state->head is on the mm: head moves to head->next",
    "lru_gen_del_mm:head-and-tail-moved":
        "head and tail are both on the mm: both move to its successor",
    "lru_gen_del_mm:head-to-next-mm":
        "head is on an mm that has a successor mm: head moves onto that mm",
    "lru_gen_del_mm:head-to-fifo-seq-bumped":
        "head moves to &fifo: lru_gen_del_mm() ends the iteration, WRITE_ONCE(seq, seq + 1)",
    "lru_gen_del_mm:list-of-1":
        "the mm is removed from a list of one mm (itself)",
    "lru_gen_del_mm:list-of-2":
        "the mm is removed from a list of two mms",
    "lru_gen_del_mm:list-of-3+":
        "the mm is removed from a list of three or more mms",

    # --- lru_gen_migrate_mm() --------------------------------------------------------------------
    "lru_gen_migrate_mm:memcg-disabled":
        "early return: mem_cgroup_disabled() (cgroup_disable=memory)",
    "lru_gen_migrate_mm:same-memcg":
        "early return: mem_cgroup_from_task(mm->owner) == mm->lru_gen.memcg, nothing to move",
    "lru_gen_migrate_mm:before-add":
        "the owner moved before lru_gen_add_mm(): mm->lru_gen.memcg is NULL, "
        "VM_BUG_ON_MM(!mm->lru_gen.memcg) fires",
    "lru_gen_migrate_mm:moved":
        "lru_gen_del_mm() then lru_gen_add_mm(): the mm follows its owner to another memcg",

    # --- Bloom filters ---------------------------------------------------------------------------
    "clear_bloom_filter:cleared":
        "the filter for seq exists: bitmap_clear()",
    "clear_bloom_filter:allocated":
        "no filter for seq yet: bitmap_zalloc(GFP_ATOMIC) allocates it",
    "clear_bloom_filter:alloc-failed":
        "bitmap_zalloc(GFP_ATOMIC) fails: filters[gen] stays NULL",
    "set_bloom_filter:set":
        "the filter exists: both keys of the item set",
    "set_bloom_filter:no-filter":
        "READ_ONCE(filters[gen]) is NULL: nothing recorded",
    "test_bloom_filter:hit":
        "both keys set: the PMD is walked",
    "test_bloom_filter:miss":
        "a key clear: the PMD is skipped",
    "test_bloom_filter:no-filter":
        "READ_ONCE(filters[gen]) is NULL: answers false, the PMD is skipped",

    # --- reset_mm_stats() ------------------------------------------------------------------------
    "reset_mm_stats:case4-clear-next-hist":
        "case 4 with NR_HIST_GENS > 1 (CONFIG_LRU_GEN_STATS): the last walker clears the "
        "historical stats of max_seq + 1",

    # --- should_skip_mm() ------------------------------------------------------------------------
    "should_skip_mm:unused":
        "skip: !full_scan, mm_cpumask empty and this node's bit clear in mm->lru_gen.nodes",
    "should_skip_mm:full-scan":
        "walk->full_scan: the usage test is bypassed",
    "should_skip_mm:on-cpu":
        "mm_cpumask not empty: the mm runs somewhere, its node bit is not consulted",
    "should_skip_mm:node-bit-set":
        "mm_cpumask empty but the node bit is set: used since the last walk on this node",
    "should_skip_mm:small":
        "skip: fewer than MIN_LRU_BATCH pages of the walked types",
    "should_skip_mm:oom-victim":
        "skip: mm_is_oom_victim(mm)",
    "should_skip_mm:mm-users-zero":
        "skip: mmget_not_zero() fails, the mm is going away",
    "should_skip_mm:walk":
        "not skipped: a reference taken, the node bit cleared",

    # --- get_next_mm() ---------------------------------------------------------------------------
    "get_next_mm:case1-stale":
        "case 1: *iter NULL and walk->max_seq <= READ_ONCE(mm_state->seq): returns false "
        "without the lock",
    "get_next_mm:case1-stale-under-lock":
        "case 1 under the lock: the iteration ended between the READ_ONCE and spin_lock; "
        "last = false",
    "get_next_mm:iteration-over-returning-mm":
        "a walker handing back *iter finds the iteration over (another walker or "
        "lru_gen_del_mm() ended it): goto done",
    "get_next_mm:case2-first-walker":
        "case 2: head is &fifo, this walker starts the iteration (first = true)",
    "get_next_mm:case2-bloom-reset":
        "case 2: the first walker got an mm: clear_bloom_filter(lruvec, max_seq + 1)",
    "get_next_mm:joins-running-iteration":
        "*iter NULL, not first, gets an mm: a second walker joins a running iteration",
    "get_next_mm:tail-full-scan":
        "mm_state->tail is on the mm taken: tail moves on, walk->full_scan = true "
        "(added after the last iteration)",
    "get_next_mm:case3-end-of-list":
        "case 3: head reaches &fifo: WRITE_ONCE(seq, seq + 1), the iteration is done",
    "get_next_mm:case4-last-walker":
        "case 4: a walker hands back its last mm and no walker is left: returns true",
    "get_next_mm:last-without-mm":
        "returns true with *iter NULL: the iteration started and ended without an mm "
        "(empty list or every mm skipped)",
    "get_next_mm:leaves-not-last":
        "neither first nor last: a walker hands back *iter, gets none, others still hold mms",

    # --- lru_gen_use_mm() (mm_types.h) ----------------------------------------------------------
    "lru_gen_use_mm:set":
        "!PF_KTHREAD and nodes not full: nodes_setall(mm->lru_gen.nodes)",
    "lru_gen_use_mm:kthread":
        "current is a kthread (PF_KTHREAD): the mask is left alone",
    "lru_gen_use_mm:already-full":
        "nodes_full(): every node bit already set, nothing written",
    "lru_gen_use_mm:off-list":
        "the mm is on no list (between lru_gen_migrate_mm()'s del and add): VM_WARN_ON fires",

    # --- try_to_inc_max_seq() / inc_max_seq() (patches 6/9, 4/9) --------------------------------
    "try_to_inc_max_seq:no-walk":
        "!full_scan && !arch_has_hw_pte_young(): inc_max_seq() without iterating the list",
    "try_to_inc_max_seq:walk-alloc-failed":
        "alloc_mm_walk() returned NULL: returns false",
    "try_to_inc_max_seq:wait":
        "not last, direct reclaim at sc->priority < DEF_PRIORITY - 2: "
        "wait_event_killable() for the last walker",
    "try_to_inc_max_seq:no-wait-kswapd":
        "not last, current_is_kswapd(): no wait",
    "try_to_inc_max_seq:no-wait-priority":
        "not last, sc->priority >= DEF_PRIORITY - 2: no wait",
    "try_to_inc_max_seq:not-last-seq-advanced":
        "not last, max_seq < READ_ONCE(lrugen->max_seq): returns true",
    "try_to_inc_max_seq:not-last-seq-not-advanced":
        "not last, max_seq not incremented yet: returns false",
    "try_to_inc_max_seq:last-walker":
        "get_next_mm() returned true: this walker calls inc_max_seq()",
    "try_to_inc_max_seq:wake-waiters":
        "the last walker finds sleepers: wake_up_all(&mm_state->wait)",
    "inc_max_seq:new-generation":
        "max_seq == lrugen->max_seq: smp_store_release(max_seq + 1)",
    "inc_max_seq:raced":
        "max_seq != lrugen->max_seq: someone else got there first, nothing done",
    "alloc_mm_walk:lent-walk":
        "current->reclaim_state->mm_walk (kswapd's preallocated walk, or debugfs's)",
    "alloc_mm_walk:allocated":
        "kvzalloc(GFP_KERNEL) of a walk",
    "alloc_mm_walk:failed":
        "kvzalloc(GFP_KERNEL) fails",

    # --- walk_mm() and the page-table walk (patch 6/9) -------------------------------------------
    "walk_mm:mmap-trylock-failed":
        "mmap_read_trylock() fails (a writer holds mmap_lock): -EBUSY, the chunk is given up",
    "walk_mm:memcg-moving-charges":
        "mem_cgroup_moving_account (charge moving, cgroup v1): -EBUSY, the chunk is given up",
    "walk_mm:page-tables-gone":
        "the mm's page tables were torn down (exit_mmap ran): a use-after-free in the C",
    "walk_mm:next-chunk":
        "-EAGAIN with walk->next_addr: MAX_LRU_BATCH reached, another chunk",
    "walk_mm:oom-victim-stop":
        "-EAGAIN with more to walk, but mm_is_oom_victim(): the walk stops",
    "walk_pmd_range:full-scan":
        "walk->full_scan: every PMD walked without asking the Bloom filter",
    "lru_gen_look_around:report-dense":
        "the rmap found a dense PTE table: set_bloom_filter(lruvec, max_seq, pmd)",

    # --- the callers' windows --------------------------------------------------------------------
    "kernel_clone:add-child-mm":
        "fork without CLONE_VM: task_lock(p); lru_gen_add_mm(p->mm)",
    "kernel_clone:clone-vm":
        "CLONE_VM: the child shares the parent's mm, no lru_gen_add_mm()",
    "kernel_clone:child-moved-before-add":
        "the child was moved to another memcg between cgroup_post_fork() and "
        "lru_gen_add_mm() (its mm goes straight onto the new memcg's list)",
    "mmput_async:last-reference":
        "a walker's mmput_async() drops the last mm_users: __mmput() goes to system_wq",
    "exec_mmap:add-irqs-off":
        "exec_mmap(): lru_gen_add_mm() with IRQs off and the task lock held",
    "exec_mmap:use-mm-irqs-on":
        "IRQs back on before activate_mm() / lru_gen_use_mm() "
        "(!CONFIG_ARCH_WANT_IRQS_OFF_ACTIVATE_MM)",
    "exec_mmap:use-mm-irqs-off":
        "activate_mm() / lru_gen_use_mm() with IRQs off (CONFIG_ARCH_WANT_IRQS_OFF_ACTIVATE_MM)",
    "mm_update_next_owner:not-owner":
        "the exiting task is not mm->owner: nothing to hand over",
    "mm_update_next_owner:last-user":
        "mm_users <= 1: mm->owner = NULL",
    "mm_update_next_owner:no-other-user":
        "no other task uses the mm: mm->owner = NULL",
    "mm_update_next_owner:retry":
        "the candidate's mm changed before task_lock(c): goto retry",
    "mm_update_next_owner:new-owner-same-memcg":
        "a new owner in the memcg whose list holds the mm: lru_gen_migrate_mm() has nothing to do",
    "mm_update_next_owner:new-owner-other-memcg":
        "a new owner in another memcg (or the mm not yet on a list): lru_gen_migrate_mm() moves it",
    "mem_cgroup_attach:owner":
        "the migrated leader owns its mm: lru_gen_migrate_mm() under task_lock",
    "mem_cgroup_attach:not-owner":
        "the migrated task has an mm it does not own (a thread moved alone): the mm stays",
    "mem_cgroup_attach:no-mm":
        "the migrated task has no mm (exited, or a kthread)",
    "cgroup_migrate:task-gone":
        "the pid is gone or PF_EXITING: -ESRCH, no .attach",
    "cgroup_migrate:same-memcg":
        "the task is already in the destination memcg: nothing to do",
}

#: points no scenario can reach, by design of the model, with the reason (keep it honest:
#: a point belongs here only when no World/config/thread program could ever reach it)
UNREACHABLE: dict[str, str] = {
    "walk_mm:page-tables-gone":
        "walk_mm() only runs on an mm that should_skip_mm() pinned with mmget_not_zero(), and "
        "the walker holds that reference until get_next_mm()'s mmput_async(); exit_mmap() runs "
        "in __mmput() at mm_users == 0, so the seed never walks torn-down page tables. The "
        "branch is there to catch it: the mutants no-mmget-not-zero and no-skip-mm-users-zero "
        "reach it (scenario exit); the faithful model reaching it would be a finding.",
}


@dataclass
class Coverage:
    """The points reached while ``recording()`` was active."""

    #: by model threads (the executions a search explores)
    hit: set[str] = field(default_factory=set)
    #: in the set-up context (scenarios building their World, tests calling the model directly)
    setup: set[str] = field(default_factory=set)

    @property
    def unknown(self) -> set[str]:
        """Names reached that are not in ``POINTS`` (a typo in a ``cover()`` mark)."""
        return (self.hit | self.setup) - POINTS.keys()


@contextlib.contextmanager
def recording() -> Iterator[Coverage]:
    """Record the points reached while the block runs (process-wide: every thread)."""
    cov = Coverage()
    prev = rt._coverage
    rt._coverage = cov
    try:
        yield cov
    finally:
        rt._coverage = prev


def reachable() -> list[str]:
    """The points a complete set of scenarios must reach (``POINTS`` minus ``UNREACHABLE``)."""
    return [p for p in POINTS if p not in UNREACHABLE]


def unreached(hit: Iterable[str]) -> list[str]:
    """The reachable points not in ``hit``, in ``POINTS`` order."""
    hit = set(hit)
    return [p for p in reachable() if p not in hit]


def summary(hit: Iterable[str]) -> str:
    hit = set(hit)
    points = reachable()
    n = sum(1 for p in points if p in hit)
    extra = f" ({len(UNREACHABLE)} unreachable by design)" if UNREACHABLE else ""
    return f"coverage: {n}/{len(points)} points{extra}"


def measure(scenarios: Iterable[Any], **explore_kwargs: Any) -> dict[str, set[str]]:
    """Run ``mmlist.sched.explore`` on each scenario (a name or a ``Scenario``) under
    ``recording()``; return the points its model threads reached, by scenario name."""
    from .sched import explore
    from .sched.explore import resolve
    out: dict[str, set[str]] = {}
    for s in scenarios:
        sc = resolve(s)
        with recording() as cov:
            explore(sc, **explore_kwargs)
        out[sc.name] = set(cov.hit)
    return out


def by_point(per_scenario: dict[str, set[str]]) -> dict[str, list[str]]:
    """point -> the scenarios that reached it (every point of ``POINTS``, in order)."""
    return {p: [s for s, hit in per_scenario.items() if p in hit] for p in POINTS}


def render(per_scenario: dict[str, set[str]]) -> str:
    """Per-scenario counts, the union, then every point with the scenarios reaching it."""
    union = set().union(*per_scenario.values()) if per_scenario else set()
    width = max([len(s) for s in per_scenario] + [8])
    lines = [f"{'scenario':{width}}  points"]
    for s, hit in per_scenario.items():
        lines.append(f"{s:{width}}  {len(hit & POINTS.keys()):>3}/{len(reachable())}")
    lines.append(f"{'union':{width}}  {len(union & POINTS.keys()):>3}/{len(reachable())}   "
                 f"[{summary(union)}]")
    lines.append("")
    pw = max(len(p) for p in POINTS)
    for p, where in by_point(per_scenario).items():
        mark = "UNREACHABLE" if p in UNREACHABLE else (", ".join(where) or "-- never --")
        lines.append(f"{p:{pw}}  {mark}")
    missing = unreached(union)
    lines.append("")
    lines.append(f"never reached ({len(missing)}): {', '.join(missing) or 'none'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse
    from .scenarios import BUILTIN
    ap = argparse.ArgumentParser(prog="python -m mmlist.coverage",
                                 description="coverage of the protocol by built-in scenarios")
    ap.add_argument("scenarios", nargs="*", help="scenario names (default: every built-in)")
    ap.add_argument("--strategy", default="portfolio")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-executions", type=int, default=300)
    args = ap.parse_args(argv)
    names = args.scenarios or list(BUILTIN)
    per = measure(names, strategy=args.strategy, seed=args.seed,
                  max_executions=args.max_executions, shrink=False)
    print(render(per))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
