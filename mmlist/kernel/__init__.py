"""Kernel primitives under their kernel names. Each observable operation calls the runtime hook.

This package plays the role of Loom's ``sync`` types: it mirrors what model code expects from
the kernel (``list_head``, ``spinlock_t``, ``READ_ONCE``, bitops, ``atomic_t``...), and knows
nothing about engines beyond ``mmlist.runtime.hook``.
"""
from .fields import (READ_ONCE, WRITE_ONCE, rcu_assign_pointer, rcu_dereference,
                     smp_load_acquire, smp_store_release, tracked)
from .list import (ListHead, INIT_LIST_HEAD, LIST_HEAD_INIT, list_add_tail, list_del_init,
                   list_empty, list_entry)
from .sync import (spinlock_t, rw_semaphore, wait_queue_head, spin_lock, spin_unlock,
                   spin_lock_irq, spin_unlock_irq, spin_lock_init, down_read_trylock, up_read,
                   init_waitqueue_head, prepare_to_wait, finish_wait, schedule_on, wait_event,
                   wait_event_killable, wake_up_all, wq_has_sleeper, local_irq_disable,
                   local_irq_enable, irqs_disabled, preempt_disable, preempt_enable,
                   rcu_read_lock, rcu_read_unlock, might_sleep, cond_resched, current,
                   lockdep_is_held, mutex, mutex_lock, mutex_unlock)
from .bitops import (bitmap, bitmap_zalloc, bitmap_free, bitmap_clear, set_bit, clear_bit,
                     test_bit, nodemask_t, nodes_clear, nodes_setall, nodes_full, node_isset,
                     node_clear, node_set, cpumask_t, cpumask_empty, cpumask_set_cpu,
                     cpumask_clear_cpu)
from .atomic import atomic_t, atomic_read, atomic_inc, atomic_inc_not_zero, atomic_dec_and_test
from .hash import GOLDEN_RATIO_64, hash_64, hash_ptr
from ..runtime import cover, covering
from .bug import (BUG_ON, BUILD_BUG_ON, KASAN_use_after_free, VM_BUG_ON, VM_BUG_ON_MM, VM_WARN_ON, WARN_ON_ONCE,
                  lockdep_assert_held)
