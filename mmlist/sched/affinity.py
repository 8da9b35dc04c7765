"""One CPU for a controlled exploration.

The controlled scheduler runs one model thread at a time, so a second CPU buys it nothing; but
a handoff between threads on two CPUs wakes the other CPU from idle, which on this machine costs
25-40 µs instead of 1.4 µs on one CPU (stress/benchmark.py measures both). ``one_cpu()`` pins
the calling thread, and so the worker threads it starts, to the CPU it runs on (the one the OS
picked for this process) for the duration of an exploration, and restores the affinity after.

``MMLIST_PIN=0`` turns it off; ``MMLIST_CPU=k`` names the CPU (``--jobs`` gives each worker
process its own). ``mmlist stress`` (``mmlist.churn``) pins its free-running threads too: they
take turns on one interpreter lock, so a second CPU only adds wake-ups (4.6x the hook
operations per second on one CPU, measured); the interleaving is the interpreter's switches and
the noise either way. ``mmlist.engines.free`` (``stress/free_stress.py``) is not pinned.
"""
from __future__ import annotations

import contextlib
import os
from typing import Iterator


def current_cpu() -> int | None:
    """The CPU the calling thread last ran on (Linux: field 39 of /proc/thread-self/stat)."""
    try:
        with open("/proc/thread-self/stat") as fh:
            data = fh.read()
        return int(data.rsplit(")", 1)[1].split()[36])
    except (OSError, ValueError, IndexError):
        return None


def chosen_cpu(allowed: set[int]) -> int:
    """``MMLIST_CPU`` (modulo the allowed CPUs, in order) if set, else the current CPU."""
    order = sorted(allowed)
    want = os.environ.get("MMLIST_CPU")
    if want is not None and want.strip().lstrip("-").isdigit():
        return order[int(want) % len(order)]
    cpu = current_cpu()
    return cpu if cpu in allowed else order[0]


@contextlib.contextmanager
def one_cpu() -> Iterator[int | None]:
    """Pin the calling thread (and the threads it starts meanwhile) to one CPU for the block;
    yields the CPU, or None when pinning is off or impossible."""
    setter = getattr(os, "sched_setaffinity", None)
    if setter is None or os.environ.get("MMLIST_PIN", "1") == "0":
        yield None
        return
    try:
        before = os.sched_getaffinity(0)
    except OSError:
        yield None
        return
    if len(before) <= 1:
        yield None
        return
    cpu = chosen_cpu(set(before))
    try:
        setter(0, {cpu})
    except OSError:
        yield None
        return
    try:
        yield cpu
    finally:
        try:
            setter(0, before)
        except OSError:                 # pragma: no cover (the set was valid a moment ago)
            pass
