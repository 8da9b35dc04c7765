"""Fix: ``exec_mmap()`` adds the new mm after IRQs are enabled again.

Under PREEMPT_RT ``spin_lock()`` on the mm_list lock is a sleeping lock, and the seed takes it in
``lru_gen_add_mm()`` between ``local_irq_disable()`` and ``local_irq_enable()``. Upstream (the
merged MGLRU, fs/exec.c) calls ``lru_gen_add_mm()`` after the last ``local_irq_enable()``, still
under ``task_lock()``, and ``lru_gen_use_mm()`` after ``task_unlock()``.
"""
DESCRIPTION = ("exec_mmap() calls lru_gen_add_mm() after local_irq_enable() (as upstream "
               "later did), so PREEMPT_RT's sleeping mm_list lock is not taken with IRQs off")

PATCHES = {
    "exec_mmap": [
        ("    tsk.mm = mm\n    mm_list.lru_gen_add_mm(mm)\n", "    tsk.mm = mm\n"),
        ("    activate_mm(active_mm, mm)\n    lru_gen_use_mm(mm)\n",
         "    activate_mm(active_mm, mm)\n"),
        ("        local_irq_enable()\n    task_unlock(tsk)\n",
         "        local_irq_enable()\n"
         "    mm_list.lru_gen_add_mm(mm)\n"
         "    task_unlock(tsk)\n"
         "    lru_gen_use_mm(mm)\n"),
    ],
}
