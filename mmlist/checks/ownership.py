"""Ownership: an mm on a list sits on the list of its owner's memcg (outside a migration).

Commit message: "an mm_struct follows its owner task to the new memcg when this task is
migrated"; ``mm->lru_gen.memcg``: "points to the memcg of "owner" above". ``ownership`` is
checked with the structural checks (``at_step``, lists whose lock is free): for every mm on memcg
M's list, ``mem_cgroup_from_task(mm->owner)`` is M, except while the two legitimately disagree:

* the owner's css changed and its ``.attach`` has not run yet: from the ``cgroup_migrate`` event
  (after the css write) until the migrating thread releases the threadgroup rwsem, which
  ``cgroup_migrate()`` holds across ``mem_cgroup_attach()``, so across ``lru_gen_migrate_mm()``'s
  del and add;
* ``mm_update_next_owner()`` changed ``mm->owner``: from the ``new_owner`` event until that thread
  releases the new owner's ``task_lock``, which it holds across ``lru_gen_migrate_mm()``;
* no owner (``mm->owner == NULL``) or an owner that no longer uses the mm (``owner->mm != mm``:
  exit or exec dropped it and ``mm_update_next_owner()`` is still to run);
* the fork window needs no exception: the child's mm is on no list before ``lru_gen_add_mm()``.

Nothing to check without per-memcg lists (``CONFIG_MEMCG=n``, ``cgroup_disable=memory``).
"""
from __future__ import annotations

from typing import Any, Callable

from .report import label


def _raw(obj: Any, name: str) -> Any:
    return obj.__dict__["_" + name]


class Ownership:
    def __init__(self, suite: Any, world: Any):
        self.suite = suite
        self.world = world
        #: task -> the thread migrating it (its css changed, .attach not finished)
        self.css_windows: dict[Any, Any] = {}
        #: mm -> (thread, new owner): mm_update_next_owner() inside task_lock(new owner)
        self.owner_windows: dict[Any, tuple] = {}
        #: told when a window opens or closes (the structural checks judge the lists again)
        self.changed: Callable[[], None] = lambda: None

    def handlers(self) -> dict:
        return {"cgroup_migrate": self.t_cgroup_migrate, "new_owner": self.t_new_owner}

    @property
    def open(self) -> bool:
        return bool(self.css_windows or self.owner_windows)

    def t_cgroup_migrate(self, ctx: Any, f: dict) -> None:
        if f.get("result") == "ok" and f.get("task") is not None:
            self.css_windows[f["task"]] = ctx
            self.changed()

    def t_new_owner(self, ctx: Any, f: dict) -> None:
        self.owner_windows[f["mm"]] = (ctx, f["owner"])
        self.changed()

    def on_unlock(self, ctx: Any, lock: Any) -> None:
        if lock is self.world.cgroup_threadgroup_rwsem:
            for t in [t for t, who in self.css_windows.items() if who is ctx]:
                del self.css_windows[t]
                self.changed()
        for mm in [mm for mm, (who, c) in self.owner_windows.items()
                   if who is ctx and lock is c.alloc_lock]:
            del self.owner_windows[mm]
            self.changed()

    def check_list(self, memcg: Any, mm_list: Any, mms: list) -> None:
        """``mms``: the mms on ``memcg``'s list (its lock is free)."""
        w = self.world
        if not w.memcg_enabled:
            return
        for mm in mms:
            owner = _raw(mm, "owner")
            if owner is None or _raw(owner, "mm") is not mm:
                continue
            if owner in self.css_windows or mm in self.owner_windows:
                continue
            om = _raw(owner, "memcg") or w.root_mem_cgroup
            if om is not memcg:
                self.suite.report(
                    "ownership",
                    f"{label(mm)} is on {label(mm_list)} but its owner {label(owner)} is in "
                    f"memcg {label(om)}, and no migration of the owner is in progress",
                    function=None, condition="mm on the list of its owner's memcg",
                    details={"mm": label(mm), "list": label(mm_list), "owner": label(owner),
                             "owner_memcg": label(om)})
