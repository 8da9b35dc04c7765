"""The lockset race check with happens-before: hand-built histories and real model code."""
from __future__ import annotations

from checks_helpers import checks, ctx, small_world, task

from mmlist import runtime as rt
from mmlist.checks import BENIGN, CheckSuite
from mmlist.checks.races import rule_of
from mmlist.kernel import WRITE_ONCE
from mmlist.kernel.fields import ACQUIRE, RELEASE, ordered
from mmlist.model import mm_list, mm_types
from mmlist.model.fork import mm_init


def start(s, *cs):
    for c in cs:
        s.on_event(c, rt.THREAD_START, c, None)


def setup():
    w = small_world()
    s = CheckSuite(w, structural=False)
    return w, s, w.lruvec("A").mm_state, w.memcg("A").mm_list.lock


def test_unlocked_write_and_read_unordered_is_a_race_with_both_accesses():
    w, s, st, lk = setup()
    a, b = ctx("a"), ctx("b", 1)
    start(s, a, b)
    s.on_event(a, rt.WRITE, st, "head")
    s.on_event(b, rt.READ, st, "head")
    v = [v for v in s.violations if v.check == "data_race"]
    assert len(v) == 1
    assert "WRITE" in v[0].details["first"] and "[a]" in v[0].details["first"]
    assert "READ" in v[0].details["second"] and "[b]" in v[0].details["second"]
    assert "mm_state.head" in v[0].message


def test_accesses_under_the_protecting_lock_do_not_race():
    w, s, st, lk = setup()
    a, b = ctx("a"), ctx("b", 1)
    start(s, a, b)
    for c, op in ((a, rt.WRITE), (b, rt.READ), (a, rt.WRITE)):
        s.on_event(c, rt.LOCK, lk, None)
        c.locks_held.append(lk)
        s.on_event(c, op, st, "tail")
        c.locks_held.remove(lk)
        s.on_event(c, rt.UNLOCK, lk, None)
    assert s.violations == []


def test_a_release_acquire_chain_orders_unlocked_accesses():
    w, s, st, lk = setup()
    a, b = ctx("a"), ctx("b", 1)
    start(s, a, b)
    other = w.root_mem_cgroup.mm_list.lock
    s.on_event(a, rt.WRITE, st, "nr_walkers")
    s.on_event(a, rt.LOCK, other, None)
    s.on_event(a, rt.UNLOCK, other, None)
    s.on_event(b, rt.LOCK, other, None)
    s.on_event(b, rt.UNLOCK, other, None)
    s.on_event(b, rt.WRITE, st, "nr_walkers")
    assert s.violations == []


def test_release_acquire_of_max_seq_synchronises():
    """smp_store_release(&lrugen->max_seq) -> smp_load_acquire(&lrugen->max_seq) orders what
    came before the store with what comes after the load (a READ_ONCE would not:
    tests/test_lkmm_races.py)."""
    w, s, st, lk = setup()
    a, b = ctx("a"), ctx("b", 1)
    start(s, a, b)
    lrugen = w.lruvec("A", 0).lrugen
    s.on_event(a, rt.WRITE, lrugen, "max_seq")
    s.on_event(a, rt.WRITE_ONCE, lrugen, ordered("max_seq", RELEASE))
    s.on_event(b, rt.READ_ONCE, lrugen, ordered("max_seq", ACQUIRE))
    s.on_event(b, rt.READ, lrugen, "max_seq")
    assert s.violations == []


def test_an_acquire_of_a_later_plain_store_does_not_synchronise_with_an_older_release():
    """The acquire reads the location's last write: after a WRITE_ONCE over the release, there
    is no release to pair with."""
    w, s, st, lk = setup()
    a, b, c = ctx("a"), ctx("b", 1), ctx("c", 2)
    start(s, a, b, c)
    lrugen = w.lruvec("A", 0).lrugen
    s.on_event(a, rt.WRITE, st, "nr_walkers")
    s.on_event(a, rt.WRITE_ONCE, lrugen, ordered("max_seq", RELEASE))
    s.on_event(c, rt.WRITE_ONCE, lrugen, "max_seq")
    s.on_event(b, rt.READ_ONCE, lrugen, ordered("max_seq", ACQUIRE))
    s.on_event(b, rt.READ, st, "nr_walkers")
    assert [v.details["field"] for v in s.violations] == ["mm_state.nr_walkers"]


def test_rcu_assign_pointer_then_rcu_dereference_orders_the_reader():
    """rcu_dereference() of a pointer published with rcu_assign_pointer() orders the reader's
    later accesses after the publisher's earlier ones (the documented over-approximation of
    the address dependency); of one published with WRITE_ONCE it orders nothing."""
    from mmlist.kernel import rcu_assign_pointer, rcu_dereference
    for publish, races in ((rcu_assign_pointer, []), (WRITE_ONCE, ["mm_state.nr_walkers"])):
        w, s, st, lk = setup()
        a, b = ctx("a", 1), ctx("b", 2)
        start(s, a, b)
        rt.install(rt.DirectEngine([s.on_event]))
        mm = w.mms[0]
        with w:
            rt.bind_thread(a)
            st.nr_walkers = 1
            publish(mm, "owner", mm.__dict__["_owner"])
            rt.bind_thread(b)
            rcu_dereference(mm, "owner")
            st.nr_walkers
            rt.bind_thread(None)
        assert [v.details["field"] for v in s.violations] == races, publish


def test_a_successful_atomic_inc_not_zero_is_a_full_barrier():
    from mmlist.kernel import atomic_dec_and_test, atomic_inc_not_zero, atomic_t
    w, s, st, lk = setup()
    a, b = ctx("a", 1), ctx("b", 2)
    start(s, a, b)
    rt.install(rt.DirectEngine([s.on_event]))
    ref = atomic_t(2, "ref")
    with w:
        rt.bind_thread(a)
        st.nr_walkers = 1
        assert not atomic_dec_and_test(ref)
        rt.bind_thread(b)
        assert atomic_inc_not_zero(ref)
        st.nr_walkers
        rt.bind_thread(None)
    assert s.violations == []


def test_a_writer_after_readers_is_ordered_but_a_reader_after_a_reader_is_not():
    """up_read() releases to the next writer only; spinlocks of the same instance order."""
    from mmlist.kernel import down_read_trylock, up_read
    w, s, st, lk = setup()
    a, b = ctx("a", 1), ctx("b", 2)
    start(s, a, b)
    rt.install(rt.DirectEngine([s.on_event]))
    sem = w.mms[0].mmap_lock
    with w:
        rt.bind_thread(a)
        assert down_read_trylock(sem)
        st.nr_walkers
        up_read(sem)
        rt.bind_thread(b)
        assert down_read_trylock(sem)
        st.nr_walkers                       # two reads: never a race
        up_read(sem)
        rt.bind_thread(None)
    assert s.violations == []


def test_plain_write_once_read_once_order_nothing():
    """WRITE_ONCE(mm_state->seq)/READ_ONCE(mm_state->seq) carry no ordering in the LKMM: plain
    accesses around them still race."""
    w, s, st, lk = setup()
    a, b = ctx("a"), ctx("b", 1)
    start(s, a, b)
    s.on_event(a, rt.WRITE, st, "seq")
    s.on_event(a, rt.WRITE_ONCE, st, "seq")
    s.on_event(b, rt.READ_ONCE, st, "seq")
    s.on_event(b, rt.READ, st, "seq")
    assert [v.check for v in s.violations] == ["data_race"]


def test_two_reads_never_race():
    w, s, st, lk = setup()
    a, b = ctx("a"), ctx("b", 1)
    start(s, a, b)
    s.on_event(a, rt.READ, st, "head")
    s.on_event(b, rt.READ, st, "head")
    assert s.violations == []


def test_model_bookkeeping_is_not_race_checked():
    """Rows of kind ``unchecked`` (no C field: the mm_struct's memory, the World's registry)."""
    w, s, st, lk = setup()
    a, b = ctx("a"), ctx("b", 1)
    start(s, a, b)
    mm = w.mms[0]
    for obj, name in ((mm, "freed"), (w, "mms"), (w.memcg("A"), "freed")):
        assert rule_of(obj, name).kind == "unchecked"
        s.on_event(a, rt.WRITE, obj, name)
        s.on_event(b, rt.READ, obj, name)
    assert s.violations == []


def test_mm_owner_is_race_checked():
    """mm->owner has no protecting lock (only the owner changes it): plain accesses must be
    ordered by happens-before; marked ones never race with each other."""
    w, s, st, lk = setup()
    a, b = ctx("a"), ctx("b", 1)
    start(s, a, b)
    mm = w.mms[0]
    s.on_event(a, rt.WRITE_ONCE, mm, "owner")
    s.on_event(b, rt.READ_ONCE, mm, "owner")
    assert s.violations == []
    s.on_event(b, rt.READ, mm, "owner")
    assert [v.details["field"] for v in s.violations] == ["mm.owner"]


def test_marked_rows_never_race_with_each_other_and_implicit_rows_share_their_lock():
    w, s, st, lk = setup()
    a, b = ctx("a"), ctx("b", 1)
    start(s, a, b)
    mm = w.mms[0]
    s.on_event(a, rt.WRITE, mm, "oom_victim")          # set_bit(MMF_OOM_VICTIM) in the C
    s.on_event(b, rt.READ, mm, "oom_victim")
    s.on_event(a, rt.WRITE, w, "tasks")                # under tasklist_lock in the C
    s.on_event(b, rt.READ, w, "tasks")
    assert s.violations == []
    s.on_event(b, rt.WRITE, w.all_tasks[-1], "flags")  # a row of kind none: ordered or racy
    s.on_event(a, rt.READ, w.all_tasks[-1], "flags")
    assert [v.details["field"] for v in s.violations] == ["task.flags"]


def test_every_hooked_field_of_every_builtin_scenario_has_a_row_in_the_race_table():
    """Every shared access is race-checked by a row that says why (or is declared model
    bookkeeping): a few random executions of each built-in scenario reach no field the table
    does not know."""
    from mmlist.checks import races
    from mmlist.scenarios import BUILTIN
    from mmlist.sched.controller import WorkerPool
    from mmlist.sched.explore import RunConfig, Session
    from mmlist.sched.strategies import make
    unknown = set()
    checkers = []
    init = races.RaceChecker.__init__

    def keep(self, *a, **k):
        init(self, *a, **k)
        checkers.append(self)
    races.RaceChecker.__init__ = keep
    try:
        with WorkerPool() as pool:
            session = Session(pool)
            for sc in BUILTIN.values():
                strat = make("random", seed=3)
                for _ in range(3):
                    strat.new_execution()
                    strat.end_execution(session.run(sc, strat, RunConfig()))
    finally:
        races.RaceChecker.__init__ = init
    for c in checkers:
        unknown |= c.unknown
    assert not unknown, f"fields without a row in mmlist/checks/races.py FIELDS: {unknown}"


def test_the_race_table_rows_are_well_formed():
    from mmlist.checks.races import FIELDS
    kinds = {"lock", "none", "marked", "implicit", "unchecked"}
    seen = set()
    for r in FIELDS:
        assert r.kind in kinds and r.reason and r.protector, r
        assert (r.resolve is not None) == (r.kind == "lock"), r
        assert (r.struct, r.field) not in seen, r
        seen.add((r.struct, r.field))


def test_task_mm_is_protected_by_task_lock():
    w, s, st, lk = setup()
    a, b = ctx("a"), ctx("b", 1)
    start(s, a, b)
    t = task(w, "app1")
    s.on_event(a, rt.WRITE, t, "mm")
    s.on_event(b, rt.READ, t, "mm")
    assert "data_race" in checks(s)


def test_the_seeds_racy_list_empty_in_lru_gen_use_mm_is_benign_and_visible():
    w, s, st, lk = setup()
    rt.install(rt.DirectEngine([s.on_event]))
    app1 = task(w, "app1")
    a, b = ctx("fork"), ctx("cpu0", 1)
    a.task = b.task = app1
    start(s, a, b)
    with w:
        rt.bind_thread(a)
        mm = mm_init(w.allocate_mm(), app1)
        mm_list.lru_gen_add_mm(mm)
        rt.bind_thread(b)
        mm_types.lru_gen_use_mm(mm)
        rt.bind_thread(None)
    assert s.violations == []
    assert [(b["field"], b["why"], b["entry"]) for b in s.benign
            if b["field"] == "list_head.next"] == [
        ("list_head.next", BENIGN[("lru_gen_use_mm", "list_empty", "list_head.next")], "B1")]
    # nothing orders the fork with the context switch here: the usage hint's plain accesses
    # (nodes_full()/nodes_setall() against lru_gen_init_mm()'s nodes_clear()) race too, and
    # registry entry B6 judges them
    assert {b["entry"] for b in s.benign} == {"B1", "B6"}


def test_docs_invariants_show_the_race_table_and_the_allowlist():
    """docs/invariants.md carries the race table and the allowlist as rendered from the code
    (paste ``render_table()``/``render_allowlist()`` of mmlist.checks.races when they change)."""
    from pathlib import Path
    from mmlist.checks.races import render_allowlist, render_table
    text = (Path(__file__).resolve().parent.parent / "docs" / "invariants.md").read_text()
    assert render_table() in text
    assert render_allowlist() in text


def test_a_work_item_happens_after_its_queuer():
    """``queue_work()`` and the worker both take the pool's lock: what the queuer did happens
    before the work runs (``IMPLICIT_ORDERING``). Found by ``mmlist check --scenario
    exec-migrate --preemption-bound 1``: the kworker's ``__mmput()`` -> ``lru_gen_del_mm()`` read
    of ``mm->lru_gen.memcg`` was reported racing the migration's write in ``lru_gen_add_mm()``,
    although migrate -> task_unlock -> exec's task_lock and mmput -> the walker's last
    mmput_async -> queue_work -> the worker orders them. The saved schedule no longer reports
    it (the run now goes on past where it stopped: "diverged" at the old end)."""
    from pathlib import Path

    from mmlist import sched
    path = Path(__file__).parent / "data" / "exec-migrate-work-item-after-queuer.json"
    res = sched.replay(str(path))
    assert not res.reproduced
    assert not [v for v in res.violations if v.check == "data_race"], \
        [str(v) for v in res.violations]
    assert res.divergence and "expected the end of the schedule" in res.divergence
