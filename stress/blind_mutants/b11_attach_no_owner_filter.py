DESCRIPTION = ("mem_cgroup_attach() drops the 'task->mm->owner == task' filter: moving a non-owner "
               "thread calls lru_gen_migrate_mm() holding the thread's task_lock, not the owner's "
               "(lru_gen_migrate_mm: lockdep_assert_held(&mm->owner->alloc_lock); seed hunk in "
               "mm/memcontrol.c).")
PATCHES = {
    "mem_cgroup_attach": [
        ("    if mm is not None and mm.owner is task:\n", "    if mm is not None:\n"),
    ],
}
