"""Candidate scenarios (prototypes, NOT registered as built-ins yet) that reach the coverage
points no built-in scenario reaches (`mmlist coverage`). Measured: each reaches its point(s) with the
portfolio within 300 executions. Next step: fold them into a few built-in scenarios and let the hunt
spend its budget where coverage still grows (docs/usage.md, coverage)."""
from mmlist import programs as P, runtime as rt
from mmlist.config import Config
from mmlist.scenarios import Scenario, _base, _pid_of
from mmlist.programs import ThreadSpec, _by_comm

C = dict(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16)

def exec_fail(comm):
    def body(w):
        from mmlist.model import fork
        mm = fork.mm_alloc(rt.current_ctx().task)   # bprm_mm_init(); exec fails before exec_mmap
        fork.mmput(mm)                               # free_bprm() -> mmput(bprm->mm)
    return ThreadSpec(f"exec-fail({comm})", body, _by_comm(comm))

def _three(w):
    _base(w, apps={"app1": "A", "app2": "A", "app3": "A"}, walkers=("reclaim0",))

def _small(w):
    _base(w, walkers=("reclaim0",)); w.spawn("A", comm="tiny", nr_regions=1, rss=0)

def _oom(w):
    _base(w, walkers=("reclaim0",))
    next(t for t in w.all_tasks if t.label == "app1").mm.__dict__  # noqa
    t = next(t for t in w.all_tasks if t.label == "app2"); t.__dict__["_mm"].oom_victim = True

def oom_kill(comm):
    def body(w):
        from mmlist.kernel.fields import note_write
        mm = _by_comm(comm)(w).__dict__["_mm"]
        note_write(mm, "oom_victim"); mm.oom_victim = True   # mark_oom_victim(): MMF_OOM_VICTIM
    return ThreadSpec(f"oom_kill({comm})", body, _by_comm("sh"))

def _moving(w):
    _base(w, walkers=("reclaim0",)); w.memcg("A").moving_account = True

def _owner_same(w):
    # as _setup_new_owner, but the thread stays in A
    from mmlist.model import fork
    from mmlist.model.structs import CLONE_VM
    _base(w, memcgs=("A", "B"), apps={"app1": "A", "app2": "A"}, walkers=("reclaim0",))
    app1 = next(t for t in w.all_tasks if t.label == "app1")
    ctx = rt.current_ctx(); saved, ctx.task = ctx.task, app1
    try:
        th = fork.kernel_clone(app1, CLONE_VM)
    finally:
        ctx.task = saved
    th.label = "app1-thread"

CANDIDATES = {
  "exec-fail": Scenario("exec-fail", "", setup=lambda w: _base(w, walkers=("reclaim0",)),
      threads=lambda w: [exec_fail("app1"), P.direct_reclaim("reclaim0", "A")]),
  "exit-head": Scenario("exit-head", "", setup=_three,
      threads=lambda w: [P.direct_reclaim("reclaim0", "A", rounds=2), P.exiter("app2"), P.kworker()]),
  "exit-head-2": Scenario("exit-head-2", "", setup=lambda w: _base(w, walkers=("reclaim0",)),
      threads=lambda w: [P.direct_reclaim("reclaim0", "A", rounds=2), P.exiter("app2"), P.kworker()]),
  "nomemcg-new-owner": Scenario("nomemcg-new-owner", "", config=Config(**C, mem_cgroup_disabled=True),
      setup=_owner_same, threads=lambda w: [P.exiter("app1"), P.direct_reclaim("reclaim0", "A")]),
  "gfp-atomic-fail": Scenario("gfp-atomic-fail", "", config=Config(**C, gfp_atomic_may_fail=True),
      setup=lambda w: _base(w), threads=lambda w: [P.direct_reclaim("reclaim0", "A"), P.direct_reclaim("reclaim1", "A")]),
  "lru-gen-stats": Scenario("lru-gen-stats", "", config=Config(**C, CONFIG_LRU_GEN_STATS=True),
      setup=lambda w: _base(w), threads=lambda w: [P.direct_reclaim("reclaim0", "A", rounds=2), P.direct_reclaim("reclaim1", "A")]),
  "switch-away": Scenario("switch-away", "", setup=lambda w: _base(w, walkers=("reclaim0",)),
      threads=lambda w: [P.direct_reclaim("reclaim0", "A", rounds=3), P.cpu(0, ["app1", "app2", "app1"])]),
  "small-mm": Scenario("small-mm", "", setup=_small, threads=lambda w: [P.direct_reclaim("reclaim0", "A")]),
  "oom-victim": Scenario("oom-victim", "", setup=_oom, threads=lambda w: [P.direct_reclaim("reclaim0", "A")]),
  "oom-kill-chunks": Scenario("oom-kill-chunks", "", config=Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=8, PTRS_PER_PTE=16),
      setup=lambda w: _base(w, walkers=("reclaim0",)), threads=lambda w: [P.direct_reclaim("reclaim0", "A"), oom_kill("app1")]),
  "walk-alloc-fail": Scenario("walk-alloc-fail", "", config=Config(**C, mm_walk_alloc_may_fail=True),
      setup=lambda w: _base(w), threads=lambda w: [P.direct_reclaim("reclaim0", "A"), P.direct_reclaim("reclaim1", "A")]),
  "low-priority": Scenario("low-priority", "", setup=lambda w: _base(w),
      threads=lambda w: [P.direct_reclaim("reclaim0", "A", priority=12), P.direct_reclaim("reclaim1", "A", priority=12)]),
  "mmap-contended": Scenario("mmap-contended", "", config=Config(**C, mmap_lock_contended=True),
      setup=lambda w: _base(w, walkers=("reclaim0",)), threads=lambda w: [P.direct_reclaim("reclaim0", "A")]),
  "moving-charges": Scenario("moving-charges", "", setup=_moving, threads=lambda w: [P.direct_reclaim("reclaim0", "A")]),
  "clone-vm": Scenario("clone-vm", "", setup=lambda w: _base(w, walkers=("reclaim0",)),
      threads=lambda w: [P.forker("app1", clone_vm=True), P.direct_reclaim("reclaim0", "A")]),
  "irqs-off-activate": Scenario("irqs-off-activate", "", config=Config(**C, CONFIG_ARCH_WANT_IRQS_OFF_ACTIVATE_MM=True),
      setup=lambda w: _base(w, walkers=("reclaim0",)), threads=lambda w: [P.execer("app1"), P.direct_reclaim("reclaim0", "A"), P.kworker()]),
  "thread-exits": Scenario("thread-exits", "", setup=_owner_same,
      threads=lambda w: [P.exiter("app1-thread"), P.direct_reclaim("reclaim0", "A")]),
  "owner-exits-thread-execs": Scenario("owner-exits-thread-execs", "", setup=_owner_same,
      threads=lambda w: [P.exiter("app1"), P.execer("app1-thread"), P.direct_reclaim("reclaim0", "A"), P.kworker()]),
  "owner-exits-same-memcg": Scenario("owner-exits-same-memcg", "", setup=_owner_same,
      threads=lambda w: [P.exiter("app1"), P.direct_reclaim("reclaim0", "A")]),
  "migrate-thread": Scenario("migrate-thread", "", setup=_owner_same,
      threads=lambda w: [P.migrator(_pid_of(w, "app1-thread"), "B"), P.direct_reclaim("reclaim0", "A")]),
  "migrate-kthread": Scenario("migrate-kthread", "", setup=lambda w: _base(w, memcgs=("A", "B"), walkers=("reclaim0",)),
      threads=lambda w: [P.migrator(_pid_of(w, "kworker/u8:0"), "B"), P.direct_reclaim("reclaim0", "A")]),
  "migrate-same": Scenario("migrate-same", "", setup=lambda w: _base(w, walkers=("reclaim0",)),
      threads=lambda w: [P.migrator(_pid_of(w, "app1"), "A"), P.direct_reclaim("reclaim0", "A")]),
}

CANDIDATES["exit-head-used"] = Scenario("exit-head-used", "", config=Config(**C, nr_cpus=1),
    setup=_three, threads=lambda w: [P.direct_reclaim("reclaim0", "A", rounds=2), P.cpu(0, ["app1"]),
                                     P.exiter("app2"), P.kworker()])
