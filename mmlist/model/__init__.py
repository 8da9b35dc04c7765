"""The executable model of the seed (MGLRU v6 5/9) and of its callers.

Modules follow the kernel's files: ``mm_list`` (mm/vmscan.c, "mm_struct list"), ``aging``
(mm/vmscan.c, patch 6/9), ``mm_types`` (include/linux/mm_types.h), ``fork``, ``exec``, ``exit``,
``sched``, ``memcontrol``. ``World`` holds the kernel's globals for one execution.
"""
from ..config import Config
from .world import World

MODEL_MODULES = ("mm_list", "aging", "mm_types", "fork", "exec", "exit", "sched", "memcontrol")

__all__ = ["Config", "World", "MODEL_MODULES"]
