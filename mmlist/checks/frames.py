"""Reading a model function's arguments from the calling thread's stack.

Some facts a check needs are not in any event: the ``scan_control`` of the aging
(``try_to_inc_max_seq``'s ``sc``), the walk ``should_skip_mm()`` is judging, the seq and item a
``test_bloom_filter()`` asks about. The checks run on the model thread that made the event
(every engine calls the listener there), so these are the locals of a frame up the stack. A
check that finds no such frame (a variant that moved the code) does not judge.
"""
from __future__ import annotations

import sys
from typing import Any

#: Modules whose frames are the model's (a PATCHES variant compiles in the model module's
#: globals; a variant file with whole functions is loaded as ``mmlist.variants._loaded.*``).
_MODEL = ("mmlist.model.", "mmlist.variants._loaded.")


def frame_locals(fn: str, depth: int = 2, limit: int = 40) -> dict[str, Any] | None:
    """The locals of the innermost model frame of function ``fn`` on the calling thread's
    stack, or None."""
    f = sys._getframe(depth)
    n = 0
    while f is not None and n < limit:
        if f.f_code.co_name == fn and f.f_globals.get("__name__", "").startswith(_MODEL):
            return f.f_locals
        f = f.f_back
        n += 1
    return None
