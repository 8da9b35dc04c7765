"""Lockdep-style rules on hand-built LOCK/UNLOCK/CONTEXT/ATOMIC/THREAD_END events."""
from __future__ import annotations

from checks_helpers import checks, ctx, small_world, task

from mmlist import runtime as rt
from mmlist.checks import CheckSuite
from mmlist.kernel import atomic_t, lockdep_assert_held, mutex, spinlock_t


def lock(s, c, lk):
    s.on_event(c, rt.LOCK, lk, None)
    lk.owner = c
    c.locks_held.append(lk)


def unlock(s, c, lk):
    lk.owner = None
    if lk in c.locks_held:
        c.locks_held.remove(lk)
    s.on_event(c, rt.UNLOCK, lk, None)


def setup(**cfg):
    w = small_world(**cfg)
    return w, CheckSuite(w, races=False), w.memcg("A").mm_list.lock, task(w, "app1").alloc_lock


def test_consistent_lock_order_is_fine():
    w, s, mm_list_lock, task_lock = setup()
    for name in ("fork", "exec"):
        c = ctx(name)
        lock(s, c, task_lock)
        lock(s, c, mm_list_lock)
        unlock(s, c, mm_list_lock)
        unlock(s, c, task_lock)
    assert s.violations == []


def test_lock_order_inversion_is_reported_with_both_acquisitions():
    w, s, mm_list_lock, task_lock = setup()
    a, b = ctx("fork"), ctx("walker", 1)
    lock(s, a, task_lock)
    lock(s, a, mm_list_lock)
    unlock(s, a, mm_list_lock)
    unlock(s, a, task_lock)
    lock(s, b, mm_list_lock)
    lock(s, b, task_lock)
    v = [v for v in s.violations if v.check == "lock_order"]
    assert len(v) == 1
    assert "circular" in v[0].message
    assert len(v[0].details["acquisitions"]) == 2
    assert any(x.startswith("fork:") for x in v[0].details["acquisitions"])


def test_taking_a_held_lock_again_is_a_deadlock():
    w, s, mm_list_lock, task_lock = setup()
    c = ctx("migrate")
    lock(s, c, mm_list_lock)
    s.on_event(c, rt.LOCK, mm_list_lock, None)
    assert any(v.check == "lock_recursion" and "deadlock" in v.message for v in s.violations)


def test_two_locks_of_one_class_is_recursive_locking():
    w, s, mm_list_lock, task_lock = setup()
    c = ctx("x")
    lock(s, c, mm_list_lock)
    lock(s, c, w.root_mem_cgroup.mm_list.lock)
    assert any("recursive" in v.message for v in s.violations)


def test_might_sleep_with_irqs_off_is_reported():
    w, s, _, _ = setup()
    c = ctx("exit")
    c.irqs_disabled = True
    s.on_event(c, rt.CONTEXT, c, "might_sleep")
    s.on_event(c, rt.TRACE, "mmput", {"mm": w.mms[0]})
    assert "sleep_in_atomic" in checks(s)


def test_might_sleep_in_a_sleepable_context_is_fine():
    w, s, _, _ = setup()
    c = ctx("exit")
    s.on_event(c, rt.CONTEXT, c, "might_sleep")
    s.on_event(c, rt.YIELD, None, None)
    assert s.violations == []


def test_mutex_under_a_spinlock_is_reported():
    w, s, mm_list_lock, _ = setup()
    c = ctx("x")
    lock(s, c, mm_list_lock)
    s.on_event(c, rt.CONTEXT, c, "might_sleep")
    lock(s, c, mutex("some_mutex", "some_mutex"))
    assert "sleep_in_atomic" in checks(s)


def test_preempt_rt_spinlock_with_irqs_off_is_reported_but_a_raw_one_is_not():
    w, s, mm_list_lock, _ = setup(PREEMPT_RT=True)
    c = ctx("exec")
    c.irqs_disabled = True
    s.on_event(c, rt.CONTEXT, c, "might_sleep")
    lock(s, c, spinlock_t("rq#0.lock", "rq->lock"))
    assert s.violations == []
    s.on_event(c, rt.CONTEXT, c, "might_sleep")
    lock(s, c, mm_list_lock)
    assert [v.check for v in s.violations] == ["sleep_in_atomic"]


def test_a_might_sleep_waiting_for_a_lock_that_never_comes_is_not_judged_at_the_end():
    """Under PREEMPT_RT, spin_lock()'s might_sleep() waits for the LOCK to decide. A thread
    blocked for good before its LOCK (behind an oopsed thread that holds the lock: mmlist
    stress) is not judged at the end; any other pending might_sleep() still is."""
    w, s, mm_list_lock, _ = setup(PREEMPT_RT=True)
    blocked, other = ctx("lifecycle0"), ctx("lifecycle1")
    for c in (blocked, other):
        c.irqs_disabled = True
        s.on_event(c, rt.CONTEXT, c, "might_sleep")
    s.never_run_again([blocked])
    s.at_end(finished=False)
    assert [(v.check, v.condition, v.thread) for v in s.violations] == [
        ("sleep_in_atomic", "might_sleep", "lifecycle1")]


def test_ending_with_a_lock_held_is_reported():
    w, s, mm_list_lock, _ = setup()
    c = ctx("x")
    lock(s, c, mm_list_lock)
    s.on_event(c, rt.THREAD_END, c, None)
    assert "lock_held_at_exit" in checks(s)


def test_ending_clean_is_fine():
    w, s, mm_list_lock, _ = setup()
    c = ctx("x")
    lock(s, c, mm_list_lock)
    unlock(s, c, mm_list_lock)
    s.on_event(c, rt.THREAD_END, c, None)
    assert s.violations == []


def test_unlock_without_lock_is_reported():
    w, s, mm_list_lock, _ = setup()
    unlock(s, ctx("x"), mm_list_lock)
    assert "bad_unlock" in checks(s)


def test_reference_dropped_to_zero_under_the_mm_list_lock_is_reported():
    w, s, mm_list_lock, _ = setup()
    c = ctx("walker")
    lock(s, c, mm_list_lock)
    s.on_event(c, rt.ATOMIC, atomic_t(2, "mm#1.mm_users"), "dec_and_test")
    assert s.violations == []
    s.on_event(c, rt.ATOMIC, atomic_t(1, "mm#1.mm_users"), "dec_and_test")
    assert "put_under_lock" in checks(s)


def test_reference_dropped_to_zero_outside_the_lock_is_fine():
    w, s, _, _ = setup()
    s.on_event(ctx("walker"), rt.ATOMIC, atomic_t(1, "mm#1.mm_users"), "dec_and_test")
    assert s.violations == []


def test_lockdep_assert_held_reports_are_kept():
    w, s, mm_list_lock, _ = setup()
    rt.install(rt.DirectEngine([s.on_event]))
    lockdep_assert_held(mm_list_lock, "&mm_list->lock")
    lockdep_assert_held(mm_list_lock, "&mm_list->lock")          # deduplicated
    assert [v.check for v in s.violations] == ["lockdep_assert_held"]
    assert s.violations[0].snapshot is not None
