"""Shared helpers of the check tests: small worlds and hand-built events."""
from __future__ import annotations

from mmlist import runtime as rt
from mmlist.checks import CheckSuite
from mmlist.config import Config
from mmlist.model import World


def small_world(**cfg) -> World:
    """memcg A with app1 (mm#1) and app2 (mm#2) on its list; a walker task; a shell."""
    w = World(Config(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16, **cfg))
    w.mem_cgroup_alloc("A")
    w.spawn("A", comm="app1", nr_regions=2)
    w.spawn("A", comm="app2", nr_regions=2)
    w.user_task("reclaim0", "A")
    w.user_task("reclaim1", "A")
    w.user_task("sh")
    return w


def ctx(name: str, tid: int = 0) -> rt.ThreadCtx:
    return rt.ThreadCtx(name=name, tid=tid)


def trace(suite: CheckSuite, c: rt.ThreadCtx, name: str, **facts) -> None:
    suite.on_event(c, rt.TRACE, name, facts)


def checks(suite: CheckSuite) -> set[str]:
    return {v.check for v in suite.violations}


def task(w: World, comm: str):
    return next(t for t in w.all_tasks if t.label == comm)
