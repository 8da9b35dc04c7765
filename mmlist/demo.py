"""A short demo: every built-in scenario on free-running real threads, a few runs each."""
from __future__ import annotations

import time

from .engines.free import run_free
from .model.snapshot import describe_world
from .scenarios import BUILTIN


def demo(seconds: float = 5.0, seed: int = 0, out=print) -> int:
    """Run walker and life-cycle threads on real threads for about ``seconds``; print what
    happened. Returns the number of distinct kernel assertions that fired."""
    deadline = time.perf_counter() + seconds
    seen: dict[tuple, str] = {}
    runs = ops = 0
    out(f"mmlist demo: {len(BUILTIN)} scenarios on free-running threads, ~{seconds:.0f}s")
    while time.perf_counter() < deadline:
        for name, scenario in BUILTIN.items():
            world, specs = scenario.build()
            r = run_free(world, specs, seed=seed + runs, timeout=5)
            runs += 1
            ops += r.ops
            if runs <= len(BUILTIN):
                out(f"  {name:16} {len(specs)} threads, {r.ops:5} ops -> {describe_world(world)}")
            for v in r.violations:
                if v.key not in seen:
                    seen[v.key] = f"{name}: {v}"
            for e in r.errors:
                out(f"  model error in {name}: {e}")
            if r.hung:
                out(f"  {name}: threads still blocked after the timeout: {', '.join(r.hung)}")
            if time.perf_counter() >= deadline:
                break
    out(f"{runs} executions, {ops} observable operations through the runtime hook")
    if seen:
        out(f"{len(seen)} distinct kernel assertion(s) fired:")
        for line in seen.values():
            out(f"  {line}")
    else:
        out("no kernel assertion fired (free-running threads explore few interleavings: "
            "use `mmlist hunt`)")
    return len(seen)
