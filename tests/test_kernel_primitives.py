"""The kernel primitives (``mmlist.kernel``) and the runtime hook: each primitive does its data
part and emits the op the engines rely on."""
from __future__ import annotations

import pytest

import mmlist.runtime as rt
from mmlist.config import Config
from mmlist.kernel import (BUILD_BUG_ON, GOLDEN_RATIO_64, INIT_LIST_HEAD, READ_ONCE, VM_BUG_ON,
                           VM_BUG_ON_MM, VM_WARN_ON, WARN_ON_ONCE, WRITE_ONCE, ListHead,
                           atomic_dec_and_test, atomic_inc, atomic_inc_not_zero, atomic_read,
                           atomic_t, bitmap, bitmap_clear, bitmap_zalloc, clear_bit, cond_resched,
                           cpumask_clear_cpu, cpumask_empty, cpumask_set_cpu, cpumask_t, current,
                           down_read_trylock, finish_wait, hash_64, hash_ptr, irqs_disabled,
                           list_add_tail, list_del_init, list_empty, list_entry,
                           local_irq_disable, local_irq_enable, lockdep_assert_held,
                           lockdep_is_held, might_sleep, mutex, mutex_lock, mutex_unlock,
                           node_clear, node_isset, node_set, nodemask_t, nodes_clear, nodes_full,
                           nodes_setall, prepare_to_wait, rcu_read_lock, rcu_read_unlock,
                           rw_semaphore, set_bit, smp_load_acquire, smp_store_release,
                           spin_lock, spin_lock_irq, spin_unlock, spin_unlock_irq, spinlock_t,
                           tracked, up_read, wait_event, wait_event_killable,
                           wait_queue_head, wake_up_all, wq_has_sleeper)
from mmlist.kernel import test_bit as bit_is_set
from mmlist.kernel.list import raw_iter
from mmlist.model import World


class Obj:
    x = tracked()

    def __init__(self):
        self.__dict__["_x"] = 0
        self.label = "obj"


def ops_of(rec, kind):
    return [(obj, arg) for _, op, obj, arg in rec.ops if op == kind]


# --- list.h ---------------------------------------------------------------------------------------

def test_list_head_starts_empty_and_points_to_itself():
    h = ListHead(None, "h")
    assert h.__dict__["_next"] is h and h.__dict__["_prev"] is h
    assert list_empty(h)


def test_list_add_tail_keeps_fifo_order_and_links_both_ways():
    head = ListHead(None, "fifo")
    nodes = [ListHead(f"c{i}", f"n{i}") for i in range(3)]
    for n in nodes:
        list_add_tail(n, head)
    assert list(raw_iter(head)) == nodes
    assert [list_entry(n) for n in raw_iter(head)] == ["c0", "c1", "c2"]
    seq = [head, *nodes]
    for a, b in zip(seq, seq[1:] + seq[:1]):
        assert a.next is b and b.prev is a
    assert not list_empty(head)


def test_list_del_init_unlinks_and_reinitialises():
    head = ListHead(None, "fifo")
    a, b, c = (ListHead(i, str(i)) for i in range(3))
    for n in (a, b, c):
        list_add_tail(n, head)
    list_del_init(b)
    assert list(raw_iter(head)) == [a, c]
    assert a.next is c and c.prev is a
    assert list_empty(b)
    INIT_LIST_HEAD(a)
    assert list_empty(a)


def test_list_primitives_mark_what_the_c_marks(rec_ops):
    """5.16 list.h: __list_add() ends with WRITE_ONCE(prev->next, new); the rest is plain."""
    head = ListHead(None, "fifo")
    n = ListHead(None, "n")
    list_add_tail(n, head)
    reads = ops_of(rec_ops, rt.READ)
    writes = ops_of(rec_ops, rt.WRITE)
    assert (head, "prev") in reads
    assert {(head, "prev"), (n, "next"), (n, "prev")} <= set(writes)
    assert ops_of(rec_ops, rt.WRITE_ONCE) == [(head, "next")]
    assert not ops_of(rec_ops, rt.READ_ONCE)
    rec_ops.clear()
    assert not list_empty(head)
    assert ops_of(rec_ops, rt.READ_ONCE) == [(head, "next")]       # READ_ONCE(head->next)
    rec_ops.clear()
    list(raw_iter(head))
    assert rec_ops.ops == []                    # raw_iter records nothing


# --- fields.h: READ_ONCE / WRITE_ONCE / tracked -------------------------------------------------

def test_tracked_field_records_read_and_write(rec_ops):
    o = Obj()
    o.x = 5
    assert o.x == 5
    assert [(op, arg) for _, op, obj, arg in rec_ops.ops] == [(rt.WRITE, "x"), (rt.READ, "x")]


def test_read_once_write_once_are_marked_scheduling_ops(rec_ops):
    o = Obj()
    WRITE_ONCE(o, "x", 7)
    assert READ_ONCE(o, "x") == 7
    assert [op for _, op, _, _ in rec_ops.ops] == [rt.WRITE_ONCE, rt.READ_ONCE]
    assert rt.READ_ONCE in rt.SCHEDULING and rt.WRITE_ONCE in rt.SCHEDULING
    assert rt.READ not in rt.SCHEDULING and rt.WRITE not in rt.SCHEDULING


def test_read_once_on_an_array_index():
    arr = [None, "f"]
    assert READ_ONCE(arr, 1) == "f"
    WRITE_ONCE(arr, 0, "g")
    assert arr == ["g", "f"]


def test_acquire_release_are_marked_accesses_tagged_with_their_ordering(rec_ops):
    """Same scheduling points as READ_ONCE/WRITE_ONCE (same op codes, and a field name equal
    to the plain one), tagged with the ordering that only the race check reads."""
    from mmlist.kernel import rcu_assign_pointer, rcu_dereference
    from mmlist.kernel.fields import order_of

    class O:
        x = 0
    o = O()
    smp_store_release(o, "x", 1)
    assert smp_load_acquire(o, "x") == 1
    rcu_assign_pointer(o, "x", 2)
    assert rcu_dereference(o, "x") == 2
    READ_ONCE(o, "x")
    ops = [(op, arg, order_of(arg)) for _, op, _, arg in rec_ops.ops]
    assert ops == [(rt.WRITE_ONCE, "x", "release"), (rt.READ_ONCE, "x", "acquire"),
                   (rt.WRITE_ONCE, "x", "rcu_assign"), (rt.READ_ONCE, "x", "rcu_deref"),
                   (rt.READ_ONCE, "x", None)]
    assert repr(rec_ops.ops[0][3]) == "'x'" and hash(rec_ops.ops[0][3]) == hash("x")


# --- spinlocks, mutexes, rw_semaphore ---------------------------------------------------------------

def test_spin_lock_sets_owner_locks_held_and_preempt_count(rec_ops):
    lock = spinlock_t("l", "test lock")
    ctx = rt.current_ctx()
    spin_lock(lock)
    assert lock.owner is ctx and ctx.locks_held == [lock] and ctx.preempt_count == 1
    assert lockdep_is_held(lock)
    spin_unlock(lock)
    assert lock.owner is None and ctx.locks_held == [] and ctx.preempt_count == 0
    assert [(op, obj) for _, op, obj, _ in rec_ops.ops] == [(rt.LOCK, lock), (rt.UNLOCK, lock)]
    assert not lock.real_lock().locked()


def test_spin_lock_irq_disables_irqs_around_the_lock(rec_ops):
    lock = spinlock_t("l", "lru_lock")
    spin_lock_irq(lock)
    assert irqs_disabled()
    spin_unlock_irq(lock)
    assert not irqs_disabled()
    ctxs = [arg for _, op, _, arg in rec_ops.ops if op == rt.CONTEXT]
    assert ctxs == ["irq_off", "irq_on"]


def test_preempt_rt_spin_lock_may_sleep_and_leaves_irqs_on(rec_ops):
    with World(Config(PREEMPT_RT=True)):
        rec_ops.clear()
        lock = spinlock_t("l", "mm_list lock")
        spin_lock_irq(lock)
        assert not irqs_disabled()
        assert rt.current_ctx().preempt_count == 0
        spin_unlock_irq(lock)
    ops = [(op, arg) for _, op, _, arg in rec_ops.ops]
    assert ops[0] == (rt.CONTEXT, "might_sleep") and ops[1][0] == rt.LOCK


def test_mutex_is_a_sleeping_lock(rec_ops):
    m = mutex("m", "cgroup_threadgroup_rwsem")
    mutex_lock(m)
    assert m.owner is rt.current_ctx() and m.sleeping
    mutex_unlock(m)
    assert m.owner is None
    assert [(op, arg) for _, op, _, arg in rec_ops.ops] == [
        (rt.CONTEXT, "might_sleep"), (rt.LOCK, None), (rt.UNLOCK, None)]


def test_rw_semaphore_read_trylock_fails_under_a_writer(rec_ops):
    sem = rw_semaphore("mmap_lock")
    assert down_read_trylock(sem) and sem.readers == 1
    assert sem in rt.current_ctx().locks_held and lockdep_is_held(sem)
    up_read(sem)
    assert sem.readers == 0 and sem not in rt.current_ctx().locks_held
    sem.writer = rt.ThreadCtx("writer")
    assert not down_read_trylock(sem)
    assert [op for _, op, _, _ in rec_ops.ops] == [rt.TRYLOCK, rt.UNLOCK, rt.TRYLOCK]


# --- wait queues ------------------------------------------------------------------------------------

def test_prepare_finish_wait_and_wake_up_all(rec_ops):
    wq = wait_queue_head("wq")
    ctx = rt.current_ctx()
    assert not wq_has_sleeper(wq)
    prepare_to_wait(wq)
    assert wq.waiters == [ctx] and ctx.waiting_on is wq and wq_has_sleeper(wq)
    wake_up_all(wq)                 # the DirectEngine empties the queue
    assert wq.waiters == []
    finish_wait(wq)
    assert ctx.waiting_on is None
    ops = [op for _, op, _, _ in rec_ops.ops]
    assert ops == [rt.READ_ONCE, rt.WAIT_PREPARE, rt.READ_ONCE, rt.WAKE, rt.WAIT_FINISH]


def test_wait_event_with_a_true_condition_never_queues(rec_ops):
    wq = wait_queue_head("wq")
    wait_event(wq, lambda: True)
    assert wait_event_killable(wq, lambda: True) == 0
    assert wq.waiters == []
    assert [arg for _, op, _, arg in rec_ops.ops] == ["might_sleep", "might_sleep"]


def test_wait_event_queues_before_testing_the_condition():
    """No lost wake-up: the condition is tested again after prepare_to_wait."""
    wq = wait_queue_head("wq")
    calls = []

    def cond():
        calls.append(list(wq.waiters))
        return len(calls) > 1

    wait_event(wq, cond)
    assert calls[0] == [] and calls[1] == [rt.current_ctx()]
    assert wq.waiters == []


# --- CPU context ------------------------------------------------------------------------------------

def test_irq_rcu_might_sleep_and_cond_resched_ops(rec_ops):
    local_irq_disable()
    assert irqs_disabled()
    local_irq_enable()
    rcu_read_lock()
    assert rt.current_ctx().rcu_depth == 1
    rcu_read_unlock()
    might_sleep()
    cond_resched()
    assert [(op, arg) for _, op, _, arg in rec_ops.ops] == [
        (rt.CONTEXT, "irq_off"), (rt.CONTEXT, "irq_on"), (rt.CONTEXT, "rcu_lock"),
        (rt.CONTEXT, "rcu_unlock"), (rt.CONTEXT, "might_sleep"), (rt.CONTEXT, "might_sleep"),
        (rt.YIELD, None)]


def test_current_is_the_task_of_the_context():
    assert current() is None
    rt.current_ctx().task = "t"
    assert current() == "t"


# --- bitops, nodemask, cpumask ----------------------------------------------------------------------

def test_bitops_on_bitarray(rec_ops):
    bm = bitmap(64, "bm")
    set_bit(3, bm)
    assert bit_is_set(3, bm) and not bit_is_set(4, bm)
    clear_bit(3, bm)
    assert not bit_is_set(3, bm)
    set_bit(10, bm)
    set_bit(63, bm)
    bitmap_clear(bm, 0, 64)
    assert bm.bits.count() == 0
    kinds = [(op, arg) for _, op, _, arg in rec_ops.ops]
    assert kinds[:3] == [(rt.BIT_WRITE, 3), (rt.BIT_READ, 3), (rt.BIT_READ, 4)]
    assert kinds[-1] == (rt.WRITE, "#bits")             # bitmap_clear(): a plain memset


def test_nodemask_ops():
    m = nodemask_t(3, "nodes")
    assert not nodes_full(m)
    nodes_setall(m)
    assert nodes_full(m) and node_isset(2, m)
    node_clear(1, m)
    assert not node_isset(1, m) and not nodes_full(m)
    node_set(1, m)
    assert nodes_full(m)
    nodes_clear(m)
    assert m.bits.count() == 0


def test_cpumask_ops():
    m = cpumask_t(2, "cpumask")
    assert cpumask_empty(m)
    cpumask_set_cpu(1, m)
    assert not cpumask_empty(m)
    cpumask_clear_cpu(1, m)
    assert cpumask_empty(m)


class _OneRng:
    def integers(self, n):
        return 1


def test_bitmap_zalloc_gfp_atomic_may_fail_when_the_world_allows_it(rec):
    assert len(bitmap_zalloc(1 << 15, "GFP_ATOMIC")) == 1 << 15
    with World(Config(gfp_atomic_may_fail=True)):
        assert bitmap_zalloc(8, "GFP_ATOMIC") is not None     # the default engine answers 0
        rt.install(rt.DirectEngine([rec], rng=_OneRng()))
        assert bitmap_zalloc(8, "GFP_ATOMIC", "f") is None
        assert bitmap_zalloc(8, "GFP_KERNEL") is not None     # only GFP_ATOMIC may fail
    assert rec.events("alloc_fail") == [{"what": "f"}]


# --- atomic_t ---------------------------------------------------------------------------------------

def test_atomic_ops(rec_ops):
    v = atomic_t(1, "users")
    atomic_inc(v)
    assert atomic_read(v) == 2
    assert not atomic_dec_and_test(v)
    assert atomic_dec_and_test(v)
    assert not atomic_inc_not_zero(v) and v.counter == 0
    v.counter = 3
    assert atomic_inc_not_zero(v) and v.counter == 4
    assert [arg for _, op, _, arg in rec_ops.ops if op == rt.ATOMIC] == [
        "inc", "read", "dec_and_test", "dec_and_test", "inc_not_zero", "inc_not_zero"]


# --- hash.h -----------------------------------------------------------------------------------------

def test_hash_64_is_the_golden_ratio_multiply():
    assert GOLDEN_RATIO_64 == 0x61C8864680B583EB
    assert hash_64(1, 64) == GOLDEN_RATIO_64
    assert hash_64(1, 30) == GOLDEN_RATIO_64 >> 34
    assert hash_ptr(-1, 30) == hash_ptr(0xFFFFFFFFFFFFFFFF, 30)   # pointers are unsigned long
    assert hash_ptr(0xFFFF888100000000, 30) == 828920922          # a kernel reference value


# --- bug.h, mmdebug.h, lockdep ---------------------------------------------------------------------

def test_vm_bug_on_reports_then_panics(rec):
    VM_BUG_ON(False, "never")
    assert rec.reports == []
    with pytest.raises(rt.KernelPanic) as exc:
        VM_BUG_ON(True, "x > y")
    v = exc.value.violation
    assert rec.reports == [v]
    assert v.check == "VM_BUG_ON" and v.condition == "x > y" and v.severity == "bug"
    assert v.function == "test_vm_bug_on_reports_then_panics"
    assert "VM_BUG_ON(x > y) failed" in v.message


def test_vm_bug_on_mm_dumps_the_mm(rec):
    class MM:
        label = "mm#9"
    with pytest.raises(rt.KernelPanic) as exc:
        VM_BUG_ON_MM(1, MM(), "!mm->lru_gen.memcg")
    assert "dump_mm(mm#9)" in exc.value.violation.message
    assert exc.value.violation.details == {"mm": "mm#9"}


def test_warnings_report_without_panicking(rec):
    assert VM_WARN_ON(True, "a") is True
    assert WARN_ON_ONCE(1, "b") is True
    assert VM_WARN_ON(False, "c") is False
    assert rec.checks() == ["VM_WARN_ON", "WARN_ON_ONCE"]
    assert {v.severity for v in rec.reports} == {"warning"}


def test_lockdep_assert_held(rec):
    lock = spinlock_t("l", "mm_list lock")
    lockdep_assert_held(lock)
    assert rec.checks() == ["lockdep_assert_held"]
    assert "l not held by setup" in rec.reports[0].message
    spin_lock(lock)
    lockdep_assert_held(lock)
    spin_unlock(lock)
    assert len(rec.reports) == 1
    sem = rw_semaphore("mmap_lock")
    lockdep_assert_held(sem)
    assert len(rec.reports) == 2
    down_read_trylock(sem)
    lockdep_assert_held(sem)
    up_read(sem)
    assert len(rec.reports) == 2


def test_build_bug_on_refuses_configurations_the_c_would_not_compile():
    BUILD_BUG_ON(False, "ok")
    with pytest.raises(ValueError, match="BUILD_BUG_ON"):
        Config(MAX_NR_GENS=3).check_build()        # MIN_NR_GENS + 1 >= MAX_NR_GENS
    with pytest.raises(ValueError):
        World(Config(MAX_NR_GENS=2))
    with pytest.raises(ValueError):
        Config(nr_nodes=0).check_build()
    Config().check_build()


def test_config_nr_hist_gens():
    assert Config().NR_HIST_GENS == 1
    assert Config(CONFIG_LRU_GEN_STATS=True, MAX_NR_GENS=5).NR_HIST_GENS == 5


# --- runtime ----------------------------------------------------------------------------------------

def test_install_and_installed_rebind_the_hook():
    e = rt.DirectEngine()
    old = rt.install(e)
    assert rt.engine is e and rt.hook == e.hook
    rt.install(old)
    with rt.installed(e) as got:
        assert got is e and rt.engine is e
    assert rt.engine is old


def test_choose_and_trace(rec):
    assert rt.choose(1) == 0                   # no decision to make: the hook is not called
    assert rt.choose(3) == 0                   # the default DirectEngine always answers 0
    rt.install(rt.DirectEngine([rec], rng=_OneRng()))
    assert rt.choose(3) == 1
    rt.trace("evt", a=1)
    assert rec.traces == [("evt", {"a": 1})]


def test_world_activation():
    with pytest.raises(RuntimeError, match="no World is active"):
        rt.world()
    w = World(Config())
    assert rt._world is None                   # building a World leaves no world active
    with w:
        assert rt.world() is w
    assert rt._world is None
    assert rt.OP_NAMES[rt.LOCK] == "LOCK" and rt.OP_NAMES[rt.TRACE] == "TRACE"


def test_kernel_panic_and_execution_aborted():
    assert issubclass(rt.KernelPanic, Exception)
    assert not issubclass(rt.ExecutionAborted, Exception)
