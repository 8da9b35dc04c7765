"""The reference model alone (``mmlist.reference``): hand-written sequences whose results are
derived from the seed by hand (the cursor rules of ``lru_gen_add_mm``, ``lru_gen_del_mm`` and
``get_next_mm``; ``should_skip_mm``'s reasons), then its ``resync`` against a real World."""
from __future__ import annotations

import pytest

from mmlist.config import Config
from mmlist.model import World
from mmlist.reference import (FIFO, MIN_NR_GENS, Reference, ReferenceViolation, differences,
                              observe_world)

SIZE = 64                   # >= MIN_LRU_BATCH: never "small"


def ref(nr_nodes: int = 1) -> Reference:
    r = Reference(nr_nodes=nr_nodes, nr_cpus=2, min_lru_batch=8, config=Config(nr_nodes=nr_nodes))
    r.mkdir("A")
    r.mkdir("B")
    return r


def two_mms(r: Reference) -> None:
    """pid 1 owns mm a, pid 2 owns mm b, both in A; both used since the last walk."""
    r.spawn(1, "A", "a", SIZE)
    r.spawn(2, "A", "b", SIZE)


def test_add_points_tail_at_the_first_mm_added_since_the_last_iteration() -> None:
    r = ref()
    lv = r.lruvecs[("A", 0)]
    r.spawn(1, "A", "a", SIZE)
    assert (lv.head, lv.tail) == (FIFO, "a")        # tail was on the sentinel: tail = fifo.prev
    r.spawn(2, "A", "b", SIZE)
    assert (lv.head, lv.tail) == (FIFO, "a")        # tail already on an mm: unchanged
    assert r.lists["A"] == ["a", "b"]


def test_one_walker_iterates_in_order_ends_with_seq_plus_one_and_is_last() -> None:
    r = ref()
    two_mms(r)
    lv = r.lruvecs[("A", 0)]
    assert r.start_round("w", "A", 0, full_scan=False)
    assert r.walkers["w"].max_seq == MIN_NR_GENS + 1 and lv.seq == MIN_NR_GENS
    got = r.get_next_mm("w")                        # case 2: first walker; a is new: full scan
    assert (got.mm, got.last, got.skipped) == ("a", False, ())
    assert (lv.head, lv.tail, lv.nr_walkers) == ("b", "b", 1) and r.walkers["w"].full_scan
    assert r.mms["a"].users == 2 and r.mms["a"].nodes == set()  # mmget; node bit cleared
    got = r.get_next_mm("w")                        # b is the last: head reaches the sentinel
    assert (got.mm, got.last) == ("b", False) and lv.seq == MIN_NR_GENS + 1
    assert r.mms["a"].users == 1                    # mmput_async(a)
    got = r.get_next_mm("w")                        # iteration over: the last walker out
    assert (got.mm, got.last) == (None, True) and lv.nr_walkers == 0
    assert r.end_round("w", got.last) and lv.max_seq == MIN_NR_GENS + 2


def test_a_walker_with_a_stale_max_seq_gets_nothing_and_is_not_last() -> None:
    """Case 1: the iteration for this max_seq already ended (seq == max_seq)."""
    r = ref()
    r.spawn(1, "A", "a", SIZE)
    r.start_round("w0", "A", 0, False)
    assert r.get_next_mm("w0").mm == "a"            # head reaches the sentinel: seq + 1
    r.start_round("w1", "A", 0, False)              # max_seq not incremented yet
    got = r.get_next_mm("w1")
    assert (got.mm, got.last) == (None, False)
    assert not r.end_round("w1", got.last)          # no generation from a stale walker
    assert r.get_next_mm("w0").last                 # w0 is the last walker out


def test_deleting_the_mm_under_head_moves_head_and_can_end_the_iteration() -> None:
    r = ref()
    two_mms(r)
    lv = r.lruvecs[("A", 0)]
    r.start_round("w", "A", 0, False)
    r.get_next_mm("w")                              # holds a; head on b
    r.curr[0] = 2
    r.exit(2)                                       # b's last user: __mmput -> del(b)
    assert r.lists["A"] == ["a"]
    assert lv.head == FIFO and lv.seq == MIN_NR_GENS + 1    # lru_gen_del_mm() ends it
    got = r.get_next_mm("w")
    assert (got.mm, got.last) == (None, True)


def test_an_mm_not_used_since_the_last_walk_of_its_node_is_skipped() -> None:
    r = ref()
    r.spawn(1, "A", "a", SIZE)
    for expect in (("a", ()), (None, (("a", "unused"),))):
        r.start_round("w", "A", 0, False)
        got = r.get_next_mm("w")
        assert (got.mm, got.skipped) == expect
        while r.walkers["w"].iter is not None:
            got = r.get_next_mm("w")
        r.end_round("w", got.last)


def test_a_switch_from_the_idle_task_loads_the_mm_but_sets_no_usage_bit_excused_by_b2() -> None:
    r = ref()
    r.spawn(1, "A", "a", SIZE)
    r.start_round("w", "A", 0, False)
    assert r.get_next_mm("w").mm == "a"             # new: full scan; node 0's bit cleared
    r.end_round("w", r.get_next_mm("w").last)
    assert r.mms["a"].nodes == set()
    r.context_switch(0, 1)                          # current is the idle task: a kthread
    assert r.mms["a"].nodes == set() and r.cpumask("a") == {0}
    assert [e.id for e in r.excused] == ["B2"]
    r.start_round("w", "A", 0, False)
    assert r.get_next_mm("w").mm == "a"             # on a CPU: not skipped as unused


def test_a_small_mm_is_skipped() -> None:
    r = ref()
    r.spawn(1, "A", "a", 4)
    r.start_round("w", "A", 0, True)
    got = r.get_next_mm("w")
    assert (got.mm, got.skipped, got.last) == (None, (("a", "small"),), True)


def test_an_mm_that_leaves_and_rejoins_during_the_iteration_is_handed_out_again_b3() -> None:
    r = ref()
    two_mms(r)
    r.start_round("w", "A", 0, False)
    assert r.get_next_mm("w").mm == "a"
    r.cgroup_migrate(1, "B")
    r.cgroup_migrate(1, "A")                        # re-appended behind head
    assert r.lists["A"] == ["b", "a"]
    assert r.get_next_mm("w").mm == "b"
    assert r.get_next_mm("w").mm == "a"
    assert [e.id for e in r.excused] == ["B3"]


def test_a_second_hand_out_without_leaving_the_list_is_refused() -> None:
    r = ref()
    two_mms(r)
    r.start_round("w", "A", 0, False)
    assert r.get_next_mm("w").mm == "a"
    r.lruvecs[("A", 0)].head = "a"                  # a broken cursor, as a mutant would leave
    with pytest.raises(ReferenceViolation, match="handed out twice"):
        r.get_next_mm("w")


def test_excuses_must_name_a_benign_entry_that_applies() -> None:
    r = ref()
    with pytest.raises(ReferenceViolation):
        r.excuse("F1", "a real bug is never excused")
    with pytest.raises(ReferenceViolation):
        r.excuse("Z9", "no such entry")
    r.config = Config(CONFIG_MEMCG=False)
    with pytest.raises(ReferenceViolation, match="does not apply"):
        r.excuse("B3", "B3 needs CONFIG_MEMCG")


def test_the_owner_exiting_hands_the_mm_to_a_sharer_and_it_follows_the_sharers_memcg() -> None:
    r = ref()
    r.spawn(1, "A", "a", SIZE)
    r.fork(1, 2, clone_vm=True, child_mm=None)
    r.cgroup_migrate(2, "B")                        # not the owner: the mm stays in A
    assert r.lists == {"root": [], "A": ["a"], "B": []}
    r.curr[1] = 1
    r.exit(1)                                       # mm_update_next_owner() -> pid 2 in B
    assert r.mms["a"].owner == 2 and r.lists["B"] == ["a"] and r.mms["a"].users == 1


def test_rmdir_is_refused_while_a_task_is_in_and_frees_with_the_last_reference() -> None:
    r = ref()
    r.spawn(1, "B", "a", SIZE)
    assert not r.rmdir("B")                         # -EBUSY: a task is in it
    r.cgroup_migrate(1, "A")                        # the owner leaves; its mm follows
    assert r.lists["A"] == ["a"] and r.lists["B"] == []
    r.start_round("w", "B", 0, False)               # the walker's css reference
    assert r.rmdir("B") and "B" not in r.freed
    r.end_round("w", r.get_next_mm("w").last)
    assert "B" in r.freed and "B" not in r.lists


def test_resync_reads_back_the_state_of_a_world() -> None:
    w = World(Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16, nr_nodes=2))
    w.mem_cgroup_alloc("A")
    w.spawn("A", comm="app1", nr_regions=2)
    w.spawn("A", comm="app2", nr_regions=1, rss=4)
    r = Reference(2, 2, 8, w.config)
    assert differences(r.observe(), observe_world(w))      # knows nothing of them yet
    r.resync(w)
    assert differences(r.observe(), observe_world(w)) == []
    assert r.mms["mm#2"].size == 4 and r.tasks[max(r.tasks)].memcg == "A"
