"""Helpers shared by the sequential model tests."""
from __future__ import annotations

from typing import Any

import mmlist.runtime as rt
from mmlist.config import Config
from mmlist.model import World


def mkworld(**cfg: Any) -> World:
    """A World with small batches and PTE tables (scenario-sized), ``cfg`` overriding."""
    base = dict(MIN_LRU_BATCH=8, MAX_LRU_BATCH=64, PTRS_PER_PTE=16)
    base.update(cfg)
    return World(Config(**base))


def raw(obj: Any, name: str) -> Any:
    """A tracked field's value without recording an access."""
    return obj.__dict__["_" + name]


def set_raw(obj: Any, name: str, value: Any) -> None:
    obj.__dict__["_" + name] = value


def reset_setup_ctx() -> None:
    """Put the set-up context back as a fresh one: no task, IRQs on, no lock held."""
    ctx = rt.current_ctx()
    ctx.task = None
    ctx.irqs_disabled = False
    ctx.preempt_count = 0
    ctx.rcu_depth = 0
    ctx.locks_held.clear()
    ctx.waiting_on = None


def as_current(task: Any) -> Any:
    """Make ``task`` the ``current`` of the calling (set-up) context."""
    rt.current_ctx().task = task
    return task
