"""The seed's callers (protocol.md section 2), sequentially: fork, exec, exit and the new owner,
mmput and its async flavour, cgroup migration, context switch, kthread_use_mm, memcg creation
and freeing."""
from __future__ import annotations

import pytest

import mmlist.runtime as rt
from mmlist.kernel.list import raw_iter
from mmlist.model import exec as exec_, exit as exit_, fork, memcontrol, mm_list as M, sched
from mmlist.model.structs import CLONE_VM, lru_gen_mm_walk
from model_helpers import mkworld, raw, as_current


def fifo_mms(memcg):
    return [n.container for n in raw_iter(memcg.mm_list.fifo)]


@pytest.fixture
def wA():
    """memcgs A and B; app1 and app2 in A; a shell in the root."""
    w = mkworld()
    with w:
        A, B = w.mem_cgroup_alloc("A"), w.mem_cgroup_alloc("B")
        app1 = w.spawn("A", comm="app1")
        app2 = w.spawn("A", comm="app2")
        sh = w.user_task("sh")
        yield w, A, B, app1, app2, sh


# --- kernel_clone / copy_process -------------------------------------------------------------------

def test_fork_adds_the_childs_new_mm_to_the_parents_memcg_list(wA, rec):
    w, A, B, app1, app2, sh = wA
    as_current(app1)
    child = fork.kernel_clone(app1)
    mm = raw(child, "mm")
    assert mm is not app1.mm and raw(mm, "owner") is child
    assert raw(child, "memcg") is A
    assert fifo_mms(A) == [app1.mm, app2.mm, mm]
    assert raw(mm.lru_gen, "memcg") is A
    assert w.find_task_by_pid(child.pid) is child
    assert rec.names()[-3:] == ["copy_process", "add", "wake_up_new_task"]
    assert rec.reports == []


def test_fork_adds_under_the_childs_task_lock(wA, rec_ops):
    """``task_lock(p); lru_gen_add_mm(p->mm); task_unlock(p)``: the lock order is task_lock,
    then the mm_list lock."""
    w, A, B, app1, app2, sh = wA
    as_current(app1)
    held_at_mm_list_lock = []

    def spy(ctx, op, obj, arg):
        if op == rt.LOCK and getattr(obj, "lock_class", "") == "mm_list lock":
            held_at_mm_list_lock.append([lk.lock_class for lk in ctx.locks_held])

    rt.engine.listeners.append(spy)
    child = fork.kernel_clone(app1)
    assert held_at_mm_list_lock == [["task_lock"]]
    assert child.alloc_lock.owner is None and rt.current_ctx().locks_held == []


def test_fork_with_clone_vm_shares_the_mm_and_adds_nothing(wA, rec):
    w, A, B, app1, app2, sh = wA
    as_current(app1)
    thread = fork.kernel_clone(app1, CLONE_VM)
    assert raw(thread, "mm") is app1.mm
    assert app1.mm.mm_users.counter == 2
    assert raw(app1.mm, "owner") is app1
    assert fifo_mms(A) == [app1.mm, app2.mm]
    assert "add" not in rec.names()


def test_the_child_is_visible_to_migration_before_its_mm_is_added(wA, monkeypatch):
    """Between ``cgroup_post_fork()`` (end of ``copy_process``) and ``lru_gen_add_mm`` in
    ``kernel_clone``, the child can be found by pid while its mm is on no list."""
    w, A, B, app1, app2, sh = wA
    seen = {}
    real = fork.copy_process

    def spy(parent, flags):
        p = real(parent, flags)
        mm = raw(p, "mm")
        seen.update(found=w.find_task_by_pid(p.pid) is p, visible=p.visible,
                    on_list=mm.lru_gen.list.__dict__["_next"] is not mm.lru_gen.list,
                    memcg=raw(mm.lru_gen, "memcg"))
        return p

    monkeypatch.setattr(fork, "copy_process", spy)
    as_current(app1)
    fork.kernel_clone(app1)
    assert seen == {"found": True, "visible": True, "on_list": False, "memcg": None}


def test_finding_fork_child_migrated_before_lru_gen_add_mm(wA, rec, monkeypatch):
    """Known finding 2: the child is migrated to B after ``cgroup_post_fork`` but before
    ``kernel_clone``'s ``lru_gen_add_mm``. ``mem_cgroup_attach`` sees the child own its mm
    and calls ``lru_gen_migrate_mm``: the memcg differs (B vs NULL) and
    ``VM_BUG_ON_MM(!mm->lru_gen.memcg)`` fires."""
    w, A, B, app1, app2, sh = wA
    real = fork.copy_process

    def migrate_in_the_window(parent, flags):
        p = real(parent, flags)
        memcontrol.cgroup_migrate(p.pid, B)             # echo $child > B/cgroup.procs
        return p

    monkeypatch.setattr(fork, "copy_process", migrate_in_the_window)
    as_current(app1)
    with pytest.raises(rt.KernelPanic) as exc:
        fork.kernel_clone(app1)
    v = exc.value.violation
    assert (v.check, v.function, v.condition) == (
        "VM_BUG_ON_MM", "lru_gen_migrate_mm", "!mm->lru_gen.memcg")
    assert rec.reports == [v]


# --- exec_mmap --------------------------------------------------------------------------------------

@pytest.mark.parametrize("irqs_off_activate", [False, True])
def test_exec_mmap_adds_with_irqs_off(wA, rec_ops, irqs_off_activate):
    w = mkworld(CONFIG_ARCH_WANT_IRQS_OFF_ACTIVATE_MM=irqs_off_activate)
    with w:
        A = w.mem_cgroup_alloc("A")
        app = w.spawn("A", comm="app")
        old = app.mm
        as_current(app)
        seen = []

        def spy(ctx, op, obj, arg):
            if op == rt.LOCK and getattr(obj, "lock_class", "") == "mm_list lock":
                seen.append(("add", ctx.irqs_disabled, [lk.lock_class for lk in ctx.locks_held]))
            if op == rt.WRITE and getattr(obj, "label", "").endswith("lru_gen.nodes"):
                seen.append(("nodes", ctx.irqs_disabled))

        rt.engine.listeners.append(spy)
        exec_.do_execve()
        new = raw(app, "mm")
        # the first mm_list lock is lru_gen_add_mm's (the old mm's __mmput comes later): IRQs
        # off and task_lock held; the nodes write after it is lru_gen_use_mm's, with IRQs off
        # only on CONFIG_ARCH_WANT_IRQS_OFF_ACTIVATE_MM architectures
        add = next(i for i, e in enumerate(seen) if e[0] == "add")
        assert seen[add] == ("add", True, ["task_lock"])
        assert seen[add + 1] == ("nodes", irqs_off_activate)
        assert not rt.current_ctx().irqs_disabled and rt.current_ctx().locks_held == []
        assert new is not old and raw(new, "owner") is app and app.active_mm is new
        assert fifo_mms(A) == [new]                 # the old mm's last user is gone
        assert old.freed and old.mmap_exited
        assert new.lru_gen.nodes.bits.all()         # lru_gen_use_mm()
        assert new.cpu_bitmap.bits[0] and not old.cpu_bitmap.bits.any()


def test_exec_of_an_owner_sharing_its_mm_hands_the_old_mm_on(wA, rec):
    w, A, B, app1, app2, sh = wA
    old = app1.mm
    as_current(app1)
    thread = fork.kernel_clone(app1, CLONE_VM)
    exec_.do_execve()
    new = raw(app1, "mm")
    assert raw(old, "owner") is thread and old.mm_users.counter == 1
    assert fifo_mms(A) == [old, app2.mm, new]
    assert not old.freed and rec.reports == []


def test_finding_preempt_rt_exec_mmap_takes_a_sleeping_lock_with_irqs_off(rec_ops):
    """Known finding 3: under PREEMPT_RT the mm_list spinlock is a sleeping lock, and exec_mmap
    takes it in ``lru_gen_add_mm`` with IRQs disabled (``might_sleep()`` with IRQs off)."""
    w = mkworld(PREEMPT_RT=True)
    with w:
        w.mem_cgroup_alloc("A")
        app = w.spawn("A", comm="app")
        as_current(app)
        rec_ops.clear()
        exec_.do_execve()
    ops = rec_ops.ops
    lock_at = next(i for i, (_, op, obj, _) in enumerate(ops)
                   if op == rt.LOCK and obj.lock_class == "mm_list lock")
    ctx, op, _, arg = ops[lock_at - 1]
    assert (op, arg) == (rt.CONTEXT, "might_sleep")
    irq_state = [a for _, o, _, a in ops[:lock_at] if o == rt.CONTEXT and a in ("irq_off", "irq_on")]
    assert irq_state[-1] == "irq_off"               # IRQs are off at the sleeping lock


# --- exit_mm / mm_update_next_owner / mmput ---------------------------------------------------------

def test_exit_of_the_last_user_deletes_the_mm(wA, rec):
    w, A, B, app1, app2, sh = wA
    mm = app1.mm
    as_current(app1)
    exit_.do_exit()
    assert raw(app1, "mm") is None and app1.exited
    assert w.find_task_by_pid(app1.pid) is None
    assert fifo_mms(A) == [app2.mm]
    assert raw(mm, "owner") is None and mm.freed
    assert rec.names()[-1] != "del"
    assert rec.names().index("__mmput") < rec.names().index("del")


def test_exit_of_the_owner_moves_the_mm_to_the_new_owners_memcg(wA, rec):
    """``mm_update_next_owner()``: the mm follows the thread that owns it now, in B."""
    w, A, B, app1, app2, sh = wA
    mm = app1.mm
    as_current(app1)
    thread = fork.kernel_clone(app1, CLONE_VM)
    memcontrol.cgroup_migrate(thread.pid, B)           # not the owner: the mm stays in A
    assert fifo_mms(A) == [mm, app2.mm] and fifo_mms(B) == []
    as_current(app1)
    exit_.do_exit()
    assert raw(mm, "owner") is thread
    assert fifo_mms(A) == [app2.mm] and fifo_mms(B) == [mm]
    assert raw(mm.lru_gen, "memcg") is B
    assert rec.events("new_owner") == [{"mm": mm, "owner": thread}]
    assert rec.events("migrate") == [{"mm": mm, "src": A, "dst": B}]
    assert rec.reports == []


def test_exit_with_the_mm_held_by_a_walker_only(wA, rec):
    """mm_users > 1 but no task left to own it: owner NULL; the walker's reference keeps the mm
    on the list until it hands it back."""
    w, A, B, app1, app2, sh = wA
    mm = app1.mm
    fork.mmget(mm)                                     # a walker's mmget_not_zero()
    as_current(app1)
    exit_.do_exit()
    assert raw(mm, "owner") is None and mm.mm_users.counter == 1
    assert fifo_mms(A) == [mm, app2.mm]
    fork.mmput_async(mm)
    assert fifo_mms(A) == [mm, app2.mm] and len(w.system_wq) == 1
    w.run_pending_work()
    assert fifo_mms(A) == [app2.mm] and w.system_wq == []


def test_mmput_async_defers_the_last___mmput_to_the_workqueue(wA, rec):
    w, A, B, app1, app2, sh = wA
    mm = app1.mm
    fork.mmget(mm)
    fork.mmput_async(mm)                               # not the last reference
    assert w.system_wq == [] and mm.mm_users.counter == 1
    fork.mmput_async(mm)                               # the last one: queued, not run
    assert mm.mm_users.counter == 0 and [fn.__name__ for fn, _ in w.system_wq] == ["__mmput"]
    assert mm in fifo_mms(A) and not mm.freed
    w.run_pending_work()
    assert mm not in fifo_mms(A) and mm.freed
    assert rec.events("queue_work") == [{"fn": "__mmput", "arg": mm}]


def test_mmput_runs___mmput_at_once_and_may_sleep(wA, rec_ops):
    w, A, B, app1, app2, sh = wA
    mm = app2.mm
    rec_ops.clear()
    fork.mmput(mm)
    assert mm not in fifo_mms(A) and mm.freed and w.system_wq == []
    assert rec_ops.ops[0][1:] == (rt.CONTEXT, rt.current_ctx(), "might_sleep")


def test___mmput_bugs_on_an_mm_still_used(wA, rec):
    w, A, B, app1, app2, sh = wA
    with pytest.raises(rt.KernelPanic):
        fork.__mmput(app1.mm)
    assert rec.reports[-1].condition == "atomic_read(&mm->mm_users)"


# --- cgroup migration: mem_cgroup_attach ---------------------------------------------------------------

def test_cgroup_migrate_moves_the_owner_and_its_mm(wA, rec):
    w, A, B, app1, app2, sh = wA
    as_current(sh)
    mm = app1.mm
    assert memcontrol.cgroup_migrate(app1.pid, B) == 0
    assert raw(app1, "memcg") is B
    assert fifo_mms(A) == [app2.mm] and fifo_mms(B) == [mm]
    assert raw(mm.lru_gen, "memcg") is B
    assert rec.names()[-4:] == ["cgroup_migrate", "migrate", "del", "add"]
    assert w.cgroup_threadgroup_rwsem.owner is None and rec.reports == []
    # and back
    assert memcontrol.cgroup_migrate(app1.pid, A) == 0
    assert fifo_mms(A) == [app2.mm, mm] and fifo_mms(B) == []


def test_cgroup_migrate_of_a_non_owner_thread_leaves_the_mm(wA, rec):
    w, A, B, app1, app2, sh = wA
    as_current(app1)
    thread = fork.kernel_clone(app1, CLONE_VM)
    assert memcontrol.cgroup_migrate(thread.pid, B) == 0
    assert raw(thread, "memcg") is B
    assert fifo_mms(A) == [app1.mm, app2.mm] and fifo_mms(B) == []
    assert "migrate" not in rec.names()


def test_cgroup_migrate_same_memcg_and_unknown_pid(wA, rec):
    w, A, B, app1, app2, sh = wA
    assert memcontrol.cgroup_migrate(app1.pid, A) == 0
    assert memcontrol.cgroup_migrate(999, B) == -3                    # -ESRCH
    assert rec.events("cgroup_migrate") == [{"pid": 999, "dst": B, "result": "ESRCH"}]
    assert fifo_mms(A) == [app1.mm, app2.mm]


def test_cgroup_migrate_of_a_task_without_mm(wA, rec):
    w, A, B, app1, app2, sh = wA
    k = w.kthread("kworker")
    assert memcontrol.cgroup_migrate(k.pid, B) == 0
    assert raw(k, "memcg") is B and "migrate" not in rec.names()


def test_mem_cgroup_attach_without_a_task_returns():
    with mkworld():
        memcontrol.mem_cgroup_attach(None)


def test_migration_moves_css_references(wA):
    w, A, B, app1, app2, sh = wA
    a, b = A.css_refcnt.counter, B.css_refcnt.counter
    memcontrol.cgroup_migrate(app1.pid, B)
    # the task's css and the mm list's reference both move
    assert (A.css_refcnt.counter, B.css_refcnt.counter) == (a - 2, b + 2)


# --- context_switch / kthread_use_mm ---------------------------------------------------------------

def test_context_switch_sets_the_cpumask_and_marks_the_mm_used():
    w = mkworld(nr_nodes=2, nr_cpus=2)
    with w:
        w.mem_cgroup_alloc("A")
        app1 = w.spawn("A", comm="app1", used=False)
        app2 = w.spawn("A", comm="app2", used=False)
        rq = w.runqueues[1]
        as_current(app1)
        rq.curr = app1
        app1.mm.cpu_bitmap.bits[1] = 1
        sched.context_switch(rq, app1, app2)
        assert rq.curr is app2 and rt.current_ctx().task is app2
        assert app2.mm.cpu_bitmap.bits[1] and not app1.mm.cpu_bitmap.bits.any()
        assert app2.mm.lru_gen.nodes.bits.all()        # prev (a user task) is `current`
        assert not app1.mm.lru_gen.nodes.bits.any()
        assert not rt.current_ctx().irqs_disabled and rq.lock.owner is None


def test_context_switch_from_idle_does_not_mark_the_mm_used(rec):
    """As in the C, ``current`` is still ``prev`` when ``lru_gen_use_mm(next->mm)`` runs: a
    switch from the idle task (a kthread) to a user task leaves ``nodes`` alone."""
    w = mkworld(nr_cpus=1)
    with w:
        w.mem_cgroup_alloc("A")
        app = w.spawn("A", comm="app", used=False)
        rq = w.runqueues[0]
        idle = rq.curr
        as_current(idle)
        sched.context_switch(rq, idle, app)
        assert rq.curr is app and app.mm.cpu_bitmap.bits[0]
        assert not app.mm.lru_gen.nodes.bits.any()
    assert rec.reports == []


def test_context_switch_to_a_kthread_keeps_the_mm_lazily(rec):
    w = mkworld(nr_cpus=1)
    with w:
        w.mem_cgroup_alloc("A")
        app = w.spawn("A", comm="app")
        k = w.kthread("kworker")
        rq = w.runqueues[0]
        rq.curr = app
        as_current(app)
        count = app.mm.mm_count.counter
        sched.context_switch(rq, app, k)
        assert k.active_mm is app.mm and app.mm.mm_count.counter == count + 1   # mmgrab
        sched.context_switch(rq, k, app)
        assert k.active_mm is None and app.mm.mm_count.counter == count          # mmdrop


def test_kthread_use_mm_does_not_mark_the_mm_used(rec):
    w = mkworld(nr_cpus=1)
    with w:
        w.mem_cgroup_alloc("A")
        app = w.spawn("A", comm="app", used=False)
        k = as_current(w.kthread("kworker"))
        assert fork.mmget_not_zero(app.mm)
        sched.kthread_use_mm(app.mm)
        assert raw(k, "mm") is app.mm and k.active_mm is app.mm
        assert app.mm.cpu_bitmap.bits[0]
        assert not app.mm.lru_gen.nodes.bits.any()
        sched.kthread_unuse_mm(app.mm)
        assert raw(k, "mm") is None and k.active_mm is app.mm
        fork.mmput(app.mm)
    assert rec.events("kthread_use_mm") == [{"task": k, "mm": app.mm}]
    assert rec.reports == []


def test_context_switch_from_a_user_task_to_a_kthread_with_a_borrowed_mm_marks_it_used():
    """The other side of ``current`` being ``prev``: the kthread's borrowed mm is marked used
    because prev is a user task."""
    w = mkworld(nr_cpus=1)
    with w:
        w.mem_cgroup_alloc("A")
        app = w.spawn("A", comm="app")
        victim = w.spawn("A", comm="victim", used=False)
        k = as_current(w.kthread("kworker"))
        fork.mmget_not_zero(victim.mm)
        sched.kthread_use_mm(victim.mm)
        rq = w.runqueues[0]
        rq.curr = app
        as_current(app)
        sched.context_switch(rq, app, k)
        assert victim.mm.lru_gen.nodes.bits.all()


# --- memcg creation and freeing -------------------------------------------------------------------

def test_a_memcg_with_an_mm_on_its_list_is_not_freed(wA, rec):
    """The mm on B's list holds a css reference (get_mem_cgroup_from_mm in lru_gen_add_mm,
    put in lru_gen_del_mm): rmdir B frees it only once the mm has left."""
    w, A, B, app1, app2, sh = wA
    memcontrol.cgroup_migrate(app1.pid, B)
    B.online = False
    memcontrol.mem_cgroup_put(B)                       # rmdir drops the base reference
    assert not B.freed
    assert iter_memcgs() == [w.root_mem_cgroup, A]      # mem_cgroup_iter() skips offline B
    memcontrol.cgroup_migrate(app1.pid, A)             # the task's and the list's refs go
    assert B.freed and fifo_mms(B) == []
    assert rec.events("free_memcg") == [{"memcg": B, "fifo_empty": True}]
    assert B.nodeinfo[0].lruvec.mm_state.filters.raw == [None, None]


def test_a_memcg_whose_last_task_exited_is_freed(wA, rec):
    w, A, B, app1, app2, sh = wA
    memcontrol.cgroup_migrate(app1.pid, B)
    memcontrol.mem_cgroup_put(B)                       # rmdir
    as_current(app1)
    exit_.do_exit()
    assert fifo_mms(B) == []
    assert B.freed


def test_a_new_memcg_starts_empty_and_takes_mms():
    w = mkworld(nr_nodes=2)
    with w:
        C = w.mem_cgroup_alloc("C")
        assert fifo_mms(C) == []
        for nid in range(2):
            assert raw(w.lruvec("C", nid).mm_state, "head") is C.mm_list.fifo
        t = w.spawn("C", comm="app")
        assert fifo_mms(C) == [t.mm]
        walk = lru_gen_mm_walk()
        walk.lruvec, walk.max_seq = w.lruvec("C", 1), 3
        it = [None]
        as_current(w.user_task("r", "C"))
        M.get_next_mm(w.lruvec("C", 1), walk, it)
        assert it == [t.mm]


# --- model bugs found by these tests ----------------------------------------------------------------

def test_an_owner_exiting_while_a_kthread_borrows_its_mm_leaves_no_owner(rec):
    w = mkworld()
    with w:
        A = w.mem_cgroup_alloc("A")
        app = w.spawn("A", comm="app")
        mm = app.mm
        k = as_current(w.kthread("kworker"))
        assert fork.mmget_not_zero(mm)
        sched.kthread_use_mm(mm)
        as_current(app)
        exit_.do_exit()
        # the kernel: owner NULL (no user task left), the mm stays on A's list
        assert raw(mm, "owner") is None
        assert raw(mm.lru_gen, "memcg") is A and fifo_mms(A) == [mm]


def test_migrating_a_shell_out_of_the_root_keeps_the_root_memcg(rec):
    w = mkworld()
    with w:
        B = w.mem_cgroup_alloc("B")
        sh = w.user_task("sh")
        memcontrol.cgroup_migrate(sh.pid, B)
        assert not w.root_mem_cgroup.freed
        assert w.root_mem_cgroup in iter_memcgs()


def iter_memcgs() -> list:
    """Every memcg ``mem_cgroup_iter()`` hands out, its references dropped as it goes."""
    out, memcg = [], memcontrol.mem_cgroup_iter(None)
    while memcg is not None:
        out.append(memcg)
        memcg = memcontrol.mem_cgroup_iter(memcg)
    return out
