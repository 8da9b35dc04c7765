"""The counterexample as a table a kernel developer can read (Lincheck's interleaving table).

One column per thread, rows in time order, each naming the kernel function (the innermost frame
under ``mmlist.model``) and what it did there; a last column with the protocol state after the
row (``fifo=[mm1 mm2] head=mm2 tail=fifo seq=4 max_seq=5 nr_walkers=1``), shown when it
changed. Consecutive operations of one thread in one function share a row; the protocol's trace
points (``get_next_mm`` hand-outs with ``last``, ``iter_start``/``iter_end``, ``add``/``del``...)
and the kernel's reports always get a row of their own: they are what explains the bug.
"""
from __future__ import annotations

import re
import textwrap
from collections import Counter
from typing import Any

_LV = re.compile(r"lruvec\(memcg=(\d+),node=(\d+)\)")
_SKIP_WRITE_KINDS = {"ListHead", "tracked_array"}


def _short(label: str) -> str:
    return label.rsplit(".", 1)[-1] if "." in label else label


def _field(label: str, arg: str) -> str:
    base = _short(label)
    if arg.isdigit():
        return f"{base}[{arg}]"
    return f"{base}.{arg.strip(chr(39))}"


def _lv(text: str) -> str:
    return _LV.sub(lambda m: f"memcg{m.group(1)}/node{m.group(2)}", text)


def describe_event(ev: Any) -> str | None:
    """The cell text of one recorded event, or None when it is noise for a reader."""
    op, obj, arg, kind = ev.op, ev.obj, ev.arg, ev.kind
    if op == "LOCK":
        return f"{'mutex_lock' if kind == 'mutex' else 'spin_lock'}({obj})"
    if op == "UNLOCK":
        name = {"mutex": "mutex_unlock", "rw_semaphore": "up_read"}.get(kind, "spin_unlock")
        return f"{name}({obj})"
    if op == "TRYLOCK":
        return f"down_read_trylock({obj})"
    if op in ("READ_ONCE", "WRITE_ONCE"):
        return f"{op} {_field(obj, arg)}"
    if op == "WRITE":
        if kind in _SKIP_WRITE_KINDS:
            return None
        return f"{_field(obj, arg)} ="
    if op == "BIT_READ":
        return f"test_bit {_short(obj) if '[' not in obj else obj.rsplit('.', 1)[-1]}"
    if op == "BIT_WRITE":
        return f"set/clear_bit {_short(obj) if '[' not in obj else obj.rsplit('.', 1)[-1]}"
    if op == "ATOMIC":
        return f"atomic_{arg.strip(chr(39))}({obj})"
    if op == "WAIT_PREPARE":
        return f"prepare_to_wait({_lv(obj)})"
    if op == "WAIT_SCHEDULE":
        return f"schedule() on {_lv(obj)}"
    if op == "WAIT_FINISH":
        return f"finish_wait({_lv(obj)})"
    if op == "WAKE":
        return f"wake_up_all({_lv(obj)})"
    if op == "CONTEXT":
        return {"'irq_off'": "local_irq_disable()", "'irq_on'": "local_irq_enable()"}.get(arg)
    if op == "TRACE":
        facts = " ".join(f for f in arg.split(" ") if not f.startswith("walk="))
        return f"» {obj} {_lv(facts)}".rstrip()
    if op == "REPORT":
        return f"!! {arg}"
    if op == "CHOOSE":
        return f"CHOOSE {arg}"
    if op == "THREAD_END":
        arg = arg.strip(chr(39))
        return "(oops: thread ends)" if arg == "oops" else ("(model crash)" if arg == "error"
                                                           else "(returns)")
    return None


class _Row:
    __slots__ = ("tid", "function", "items", "last", "step", "special")

    def __init__(self, tid: int, function: str, item: str, last: int, step: int,
                 special: bool):
        self.tid, self.function, self.items = tid, function, [item]
        self.last, self.step, self.special = last, step, special

    def text(self, max_items: int = 6) -> str:
        counts = Counter(self.items)
        seen: list[str] = []
        for it in self.items:
            if it not in seen:
                seen.append(it)
        parts = [f"{it} ×{counts[it]}" if counts[it] > 1 else it for it in seen]
        if len(parts) > max_items:
            parts = parts[:max_items] + [f"… +{len(parts) - max_items} more"]
        head = f"{self.function}: " if self.function else ""
        return head + "; ".join(parts)


def build_rows(events: list, final_state: str) -> list[tuple[int, int, str, str]]:
    """``(step, tid, cell text, state after or "")`` per row."""
    rows: list[_Row] = []
    for i, ev in enumerate(events):
        text = describe_event(ev)
        if text is None:
            continue
        special = ev.op in ("TRACE", "REPORT")
        prev = rows[-1] if rows else None
        if (prev is not None and not special and not prev.special and prev.tid == ev.tid
                and prev.function == ev.function):
            prev.items.append(text)
            prev.last = i
        else:
            rows.append(_Row(ev.tid, ev.function, text, i, ev.step, special))
    out = []
    shown = None
    for r in rows:
        state = events[r.last + 1].state_before if r.last + 1 < len(events) else final_state
        cell_state = state if state != shown else ""
        shown = state
        out.append((r.step, r.tid, r.text(), cell_state))
    return out


def render(threads: list[str], rows: list[tuple[int, int, str, str]], title: str = "",
           footer: list[str] | None = None, col_width: int = 38, state_width: int = 64) -> str:
    ncol = len(threads)
    widths = []
    for tid, name in enumerate(threads):
        longest = max([len(name)] + [len(t) for _, rt_, t, _ in rows if rt_ == tid])
        widths.append(max(len(name), min(col_width, longest)))
    sw = max(5, min(state_width, max([5] + [len(s) for *_, s in rows])))
    header = ["step"] + list(threads) + ["state"]
    allw = [4] + widths + [sw]
    lines = []
    if title:
        lines.append(title)
    sep = "-+-".join("-" * w for w in allw)
    lines.append(" | ".join(h.ljust(w) for h, w in zip(header, allw)))
    lines.append(sep)
    for step, tid, text, state in rows:
        cells = [[str(step)]]
        for c in range(ncol):
            cells.append(textwrap.wrap(text, widths[c], break_on_hyphens=False) or [""]
                         if c == tid else [""])
        cells.append(textwrap.wrap(state, sw, break_on_hyphens=False) or [""])
        height = max(len(c) for c in cells)
        for k in range(height):
            lines.append(" | ".join((cells[j][k] if k < len(cells[j]) else "").ljust(allw[j])
                                    for j in range(len(allw))).rstrip())
    for f in footer or []:
        lines.append(f)
    return "\n".join(lines)


def counterexample_table(execution: Any, violation: Any, scenario: str,
                         replay_path: str | None = None) -> str:
    """The whole counterexample: title, table, the violation, and how to replay it."""
    rows = build_rows(execution.events or [], execution.final_state)
    title = (f"Counterexample for scenario {scenario!r}: {violation.check}"
             f"{' in ' + violation.function + '()' if violation.function else ''}"
             f" ({execution.preemptions} preemption(s), {execution.steps} steps)")
    footer = ["", f"Violation: {violation}"]
    if replay_path:
        footer.append(f"Replay: mmlist replay {replay_path}")
    else:
        footer.append("Replay: mmlist replay FILE   (save it with mmlist.sched.save_replay)")
    return render(execution.threads, rows, title, footer)
