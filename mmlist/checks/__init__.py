"""The checking layer: structural, history, lockdep-style and race checks over the events the
model sends through the runtime hook. Separate from the model and from the engines.

    from mmlist.checks import CheckSuite, run_sequential
    suite = CheckSuite(world)                  # one per execution
    engine = DirectEngine([suite.on_event])    # or any engine: it calls suite.on_event
    ...
    suite.at_end(finished=True)
    suite.violations                           # list[Violation], in order found

``CHECKS`` names every check and the kernel fact it encodes; docs/invariants.md says more.
"""
from .races import BENIGN
from .sequential import SequentialResult, run_sequential
from .suite import CheckSuite

#: check name -> one line: what it encodes.
CHECKS: dict[str, str] = {
    "fifo": "the mm_list fifo is a well-formed circular list with its sentinel",
    "mm_list_membership": "an mm is on at most one list, and mm->lru_gen.memcg names it",
    "cursor": "mm_state->head and ->tail point to the sentinel or a node of this list",
    "seq": "mm_state->seq never decreases and max_seq - 1 <= seq <= max_seq",
    "nr_walkers": "mm_state->nr_walkers equals the walkers holding an mm of the lruvec",
    "bloom_filter_present": "an allocated Bloom filter of a live lruvec stays allocated",
    "bloom_filter_alloc_failed": "(info) a GFP_ATOMIC Bloom filter allocation failed: by design",
    "handout_once": "get_next_mm hands each mm out at most once per iteration",
    "handout_complete": "an mm on the list for a whole iteration, not skipped, is handed out",
    "full_scan_new_mm": "an mm added since the last iteration is walked with full_scan",
    "iteration": "an iteration does not start again once it ended",
    "iteration_last": "exactly one walker per iteration gets last == true",
    "max_seq": "the last walker of an iteration increments max_seq, by exactly one",
    "walker_reference": "a walker holds a reference on every mm it gets and puts it back",
    "walk_after_mmput": "no page-table walk of an mm whose mm_users reached 0",
    "mmput_while_held": "__mmput never runs on an mm a walker holds",
    "mmput_while_used": "__mmput never runs on an mm that is still some task's ->mm",
    "mm_freed_on_list": "an mm_struct is not freed while still on an mm_list",
    "memcg_freed_with_mms": "a memcg is not freed with mms still on its list",
    "bloom_filter_clear": "the next filter is cleared once, by the first walker, before any set",
    "mm_stats": "what walkers batch in walk->mm_stats all ends up in mm_state->stats",
    "lockdep_assert_held": "(kernel assertion) lockdep_assert_held() is honoured",
    "lock_order": "no cycle in the lock-class dependency graph",
    "lock_recursion": "no lock taken twice, no recursive locking of a class",
    "sleep_in_atomic": "no sleeping operation with IRQs off, under a spinlock or in RCU",
    "lock_held_at_exit": "no thread ends holding a lock or with IRQs off",
    "bad_unlock": "no unlock of a lock the thread does not hold",
    "put_under_lock": "no reference count drops to zero under an mm_list lock",
    "data_race": "no unordered conflicting plain accesses to a protected field without its lock",
    "liveness": "no walker waits on mm_state->wait that nobody can wake",
    "mm_on_list": "at the end of a run, the mm of every live user task is on an mm_struct list",
    "rcu_balance": "every rcu_read_lock() a thread takes is released by the time it ends",
    "mmput_in_reclaim": "__mmput() never runs inside the aging: the walker defers the last mmput "
                        "with mmput_async()",
    "refcount_balance": "mm_users, mm_count, memcg css references and pending mmput_async "
                        "work balance at the end of a run, and never underflow",
    "offline_memcg_freed": "an offlined memcg whose last mm has left is freed by the end",
    "ownership": "outside a migration, an mm on a list sits on its owner's memcg's list",
    "page_walk": "walk_pmd_range() and lru_gen_look_around() do to the PTEs, the page counts, "
                 "the stats and the Bloom filters what protocol.md section 3 says, recomputed "
                 "from the page tables before and after each call",
    "active_mm": "at the end of a run, a live user task's active_mm is its own mm",
    "kmemleak": "at the end of a run, every Bloom filter allocated is freed or held in the "
                "filters[] of a live memcg's lruvec",
    "skip_oom": "an OOM victim that should_skip_mm() saw as one is skipped, never handed out; "
                "an mm it saw alive is not skipped as a victim",
    "switch_state": "after a context switch, rq->curr, current, on_cpu, active_mm (lazy TLB "
                    "included) and the CPU's bit in mm_cpumask are those of the kernel",
    "owner_valid": "at the end of a run, the owner of an mm still in use is one of its live user "
                   "tasks (mm_init_owner(), mm_update_next_owner())",
    "aging_progress": "every aging request ends with max_seq past the one it asked for (unless "
                      "its walk could not be allocated)",
    "who_waits": "kswapd never waits; direct reclaim waits only below DEF_PRIORITY - 2, and "
                 "never the last walker",
    "stats_hist": "CONFIG_LRU_GEN_STATS: stats land in the history slot of max_seq",
    "skip_size": "an mm is skipped as too small exactly when the seed's size rule says so",
    "bloom_false_negative": "a PMD region set in a Bloom filter tests positive when the "
                            "iteration for that seq consults it",
    "bloom_carry_over": "every non-leaf entry walk_pmd_range counts in MM_PMD_ADDED is set in "
                        "the filter for walk->max_seq + 1",
    "bloom_double_buffer": "set/test/clear_bloom_filter for seq use filters[seq % 2]",
    "usage_hint_skip": "v6: an mm is skipped as unused only without full_scan, off every CPU, "
                       "and not used (lru_gen_use_mm) since a walker of the node last took it",
    "usage_hint_walk": "v6: an mm not used since a walker of the node took it, off every CPU, "
                       "is skipped, not walked, without full_scan",
}

__all__ = ["CheckSuite", "CHECKS", "BENIGN", "run_sequential", "SequentialResult"]
