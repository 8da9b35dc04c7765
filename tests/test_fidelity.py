"""Fidelity to the C (issue 8, item 6): each test pins one place where the model was checked
against the kernel sources, either a fix (the test fails on the model before it) or a
departure that stays (the test pins what the model does, and docs/model.md section 6 says why).

* ``lru_gen_look_around`` returns at once without a walk lent in ``current->reclaim_state``
  (v6); kswapd lends its preallocated walk while it evicts; the ``look-around`` scenario's
  evicting thread is kswapd, so the look-around and its Bloom filter report are still reached.
* ``switch_mm_irqs_off`` (x86, 5.16): this CPU leaves ``real_prev``'s ``mm_cpumask`` before it
  joins ``next``'s, and both happen before ``lru_gen_use_mm(next->mm)`` and the switch of
  ``current``.
* ``walk_mm`` (v6): ``atomic_read(&memcg->moving_account)`` is a marked read through the hook,
  under ``rcu_read_lock()``; the batch is flushed (``lru_lock``) before ``rcu_read_unlock()``.
* ``mem_cgroup_attach`` (the seed): the first thread-group leader of the taskset only.
* departure: a memcg is freed in its last ``css_put()``, without the RCU grace period of
  ``css_free_rwork_fn()``; an RCU reader without a reference only compares the pointer or
  ``css_tryget()``s it, which fails either way.
"""
from __future__ import annotations

import pytest

import mmlist.runtime as rt
from mmlist import coverage, scenarios
from mmlist.engines.free import run_free
from mmlist.kernel import rcu_read_lock, rcu_read_unlock, spin_lock, spin_unlock
from mmlist.model import aging, memcontrol, mm_list as M, sched
from mmlist.model.structs import CLONE_VM, PF_KSWAPD, lru_gen_mm_walk, scan_control
from mmlist.sched import explore
from model_helpers import as_current, mkworld, raw


def _world_with_app(**cfg):
    """memcg A with app1 (young PTEs) and a reclaimer of A; A's filter for max_seq allocated."""
    w = mkworld(**cfg)
    rt.set_world(w)
    A = w.mem_cgroup_alloc("A")
    app1 = w.spawn("A", comm="app1", nr_regions=2)
    lv = w.lruvec("A")
    spin_lock(A.mm_list.lock)
    M.clear_bloom_filter(lv, raw(lv.lrugen, "max_seq"))
    spin_unlock(A.mm_list.lock)
    return w, A, app1, lv


# --- lru_gen_look_around needs a lent walk ----------------------------------------------------------

def test_look_around_without_a_lent_walk_returns_at_once(rec_ops):
    """v6: ``walk = current->reclaim_state ? current->reclaim_state->mm_walk : NULL; if (!walk)
    return;`` A direct reclaimer evicting (no walk lent) leaves every PTE, the generation counts
    and the Bloom filter alone; it only read ``max_seq`` (``DEFINE_MAX_SEQ``)."""
    w, A, app1, lv = _world_with_app(PTRS_PER_PTE=32)
    ev = as_current(w.user_task("evict", "A"))
    assert ev.reclaim_state is not None and ev.reclaim_state.mm_walk is None
    mm = app1.mm
    pt = mm.pgtables
    young, gen = pt.young.copy(), pt.gen.copy()
    rec_ops.clear()
    aging.lru_gen_look_around(lv, mm, 1, 10)
    assert (pt.young == young).all() and (pt.gen == gen).all()
    assert lv.lrugen.nr_pages == {}
    assert rec_ops.events("filter_set") == []
    kinds = [(op, obj, arg) for _, op, obj, arg in rec_ops.ops]
    assert kinds == [(rt.READ_ONCE, lv.lrugen, "max_seq")]


def test_look_around_of_a_task_without_reclaim_state_returns_at_once(rec):
    w, A, app1, lv = _world_with_app()
    as_current(w.spawn("A", comm="app2"))            # a plain task: no reclaim_state
    pt = app1.mm.pgtables
    young = pt.young.copy()
    aging.lru_gen_look_around(lv, app1.mm, 0, 0)
    assert (pt.young == young).all() and rec.events("filter_set") == []


def test_kswapd_evicting_lends_its_walk_to_look_around(rec):
    """kswapd lends ``pgdat->mm_walk`` for the eviction: the look-around clears the accessed bit
    around the young PTE, follows ``max_seq`` in the lent walk, reports the dense table to the
    filter for ``max_seq``; the walk is taken back afterwards."""
    w, A, app1, lv = _world_with_app(PTRS_PER_PTE=32)
    k = as_current(w.kthread("kswapd0", kswapd=True))
    pt = app1.mm.pgtables
    seen = []

    def shrink_page_list():
        seen.append(k.reclaim_state.mm_walk)
        aging.lru_gen_look_around(lv, app1.mm, 1, 10)

    aging.lru_gen_shrink_lruvec(lv, scan_control(priority=12), shrink_page_list)
    assert seen == [w.nodes[0].mm_walk]
    assert k.reclaim_state.mm_walk is None                     # taken back
    max_seq = raw(lv.lrugen, "max_seq")
    assert w.nodes[0].mm_walk.max_seq == max_seq
    assert not pt.young[1, 6:14].any() and pt.young[1, :6].all() and pt.young[1, 14:].all()
    # update_batch_size(): the 8 promoted pages leave their old generation (0) for max_seq's
    assert dict(lv.lrugen.nr_pages) == {0: -8, max_seq: 8}
    assert [(e["seq"], e["item"]) for e in rec.events("filter_set")] == \
        [(max_seq, pt.pmd_entry(1))]


def test_direct_reclaim_evicting_lends_no_walk(rec):
    w, A, app1, lv = _world_with_app()
    r = as_current(w.user_task("reclaim", "A"))
    pt = app1.mm.pgtables
    young = pt.young.copy()
    aging.lru_gen_shrink_lruvec(lv, scan_control(priority=0),
                                lambda: aging.lru_gen_look_around(lv, app1.mm, 0, 0))
    assert r.reclaim_state.mm_walk is None
    assert (pt.young == young).all() and rec.events("filter_set") == []


def test_look_around_scenario_evicts_as_kswapd():
    sc = scenarios.get("look-around")
    w, specs = sc.build()
    evictors = [s for s in specs if s.kind == "evictor"]
    assert [s.name for s in evictors] == ["kswapd0"]
    with w:
        assert evictors[0].task(w).flags & PF_KSWAPD


def test_look_around_scenario_reports_to_an_existing_filter_from_kswapds_walk():
    """The scenario's threads one after another: a walker's round leaves the filter for the new
    ``max_seq`` allocated; app1 runs again; kswapd evicts: its look-around (with the lent walk)
    sets the bit of app1's PMD in the filter of the current ``max_seq``."""
    sc = scenarios.get("look-around")
    w, specs = sc.build()
    by_name = {s.name: s for s in specs}
    events: list = []

    def listen(ctx, op, obj, arg):
        if op == rt.TRACE and obj == "filter_set":
            events.append((ctx.name, arg))

    r = run_free(w, [by_name["reclaim1"]], listeners=[listen])
    assert r.violations == [] and r.errors == []
    app1 = next(t for t in w.all_tasks if t.label == "app1")
    pt = app1.mm.pgtables
    pt.touch(0)                                       # app1 ran: its PTEs are young again
    lv = w.lruvec("A")
    max_seq = raw(lv.lrugen, "max_seq")
    assert lv.mm_state.filters.raw[max_seq % 2] is not None
    events.clear()
    r = run_free(w, [by_name["kswapd0"]], listeners=[listen])
    assert r.violations == [] and r.errors == []
    assert events and all(name == "kswapd0" for name, _ in events)
    assert [(e["seq"], e["item"]) for _, e in events] == [(max_seq, pt.pmd_entry(0))]
    assert w.nodes[0].mm_walk.max_seq == max_seq


def test_look_around_scenario_still_reaches_the_look_around_and_the_filter():
    with coverage.recording() as cov:
        explore("look-around", strategy="random", max_executions=20, shrink=False)
    for point in ("lru_gen_look_around:report-dense", "set_bloom_filter:set",
                  "set_bloom_filter:no-filter", "clear_bloom_filter:allocated"):
        assert point in cov.hit, point


# --- switch_mm_irqs_off: the order of the mm_cpumask updates -----------------------------------------

def _bit_writes(ops, *masks):
    return [(obj, arg) for _, op, obj, arg in ops if op == rt.BIT_WRITE and obj in masks]


def test_switch_mm_irqs_off_leaves_prevs_mask_before_joining_nexts(rec_ops):
    """5.16 ``arch/x86/mm/tlb.c``: ``cpumask_clear_cpu(cpu, mm_cpumask(real_prev))`` ("Stop
    remote flushes for the previous mm"), then ``cpumask_set_cpu(cpu, mm_cpumask(next))``
    ("Start remote flushes and then read tlb_gen"): in between, the CPU is in neither mask."""
    w = mkworld(nr_cpus=2)
    with w:
        w.mem_cgroup_alloc("A")
        app1 = w.spawn("A", comm="app1", used=False)
        app2 = w.spawn("A", comm="app2", used=False)
        m1, m2 = app1.mm.cpu_bitmap, app2.mm.cpu_bitmap
        m1.bits[1] = 1
        rec_ops.clear()
        sched.switch_mm_irqs_off(raw(app1, "mm"), raw(app2, "mm"), app2, 1)
        assert _bit_writes(rec_ops.ops, m1, m2) == [(m1, 1), (m2, 1)]
        assert not m1.bits[1] and m2.bits[1]


def test_switch_mm_irqs_off_same_mm_and_from_init_mm(rec_ops):
    w = mkworld(nr_cpus=1)
    with w:
        w.mem_cgroup_alloc("A")
        app = w.spawn("A", comm="app", used=False)
        mm = raw(app, "mm")
        rec_ops.clear()
        sched.switch_mm_irqs_off(None, mm, app, 0)            # real_prev == &init_mm
        assert _bit_writes(rec_ops.ops, mm.cpu_bitmap) == [(mm.cpu_bitmap, 0)]
        rec_ops.clear()
        sched.switch_mm_irqs_off(mm, mm, app, 0)              # the same mm keeps its bit
        assert _bit_writes(rec_ops.ops, mm.cpu_bitmap) == [] and mm.cpu_bitmap.bits[0]


def test_context_switch_masks_then_lru_gen_use_mm_then_current(rec_ops):
    """``context_switch()``: ``switch_mm_irqs_off()`` (prev's bit cleared, next's set), then the
    seed's ``lru_gen_use_mm(next->mm)`` (``nodes_setall``) while ``current`` is still ``prev``;
    ``switch_to()`` comes last."""
    w = mkworld(nr_cpus=1)
    with w:
        w.mem_cgroup_alloc("A")
        app1 = w.spawn("A", comm="app1", used=False)
        app2 = w.spawn("A", comm="app2", used=False)
        rq = w.runqueues[0]
        rq.curr = app1
        as_current(app1)
        app1.mm.cpu_bitmap.bits[0] = 1
        mm1, mm2 = app1.mm, app2.mm
        rec_ops.clear()
        sched.context_switch(rq, app1, app2)
        order = []
        for ctx, op, obj, arg in list(rec_ops.ops):
            if op == rt.BIT_WRITE and obj is mm1.cpu_bitmap:
                order.append("clear prev cpumask")
            elif op == rt.BIT_WRITE and obj is mm2.cpu_bitmap:
                order.append("set next cpumask")
            elif op == rt.WRITE and obj is mm2.lru_gen.nodes:
                order.append("nodes_setall")
            elif op == rt.WRITE and obj is app1 and arg == "on_cpu":
                order.append("switch_to")
        assert order == ["clear prev cpumask", "set next cpumask", "nodes_setall", "switch_to"]


# --- walk_mm: moving_account through the hook, the flush inside RCU ---------------------------------

def _walk(lv, full_scan=True):
    walk = lru_gen_mm_walk("walk")
    walk.lruvec = lv
    walk.max_seq = raw(lv.lrugen, "max_seq")
    walk.full_scan = full_scan
    return walk


def test_walk_mm_reads_moving_account_marked_under_rcu(rec_ops):
    """v6: ``rcu_read_lock(); if (memcg && atomic_read(&memcg->moving_account)) goto
    contended;``: a marked read, through the hook, inside the RCU read-side section."""
    w, A, app1, lv = _world_with_app()
    as_current(w.user_task("reclaim", "A"))
    mm = app1.mm
    rec_ops.clear()
    aging.walk_mm(lv, mm, _walk(lv))
    seq = [(op, arg) for _, op, obj, arg in list(rec_ops.ops)
           if (op == rt.CONTEXT and arg in ("rcu_lock", "rcu_unlock")) or obj is A]
    assert seq[:3] == [(rt.CONTEXT, "rcu_lock"), (rt.READ_ONCE, "moving_account"),
                       (rt.CONTEXT, "rcu_unlock")]


def test_walk_mm_gives_up_while_charges_move(rec):
    w, A, app1, lv = _world_with_app()
    as_current(w.user_task("reclaim", "A"))
    A.moving_account = True
    pt = app1.mm.pgtables
    young = pt.young.copy()
    with coverage.recording() as cov:
        aging.walk_mm(lv, app1.mm, _walk(lv))
    assert "walk_mm:memcg-moving-charges" in cov.setup | cov.hit
    assert (pt.young == young).all()


def test_walk_mm_flushes_the_batch_before_rcu_read_unlock(rec_ops):
    """v6 flushes ``walk->batched`` under ``lru_lock`` after ``mmap_read_unlock()`` and before
    the ``contended:`` label's ``rcu_read_unlock()``: the promotions are folded into the lruvec
    while ``moving_account`` still keeps charges from moving."""
    w, A, app1, lv = _world_with_app()
    as_current(w.user_task("reclaim", "A"))
    mm = app1.mm                    # read once: a tracked read inside the loop would record ops
    rec_ops.clear()
    aging.walk_mm(lv, mm, _walk(lv))
    seq = []
    for _, op, obj, arg in list(rec_ops.ops):
        if op == rt.CONTEXT and arg in ("rcu_lock", "rcu_unlock"):
            seq.append(arg)
        elif obj is mm.mmap_lock and op in (rt.TRYLOCK, rt.UNLOCK):
            seq.append("mmap_lock" if op == rt.TRYLOCK else "mmap_unlock")
        elif obj is lv.lru_lock and op in (rt.LOCK, rt.UNLOCK):
            seq.append("lru_lock" if op == rt.LOCK else "lru_unlock")
    assert seq == ["rcu_lock", "mmap_lock", "mmap_unlock", "lru_lock", "lru_unlock",
                   "rcu_unlock"]
    assert sum(lv.lrugen.nr_pages.values()) == 0 and lv.lrugen.nr_pages   # folded in


def test_walk_mm_flush_inside_rcu_is_no_sleep_in_atomic_under_preempt_rt():
    """On PREEMPT_RT ``lru_lock`` is a sleeping lock, which RCU readers may take: the scenario
    with a PREEMPT_RT walker finds nothing new in ``walk_mm``."""
    rep = explore("preempt-rt-exec", strategy="random", max_executions=30, shrink=False)
    assert all("walk_mm" not in f.violation.stack for f in rep.failures)


# --- mem_cgroup_attach: the first thread-group leader of the taskset ---------------------------------

@pytest.fixture
def wAB():
    w = mkworld()
    with w:
        A, B = w.mem_cgroup_alloc("A"), w.mem_cgroup_alloc("B")
        app1 = w.spawn("A", comm="app1")
        yield w, A, B, app1


def test_mem_cgroup_attach_skips_a_taskset_without_a_leader(wAB, rec):
    """``cgroup_taskset_for_each_leader(task, css, tset) break; if (!task) return;``: a thread
    moved without its leader (cgroup v1 ``tasks``) leaves the mm where it is, even the mm it
    owns."""
    w, A, B, app1 = wAB
    as_current(app1)
    thread = memcontrol_thread_of(app1)
    thread.mm.owner = thread                    # the thread owns the mm ...
    thread.memcg = B
    memcontrol.mem_cgroup_attach([thread])      # ... but is not a leader: nothing happens
    assert "migrate" not in rec.names()
    assert raw(thread.mm.lru_gen, "memcg") is A


def test_mem_cgroup_attach_takes_the_first_leader(wAB, rec):
    w, A, B, app1 = wAB
    as_current(app1)
    thread = memcontrol_thread_of(app1)
    app1.memcg = B
    memcontrol.mem_cgroup_attach([thread, app1])
    assert rec.events("migrate") == [{"mm": app1.mm, "src": A, "dst": B}]


def test_every_model_task_leads_its_own_thread_group(wAB):
    """The model's ``kernel_clone()`` never passes ``CLONE_THREAD``: a ``CLONE_VM`` child is a
    process of its own (its own leader) that shares the mm."""
    w, A, B, app1 = wAB
    as_current(app1)
    from mmlist.model import fork
    child = fork.kernel_clone(app1, CLONE_VM)
    assert memcontrol.thread_group_leader(app1) and memcontrol.thread_group_leader(child)


def memcontrol_thread_of(leader):
    """A thread of ``leader``'s group (``CLONE_THREAD``, which the model's fork never makes):
    a CLONE_VM child whose ``group_leader`` is ``leader``."""
    from mmlist.model import fork
    t = fork.kernel_clone(leader, CLONE_VM)
    t.__dict__["group_leader"] = leader
    return t


# --- departure: the memcg is freed without an RCU grace period -----------------------------------------

def test_memcg_is_freed_in_its_last_css_put(rec):
    """Departure (docs/model.md section 6): the kernel frees a css in ``css_free_rwork_fn()``, a
    work queued by ``call_rcu`` after ``css_release()``; the model runs ``mem_cgroup_css_free()``
    (and the seed's ``lru_gen_free_memcg()``) in the last ``css_put()`` itself."""
    w = mkworld()
    with w:
        B = w.mem_cgroup_alloc("B")
        lv = w.lruvec("B")
        spin_lock(B.mm_list.lock)
        M.clear_bloom_filter(lv, 3)
        spin_unlock(B.mm_list.lock)
        assert B.css_refcnt.counter == 1
        memcontrol.mem_cgroup_put(B)
        assert B.freed and lv.mm_state.filters.raw == [None, None]
        assert rec.names()[-2:] == ["css_free", "free_memcg"]


def test_an_rcu_reader_cannot_take_a_reference_to_a_released_memcg():
    """What an RCU reader without a reference does with a memcg (``css_tryget()`` in
    ``get_mem_cgroup_from_mm()``, ``mem_cgroup_iter()``) fails once the count reached zero,
    grace period or not; the model's readers never dereference it otherwise."""
    w = mkworld()
    with w:
        B = w.mem_cgroup_alloc("B")
        memcontrol.mem_cgroup_put(B)
        rcu_read_lock()
        assert not memcontrol.css_tryget(B)
        rcu_read_unlock()
        seen, memcg = [], memcontrol.mem_cgroup_iter(None)
        while memcg is not None:
            seen.append(memcg)
            memcg = memcontrol.mem_cgroup_iter(memcg)
        assert B not in seen and w.root_mem_cgroup in seen
