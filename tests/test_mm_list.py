"""The seed's mm_struct list, function by function (``mmlist/model/mm_list.py`` and
``mm_types.py``), on hand-made states. Bloom filters are in ``test_bloom.py``."""
from __future__ import annotations

import pytest

import mmlist.runtime as rt
from mmlist.config import MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES, NR_MM_STATS
from mmlist.kernel import nodes_clear, nodes_setall, spin_lock, spin_unlock
from mmlist.kernel.list import raw_iter
from mmlist.model import fork, memcontrol, mm_list as M
from mmlist.model.mm_types import lru_gen_init_mm, lru_gen_use_mm
from mmlist.model.structs import lru_gen_mm_walk
from model_helpers import mkworld, raw, set_raw


def fifo_mms(mm_list):
    return [n.container for n in raw_iter(mm_list.fifo)]


def cursor(lv, mm_list, which):
    node = raw(lv.mm_state, which)
    return "fifo" if node is mm_list.fifo else node.container


def walk_for(lv, max_seq=None, full_scan=False, can_swap=True, label="walk"):
    walk = lru_gen_mm_walk(label)
    walk.lruvec = lv
    walk.max_seq = raw(lv.lrugen, "max_seq") if max_seq is None else max_seq
    walk.full_scan = full_scan
    walk.can_swap = can_swap
    return walk


@pytest.fixture
def w2():
    """memcg A holding two used mms (app1, app2) and a walker task; current is the walker."""
    w = mkworld()
    with w:
        A = w.mem_cgroup_alloc("A")
        a1 = w.spawn("A", comm="app1", nr_regions=2)
        a2 = w.spawn("A", comm="app2", nr_regions=2)
        r = w.user_task("reclaim", "A")
        rt.current_ctx().task = r
        yield w, A, a1.mm, a2.mm


# --- get_mm_list, lru_hist_from_seq -------------------------------------------------------------------

def test_get_mm_list_is_the_memcgs_list_or_the_static_one():
    w = mkworld()
    with w:
        A = w.mem_cgroup_alloc("A")
        assert M.get_mm_list(A) is A.mm_list
        assert M.get_mm_list(None) is w.mm_list
    w = mkworld(CONFIG_MEMCG=False)
    with w:
        other = mkworld().root_mem_cgroup
        assert M.get_mm_list(other) is w.mm_list       # !CONFIG_MEMCG: always the static list
        assert M.get_mm_list(None) is w.mm_list


def test_lru_hist_from_seq():
    with mkworld():
        assert [M.lru_hist_from_seq(s) for s in range(5)] == [0] * 5      # NR_HIST_GENS == 1
    with mkworld(CONFIG_LRU_GEN_STATS=True, MAX_NR_GENS=4):
        assert [M.lru_hist_from_seq(s) for s in range(6)] == [0, 1, 2, 3, 0, 1]


# --- lru_gen_init_state / lru_gen_init_memcg / lru_gen_free_memcg ----------------------------------

def test_lru_gen_init_state_sets_seq_and_parks_both_cursors_on_the_sentinel():
    w = mkworld(nr_nodes=2)
    with w:
        A = w.mem_cgroup_alloc("A")
        for nid in range(2):
            lv = w.lruvec("A", nid)
            assert raw(lv.lrugen, "max_seq") == 3                   # MIN_NR_GENS + 1
            assert raw(lv.mm_state, "seq") == 2                     # MIN_NR_GENS
            assert raw(lv.mm_state, "head") is A.mm_list.fifo
            assert raw(lv.mm_state, "tail") is A.mm_list.fifo
            assert raw(lv.mm_state, "nr_walkers") == 0
            assert lv.mm_state.wait.waiters == []
            assert lv.mm_state.filters.raw == [None, None]
        lv = w.lruvec("A", 0)
        set_raw(lv.mm_state, "seq", 9)
        lv.mm_state.wait.waiters.append("x")
        M.lru_gen_init_state(A, lv)
        assert raw(lv.mm_state, "seq") == 2 and lv.mm_state.wait.waiters == []


def test_lru_gen_init_state_without_memcg_uses_the_static_list():
    w = mkworld(CONFIG_MEMCG=False, nr_nodes=2)
    with w:
        for pgdat in w.nodes:
            assert raw(pgdat.lruvec.mm_state, "head") is w.mm_list.fifo
            assert raw(pgdat.lruvec.mm_state, "tail") is w.mm_list.fifo


def test_lru_gen_init_memcg_initialises_list_lock_and_every_node():
    w = mkworld(nr_nodes=3)
    with w:
        A = w.mem_cgroup_alloc("A")
        assert fifo_mms(A.mm_list) == [] and A.mm_list.lock.owner is None
        assert len(A.nodeinfo) == 3
        for pn in A.nodeinfo:
            assert raw(pn.lruvec.mm_state, "head") is A.mm_list.fifo
        # re-initialising an lruvec left in some state puts it back
        A.mm_list.lock.owner = "stale"
        M.lru_gen_init_memcg(A)
        assert A.mm_list.lock.owner is None


def test_lru_gen_free_memcg_frees_both_bloom_filters_of_every_node(rec):
    w = mkworld(nr_nodes=2)
    with w:
        A = w.mem_cgroup_alloc("A")
        for nid in range(2):
            lv = w.lruvec("A", nid)
            spin_lock(A.mm_list.lock)
            M.clear_bloom_filter(lv, 3)
            M.clear_bloom_filter(lv, 4)
            spin_unlock(A.mm_list.lock)
            assert None not in lv.mm_state.filters.raw
        M.lru_gen_free_memcg(A)
        for nid in range(2):
            assert A.nodeinfo[nid].lruvec.mm_state.filters.raw == [None, None]
    assert rec.events("free_memcg") == [{"memcg": A, "fifo_empty": True}]


def test_memcg_is_freed_with_its_last_css_reference(rec):
    w = mkworld()
    with w:
        A = w.mem_cgroup_alloc("A")
        assert A.css_refcnt.counter == 1
        memcontrol.mem_cgroup_put(A)
        assert A.freed
        memcontrol.get_lruvec(A, 0)             # an access to the freed memcg: KASAN reports it
    assert [e["memcg"] for e in rec.events("free_memcg")] == [A]
    assert [v.check for v in rec.reports] == ["KASAN"]
    assert "use-after-free" in rec.reports[0].message


# --- lru_gen_init_mm / lru_gen_use_mm -------------------------------------------------------------

def test_lru_gen_init_mm_resets_list_memcg_and_nodes():
    w = mkworld(nr_nodes=2)
    with w:
        mm = w.allocate_mm()
        mm.lru_gen.memcg = "junk"
        nodes_setall(mm.lru_gen.nodes)
        lru_gen_init_mm(mm)
        assert mm.lru_gen.list.next is mm.lru_gen.list
        assert raw(mm.lru_gen, "memcg") is None
        assert mm.lru_gen.nodes.bits.count() == 0


def test_lru_gen_init_mm_without_memcg_leaves_memcg_alone():
    w = mkworld(CONFIG_MEMCG=False)
    with w:
        mm = w.allocate_mm()
        set_raw(mm.lru_gen, "memcg", "untouched")
        lru_gen_init_mm(mm)
        assert raw(mm.lru_gen, "memcg") == "untouched"


def test_lru_gen_use_mm_sets_every_node_for_a_user_task(rec):
    w = mkworld(nr_nodes=3)
    with w:
        t = w.spawn(None, comm="app", used=False)
        mm = t.mm
        assert mm.lru_gen.nodes.bits.count() == 0
        rt.current_ctx().task = t
        lru_gen_use_mm(mm)
        assert mm.lru_gen.nodes.bits.all()
    assert rec.reports == []


def test_lru_gen_use_mm_does_nothing_for_a_kthread():
    w = mkworld(nr_nodes=2)
    with w:
        mm = w.spawn(None, comm="app", used=False).mm
        rt.current_ctx().task = w.kthread("kworker")
        lru_gen_use_mm(mm)
        assert mm.lru_gen.nodes.bits.count() == 0


def test_lru_gen_use_mm_skips_the_write_when_nodes_are_full(rec_ops):
    w = mkworld(nr_nodes=2)
    with w:
        t = w.spawn(None, comm="app")
        rt.current_ctx().task = t
        rec_ops.clear()
        lru_gen_use_mm(t.mm)
    nodes = t.mm.lru_gen.nodes
    # nodes_full() is a plain read of the map (bitmap_full); no nodes_setall() write follows
    assert [(op, arg) for _, op, obj, arg in rec_ops.ops if obj is nodes] == [(rt.READ, "#bits")]


def test_lru_gen_use_mm_warns_on_an_mm_on_no_list(rec):
    """``VM_WARN_ON(list_empty(&mm->lru_gen.list))``: a warning, not a BUG; the bits are still
    set (the seed calls it "unlikely but not a bug when racing with lru_gen_migrate_mm()")."""
    w = mkworld()
    with w:
        t = w.user_task("app")
        mm = w.allocate_mm()
        fork.mm_init(mm, t)
        rt.current_ctx().task = t
        lru_gen_use_mm(mm)
        assert mm.lru_gen.nodes.bits.all()
    assert rec.checks() == ["VM_WARN_ON"]
    assert rec.reports[0].condition == "list_empty(&mm->lru_gen.list)"
    assert rec.reports[0].severity == "warning"


# --- lru_gen_add_mm ---------------------------------------------------------------------------

def test_lru_gen_add_mm_appends_to_the_owners_memcg_list(rec):
    w = mkworld()
    with w:
        A = w.mem_cgroup_alloc("A")
        refs = A.css_refcnt.counter
        t1 = w.spawn("A", comm="app1")
        t2 = w.spawn("A", comm="app2")
        assert fifo_mms(A.mm_list) == [t1.mm, t2.mm]
        assert raw(t1.mm.lru_gen, "memcg") is A and raw(t2.mm.lru_gen, "memcg") is A
        # each task holds a css reference, and each mm on the list another one
        assert A.css_refcnt.counter == refs + 4
        assert A.mm_list.lock.owner is None and not A.mm_list.lock.real_lock().locked()
        assert fifo_mms(w.root_mem_cgroup.mm_list) == []
    assert [e["mm"] for e in rec.events("add")] == [t1.mm, t2.mm]


def test_lru_gen_add_mm_moves_a_tail_on_the_sentinel_to_the_new_mm_on_every_node():
    w = mkworld(nr_nodes=2)
    with w:
        A = w.mem_cgroup_alloc("A")
        lv0, lv1 = w.lruvec("A", 0), w.lruvec("A", 1)
        t1 = w.spawn("A", comm="app1")
        # tail was on the sentinel: now on the first mm added since the last iteration
        assert cursor(lv0, A.mm_list, "tail") is t1.mm
        assert cursor(lv1, A.mm_list, "tail") is t1.mm
        t2 = w.spawn("A", comm="app2")
        assert cursor(lv0, A.mm_list, "tail") is t1.mm        # not on the sentinel: unchanged
        # only a tail on the sentinel moves; head never does
        set_raw(lv1.mm_state, "tail", A.mm_list.fifo)
        t3 = w.spawn("A", comm="app3")
        assert cursor(lv0, A.mm_list, "tail") is t1.mm
        assert cursor(lv1, A.mm_list, "tail") is t3.mm
        assert cursor(lv0, A.mm_list, "head") == "fifo"
        assert fifo_mms(A.mm_list) == [t1.mm, t2.mm, t3.mm]


def test_lru_gen_add_mm_bugs_on_an_mm_already_on_a_list(rec):
    w = mkworld()
    with w:
        t = w.spawn(None, comm="app")
        with pytest.raises(rt.KernelPanic):
            M.lru_gen_add_mm(t.mm)
    assert rec.reports[-1].check == "VM_BUG_ON_MM"
    assert rec.reports[-1].condition == "!list_empty(&mm->lru_gen.list)"


def test_lru_gen_add_mm_bugs_on_an_mm_with_a_memcg(rec):
    w = mkworld()
    with w:
        t = w.user_task("app")
        mm = fork.mm_init(w.allocate_mm(), t)
        set_raw(mm.lru_gen, "memcg", w.root_mem_cgroup)
        with pytest.raises(rt.KernelPanic):
            M.lru_gen_add_mm(mm)
    assert rec.reports[-1].condition == "mm->lru_gen.memcg"


def test_lru_gen_add_mm_without_owner_goes_to_the_root_memcg():
    w = mkworld()
    with w:
        mm = w.allocate_mm()
        lru_gen_init_mm(mm)                                  # owner NULL
        M.lru_gen_add_mm(mm)
        assert fifo_mms(w.root_mem_cgroup.mm_list) == [mm]
        assert raw(mm.lru_gen, "memcg") is w.root_mem_cgroup


def test_lru_gen_add_and_del_without_memcg_use_the_static_list():
    w = mkworld(CONFIG_MEMCG=False)
    with w:
        t = w.spawn(None, comm="app")
        assert fifo_mms(w.mm_list) == [t.mm]
        assert raw(t.mm.lru_gen, "memcg") is None
        M.lru_gen_del_mm(t.mm)
        assert fifo_mms(w.mm_list) == []


def test_cgroup_disable_memory_puts_every_mm_on_the_static_list():
    w = mkworld(mem_cgroup_disabled=True)
    with w:
        w.mem_cgroup_alloc("A")
        t = w.spawn("A", comm="app")
        assert fifo_mms(w.mm_list) == [t.mm]
        assert raw(t.mm.lru_gen, "memcg") is None
        M.lru_gen_del_mm(t.mm)
        assert fifo_mms(w.mm_list) == []


# --- lru_gen_del_mm: the head/tail fix-up ----------------------------------------------------------

# (number of mms, the mm deleted, head before, tail before) ->
# (head after, tail after, seq incremented?). Cursors name an mm by index or "fifo".
DEL_CASES = [
    # one node on the list
    (1, 0, "fifo", "fifo", "fifo", "fifo", False),       # neither
    (1, 0, 0, "fifo", "fifo", "fifo", True),             # head: moves to the sentinel, seq + 1
    (1, 0, "fifo", 0, "fifo", "fifo", False),            # tail
    (1, 0, 0, 0, "fifo", "fifo", True),                  # both
    # two nodes on the list
    (2, 0, 1, 1, 1, 1, False),                           # neither
    (2, 0, 0, "fifo", 1, "fifo", False),                 # head on the first: moves on
    (2, 1, 1, "fifo", "fifo", "fifo", True),             # head on the last: the iteration ends
    (2, 0, "fifo", 0, "fifo", 1, False),                 # tail on the first
    (2, 1, "fifo", 1, "fifo", "fifo", False),            # tail on the last
    (2, 0, 0, 0, 1, 1, False),                           # both on the first
    (2, 1, 1, 1, "fifo", "fifo", True),                  # both on the last
    (2, 1, 0, 0, 0, 0, False),                           # neither (cursors on the other mm)
]


@pytest.mark.parametrize("n, victim, head, tail, head_after, tail_after, seq_inc", DEL_CASES)
def test_lru_gen_del_mm_moves_cursors_off_the_mm(rec, n, victim, head, tail, head_after,
                                                 tail_after, seq_inc):
    w = mkworld()
    with w:
        A = w.mem_cgroup_alloc("A")
        mms = [w.spawn("A", comm=f"app{i}").mm for i in range(n)]
        lv = w.lruvec("A")
        node = {"fifo": A.mm_list.fifo, **{i: mm.lru_gen.list for i, mm in enumerate(mms)}}
        set_raw(lv.mm_state, "head", node[head])
        set_raw(lv.mm_state, "tail", node[tail])
        seq = raw(lv.mm_state, "seq")
        refs = A.css_refcnt.counter
        rec.clear()

        M.lru_gen_del_mm(mms[victim])

        assert raw(lv.mm_state, "head") is node[head_after]
        assert raw(lv.mm_state, "tail") is node[tail_after]
        assert raw(lv.mm_state, "seq") == seq + (1 if seq_inc else 0)
        assert fifo_mms(A.mm_list) == [m for i, m in enumerate(mms) if i != victim]
        gone = mms[victim]
        assert gone.lru_gen.list.next is gone.lru_gen.list
        assert raw(gone.lru_gen, "memcg") is None
        assert A.css_refcnt.counter == refs - 1               # mem_cgroup_put()
        assert A.mm_list.lock.owner is None
    assert [e["by"] for e in rec.events("iter_end")] == (["lru_gen_del_mm"] if seq_inc else [])


def test_lru_gen_del_mm_fixes_the_cursors_of_every_node_independently():
    w = mkworld(nr_nodes=2)
    with w:
        A = w.mem_cgroup_alloc("A")
        m1, m2 = (w.spawn("A", comm=f"app{i}").mm for i in range(2))
        lv0, lv1 = w.lruvec("A", 0), w.lruvec("A", 1)
        set_raw(lv0.mm_state, "head", m2.lru_gen.list)
        set_raw(lv0.mm_state, "tail", A.mm_list.fifo)
        set_raw(lv1.mm_state, "head", m1.lru_gen.list)
        set_raw(lv1.mm_state, "tail", m2.lru_gen.list)
        M.lru_gen_del_mm(m2)
        assert cursor(lv0, A.mm_list, "head") == "fifo" and raw(lv0.mm_state, "seq") == 3
        assert cursor(lv1, A.mm_list, "head") is m1 and raw(lv1.mm_state, "seq") == 2
        assert cursor(lv1, A.mm_list, "tail") == "fifo"


def test_lru_gen_del_mm_of_an_mm_on_no_list_does_nothing(rec_ops):
    w = mkworld()
    with w:
        mm = fork.mm_init(w.allocate_mm(), w.user_task("t"))
        rec_ops.clear()
        M.lru_gen_del_mm(mm)
    assert [op for _, op, _, _ in rec_ops.ops] == [rt.READ_ONCE]   # list_empty() only


# --- lru_gen_migrate_mm --------------------------------------------------------------------------

def _move_css(task, dst):
    memcontrol.css_get(dst)
    old = raw(task, "memcg")
    set_raw(task, "memcg", dst)
    memcontrol.mem_cgroup_put(old)


def test_lru_gen_migrate_mm_follows_the_owner_to_its_new_memcg(rec):
    w = mkworld()
    with w:
        A, B = w.mem_cgroup_alloc("A"), w.mem_cgroup_alloc("B")
        t = w.spawn("A", comm="app")
        other = w.spawn("A", comm="other")
        lv = w.lruvec("A")
        set_raw(lv.mm_state, "head", t.mm.lru_gen.list)
        a_refs, b_refs = A.css_refcnt.counter, B.css_refcnt.counter
        _move_css(t, B)
        spin_lock(t.alloc_lock)
        rec.clear()
        M.lru_gen_migrate_mm(t.mm)
        spin_unlock(t.alloc_lock)
        assert fifo_mms(A.mm_list) == [other.mm] and fifo_mms(B.mm_list) == [t.mm]
        assert raw(t.mm.lru_gen, "memcg") is B
        assert cursor(lv, A.mm_list, "head") is other.mm        # moved off by lru_gen_del_mm
        assert cursor(w.lruvec("B"), B.mm_list, "tail") is t.mm
        # the task's css and the list's css both moved from A to B
        assert A.css_refcnt.counter == a_refs - 2 and B.css_refcnt.counter == b_refs + 2
    assert rec.names() == ["migrate", "del", "add"]
    assert rec.reports == []


def test_lru_gen_migrate_mm_in_the_same_memcg_does_nothing(rec):
    w = mkworld()
    with w:
        w.mem_cgroup_alloc("A")
        t = w.spawn("A", comm="app")
        spin_lock(t.alloc_lock)
        M.lru_gen_migrate_mm(t.mm)
        spin_unlock(t.alloc_lock)
    assert "migrate" not in rec.names() and rec.reports == []


def test_lru_gen_migrate_mm_asserts_the_owners_task_lock(rec):
    w = mkworld()
    with w:
        w.mem_cgroup_alloc("A")
        t = w.spawn("A", comm="app")
        M.lru_gen_migrate_mm(t.mm)
    assert rec.checks() == ["lockdep_assert_held"]
    assert rec.reports[0].condition == "&mm->owner->alloc_lock"


def test_lru_gen_migrate_mm_returns_when_memcg_is_off_or_disabled(rec):
    for cfg in (dict(CONFIG_MEMCG=False), dict(mem_cgroup_disabled=True)):
        w = mkworld(**cfg)
        with w:
            t = w.spawn(None, comm="app")
            spin_lock(t.alloc_lock)
            M.lru_gen_migrate_mm(t.mm)
            spin_unlock(t.alloc_lock)
            assert fifo_mms(w.mm_list) == [t.mm]
    assert "migrate" not in rec.names() and rec.reports == []


def test_lru_gen_migrate_mm_bugs_on_an_mm_not_yet_added(rec):
    """``VM_BUG_ON_MM(!mm->lru_gen.memcg)``: the state finding 2 reaches through fork."""
    w = mkworld()
    with w:
        w.mem_cgroup_alloc("A")
        t = w.user_task("app", "A")
        mm = fork.mm_init(w.allocate_mm(), t)
        t.mm = mm
        spin_lock(t.alloc_lock)
        with pytest.raises(rt.KernelPanic):
            M.lru_gen_migrate_mm(mm)
    assert rec.reports[-1].check == "VM_BUG_ON_MM"
    assert rec.reports[-1].condition == "!mm->lru_gen.memcg"


def test_lru_gen_migrate_mm_bugs_on_an_mm_with_a_memcg_but_on_no_list(rec):
    w = mkworld()
    with w:
        A, B = w.mem_cgroup_alloc("A"), w.mem_cgroup_alloc("B")
        t = w.user_task("app", "B")
        mm = fork.mm_init(w.allocate_mm(), t)
        set_raw(mm.lru_gen, "memcg", A)
        spin_lock(t.alloc_lock)
        with pytest.raises(rt.KernelPanic):
            M.lru_gen_migrate_mm(mm)
    assert rec.reports[-1].condition == "list_empty(&mm->lru_gen.list)"


# --- should_skip_mm ---------------------------------------------------------------------------------

def _skip_reasons(rec):
    return [e["reason"] for e in rec.events("skip")]


def test_should_skip_mm_keeps_a_used_mm_and_clears_its_node_bit(w2, rec):
    w, A, m1, _ = w2
    lv = w.lruvec("A")
    walk = walk_for(lv)
    users = m1.mm_users.counter
    assert M.should_skip_mm(m1, walk) is False
    assert m1.mm_users.counter == users + 1                  # mmget_not_zero()
    assert not m1.lru_gen.nodes.bits[0]
    assert _skip_reasons(rec) == []


def test_should_skip_mm_unused_empty_cpumask_and_node_bit_clear(w2, rec):
    w, A, m1, _ = w2
    walk = walk_for(w.lruvec("A"))
    nodes_clear(m1.lru_gen.nodes)
    assert M.should_skip_mm(m1, walk) is True
    assert _skip_reasons(rec) == ["unused"]
    # ... but not on a full scan
    walk.full_scan = True
    assert M.should_skip_mm(m1, walk) is False


def test_should_skip_mm_running_somewhere_is_not_unused(w2, rec):
    w, A, m1, _ = w2
    walk = walk_for(w.lruvec("A"))
    nodes_clear(m1.lru_gen.nodes)
    m1.cpu_bitmap.bits[1] = 1
    assert M.should_skip_mm(m1, walk) is False


def test_should_skip_mm_only_looks_at_its_own_node_bit():
    w = mkworld(nr_nodes=2)
    with w:
        w.mem_cgroup_alloc("A")
        mm = w.spawn("A", comm="app").mm
        mm.lru_gen.nodes.bits[0] = 0
        assert M.should_skip_mm(mm, walk_for(w.lruvec("A", 0))) is True
        assert M.should_skip_mm(mm, walk_for(w.lruvec("A", 1))) is False
        assert mm.lru_gen.nodes.bits.count() == 0


@pytest.mark.parametrize("anon, shmem, file, can_swap, skipped", [
    (7, 0, 0, True, True),       # < MIN_LRU_BATCH (8)
    (4, 4, 0, True, False),      # anon + shmem
    (0, 0, 8, True, False),
    (3, 2, 2, True, True),
    (100, 100, 7, False, True),  # no swap: only file pages count
    (0, 0, 8, False, False),
])
def test_should_skip_mm_small(w2, rec, anon, shmem, file, can_swap, skipped):
    w, A, m1, _ = w2
    m1.rss_stat = [0, 0, 0, 0]
    m1.rss_stat[MM_ANONPAGES], m1.rss_stat[MM_SHMEMPAGES], m1.rss_stat[MM_FILEPAGES] = \
        anon, shmem, file
    assert M.should_skip_mm(m1, walk_for(w.lruvec("A"), can_swap=can_swap)) is skipped
    assert _skip_reasons(rec) == (["small"] if skipped else [])


def test_should_skip_mm_oom_victim(w2, rec):
    w, A, m1, _ = w2
    m1.oom_victim = True
    users = m1.mm_users.counter
    assert M.should_skip_mm(m1, walk_for(w.lruvec("A"), full_scan=True)) is True
    assert _skip_reasons(rec) == ["oom_victim"]
    assert m1.mm_users.counter == users and m1.lru_gen.nodes.bits[0]


def test_should_skip_mm_going_away(w2, rec):
    w, A, m1, _ = w2
    m1.mm_users.counter = 0
    assert M.should_skip_mm(m1, walk_for(w.lruvec("A"), full_scan=True)) is True
    assert _skip_reasons(rec) == ["mm_users==0"]
    assert m1.mm_users.counter == 0 and m1.lru_gen.nodes.bits[0]


# --- get_next_mm: the four cases of its comment ---------------------------------------------------

def test_get_next_mm_case_1_a_stale_max_seq_does_nothing(w2, rec_ops):
    w, A, m1, m2 = w2
    lv = w.lruvec("A")
    walk = walk_for(lv, max_seq=2)                  # == mm_state->seq: that iteration is done
    it = [None]
    rec_ops.clear()
    assert M.get_next_mm(lv, walk, it) is False
    assert it == [None]
    assert [op for _, op, _, _ in rec_ops.ops if op in rt.SCHEDULING] == [rt.READ_ONCE]
    ev = [arg for _, op, obj, arg in rec_ops.ops if op == rt.TRACE and obj == "get_next_mm"]
    assert ev[0]["case"] == "stale" and ev[0]["last"] is False
    assert raw(lv.mm_state, "nr_walkers") == 0 and cursor(lv, A.mm_list, "head") == "fifo"


def test_get_next_mm_case_2_the_first_walker_prepares_the_next_filter(w2, rec):
    w, A, m1, m2 = w2
    lv = w.lruvec("A")
    walk = walk_for(lv)
    it = [None]
    assert M.get_next_mm(lv, walk, it) is False
    assert it == [m1]
    assert raw(lv.mm_state, "nr_walkers") == 1
    assert cursor(lv, A.mm_list, "head") is m2
    # the filter for max_seq + 1 = 4 (filters[0]) is allocated, the current one is not
    assert lv.mm_state.filters.raw[M.filter_gen_from_seq(4)] is not None
    assert lv.mm_state.filters.raw[M.filter_gen_from_seq(3)] is None
    # mm1 was added after the last iteration (tail on it): a full scan, and tail moves on
    assert walk.full_scan is True and cursor(lv, A.mm_list, "tail") is m2
    assert rec.events("iter_start") == [{"lruvec": lv, "max_seq": 3}]
    assert rec.events("get_next_mm")[-1]["first"] is True
    assert m1.mm_users.counter == 2


def test_get_next_mm_case_3_the_end_of_the_list_ends_the_iteration(w2, rec):
    w, A, m1, m2 = w2
    lv = w.lruvec("A")
    walk = walk_for(lv)
    it = [None]
    M.get_next_mm(lv, walk, it)
    assert raw(lv.mm_state, "seq") == 2
    assert M.get_next_mm(lv, walk, it) is False
    assert it == [m2]
    assert raw(lv.mm_state, "seq") == 3 and cursor(lv, A.mm_list, "head") == "fifo"
    assert rec.events("iter_end") == [{"lruvec": lv, "seq": 3, "by": "get_next_mm"}]
    # the mm handed back went through mmput_async (a reference dropped, no work queued)
    assert m1.mm_users.counter == 1 and w.system_wq == []


def test_get_next_mm_case_4_the_last_walker_clears_the_next_generations_stats():
    w = mkworld(CONFIG_LRU_GEN_STATS=True, MAX_NR_GENS=4)
    with w:
        A = w.mem_cgroup_alloc("A")
        m1 = w.spawn("A", comm="app1").mm
        rt.current_ctx().task = w.user_task("reclaim", "A")
        lv = w.lruvec("A")
        walk = walk_for(lv)                               # max_seq 3: hist 3, next hist 0
        lv.mm_state.stats[0].raw[:] = [9] * NR_MM_STATS
        it = [None]
        assert M.get_next_mm(lv, walk, it) is False and it == [m1]
        walk.mm_stats[:] = [1, 2, 3, 4, 5, 6]
        assert M.get_next_mm(lv, walk, it) is True and it == [None]
        assert lv.mm_state.stats[3].raw == [1, 2, 3, 4, 5, 6]
        assert lv.mm_state.stats[0].raw == [0] * NR_MM_STATS
        assert walk.mm_stats == [0] * NR_MM_STATS
        assert raw(lv.mm_state, "nr_walkers") == 0


def test_get_next_mm_an_empty_list_is_done_at_once_and_last(rec):
    w = mkworld()
    with w:
        A = w.mem_cgroup_alloc("A")
        lv = w.lruvec("A")
        it = [None]
        assert M.get_next_mm(lv, walk_for(lv), it) is True
        assert it == [None] and raw(lv.mm_state, "seq") == 3
        # no mm was taken: the next generation's filter is not prepared
        assert lv.mm_state.filters.raw == [None, None]
    assert rec.events("get_next_mm")[-1]["first"] is True


def test_get_next_mm_skips_unused_mms_and_the_last_walker_finds_nothing(w2, rec):
    w, A, m1, m2 = w2
    lv = w.lruvec("A")
    # an earlier iteration already saw both (tail on the sentinel) and nobody ran them since
    set_raw(lv.mm_state, "tail", A.mm_list.fifo)
    nodes_clear(m1.lru_gen.nodes)
    nodes_clear(m2.lru_gen.nodes)
    walk = walk_for(lv)
    it = [None]
    assert M.get_next_mm(lv, walk, it) is True
    assert it == [None] and walk.full_scan is False
    assert [e["reason"] for e in rec.events("skip")] == ["unused", "unused"]
    assert raw(lv.mm_state, "seq") == 3 and raw(lv.mm_state, "nr_walkers") == 0


def test_get_next_mm_the_iteration_ended_between_the_unlocked_read_and_the_lock(
        w2, monkeypatch):
    """``if (walk->max_seq <= mm_state->seq) { if (!*iter) last = false; goto done; }``: a
    walker that saw a stale seq without the lock returns not-last and takes nothing."""
    w, A, m1, m2 = w2
    lv = w.lruvec("A")
    set_raw(lv.mm_state, "seq", 3)                  # the iteration for max_seq 3 is over
    real = M.READ_ONCE
    monkeypatch.setattr(M, "READ_ONCE",
                        lambda o, n: 2 if (o is lv.mm_state and n == "seq") else real(o, n))
    walk = walk_for(lv, max_seq=3)
    it = [None]
    assert M.get_next_mm(lv, walk, it) is False
    assert it == [None] and raw(lv.mm_state, "nr_walkers") == 0
    assert cursor(lv, A.mm_list, "head") == "fifo"


# --- get_next_mm: its assertions ------------------------------------------------------------------

def test_get_next_mm_bugs_on_a_max_seq_two_ahead(w2, rec):
    w, A, m1, _ = w2
    lv = w.lruvec("A")
    with pytest.raises(rt.KernelPanic):
        M.get_next_mm(lv, walk_for(lv, max_seq=4), [None])      # seq is 2
    assert rec.reports[-1].condition == "walk->max_seq > mm_state->seq + 1"


def test_get_next_mm_bugs_on_a_holder_behind_the_iteration(w2, rec):
    w, A, m1, _ = w2
    lv = w.lruvec("A")
    fork.mmget(m1)
    set_raw(lv.mm_state, "nr_walkers", 1)
    with pytest.raises(rt.KernelPanic):
        M.get_next_mm(lv, walk_for(lv, max_seq=1), [m1])
    assert rec.reports[-1].condition == "*iter && walk->max_seq < mm_state->seq"


def test_get_next_mm_bugs_on_a_holder_with_no_walkers_counted(w2, rec):
    w, A, m1, _ = w2
    lv = w.lruvec("A")
    fork.mmget(m1)
    with pytest.raises(rt.KernelPanic):
        M.get_next_mm(lv, walk_for(lv), [m1])
    assert rec.reports[-1].condition == "*iter && !mm_state->nr_walkers"


def test_get_next_mm_bugs_on_a_new_iteration_with_walkers_counted(w2, rec):
    w, A, m1, _ = w2
    lv = w.lruvec("A")
    set_raw(lv.mm_state, "nr_walkers", 1)
    with pytest.raises(rt.KernelPanic):
        M.get_next_mm(lv, walk_for(lv), [None])
    assert rec.reports[-1].condition == "mm_state->nr_walkers"


# --- a whole iteration with walkers joining and leaving --------------------------------------------

def test_two_walkers_share_one_iteration(rec):
    w = mkworld()
    with w:
        A = w.mem_cgroup_alloc("A")
        m1, m2, m3 = (w.spawn("A", comm=f"app{i}").mm for i in range(3))
        rt.current_ctx().task = w.user_task("reclaim", "A")
        lv = w.lruvec("A")
        st = lv.mm_state
        w1, w2 = walk_for(lv, label="w1"), walk_for(lv, label="w2")
        i1, i2 = [None], [None]

        assert M.get_next_mm(lv, w1, i1) is False and i1 == [m1]    # w1 starts the iteration
        assert raw(st, "nr_walkers") == 1
        assert M.get_next_mm(lv, w2, i2) is False and i2 == [m2]    # w2 joins
        assert raw(st, "nr_walkers") == 2
        assert M.get_next_mm(lv, w1, i1) is False and i1 == [m3]    # w1 takes the last mm
        assert raw(st, "seq") == 3 and raw(st, "nr_walkers") == 2
        assert M.get_next_mm(lv, w2, i2) is False and i2 == [None]  # w2 leaves, not last
        assert raw(st, "nr_walkers") == 1
        # a third walker arriving now sees the iteration done: nothing to do
        w3 = walk_for(lv, label="w3")
        i3 = [None]
        assert M.get_next_mm(lv, w3, i3) is False and i3 == [None]
        assert M.get_next_mm(lv, w1, i1) is True and i1 == [None]   # w1 leaves last
        assert raw(st, "nr_walkers") == 0
        # the next iteration: w2 is first again and prepares the filter for max_seq 5
        from mmlist.model.aging import inc_max_seq
        inc_max_seq(lv, 3)
        w2.max_seq = 4
        assert M.get_next_mm(lv, w2, i2) is False and i2 == [m1]
        assert st.filters.raw[M.filter_gen_from_seq(5)] is not None
        assert all(m.mm_users.counter == (2 if m is m1 else 1) for m in (m1, m2, m3))

    handed = [(e["walk"].label, e["mm"]) for e in rec.events("get_next_mm")
              if e["mm"] is not None and e["max_seq"] == 3]
    assert handed == [("w1", m1), ("w2", m2), ("w1", m3)]            # each mm once
    lasts = [e["walk"].label for e in rec.events("get_next_mm")
             if e["max_seq"] == 3 and e["last"]]
    assert lasts == ["w1"]                                           # exactly one last walker
    assert [e["first"] for e in rec.events("get_next_mm") if e["max_seq"] == 3] == [
        True, False, False, False, False, False]


def test_an_exit_during_an_iteration_moves_head_past_the_mm(rec):
    """An mm deleted while it is next in line is skipped by the walkers, not handed out."""
    w = mkworld()
    with w:
        A = w.mem_cgroup_alloc("A")
        m1, m2, m3 = (w.spawn("A", comm=f"app{i}").mm for i in range(3))
        rt.current_ctx().task = w.user_task("reclaim", "A")
        lv = w.lruvec("A")
        walk = walk_for(lv)
        it = [None]
        M.get_next_mm(lv, walk, it)
        assert cursor(lv, A.mm_list, "head") is m2
        M.lru_gen_del_mm(m2)
        assert cursor(lv, A.mm_list, "head") is m3
        M.get_next_mm(lv, walk, it)
        assert it == [m3]
        assert M.get_next_mm(lv, walk, it) is True


def test_a_migration_between_memcgs_during_an_iteration(rec):
    """A walker of A holds mm1 when mm1's owner moves to B: the mm leaves A's list (head and
    tail move off it first), joins B's as the first mm B's next iteration will fully scan, and
    A's iteration carries on without it."""
    w = mkworld()
    with w:
        A, B = w.mem_cgroup_alloc("A"), w.mem_cgroup_alloc("B")
        t1, t2, t3 = (w.spawn("A", comm=f"app{i}") for i in range(3))
        m1, m2, m3 = t1.mm, t2.mm, t3.mm
        rt.current_ctx().task = w.user_task("reclaim", "A")
        lvA, lvB = w.lruvec("A"), w.lruvec("B")
        walk = walk_for(lvA)
        it = [None]
        M.get_next_mm(lvA, walk, it)
        assert it == [m1] and cursor(lvA, A.mm_list, "head") is m2
        memcontrol.cgroup_migrate(t2.pid, B)             # the next in line leaves A
        assert fifo_mms(A.mm_list) == [m1, m3] and fifo_mms(B.mm_list) == [m2]
        assert cursor(lvA, A.mm_list, "head") is m3
        assert cursor(lvB, B.mm_list, "tail") is m2
        memcontrol.cgroup_migrate(t1.pid, B)             # the held one leaves too
        assert fifo_mms(A.mm_list) == [m3] and fifo_mms(B.mm_list) == [m2, m1]
        M.get_next_mm(lvA, walk, it)
        assert it == [m3] and raw(lvA.mm_state, "seq") == 3
        assert M.get_next_mm(lvA, walk, it) is True and it == [None]
        assert m1.mm_users.counter == 1 and w.system_wq == []
        # B's walker sees both, the first one (tail) with a full scan
        walkB = walk_for(lvB)
        itB = [None]
        M.get_next_mm(lvB, walkB, itB)
        assert itB == [m2] and walkB.full_scan
    assert rec.reports == []
    handed = [e["mm"] for e in rec.events("get_next_mm") if e["lruvec"] is lvA and e["mm"]]
    assert handed == [m1, m3]


# --- reset_mm_stats ---------------------------------------------------------------------------------

def test_reset_mm_stats_flushes_the_walkers_stats_into_its_generation(rec):
    w = mkworld(CONFIG_LRU_GEN_STATS=True, MAX_NR_GENS=4)
    with w:
        A = w.mem_cgroup_alloc("A")
        lv = w.lruvec("A")
        walk = walk_for(lv, max_seq=5)                     # hist 1; next hist 2
        lv.mm_state.stats[2].raw[:] = [7] * NR_MM_STATS
        spin_lock(A.mm_list.lock)
        walk.mm_stats[:] = [1, 1, 1, 1, 1, 1]
        M.reset_mm_stats(lv, walk, False)
        walk.mm_stats[:] = [1, 2, 3, 4, 5, 6]
        M.reset_mm_stats(lv, walk, False)
        assert lv.mm_state.stats[1].raw == [2, 3, 4, 5, 6, 7]
        assert lv.mm_state.stats[2].raw == [7] * NR_MM_STATS     # not last: kept
        M.reset_mm_stats(lv, walk, True)
        assert lv.mm_state.stats[2].raw == [0] * NR_MM_STATS     # last: the next one cleared
        assert lv.mm_state.stats[1].raw == [2, 3, 4, 5, 6, 7]
        spin_unlock(A.mm_list.lock)
        assert walk.mm_stats == [0] * NR_MM_STATS
    assert [e["last"] for e in rec.events("stats_flush")] == [False, False, True]
    assert [e["hist"] for e in rec.events("stats_reset")] == [2]
    assert rec.reports == []


def test_reset_mm_stats_without_history_never_clears(rec):
    w = mkworld()
    with w:
        A = w.mem_cgroup_alloc("A")
        lv = w.lruvec("A")
        walk = walk_for(lv)
        walk.mm_stats[:] = [3] * NR_MM_STATS
        spin_lock(A.mm_list.lock)
        M.reset_mm_stats(lv, walk, True)
        spin_unlock(A.mm_list.lock)
        assert lv.mm_state.stats[0].raw == [3] * NR_MM_STATS
    assert rec.events("stats_reset") == []


def test_reset_mm_stats_asserts_the_mm_list_lock(rec):
    w = mkworld()
    with w:
        w.mem_cgroup_alloc("A")
        lv = w.lruvec("A")
        M.reset_mm_stats(lv, walk_for(lv), False)
    assert rec.checks() == ["lockdep_assert_held"]
    assert rec.reports[0].condition == "&get_mm_list(lruvec_memcg(lruvec))->lock"


# --- every function under its kernel name -----------------------------------------------------------

SEED_FUNCTIONS = {
    "mmlist.model.mm_types": ["lru_gen_init_mm", "lru_gen_use_mm"],
    "mmlist.model.mm_list": [
        "lru_gen_add_mm", "lru_gen_del_mm", "lru_gen_migrate_mm", "get_mm_list",
        "lru_hist_from_seq", "filter_gen_from_seq", "get_item_key", "clear_bloom_filter",
        "set_bloom_filter", "test_bloom_filter", "reset_mm_stats", "should_skip_mm",
        "get_next_mm", "lru_gen_init_state", "lru_gen_init_memcg", "lru_gen_free_memcg"],
    "mmlist.model.fork": ["kernel_clone", "copy_process", "mm_init", "mmput", "__mmput",
                          "mmput_async", "mmget_not_zero", "mmdrop"],
    "mmlist.model.exec": ["exec_mmap"],
    "mmlist.model.exit": ["exit_mm", "mm_update_next_owner"],
    "mmlist.model.sched": ["context_switch", "kthread_use_mm", "switch_mm_irqs_off"],
    "mmlist.model.memcontrol": ["mem_cgroup_attach", "get_mem_cgroup_from_mm",
                                "mem_cgroup_from_task", "mem_cgroup_put", "get_lruvec"],
    "mmlist.model.aging": ["try_to_inc_max_seq", "inc_max_seq", "walk_mm",
                           "lru_gen_look_around", "lru_gen_age_node", "get_nr_to_scan",
                           "run_aging"],
}


@pytest.mark.parametrize("module, name", [(m, n) for m, ns in SEED_FUNCTIONS.items() for n in ns])
def test_every_function_exists_under_its_kernel_name(module, name):
    import importlib
    assert callable(getattr(importlib.import_module(module), name))
