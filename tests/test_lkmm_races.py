"""Race detection as the LKMM says: sequences that race under the Linux kernel memory model.

``READ_ONCE``/``WRITE_ONCE`` order nothing by themselves; acquire and release come only from
``smp_load_acquire``/``smp_store_release`` (and ``rcu_dereference``/``rcu_assign_pointer``),
lock/unlock of the same lock instance, value-returning atomics that succeed, and wait/wake. Each
sequence below runs the model's own kernel primitives, one thread after the other (the race
check does not depend on the order the threads ran in), and must report a ``data_race``: a
plain write in one thread and a plain access in the other with nothing that orders them.

Each of these tests failed on the happens-before of mmlist before issue 8 (which treated these
marked accesses as acquire and release, a reader trylock as a lock, and any mm_list lock as
protecting an mm's node): they use only primitives that both versions have, so that they can be
run against the old code (``git worktree add /tmp/wt_old <old commit>`` and run this file
there). ``tests/test_checks_races.py`` has the matching sequences that must *not* race.
"""
from __future__ import annotations

from checks_helpers import ctx, small_world

from mmlist import runtime as rt
from mmlist.checks import CheckSuite
from mmlist.kernel import (READ_ONCE, WRITE_ONCE, atomic_dec_and_test, atomic_inc_not_zero,
                           atomic_t, down_read_trylock, smp_store_release, spin_lock,
                           spin_unlock, up_read)


def run(*steps, prepare=None):
    """Run ``steps`` (``(thread name, fn)``) one after the other on threads of a small World
    (``prepare(w)`` first, in the set-up context that starts them); the data races the suite
    reports."""
    w = small_world()
    s = CheckSuite(w, structural=False)
    names = list(dict.fromkeys(name for name, _ in steps))
    ctxs = {n: ctx(n, i + 1) for i, n in enumerate(names)}
    rt.install(rt.DirectEngine([s.on_event]))
    if prepare is not None:
        with w:
            prepare(w)
    for c in ctxs.values():
        s.on_event(c, rt.THREAD_START, c, None)
    with w:
        for name, fn in steps:
            rt.bind_thread(ctxs[name])
            try:
                fn(w)
            finally:
                rt.bind_thread(None)
    return [v for v in s.violations if v.check == "data_race"]


def X(w):
    """The plain location of every sequence: memcg A's mm_state.nr_walkers, reached with no
    lock (a field the race check has checked from the start)."""
    return w.lruvec("A").mm_state


def write_x(w):
    X(w).nr_walkers = 1


def read_x(w):
    return X(w).nr_walkers


def test_a_read_once_to_read_once_edge_orders_nothing():
    """(a) Two threads only READ_ONCE a location (mm->owner): a READ_ONCE is no release and no
    acquire, so the plain write before it in one thread and the plain read after it in the
    other still race."""
    def a(w):
        write_x(w)
        READ_ONCE(w.mms[0], "owner")

    def b(w):
        READ_ONCE(w.mms[0], "owner")
        read_x(w)
    races = run(("a", a), ("b", b))
    assert [v.details["field"] for v in races] == ["mm_state.nr_walkers"], races


def test_b_read_once_of_max_seq_is_not_an_acquire():
    """(b) smp_store_release(&lrugen->max_seq) pairs only with an acquire: the C's
    READ_ONCE(lrugen->max_seq) is none, so what came before the release in one thread still
    races with what comes after the READ_ONCE in another."""
    def a(w):
        write_x(w)
        lrugen = w.lruvec("A").lrugen
        smp_store_release(lrugen, "max_seq", lrugen.__dict__["_max_seq"] + 1)

    def b(w):
        READ_ONCE(w.lruvec("A").lrugen, "max_seq")
        read_x(w)
    races = run(("a", a), ("b", b))
    assert [v.details["field"] for v in races] == ["mm_state.nr_walkers"], races


def test_c_write_once_is_not_a_release():
    """(c) WRITE_ONCE(mm->owner, c) (as mm_update_next_owner() writes it) publishes nothing: a
    reader of the pointer is not ordered after the writes before it."""
    def a(w):
        write_x(w)
        WRITE_ONCE(w.mms[0], "owner", w.mms[0].__dict__["_owner"])

    def b(w):
        READ_ONCE(w.mms[0], "owner")
        read_x(w)
    races = run(("a", a), ("b", b))
    assert [v.details["field"] for v in races] == ["mm_state.nr_walkers"], races


def test_d_two_reader_trylocks_order_nothing():
    """(d) Two successful down_read_trylock()s of one rw_semaphore share it: readers do not
    exclude, so they do not order each other's accesses."""
    def a(w):
        sem = w.mms[0].mmap_lock
        write_x(w)
        assert down_read_trylock(sem)
        up_read(sem)

    def b(w):
        sem = w.mms[0].mmap_lock
        assert down_read_trylock(sem)
        read_x(w)
        up_read(sem)
    races = run(("a", a), ("b", b))
    assert [v.details["field"] for v in races] == ["mm_state.nr_walkers"], races


def test_e_a_failed_atomic_inc_not_zero_is_not_an_acquire():
    """(e) atomic_inc_not_zero() that finds 0 writes nothing and orders nothing (only a
    successful one is a full barrier): it does not synchronise with the atomic_dec_and_test()
    that brought the count to 0."""
    ref = atomic_t(1, "ref")

    def a(w):
        write_x(w)
        assert atomic_dec_and_test(ref)

    def b(w):
        assert not atomic_inc_not_zero(ref)
        read_x(w)
    races = run(("a", a), ("b", b))
    assert [v.details["field"] for v in races] == ["mm_state.nr_walkers"], races


def test_f_protected_means_the_same_lock_instance():
    """(f) An mm on no list: its node is protected by an mm_list lock, and two accesses are
    protected only when they hold the same instance. Holding memcg A's lock in one thread and
    the root's in the other protects nothing."""
    from mmlist.model.fork import mm_init

    def mm_off_list(w):
        return next(m for m in w.mms if m.__dict__.get("_test_off_list"))

    def setup(w):
        mm = mm_init(w.allocate_mm(), w.all_tasks[-1])
        mm.__dict__["_test_off_list"] = True

    def a(w):
        lock = w.memcg("A").mm_list.lock
        spin_lock(lock)
        mm_off_list(w).lru_gen.list.prev = mm_off_list(w).lru_gen.list
        spin_unlock(lock)

    def b(w):
        lock = w.root_mem_cgroup.mm_list.lock
        spin_lock(lock)
        mm_off_list(w).lru_gen.list.prev
        spin_unlock(lock)
    races = run(("a", a), ("b", b), prepare=setup)
    assert [v.details["field"] for v in races] == ["list_head.prev"], races
