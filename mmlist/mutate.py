"""``mmlist mutate``: generated mutants of the model and the checker's mutation score.

Each mutant is one small change to one model function, written as a variant
(``PATCHES = {"function": [(old_text, new_text), ...]}``, see ``mmlist.variants``), so
``mmlist hunt --variant FILE`` reruns any of them. A short hunt runs each under the scenarios
that execute its function (``measure_coverage``: measured, not guessed; those whose ``covers``
names the function first): ``mmlist.hunt.hunt()`` on one scenario at a time, the budget split
as ``hunt()`` splits it over several, stopping at the first scenario that kills. The mutant is

* **killed** when a hunt reports at least one violation labelled *new* by the findings
  registry (``HuntReport.of_kind("new")``, exit code 1). A crash of the mutated model is a
  ``model_error`` violation of the checker, so it kills. Known findings and benign judgements
  of the faithful model (F1, F2, F4, B3, B4...) do not kill: they show without any mutation.
* **survived** when every hunt ends with exit code 0 or 3, or when no built-in scenario calls
  the function at all (reason ``uncovered``: a scenario gap, nothing was run).
* **not applicable** when it never ran as a model: its patch does not apply (``patch``), it
  does not compile or load (``syntax``, ``load``), it raises or hangs while a scenario's World
  is built (``setup``: in every relevant scenario; a scenario whose set-up alone fails is left
  out of the hunt; the set-up runs on real locks, so a mutant returning with a lock held
  deadlocks it), the harness raised (``harness``), or it hung its process for longer than the
  timeout (``timeout``: a loop without a scheduling point, which the scheduler never regains
  control from, so no check can see it).

The score is killed / (killed + survived), per function and overall.

Operators (``OPERATORS``; ids ``function:operator:line:index``, ``line`` counted from the
``def`` line = 1, ``index`` the rank among that operator's mutants on that line):

* ``negate``: the test of an ``if``/``elif``/``while``/conditional expression, ``not X`` (or
  ``X`` for ``not X``); for an ``and``/``or`` test also each operand alone;
* ``delete``: a statement (a compound one whole) becomes ``pass``;
* ``compare``: ``<``/``<=``, ``>``/``>=``, ``==``/``!=``, ``is``/``is not``, ``in``/``not in``
  swapped;
* ``off_by_one``: an integer constant ``n`` to ``n + 1`` and ``n - 1`` (as an index: ``n + 1``,
  and ``n - 1`` when ``n > 0``: ``x[-1]`` of a one-element ``iter`` is the same element), a
  variable index ``x[i]`` to ``x[i + 1]``;
* ``lock_pair``: a lock call and every matching unlock after it (until the lock is taken
  again: early-return unlocks included) dropped together: ``spin_lock``/``spin_unlock``,
  ``spin_lock_irq``, ``task_lock``, ``mutex_lock``, ``rcu_read_lock``, ``local_irq_disable``,
  ``preempt_disable``;
* ``plain_access``: the model's marked accesses are calls, ``READ_ONCE(obj, "f")``,
  ``READ_ONCE(arr, i)``, ``WRITE_ONCE(obj, "f", v)`` (``mmlist/kernel/fields.py``;
  ``smp_load_acquire``/``smp_store_release`` take the same arguments): they become the plain
  accesses ``obj.f``, ``arr[i]``, ``obj.f = v``, which the ``tracked`` descriptors and
  ``tracked_array`` record as plain (racy) accesses and which are not scheduling points;
* ``swap``: two adjacent statements of a block exchanged;
* ``early_return``: ``return`` (``False`` for a ``-> bool``, ``0`` for ``-> int``) inserted
  before a statement of the function's top level.

Left alone, because mutating them measures nothing about the checker: the docstring and
imports; the instrumentation, ``rt.trace(...)`` (the protocol events the history checks read),
``note_read``/``note_write``, the coverage marks ``cover(...)``, ``if covering(): ...`` blocks
and branches holding nothing but marks (``swap`` sees through all of these: it exchanges the
two statements around one); the model's own assertions (``VM_BUG_ON``, ``VM_BUG_ON_MM``,
``VM_WARN_ON``, ``BUG_ON``, ``WARN_ON_ONCE``, ``lockdep_assert_held``, ``might_sleep``):
deleting one is an equivalent mutant in the faithful model (it never fires there), negating one
fires it on the first call. A mutant whose AST equals the original's or an earlier mutant's
is dropped (``swap`` of two equal statements, say).

How patches are built: the function's source is exactly what ``mmlist.variants`` rebuilds
from, ``textwrap.dedent(inspect.getsource(fn))``; ``ast`` gives each node's line and column
(``end_lineno``/``end_col_offset``, UTF-8 byte columns converted to characters), the change is
spliced into the text, the changed lines are the ``old_text``, preceded in ``new_text`` by a
``# MUTANT: <operator>: <what>`` comment line at the same indentation. An ``old_text`` that
does not occur exactly once (``    spin_unlock(mm_list.lock)`` also occurs inside an
8-space-indented line) is widened by one line above, then one below, and so on, until it does;
the whole function always does. Several edits (``lock_pair``) are built bottom-up on the text
as already edited, in the order ``_patched`` applies them; every mutant is checked by applying
its PATCHES the way ``mmlist.variants`` does and parsing the result.

What was taken from mutmut, cosmic-ray and libcst (none is a dependency):

* mutmut (3.x, on libcst) and cosmic-ray (on parso) mutate whole modules and run a test
  suite against each mutant; here the unit is one model function, the "test suite" is a hunt,
  and the mutant must be a PATCHES variant, so their runners, databases and plug-in machinery do
  not fit. Their operator catalogues do: cosmic-ray's ``AddNot`` (``negate``),
  ``ReplaceComparisonOperator_*`` (``compare``), ``NumberReplacer`` (+1 and -1:
  ``off_by_one``) and ``RemoveStatement`` (``delete``, with ``pass`` left so a block stays
  valid); mutmut's ``+ 1`` on numbers and its skipping of what is not behaviour (its
  ``# pragma: no mutate``; here the instrumentation and assertions above). ``lock_pair``,
  ``plain_access``, ``swap`` and ``early_return`` are ours: concurrency operators.
* cosmic-ray's per-operator ``examples()`` (a before/after snippet each operator is tested
  against): ``tests/test_mutate.py`` does the same. Its ids (module, operator, occurrence) gave
  ``function:operator:line:index``. Its baseline (run the suite on the unmutated code first)
  gave the per-function baseline hunt: a faithful model that already shows a *new* violation
  would make every kill meaningless, and the report says so. mutmut's ``timeout`` status gave
  ours.
* libcst round-trips source exactly, which matters when a tool rewrites files. The PATCHES
  format only needs the changed lines as text, which ``ast`` positions plus line-level
  splicing give exactly, so the dependency does not pay.

Variants patch the model process-wide: each mutant runs in its own process (``forkserver``,
with the model preloaded, so a process costs milliseconds), at most ``jobs`` at a time, killed
at the timeout; ``jobs=0`` runs them one after the other in this process, without a timeout.
"""
from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import os
import re
import tempfile
import textwrap
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

# ---------------------------------------------------------------------------------------------
#                          what is mutated
# ---------------------------------------------------------------------------------------------

#: the seed's functions (mm/vmscan.c "mm_struct list" and include/linux/mm_types.h). The C's
#: ``reset_bloom_filter()`` is ``clear_bloom_filter()`` in the model (v6's name).
SEED_FUNCTIONS: tuple[str, ...] = (
    "get_mm_list", "lru_gen_add_mm", "lru_gen_del_mm", "lru_gen_migrate_mm",
    "clear_bloom_filter", "set_bloom_filter", "test_bloom_filter", "reset_mm_stats",
    "should_skip_mm", "get_next_mm", "lru_gen_init_state", "lru_gen_init_memcg",
    "lru_gen_free_memcg", "lru_gen_init_mm", "lru_gen_use_mm",
)
#: the aging (patch 6/9) and the page-table walk's users of the Bloom filters
AGING_FUNCTIONS: tuple[str, ...] = (
    "try_to_inc_max_seq", "inc_max_seq", "walk_mm", "walk_pmd_range", "lru_gen_look_around",
)
#: the functions of fork.c, exec.c, exit.c, memcontrol.c and sched's context switch that call
#: the seed
CALLER_FUNCTIONS: tuple[str, ...] = (
    "mm_init", "kernel_clone", "__mmput", "exec_mmap", "mm_update_next_owner",
    "mem_cgroup_attach", "mem_cgroup_css_free", "context_switch",
)
FUNCTIONS: tuple[str, ...] = SEED_FUNCTIONS + AGING_FUNCTIONS + CALLER_FUNCTIONS

OPERATORS: tuple[str, ...] = ("negate", "delete", "compare", "off_by_one", "lock_pair",
                              "plain_access", "swap", "early_return")

#: calls that are checks or instrumentation, not behaviour (see the module doc)
_ASSERTIONS = frozenset({"VM_BUG_ON", "VM_BUG_ON_MM", "VM_WARN_ON", "BUG_ON", "WARN_ON_ONCE",
                         "lockdep_assert_held", "might_sleep", "KASAN_use_after_free"})
_INSTRUMENTATION = frozenset({"note_read", "note_write", "cover", "covering"})

#: lock -> unlock
LOCK_PAIRS: dict[str, str] = {
    "spin_lock": "spin_unlock", "spin_lock_irq": "spin_unlock_irq",
    "task_lock": "task_unlock", "_task_lock": "_task_unlock",
    "mutex_lock": "mutex_unlock", "rcu_read_lock": "rcu_read_unlock",
    "local_irq_disable": "local_irq_enable", "preempt_disable": "preempt_enable",
    "down_read": "up_read",
}
_READS = frozenset({"READ_ONCE", "smp_load_acquire"})
_WRITES = frozenset({"WRITE_ONCE", "smp_store_release"})

_COMPARE_SWAP: dict[type, tuple[type, str, str]] = {
    # op -> (replacement op, regex of the op's text, replacement text)
    ast.Lt: (ast.LtE, r"<", "<="), ast.LtE: (ast.Lt, r"<=", "<"),
    ast.Gt: (ast.GtE, r">", ">="), ast.GtE: (ast.Gt, r">=", ">"),
    ast.Eq: (ast.NotEq, r"==", "!="), ast.NotEq: (ast.Eq, r"!=", "=="),
    ast.Is: (ast.IsNot, r"is", "is not"), ast.IsNot: (ast.Is, r"is\s+not", "is"),
    ast.In: (ast.NotIn, r"in", "not in"), ast.NotIn: (ast.In, r"not\s+in", "in"),
}

MARK = "# MUTANT:"
GENERATED_HEADER = "# Generated by `mmlist mutate`"


# ---------------------------------------------------------------------------------------------
#                          mutants
# ---------------------------------------------------------------------------------------------

@dataclass
class Mutant:
    """One generated mutant: a PATCHES variant of one model function."""

    id: str                         # function:operator:line:index
    function: str
    operator: str
    line: int                       # in the function, the ``def`` line is 1
    index: int
    what: str                       # one line: what changed
    patches: list[tuple[str, str]]
    before: list[str]               # the changed lines, before and after
    after: list[str]
    file: str = ""                  # e.g. mmlist/model/mm_list.py
    file_line: int = 0              # ``line`` in that file
    #: why it cannot run, when known at generation (a syntax error): "syntax: ..."
    invalid: str = ""
    source: str = field(default="", repr=False)     # the mutated function

    @property
    def slug(self) -> str:
        """A file stem: ``lru_gen_add_mm__delete__L12__0``."""
        return f"{self.function}__{self.operator}__L{self.line}__{self.index}"

    @property
    def where(self) -> str:
        return f"{self.file}:{self.file_line}" if self.file else f"line {self.line}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "function": self.function, "operator": self.operator,
                "line": self.line, "index": self.index, "what": self.what,
                "file": self.file, "file_line": self.file_line, "before": self.before,
                "after": self.after, "patches": [list(p) for p in self.patches],
                "invalid": self.invalid}

    def variant_text(self) -> str:
        """The mutant as a variant module (``mmlist hunt --variant FILE``)."""
        desc = f"generated mutant {self.id}: {self.what}"
        lines = [GENERATED_HEADER + f" ({self.id}); rerun: mmlist hunt --variant THIS_FILE",
                 f"# {self.operator} in {self.function}() at {self.where}:"]
        lines += [f"# - {t}".rstrip() for t in self.before]
        lines += [f"# + {t}".rstrip() for t in self.after]
        lines += ["", f"DESCRIPTION = {desc!r}", f"MUTANT_ID = {self.id!r}",
                  f"OPERATOR = {self.operator!r}", "", "PATCHES = {", f"    {self.function!r}: ["]
        for old, new in self.patches:
            lines.append(f"        ({old!r},")
            lines.append(f"         {new!r}),")
        lines += ["    ],", "}", ""]
        return "\n".join(lines)


class _Text:
    """A function's source with ast positions turned into character offsets."""

    def __init__(self, src: str):
        self.src = src
        self.lines = src.splitlines(keepends=True)
        self.starts = [0]
        for ln in self.lines:
            self.starts.append(self.starts[-1] + len(ln))

    def off(self, lineno: int, col: int) -> int:
        line = self.lines[lineno - 1]
        return self.starts[lineno - 1] + len(line.encode("utf-8")[:col].decode("utf-8",
                                                                              "replace"))

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (self.off(node.lineno, node.col_offset),
                self.off(node.end_lineno, node.end_col_offset))

    def seg(self, node: ast.AST) -> str:
        a, b = self.span(node)
        return self.src[a:b]

    def line_of(self, pos: int) -> int:
        """1-based line of a character offset."""
        lo, hi = 0, len(self.lines)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.starts[mid + 1] <= pos:
                lo = mid + 1
            else:
                hi = mid
        return lo + 1

    def indent(self, lineno: int) -> str:
        line = self.lines[lineno - 1]
        return line[:len(line) - len(line.lstrip())]

    def stmt_span(self, s: ast.stmt) -> tuple[int, int] | None:
        """Whole lines of ``s`` [start of its first line, end of its last line without the
        newline], or None when ``s`` shares a line with other code (``if x: return``)."""
        first = self.lines[s.lineno - 1]
        if first[:len(first) - len(first.lstrip())] != first[:self._col(s)]:
            return None
        a, b = self.span(s)
        last = self.lines[s.end_lineno - 1]
        tail = self.src[b:self.starts[s.end_lineno - 1] + len(last.rstrip("\r\n"))]
        if tail.strip() and not tail.strip().startswith("#"):
            return None
        return self.starts[s.lineno - 1], self.starts[s.end_lineno - 1] + len(last.rstrip("\r\n"))

    def _col(self, s: ast.stmt) -> int:
        return self.off(s.lineno, s.col_offset) - self.starts[s.lineno - 1]


def _call_name(node: ast.AST) -> str | None:
    if not isinstance(node, ast.Call):
        return None
    f = node.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        if f.attr == "trace" and isinstance(f.value, ast.Name) and f.value.id == "rt":
            return "rt.trace"
        return f.attr
    return None


def _is_instrumentation(node: ast.AST) -> bool:
    name = _call_name(node)
    return name is not None and (name == "rt.trace" or name in _ASSERTIONS
                                 or name in _INSTRUMENTATION)


def _coverage_guard(s: ast.AST) -> bool:
    """``if covering(): ...``: coverage marks that read state raw, never an operation."""
    return isinstance(s, ast.If) and any(_call_name(n) == "covering" for n in ast.walk(s.test))


def _is_docstring(s: ast.stmt) -> bool:
    return (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
            and isinstance(s.value.value, str))


def _skipped_stmt(s: ast.stmt) -> bool:
    """Not mutated as a statement: docstring, import, pass, a bare annotation,
    instrumentation, assertion."""
    if _is_docstring(s) or isinstance(s, (ast.Import, ast.ImportFrom, ast.Pass, ast.Global,
                                          ast.Nonlocal)):
        return True
    if _coverage_guard(s):
        return True
    if isinstance(s, ast.AnnAssign) and s.value is None:
        return True                             # ``memcg: mem_cgroup | None``: no code
    if isinstance(s, ast.If) and all(_skipped_stmt(x) for x in s.body + s.orelse):
        return True                             # ``elif ...: cover("...")``: marks only
    return isinstance(s, ast.Expr) and _is_instrumentation(s.value)


def _bodies(s: ast.AST) -> Iterable[list[ast.stmt]]:
    for name in ("body", "orelse", "finalbody"):
        b = getattr(s, name, None)
        if isinstance(b, list) and b and isinstance(b[0], ast.stmt):
            yield b
    for h in getattr(s, "handlers", None) or ():
        yield h.body


def _bodies_of(s: ast.stmt) -> bool:
    return any(True for _ in _bodies(s))


def _all_blocks(fdef: ast.FunctionDef) -> list[list[ast.stmt]]:
    out: list[list[ast.stmt]] = []

    def visit(block: list[ast.stmt]) -> None:
        out.append(block)
        for s in block:
            if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if _skipped_stmt(s):
                continue
            for b in _bodies(s):
                visit(b)
    visit(fdef.body)
    return out


def _expr_nodes(fdef: ast.FunctionDef) -> list[tuple[ast.AST, ast.AST | None]]:
    """(node, parent) for every node of the body, not inside a docstring, an f-string, an
    instrumentation or assertion call, nor a nested def."""
    out: list[tuple[ast.AST, ast.AST | None]] = []

    def visit(node: ast.AST, parent: ast.AST | None) -> None:
        if isinstance(node, (ast.JoinedStr, ast.FunctionDef, ast.AsyncFunctionDef,
                             ast.ClassDef)):
            return
        if _is_instrumentation(node) or (isinstance(node, ast.If) and _skipped_stmt(node)):
            return
        if isinstance(node, ast.stmt) and _is_docstring(node):
            return
        out.append((node, parent))
        for child in ast.iter_child_nodes(node):
            visit(child, node)
    for s in fdef.body:
        visit(s, fdef)
    return out


@dataclass
class _Cand:
    operator: str
    pos: tuple[int, int]                    # (line, col) in the function: the order
    edits: list[tuple[int, int, str]]       # (start, end, replacement) character offsets
    what: str
    sub: int = 0                            # order among candidates at the same position


def _needs_parens(node: ast.AST) -> bool:
    return isinstance(node, (ast.BoolOp, ast.IfExp, ast.Lambda, ast.NamedExpr))


def _negated(t: _Text, test: ast.expr) -> str:
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = t.seg(test.operand)
        return f"({inner})" if _needs_parens(test.operand) else inner
    text = t.seg(test)
    return f"not ({text})" if _needs_parens(test) else f"not {text}"


def _short(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 3] + "..."


# --- the operators ---------------------------------------------------------------------------

def _op_negate(t: _Text, fdef: ast.FunctionDef) -> list[_Cand]:
    out = []
    for node, _parent in _expr_nodes(fdef):
        if isinstance(node, (ast.If, ast.While, ast.IfExp)):
            test = node.test
            if isinstance(test, ast.Constant):
                continue
            a, b = t.span(test)
            out.append(_Cand("negate", (test.lineno, test.col_offset), [(a, b, _negated(t, test))],
                             f"negated `{_short(t.seg(test), 40)}`"))
            if isinstance(test, ast.BoolOp):
                for k, operand in enumerate(test.values):
                    a, b = t.span(operand)
                    out.append(_Cand("negate", (operand.lineno, operand.col_offset),
                                     [(a, b, _negated(t, operand))],
                                     f"negated the operand `{_short(t.seg(operand), 40)}`",
                                     sub=1 + k))
    return out


def _op_delete(t: _Text, fdef: ast.FunctionDef) -> list[_Cand]:
    out = []
    last = fdef.body[-1]
    for block in _all_blocks(fdef):
        for s in block:
            if _skipped_stmt(s):
                continue
            if s is last and isinstance(s, ast.Return) and s.value is None:
                continue                        # a trailing bare return: equivalent
            span = t.stmt_span(s)
            if span is None:
                continue
            a, b = span
            out.append(_Cand("delete", (s.lineno, s.col_offset),
                             [(a, b, t.indent(s.lineno) + "pass")],
                             f"deleted `{_short(t.lines[s.lineno - 1])}`"
                             + (" (the block)" if _bodies_of(s) else "")))
    return out


def _op_compare(t: _Text, fdef: ast.FunctionDef) -> list[_Cand]:
    out = []
    for node, _parent in _expr_nodes(fdef):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left] + list(node.comparators)
        for k, op in enumerate(node.ops):
            swap = _COMPARE_SWAP.get(type(op))
            if swap is None:
                continue
            _new_op, pattern, repl = swap
            gap_a = t.span(operands[k])[1]
            gap_b = t.span(operands[k + 1])[0]
            gap = t.src[gap_a:gap_b]
            m = re.search(r"(?<![\w<>=!])" + pattern + r"(?![\w<>=])", gap)
            if m is None:
                continue
            a, b = gap_a + m.start(), gap_a + m.end()
            out.append(_Cand("compare", (node.lineno, node.col_offset), [(a, b, repl)],
                             f"`{m.group(0)}` -> `{repl}` in `{_short(t.seg(node), 40)}`",
                             sub=k))
    return out


def _op_off_by_one(t: _Text, fdef: ast.FunctionDef) -> list[_Cand]:
    out = []
    for node, parent in _expr_nodes(fdef):
        if (isinstance(node, ast.Constant) and type(node.value) is int):
            n = node.value
            a, b = t.span(node)
            as_index = isinstance(parent, ast.Subscript) and parent.slice is node
            deltas = (1, -1) if not as_index or n > 0 else (1,)
            for k, d in enumerate(deltas):
                out.append(_Cand("off_by_one", (node.lineno, node.col_offset),
                                 [(a, b, str(n + d))],
                                 f"{'index ' if as_index else ''}{n} -> {n + d}", sub=k))
        elif isinstance(node, ast.Subscript):
            idx = node.slice
            if isinstance(idx, (ast.Constant, ast.Slice, ast.Tuple)):
                continue
            text = t.seg(idx)
            simple = isinstance(idx, (ast.Name, ast.Attribute, ast.Call, ast.Subscript))
            new = f"{text} + 1" if simple else f"({text}) + 1"
            a, b = t.span(idx)
            out.append(_Cand("off_by_one", (idx.lineno, idx.col_offset), [(a, b, new)],
                             f"index `{_short(text, 30)}` -> `{_short(new, 34)}`", sub=2))
    return out


def _op_lock_pair(t: _Text, fdef: ast.FunctionDef) -> list[_Cand]:
    calls: list[tuple[ast.stmt, str, str]] = []     # (statement, function, argument text)
    for block in _all_blocks(fdef):
        for s in block:
            if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call):
                name = _call_name(s.value)
                if name in LOCK_PAIRS or name in LOCK_PAIRS.values():
                    args = ", ".join(t.seg(a) for a in s.value.args)
                    calls.append((s, name, args))
    calls.sort(key=lambda c: (c[0].lineno, c[0].col_offset))
    out = []
    for i, (s, name, args) in enumerate(calls):
        unlock = LOCK_PAIRS.get(name)
        if unlock is None:
            continue
        pair = []
        for s2, name2, args2 in calls[i + 1:]:
            if args2 != args:
                continue
            if name2 == name:
                break                           # taken again: its own pair
            if name2 == unlock:
                pair.append(s2)
        if not pair:
            continue
        spans = [t.stmt_span(x) for x in [s] + pair]
        if any(sp is None for sp in spans):
            continue
        edits = [(a, b, t.indent(x.lineno) + "pass")
                 for (a, b), x in zip(spans, [s] + pair)]   # type: ignore[misc]
        out.append(_Cand("lock_pair", (s.lineno, s.col_offset), edits,
                         f"{name}({args})/{unlock}({args}) dropped"
                         + (f" ({len(pair)} unlocks)" if len(pair) > 1 else "")))
    return out


def _plain_target(t: _Text, obj: ast.expr, name: ast.expr) -> str:
    o = t.seg(obj)
    if not isinstance(obj, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)):
        o = f"({o})"
    if isinstance(name, ast.Constant) and isinstance(name.value, str):
        return f"{o}.{name.value}"
    return f"{o}[{t.seg(name)}]"


def _op_plain_access(t: _Text, fdef: ast.FunctionDef) -> list[_Cand]:
    out = []
    for node, parent in _expr_nodes(fdef):
        name = _call_name(node)
        if name in _READS and len(node.args) == 2 and not node.keywords:
            new = _plain_target(t, node.args[0], node.args[1])
            a, b = t.span(node)
            out.append(_Cand("plain_access", (node.lineno, node.col_offset), [(a, b, new)],
                             f"`{_short(t.seg(node), 40)}` -> plain read `{new}`"))
        elif (name in _WRITES and len(node.args) == 3 and not node.keywords
              and isinstance(parent, ast.Expr)):
            target = _plain_target(t, node.args[0], node.args[1])
            value = t.seg(node.args[2])
            if "\n" in value:
                value = f"({value})"
            new = f"{target} = {value}"
            a, b = t.span(node)
            out.append(_Cand("plain_access", (node.lineno, node.col_offset), [(a, b, new)],
                             f"`{_short(t.seg(node), 40)}` -> plain write `{_short(new, 40)}`"))
    return out


_JUMPS = (ast.Return, ast.Break, ast.Continue, ast.Raise)


def _op_swap(t: _Text, fdef: ast.FunctionDef) -> list[_Cand]:
    out = []
    for block in _all_blocks(fdef):
        real = [s for s in block if not _skipped_stmt(s)]   # seen through: instrumentation
        for s1, s2 in zip(real, real[1:]):
            if isinstance(s1, _JUMPS) or isinstance(s2, _JUMPS):
                continue                    # a jump first makes the other dead: a deletion
            sp1, sp2 = t.stmt_span(s1), t.stmt_span(s2)
            if sp1 is None or sp2 is None:
                continue
            text1, text2 = t.src[sp1[0]:sp1[1]], t.src[sp2[0]:sp2[1]]
            if text1 == text2:
                continue
            gap = t.src[sp1[1]:sp2[0]]
            out.append(_Cand("swap", (s1.lineno, s1.col_offset),
                             [(sp1[0], sp2[1], text2 + gap + text1)],
                             f"`{_short(t.lines[s1.lineno - 1], 30)}` and "
                             f"`{_short(t.lines[s2.lineno - 1], 30)}` swapped"))
    return out


def _return_text(t: _Text, fdef: ast.FunctionDef) -> str:
    ann = t.seg(fdef.returns).strip() if fdef.returns is not None else "None"
    if ann == "None":
        return "return"
    if ann == "bool":
        return "return False"
    if ann == "int":
        return "return 0"
    return "return None"


def _op_early_return(t: _Text, fdef: ast.FunctionDef) -> list[_Cand]:
    out = []
    ret = _return_text(t, fdef)
    prev: ast.stmt | None = None
    for s in fdef.body:
        skip = (_skipped_stmt(s) or isinstance(s, _JUMPS)
                or (prev is not None and isinstance(prev, _JUMPS)))
        prev = s
        if skip:
            continue
        sp = t.stmt_span(s)
        if sp is None:
            continue
        a = sp[0]
        out.append(_Cand("early_return", (s.lineno, s.col_offset),
                         [(a, a, t.indent(s.lineno) + ret + "\n")],
                         f"`{ret}` before `{_short(t.lines[s.lineno - 1], 40)}`"))
    return out


_OPERATOR_FUNCS: dict[str, Callable[[_Text, ast.FunctionDef], list[_Cand]]] = {
    "negate": _op_negate, "delete": _op_delete, "compare": _op_compare,
    "off_by_one": _op_off_by_one, "lock_pair": _op_lock_pair,
    "plain_access": _op_plain_access, "swap": _op_swap, "early_return": _op_early_return,
}


# --- patches ---------------------------------------------------------------------------------

def _unique(src: str, old: str, at: int) -> bool:
    return src.find(old) == at and src.find(old, at + 1) == -1


def _edit(src: str, start: int, end: int, repl: str, marker: str | None
          ) -> tuple[str, str, str, list[str], list[str]]:
    """One edit of ``src`` as a patch: (old_text, new_text, new_src, before, after)."""
    t = _Text(src)
    l1 = t.line_of(start)
    l2 = t.line_of(end - 1) if end > start else l1
    ls = t.starts[l1 - 1]
    le = t.starts[l2 - 1] + len(t.lines[l2 - 1].rstrip("\r\n"))
    edited = src[ls:start] + repl + src[end:le]
    mark = f"{t.indent(l1)}{marker}\n" if marker else ""
    new_src = src[:ls] + mark + edited + src[le:]
    before = src[ls:le].split("\n")
    after = edited.split("\n")
    # widen, one line above then one below, until old occurs exactly once
    a, b = l1, l2
    while True:
        ws = t.starts[a - 1]
        we = t.starts[b - 1] + len(t.lines[b - 1].rstrip("\r\n"))
        old = src[ws:we]
        if _unique(src, old, ws) or (a == 1 and b == len(t.lines)):
            break
        if a > 1 and (l1 - a) <= (b - l2):
            a -= 1
        elif b < len(t.lines):
            b += 1
        else:
            a -= 1
    new = src[ws:ls] + mark + edited + src[le:we]
    return old, new, new_src, before, after


def apply_patches(src: str, patches: list[tuple[str, str]]) -> str:
    """What ``mmlist.variants`` does with PATCHES (each old_text must occur exactly once)."""
    for old, new in patches:
        n = src.count(old)
        if n != 1:
            raise ValueError(f"{old.strip()!r} occurs {n} times, not once")
        src = src.replace(old, new)
    return src


def _build(src: str, cand: _Cand, marked: bool) -> tuple[list[tuple[str, str]], str,
                                                         list[str], list[str]]:
    patches: list[tuple[str, str]] = []
    before: list[str] = []
    after: list[str] = []
    cur = src
    marker = f"{MARK} {cand.operator}: {_short(cand.what, 80)}" if marked else None
    for start, end, repl in sorted(cand.edits, key=lambda e: -e[0]):    # bottom-up
        old, new, cur, b, a = _edit(cur, start, end, repl, marker)
        patches.append((old, new))
        before[:0] = b
        after[:0] = a
    return patches, cur, before, after


def _function_def(src: str) -> ast.FunctionDef:
    tree = ast.parse(src)
    fdef = tree.body[0]
    if not isinstance(fdef, (ast.FunctionDef, ast.AsyncFunctionDef)):
        raise ValueError("not a function")
    return fdef  # type: ignore[return-value]


def mutants_of_source(function: str, src: str, operators: Iterable[str] | None = None,
                      file: str = "", first_line: int = 1) -> list[Mutant]:
    """Every mutant of one function's source (``src`` starts with its ``def``), in source
    order (line, column, then ``OPERATORS`` order), with stable ids."""
    ops = list(operators) if operators is not None else list(OPERATORS)
    unknown = [o for o in ops if o not in _OPERATOR_FUNCS]
    if unknown:
        raise ValueError(f"unknown operator(s) {unknown}; known: {', '.join(OPERATORS)}")
    t = _Text(src)
    fdef = _function_def(src)
    original = ast.dump(fdef)
    cands: list[_Cand] = []
    for op in OPERATORS:
        if op in ops:
            cands.extend(_OPERATOR_FUNCS[op](t, fdef))
    order = {op: i for i, op in enumerate(OPERATORS)}
    cands.sort(key=lambda c: (c.pos, order[c.operator], c.sub))
    seen = {original}
    out: list[Mutant] = []
    counter: dict[tuple[str, int], int] = {}
    for c in cands:
        invalid = ""
        for marked in (True, False):
            patches, mutated, before, after = _build(src, c, marked)
            try:
                dump = ast.dump(_function_def(mutated))
                invalid = ""
                break
            except SyntaxError as e:
                invalid = f"syntax: {e.msg} (line {e.lineno})"
                dump = None
        if dump is not None:
            if dump in seen:
                continue                        # equivalent to the original or a duplicate
            seen.add(dump)
        if apply_patches(src, patches) != mutated:      # pragma: no cover - a generator bug
            raise AssertionError(f"{function}: patches of {c.what} do not rebuild the mutant")
        line = c.pos[0]
        k = counter.get((c.operator, line), 0)
        counter[(c.operator, line)] = k + 1
        out.append(Mutant(id=f"{function}:{c.operator}:{line}:{k}", function=function,
                          operator=c.operator, line=line, index=k, what=c.what,
                          patches=patches, before=before, after=after,
                          file=file, file_line=first_line + line - 1, invalid=invalid,
                          source=mutated))
    return out


def function_source(name: str) -> tuple[str, str, int]:
    """(source as ``mmlist.variants`` rebuilds it, file relative to the repo, first line)."""
    from .variants import _originals
    fn = _originals(name)
    if fn is None:
        from .model import MODEL_MODULES
        raise ValueError(f"{name}() is not a function of the model "
                         f"(modules {', '.join(MODEL_MODULES)})")
    src = textwrap.dedent(inspect.getsource(fn))
    path = Path(inspect.getsourcefile(fn) or "")
    root = Path(__file__).resolve().parent.parent
    try:
        rel = str(path.resolve().relative_to(root))
    except ValueError:
        rel = str(path)
    return src, rel, fn.__code__.co_firstlineno


def generate(functions: Iterable[str] | None = None, operators: Iterable[str] | None = None,
             limit: int | None = None) -> list[Mutant]:
    """The mutants of ``functions`` (default ``FUNCTIONS``) in a fixed order. ``limit``: at most
    that many per function, taken round-robin over the operators (so a small sample still
    covers several), keeping source order."""
    out: list[Mutant] = []
    for fname in (list(functions) if functions is not None else list(FUNCTIONS)):
        src, file, first = function_source(fname)
        ms = mutants_of_source(fname, src, operators, file=file, first_line=first)
        if limit is not None and len(ms) > limit:
            ms = _round_robin(ms, limit)
        out.extend(ms)
    return out


def _round_robin(ms: list[Mutant], limit: int) -> list[Mutant]:
    by_op: dict[str, list[Mutant]] = {}
    for m in ms:
        by_op.setdefault(m.operator, []).append(m)
    chosen: set[str] = set()
    k = 0
    while len(chosen) < limit:
        progressed = False
        for op in OPERATORS:
            group = by_op.get(op, [])
            if k < len(group) and len(chosen) < limit:
                chosen.add(group[k].id)
                progressed = True
        if not progressed:
            break
        k += 1
    return [m for m in ms if m.id in chosen]


# ---------------------------------------------------------------------------------------------
#                          which scenarios run which function
# ---------------------------------------------------------------------------------------------

_HITS: dict[str, set[str]] = {}


def measure_coverage(functions: Iterable[str], executions: int = 4, seed: int = 0
                     ) -> dict[str, list[str]]:
    """For each function, the built-in scenarios (in ``BUILTIN`` order) that call it: in a
    World's set-up or in ``executions`` random-schedule executions, plus those whose ``covers``
    names it (those first). Measured with a variant of counting wrappers, the same patching
    a mutant gets, so a call that a mutant would not reach is not counted either."""
    import functools

    from .sched import explore
    from .scenarios import BUILTIN
    from .variants import Variant, _originals
    import sys

    fnames = list(functions)
    current: list[str] = [""]
    _HITS.clear()

    def wrapper(fname: str, orig: Callable) -> Callable:
        @functools.wraps(orig)
        def counted(*a: Any, **k: Any) -> Any:
            _HITS.setdefault(fname, set()).add(current[0])
            return orig(*a, **k)
        return counted

    repl = {}
    for f in fnames:
        orig = _originals(f)
        if orig is None:
            raise ValueError(f"{f}() is not a function of the model")
        repl[f] = wrapper(f, orig)
    probe = Variant(name="mutate-coverage-probe", path=Path(__file__),
                    module=sys.modules[__name__], description="coverage probe",
                    replacements=repl)
    for name, sc in BUILTIN.items():
        current[0] = name
        try:
            explore(sc, strategy="random", seed=seed, max_executions=executions,
                    variant=probe, shrink=False)
        finally:
            _reset_runtime()
    out = {}
    for f in fnames:
        hit = _HITS.get(f, set())
        named = {n for n, sc in BUILTIN.items() if any(f in c for c in sc.covers)}
        # the scenarios made for the function first: with the hunt stopping at the first new
        # violation, they decide most kills early
        out[f] = ([n for n in BUILTIN if n in named]
                  + [n for n in BUILTIN if n in hit and n not in named])
    return out


def _reset_runtime() -> None:
    """The set-up context and engine as fresh (after a mutant raised in a World's set-up)."""
    from . import runtime as rt
    rt.install(None)
    rt.set_world(None)
    ctx = rt.current_ctx()
    for attr, value in (("task", None), ("irqs_disabled", False), ("preempt_count", 0),
                        ("rcu_depth", 0), ("waiting_on", None)):
        if hasattr(ctx, attr):
            setattr(ctx, attr, value)
    held = getattr(ctx, "locks_held", None)
    if held is not None:
        held.clear()


# ---------------------------------------------------------------------------------------------
#                          running one mutant
# ---------------------------------------------------------------------------------------------

KILLED, SURVIVED, NOT_APPLICABLE = "killed", "survived", "not_applicable"


def evaluate(task: dict[str, Any]) -> dict[str, Any]:
    """Run one mutant's hunt (or the faithful model's, ``path`` None) in this process.

    ``task``: {"path": variant file or None, "scenarios": [names], "budget": s, "seed": n}.
    Returns a plain dict (it crosses a process boundary)."""
    from .hunt import EXIT_NEW, hunt
    from .scenarios import BUILTIN
    t0 = time.monotonic()
    res: dict[str, Any] = {"status": NOT_APPLICABLE, "reason": "", "detail": "",
                           "scenarios": [], "setup_errors": {}, "exit_code": None,
                           "new": 0, "known": 0, "benign": 0, "executions": 0,
                           "killed_by": None, "findings": []}
    variant = None
    if task.get("path"):
        from .variants import load_variant
        try:
            variant = load_variant(task["path"])
        except SyntaxError as e:
            res.update(reason="syntax", detail=f"{e.msg} (line {e.lineno})")
            return _done(res, t0)
        except ValueError as e:
            what = "patch" if "occurs" in str(e) else "load"
            res.update(reason=what, detail=str(e))
            return _done(res, t0)
        except Exception as e:              # noqa: BLE001 - the mutant's own failure
            res.update(reason="load", detail=f"{type(e).__name__}: {e}")
            return _done(res, t0)
    scenarios = []
    limit = float(task.get("setup_timeout", 3.0))     # a World builds in milliseconds
    for name in task["scenarios"]:
        sc = BUILTIN[name]
        error = _build_error(sc, variant, limit) if variant is not None else None
        if error is None:
            scenarios.append(sc)
        else:
            res["setup_errors"][name] = error
            if error.startswith("hung"):
                limit = min(limit, 0.5)             # the next set-up will likely hang too
    res["scenarios"] = [s.name for s in scenarios]
    if not scenarios:
        first = next(iter(res["setup_errors"].items()), ("", ""))
        res.update(reason="setup", detail=f"raised or hung while building every scenario, "
                                          f"e.g. {first[0]}: {first[1]}")
        return _done(res, t0)
    budget = float(task["budget"])
    seed = int(task.get("seed", 0))
    findings: list[Any] = []
    executions = 0
    exit_codes = []
    hunted = []
    t_hunt = time.monotonic()
    try:
        # hunt() one scenario at a time, its budget split as hunt() splits it, so that the
        # first new violation ends the mutant's run: the rest cannot change the verdict
        for i, sc in enumerate(scenarios):
            remaining = budget - (time.monotonic() - t_hunt)
            share = max(0.2, remaining / (len(scenarios) - i))
            report = hunt([sc], budget=share, seed=seed, variant=variant, out_dir=None)
            hunted.append(sc.name)
            findings.extend(report.findings)
            executions += sum(r.executions for r in report.results)
            exit_codes.append(report.exit_code)
            if report.interrupted:
                res["interrupted"] = True
                break
            if report.of_kind("new") and task.get("stop_on_kill", True):
                break
    except Exception as e:                  # noqa: BLE001
        res.update(reason="harness", detail=_exc_line(e),
                   traceback=traceback.format_exc(limit=8))
        return _done(res, t0)
    finally:
        _reset_runtime()
    new = [f for f in findings if f.label.kind == "new"]
    exit_code = EXIT_NEW if new else max(exit_codes, default=0)
    res.update(exit_code=exit_code, new=len(new),
               known=sum(f.label.kind == "known" for f in findings),
               benign=sum(f.label.kind == "benign" for f in findings),
               executions=executions, hunted=hunted,
               findings=[{"scenario": f.scenario, "label": f.label.kind, "id": f.label.id,
                          "check": f.violation.check, "function": f.violation.function,
                          "violation": _short(str(f.violation), 200)}
                         for f in findings])
    if new:
        f = new[0]
        res["killed_by"] = {"scenario": f.scenario, "check": f.violation.check,
                            "function": f.violation.function,
                            "violation": _short(str(f.violation), 200)}
    res["status"] = KILLED if new else SURVIVED
    return _done(res, t0)


def _build_error(scenario: Any, variant: Any, limit: float) -> str | None:
    """Build ``scenario``'s World under ``variant`` once: None if it builds, else why not. The
    set-up runs on the default engine, whose locks are real: a mutant that returns with a lock
    held deadlocks the next set-up call for good, so the build runs in a daemon thread and is
    given up after ``limit`` seconds (the thread stays blocked; the process is one mutant's)."""
    import threading
    box: dict[str, str] = {}

    def build() -> None:
        try:
            with variant.applied():
                scenario.build()
        except BaseException as e:          # noqa: BLE001 - KernelPanic, NameError...
            box["error"] = _exc_line(e)
        finally:
            _reset_runtime()

    th = threading.Thread(target=build, name=f"mutant-setup-{scenario.name}", daemon=True)
    th.start()
    th.join(limit)
    if th.is_alive():
        _reset_runtime()
        return (f"hung for {limit:g}s while building the World (a lock left held in the "
                f"set-up, which runs on real locks?)")
    return box.get("error")


def _done(res: dict[str, Any], t0: float) -> dict[str, Any]:
    res["seconds"] = round(time.monotonic() - t0, 3)
    return res


def _exc_line(e: BaseException) -> str:
    v = getattr(e, "violation", None)
    if v is not None:
        return f"{type(e).__name__}: {_short(str(v), 160)}"
    return f"{type(e).__name__}: {_short(str(e), 160)}"


def _child(conn: Any, task: dict[str, Any], slot: int = 0) -> None:
    """A worker process: one task, its result down the pipe. ``slot``: which of the ``--jobs``
    running at once it is, and so its CPU (``mmlist.sched.affinity``)."""
    os.environ.setdefault("MMLIST_CPU", str(slot))
    try:
        res = evaluate(task)
    except BaseException as e:              # noqa: BLE001 - reported, never lost
        res = {"status": NOT_APPLICABLE, "reason": "harness", "detail": _exc_line(e),
               "traceback": traceback.format_exc(limit=8)}
    try:
        conn.send(res)
    finally:
        conn.close()
    os._exit(0)         # a set-up thread left blocked (``_build_error``) must not hold us


_PRELOAD = ["mmlist.mutate", "mmlist.hunt", "mmlist.sched", "mmlist.checks",
            "mmlist.scenarios", "mmlist.variants", "mmlist.programs"]


def _mp_context() -> Any:
    from .parallel import mp_context
    return mp_context(_PRELOAD)


def _run_tasks(tasks: list[dict[str, Any]], jobs: int, timeout: float,
               on_result: Callable[[int, dict[str, Any]], None]) -> bool:
    """Run ``tasks`` in worker processes, ``jobs`` at a time; ``on_result(i, result)`` as each
    ends. Returns False when interrupted (Ctrl-C): running workers are killed."""
    from multiprocessing.connection import wait
    if jobs <= 0:
        try:
            for i, task in enumerate(tasks):
                on_result(i, evaluate(task))
        except KeyboardInterrupt:
            return False
        return True
    ctx = _mp_context()
    pending = list(enumerate(tasks))
    running: dict[Any, tuple[int, Any, float]] = {}     # conn -> (task index, process, start)
    slots: dict[Any, int] = {}                          # conn -> its process's CPU slot
    try:
        while pending or running:
            while pending and len(running) < jobs:
                i, task = pending.pop(0)
                recv, send = ctx.Pipe(duplex=False)
                slot = min(set(range(jobs)) - set(slots.values()))
                proc = ctx.Process(target=_child, args=(send, task, slot), daemon=True,
                                   name=f"mmlist-mutant-{i}")
                proc.start()
                send.close()
                running[recv] = (i, proc, time.monotonic())
                slots[recv] = slot
            now = time.monotonic()
            wait_for = min(start + timeout - now for _, _, start in running.values())
            ready = wait(list(running), timeout=max(0.05, wait_for))
            for conn in ready:
                i, proc, start = running.pop(conn)
                slots.pop(conn, None)
                try:
                    res = conn.recv()
                except (EOFError, OSError):
                    proc.join(5)
                    res = {"status": NOT_APPLICABLE, "reason": "crash",
                           "detail": f"the worker process died (exit code {proc.exitcode})",
                           "seconds": round(time.monotonic() - start, 3)}
                conn.close()
                proc.join(5)
                on_result(i, res)
            now = time.monotonic()
            for conn, (i, proc, start) in list(running.items()):
                if now - start > timeout:
                    proc.kill()
                    proc.join(5)
                    conn.close()
                    del running[conn]
                    slots.pop(conn, None)
                    on_result(i, {"status": NOT_APPLICABLE, "reason": "timeout",
                                  "detail": f"no result after {timeout:g}s: the mutant hangs "
                                            "the model (a loop without a scheduling point?)",
                                  "seconds": round(now - start, 3)})
    except KeyboardInterrupt:
        for conn, (_i, proc, _s) in running.items():
            proc.kill()
            proc.join(5)
            conn.close()
        return False
    return True


# ---------------------------------------------------------------------------------------------
#                          the report
# ---------------------------------------------------------------------------------------------

@dataclass
class MutantResult:
    mutant: Mutant
    status: str = NOT_APPLICABLE
    reason: str = ""
    detail: str = ""
    scenarios: list[str] = field(default_factory=list)
    setup_errors: dict[str, str] = field(default_factory=dict)
    #: the scenarios actually hunted, in order (the hunt stops at the first new violation)
    hunted: list[str] = field(default_factory=list)
    killed_by: dict[str, Any] | None = None
    exit_code: int | None = None
    new: int = 0
    known: int = 0
    benign: int = 0
    executions: int = 0
    seconds: float = 0.0
    findings: list[dict[str, Any]] = field(default_factory=list)
    variant_path: str | None = None
    #: the hunt budget (seconds) of the pass that gave this result: a rerun of the survivors
    #: with a longer budget (``--rerun``) replaces their results and records its own budget
    budget: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["mutant"] = self.mutant.to_dict()
        return d

    @classmethod
    def from_dict(cls, mutant: Mutant, d: dict[str, Any]) -> "MutantResult":
        """A result of an earlier report, attached to ``mutant`` regenerated from the source."""
        r = cls(mutant)
        for f in dataclasses.fields(cls):
            if f.name != "mutant" and f.name in d:
                setattr(r, f.name, d[f.name])
        return r


@dataclass
class MutationReport:
    functions: list[str]
    budget: float
    seed: int
    jobs: int
    timeout: float
    results: list[MutantResult] = field(default_factory=list)
    #: function -> the scenarios its mutants were hunted in
    coverage: dict[str, list[str]] = field(default_factory=dict)
    #: function -> the faithful model's hunt over the same scenarios (a sanity check)
    baseline: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0
    interrupted: bool = False
    out_dir: str | None = None
    #: the passes that produced the results: the first over every mutant, then each
    #: ``--rerun`` of the survivors (budget, how many were rerun, how many it killed)
    passes: list[dict[str, Any]] = field(default_factory=list)

    # --- counts ---------------------------------------------------------------------------------
    @staticmethod
    def _counts(rs: list[MutantResult]) -> dict[str, Any]:
        k = sum(r.status == KILLED for r in rs)
        s = sum(r.status == SURVIVED for r in rs)
        n = sum(r.status == NOT_APPLICABLE for r in rs)
        return {"generated": len(rs), "not_applicable": n, "killed": k, "survived": s,
                "score": (k / (k + s)) if (k + s) else None}

    def counts(self, function: str | None = None, operator: str | None = None
               ) -> dict[str, Any]:
        rs = [r for r in self.results
              if (function is None or r.mutant.function == function)
              and (operator is None or r.mutant.operator == operator)]
        return self._counts(rs)

    @property
    def score(self) -> float | None:
        return self.counts()["score"]

    @property
    def survivors(self) -> list[MutantResult]:
        return [r for r in self.results if r.status == SURVIVED]

    # --- rendering -------------------------------------------------------------------------------
    def table(self) -> str:
        """The per-function table and the overall row, as markdown."""
        head = ("| function | generated | not applicable | killed | survived | score |\n"
                "|---|---:|---:|---:|---:|---:|")
        rows = [head]
        for f in self.functions:
            c = self.counts(function=f)
            if c["generated"]:
                rows.append(_row(f"`{f}`", c))
        rows.append(_row("**overall**", self.counts()))
        return "\n".join(rows)

    def operator_table(self) -> str:
        head = ("| operator | generated | not applicable | killed | survived | score |\n"
                "|---|---:|---:|---:|---:|---:|")
        rows = [head]
        for op in OPERATORS:
            c = self.counts(operator=op)
            if c["generated"]:
                rows.append(_row(op, c))
        return "\n".join(rows)

    def render(self) -> str:
        c = self.counts()
        lines = [f"mmlist mutate: {len(self.functions)} function(s), {c['generated']} mutants, "
                 f"budget {self.budget:g}s per mutant, seed {self.seed}, jobs {self.jobs}"
                 + (" (interrupted)" if self.interrupted else "")]
        if len(self.passes) > 1:
            lines.append("passes: " + "; ".join(
                f"{p['mutants']} mutant(s) at {p['budget']:g}s"
                + (f", {p['killed']} killed" if p.get("killed") is not None else "")
                for p in self.passes))
        lines += ["",
                 self.table(), "", "by operator:", "", self.operator_table(), ""]
        na: dict[str, int] = {}
        for r in self.results:
            if r.status == NOT_APPLICABLE:
                na[r.reason or "?"] = na.get(r.reason or "?", 0) + 1
        if na:
            lines.append("not applicable: " + ", ".join(f"{n} {why}"
                                                        for why, n in sorted(na.items())))
        by_check: dict[str, int] = {}
        for r in self.results:
            if r.status == KILLED and r.killed_by:
                by_check[r.killed_by["check"]] = by_check.get(r.killed_by["check"], 0) + 1
        if by_check:
            lines.append("killed by (first new violation's check): "
                         + ", ".join(f"{k} {n}" for k, n in
                                     sorted(by_check.items(), key=lambda x: (-x[1], x[0]))))
        bad = {f: b for f, b in self.baseline.items() if b.get("new")}
        for f, b in sorted(bad.items()):
            lines.append(f"WARNING: the faithful model's hunt for {f}() already shows "
                         f"{b['new']} new violation(s): its kills are not evidence")
        surv = self.survivors
        lines.append("")
        lines.append(f"survivors ({len(surv)}):" if surv else "no survivors")
        for r in surv:
            m = r.mutant
            note = f" [{r.reason}]" if r.reason else ""
            lines.append(f"  {m.id}  {m.operator}  {m.where}{note}: {m.what}")
            for b in m.before[:3]:
                lines.append(f"      - {b.strip()}")
            for a in m.after[:3]:
                lines.append(f"      + {a.strip()}")
            if r.variant_path:
                lines.append(f"      rerun: mmlist hunt --variant {r.variant_path}")
        lines.append("")
        lines.append(f"{self.seconds:.1f}s"
                     + (f"; report and variant files in {self.out_dir}" if self.out_dir else ""))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "mmlist-mutation-report", "schema_version": 1,
                "functions": self.functions, "operators": list(OPERATORS),
                "budget": self.budget, "seed": self.seed, "jobs": self.jobs,
                "timeout": self.timeout, "seconds": round(self.seconds, 3),
                "interrupted": self.interrupted, "passes": self.passes,
                "counts": {"overall": self.counts(),
                           "by_function": {f: self.counts(function=f) for f in self.functions},
                           "by_operator": {o: self.counts(operator=o) for o in OPERATORS}},
                "coverage": self.coverage, "baseline": self.baseline,
                "results": [r.to_dict() for r in self.results]}

    def write_json(self, path: str) -> None:
        from .files import write_json_atomic
        write_json_atomic(path, self.to_dict(), prefix=".mmlist-mutate-")


def _row(name: str, c: dict[str, Any]) -> str:
    score = "-" if c["score"] is None else f"{100 * c['score']:.1f}%"
    return (f"| {name} | {c['generated']} | {c['not_applicable']} | {c['killed']} | "
            f"{c['survived']} | {score} |")


# ---------------------------------------------------------------------------------------------
#                          the campaign
# ---------------------------------------------------------------------------------------------

def _clean_generated(d: Path) -> None:
    """Remove this tool's own variant files from an earlier run (never anything else)."""
    if not d.is_dir():
        return
    for p in d.glob("*.py"):
        try:
            with open(p) as fh:
                first = fh.readline()
        except OSError:
            continue
        if first.startswith(GENERATED_HEADER):
            p.unlink()


def run(functions: Iterable[str] | None = None, budget: float = 3.0,
        out_dir: str | None = "mmlist-out/mutate", jobs: int = 1, seed: int = 0,
        on_progress: Callable[[int, int, MutantResult], None] | None = None, *,
        operators: Iterable[str] | None = None, limit: int | None = None,
        scenarios: Iterable[str] | None = None, timeout: float | None = None,
        baseline: bool = True, coverage_executions: int = 4,
        rerun: dict[str, Any] | None = None) -> MutationReport:
    """Generate the mutants of ``functions`` (default ``FUNCTIONS``), hunt each for ``budget``
    seconds over the scenarios that call its function (``scenarios``: these instead), and
    report killed / survived / not applicable.

    ``out_dir``: every mutant as a variant file in ``mutants/``, the survivors again in
    ``survivors/``, ``mutation-report.json`` and ``mutation-report.txt`` (None: a temporary
    directory, removed at the end). ``jobs``: worker processes (0: in this process, no
    timeout). ``timeout``: seconds before a mutant's process is killed (default
    ``max(60, 10 * budget)``). ``limit``: at most that many mutants per function.
    ``baseline``: also hunt the faithful model once per function over the same scenarios.
    ``rerun``: an earlier report (``load_report``): only its survivors are hunted again, with
    this ``budget``; every other result is kept, and the new report holds both passes."""
    from .scenarios import BUILTIN
    t0 = time.monotonic()
    previous: dict[str, dict[str, Any]] = {}
    if rerun is not None:
        fnames = list(rerun["functions"])
        operators, limit = None, None
        previous = {d["mutant"]["id"]: d for d in rerun["results"]}
    else:
        fnames = list(functions) if functions is not None else list(FUNCTIONS)
    if timeout is None:
        timeout = max(60.0, 10.0 * budget)
    mutants = generate(fnames, operators, limit)
    again: set[str] | None = None
    if rerun is not None:
        mutants, again = _match_report(mutants, previous)
    if scenarios is not None:
        chosen = list(scenarios)
        unknown = [s for s in chosen if s not in BUILTIN]
        if unknown:
            raise ValueError(f"unknown scenario(s) {unknown}")
        coverage = {f: chosen for f in fnames}
    else:
        coverage = measure_coverage(fnames, executions=coverage_executions, seed=seed)
    report = MutationReport(functions=fnames, budget=budget, seed=seed, jobs=jobs,
                            timeout=timeout, coverage=coverage, out_dir=out_dir)
    tmp = None
    if out_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="mmlist-mutate-")
        base = Path(tmp.name)
    else:
        base = Path(out_dir)
    mdir, sdir = base / "mutants", base / "survivors"
    mdir.mkdir(parents=True, exist_ok=True)
    _clean_generated(mdir)
    _clean_generated(sdir)
    try:
        results = [MutantResult(m, budget=budget) if again is None or m.id in again
                   else MutantResult.from_dict(m, previous[m.id]) for m in mutants]
        tasks: list[dict[str, Any]] = []
        slots: list[tuple[str, Any]] = []       # ("mutant", index) or ("baseline", function)
        for i, (m, r) in enumerate(zip(mutants, results)):
            path = mdir / f"{m.slug}.py"
            path.write_text(m.variant_text())
            r.variant_path = str(path) if out_dir is not None else None
            if again is not None and m.id not in again:
                continue                        # decided by an earlier pass
            if m.invalid:
                r.status, r.reason, r.detail = NOT_APPLICABLE, "syntax", m.invalid
                continue
            if not coverage.get(m.function):
                r.status, r.reason = SURVIVED, "uncovered"
                r.detail = f"no built-in scenario calls {m.function}()"
                continue
            tasks.append({"path": str(path), "scenarios": coverage[m.function],
                          "budget": budget, "seed": seed, "id": m.id})
            slots.append(("mutant", i))
        if baseline:
            for f in fnames:
                if coverage.get(f) and any(m.function == f and (again is None or m.id in again)
                                           for m in mutants):
                    tasks.append({"path": None, "scenarios": coverage[f], "budget": budget,
                                  "seed": seed, "id": f"{f}:faithful"})
                    slots.append(("baseline", f))
        done = [0]
        total = len(tasks)

        def on_result(k: int, res: dict[str, Any]) -> None:
            kind, key = slots[k]
            done[0] += 1
            if kind == "baseline":
                report.baseline[key] = {x: res.get(x) for x in
                                        ("exit_code", "new", "known", "benign", "executions",
                                         "seconds", "status", "reason", "detail")}
                return
            r = results[key]
            for name in ("status", "reason", "detail", "scenarios", "setup_errors", "hunted",
                         "killed_by", "exit_code", "new", "known", "benign", "executions",
                         "seconds", "findings"):
                if name in res and res[name] is not None:
                    setattr(r, name, res[name])
            if on_progress is not None:
                on_progress(done[0], total, r)

        finished = _run_tasks(tasks, jobs, timeout, on_result)
        report.interrupted = not finished
        report.results = results
        if rerun is not None:
            report.passes = list(rerun.get("passes") or [
                {"budget": rerun["budget"], "mutants": len(rerun["results"]), "killed": sum(
                    d["status"] == KILLED for d in rerun["results"])}])
            report.passes.append({"budget": budget, "mutants": len(again or ()),
                                  "killed": sum(r.status == KILLED for r in results
                                                if r.mutant.id in (again or ()))})
            if rerun.get("baseline"):
                report.baseline = {**rerun["baseline"], **report.baseline}
        else:
            report.passes = [{"budget": budget, "mutants": len(results),
                              "killed": sum(r.status == KILLED for r in results)}]
        if report.interrupted:
            queued = {slots[k][1] for k in range(len(slots)) if slots[k][0] == "mutant"}
            for i in queued:
                r = results[i]
                if r.status == NOT_APPLICABLE and not r.reason:
                    r.reason = "interrupted"
        for r in results:
            if r.status == SURVIVED:
                sdir.mkdir(parents=True, exist_ok=True)
                p = sdir / f"{r.mutant.slug}.py"
                p.write_text(r.mutant.variant_text())
                if out_dir is not None:
                    r.variant_path = str(p)
        report.seconds = time.monotonic() - t0
        if out_dir is not None:
            report.write_json(str(base / "mutation-report.json"))
            (base / "mutation-report.txt").write_text(report.render() + "\n")
    finally:
        if tmp is not None:
            tmp.cleanup()
    return report


#: the judgements of docs/spec.md's survivor triage; the first two leave the score's denominator
TRIAGE_JUDGEMENTS: tuple[str, ...] = ("equivalent", "model-only", "scenario gap",
                                      "missing check")
TRIAGE_BEGIN = "<!-- mutant triage: one row per surviving generated mutant -->"
TRIAGE_END = "<!-- end of mutant triage -->"


def load_triage(path: str) -> dict[str, tuple[str, str]]:
    """The survivor triage of ``path`` (docs/spec.md): mutant id -> (judgement, argument), from
    the rows ``| `id` | judgement | argument |`` between ``TRIAGE_BEGIN`` and ``TRIAGE_END``.
    A row with an unknown judgement or no argument is a ``ValueError``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"cannot read the triage {path}: {e}") from None
    if TRIAGE_BEGIN not in text or TRIAGE_END not in text:
        raise ValueError(f"{path} has no mutant triage (between {TRIAGE_BEGIN!r} and "
                         f"{TRIAGE_END!r})")
    body = text.split(TRIAGE_BEGIN, 1)[1].split(TRIAGE_END, 1)[0]
    out: dict[str, tuple[str, str]] = {}
    for line in body.splitlines():
        m = re.match(r"^\|\s*`([^`]+)`\s*\|\s*([^|]+?)\s*\|\s*(.*?)\s*\|\s*$", line)
        if not m:
            continue
        mid, judgement, argument = m.groups()
        if judgement not in TRIAGE_JUDGEMENTS:
            raise ValueError(f"{path}: mutant {mid}: unknown judgement {judgement!r} "
                             f"(known: {', '.join(TRIAGE_JUDGEMENTS)})")
        if not argument:
            raise ValueError(f"{path}: mutant {mid}: a judgement without its argument")
        if mid in out:
            raise ValueError(f"{path}: mutant {mid} is triaged twice")
        out[mid] = (judgement, argument)
    return out


def triaged_counts(report: "MutationReport", triage: dict[str, tuple[str, str]]
                   ) -> dict[str, Any]:
    """The score over the non-equivalent mutants: survivors triaged ``equivalent`` or
    ``model-only`` leave the denominator; every other survivor (triaged a scenario gap or a
    missing check, or not triaged at all) counts against it."""
    killed = sum(r.status == KILLED for r in report.results)
    surv = [r for r in report.results if r.status == SURVIVED]
    excluded = [r for r in surv if triage.get(r.mutant.id, ("",))[0] in TRIAGE_JUDGEMENTS[:2]]
    untriaged = [r for r in surv if r.mutant.id not in triage]
    live = len(surv) - len(excluded)
    return {"killed": killed, "survived": len(surv), "equivalent": len(excluded),
            "untriaged": len(untriaged), "non_equivalent_survivors": live,
            "score": (killed / (killed + live)) if (killed + live) else None}


def load_report(path: str) -> dict[str, Any]:
    """An earlier ``mutation-report.json``, checked enough to rerun its survivors; a bad
    file is a ``ValueError`` with one line."""
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
    except (OSError, ValueError, RecursionError) as e:
        raise ValueError(f"cannot read the mutation report {path}: "
                         f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    if not isinstance(d, dict) or d.get("kind") != "mmlist-mutation-report":
        raise ValueError(f"{path} is not a mutation report of mmlist mutate")
    if d.get("schema_version") != 1:
        raise ValueError(f"{path}: unsupported mutation report schema "
                         f"{d.get('schema_version')!r} (this mmlist reads 1)")
    try:
        for r in d["results"]:
            r["mutant"]["id"], r["mutant"]["patches"], r["status"]
        list(d["functions"]), float(d["budget"])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{path}: a mutation report without its results, functions or "
                         "budget") from None
    return d


def report_from_dict(d: dict[str, Any]) -> "MutationReport":
    """A ``MutationReport`` rebuilt from its JSON (``load_report``), its mutants regenerated
    from today's source (a changed one makes the report stale: ``ValueError``)."""
    previous = {r["mutant"]["id"]: r for r in d["results"]}
    mutants, _ = _match_report(generate(list(d["functions"])), previous)
    rep = MutationReport(functions=list(d["functions"]), budget=float(d["budget"]),
                         seed=int(d.get("seed", 0)), jobs=int(d.get("jobs", 1)),
                         timeout=float(d.get("timeout", 0.0)),
                         coverage=dict(d.get("coverage") or {}),
                         baseline=dict(d.get("baseline") or {}),
                         seconds=float(d.get("seconds", 0.0)),
                         interrupted=bool(d.get("interrupted", False)),
                         passes=list(d.get("passes") or []))
    rep.results = [MutantResult.from_dict(m, previous[m.id]) for m in mutants]
    return rep


def _match_report(mutants: list[Mutant], previous: dict[str, dict[str, Any]]
                  ) -> tuple[list[Mutant], set[str]]:
    """The mutants of an earlier report, regenerated from today's source, and the ids of its
    survivors (those hunted again). A mutant whose patch is no longer the one the report
    judged means the model changed since: the report is stale."""
    by_id = {m.id: m for m in mutants}
    kept: list[Mutant] = []
    for mid, d in previous.items():
        m = by_id.get(mid)
        if m is None or [list(p) for p in m.patches] != [list(p) for p in
                                                          d["mutant"]["patches"]]:
            raise ValueError(f"stale mutation report: mutant {mid} is no longer generated "
                             "as it was (the model changed since); run mmlist mutate again")
        kept.append(m)
    again = {mid for mid, d in previous.items()
             if d["status"] == SURVIVED and d.get("reason") != "uncovered"}
    return kept, again


# ---------------------------------------------------------------------------------------------
#                          the command line (wired in mmlist/cli.py)
# ---------------------------------------------------------------------------------------------

def add_arguments(p: Any) -> None:
    """The options of ``mmlist mutate`` on an argparse (sub)parser."""
    p.add_argument("--function", action="append", default=None, metavar="F",
                   help="a model function to mutate (repeatable); default: the seed, the "
                        "aging and the seed's callers (mmlist.mutate.FUNCTIONS)")
    p.add_argument("--operator", action="append", default=None, choices=OPERATORS,
                   help="a mutation operator (repeatable); default: all")
    p.add_argument("--budget", type=float, default=3.0,
                   help="hunt seconds per mutant, split over its scenarios (default 3)")
    p.add_argument("--out", default="mmlist-out/mutate",
                   help="directory for mutation-report.json/.txt, mutants/ and survivors/ "
                        "(default mmlist-out/mutate)")
    p.add_argument("--jobs", type=int, default=1,
                   help="mutants run at once, one process each (default 1; 0: in this "
                        "process, no timeout)")
    p.add_argument("--seed", type=int, default=0, help="the hunts' seed (default 0)")
    p.add_argument("--limit", type=int, default=None,
                   help="at most N mutants per function, round-robin over the operators")
    p.add_argument("--scenario", action="append", default=None,
                   help="hunt every mutant in this scenario (repeatable); default: the "
                        "scenarios that call its function (measured)")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds before a mutant's process is killed and counted not "
                        "applicable (default max(60, 10 x budget))")
    p.add_argument("--no-baseline", action="store_true",
                   help="skip the faithful model's hunt per function")
    p.add_argument("--list", action="store_true",
                   help="only list the mutants that would be generated")
    p.add_argument("--fail-under", type=float, default=None, metavar="PERCENT",
                   help="exit 1 when the overall score is below PERCENT")
    p.add_argument("--triage", default=None, metavar="FILE",
                   help="a survivor triage (docs/spec.md): also print the score over the "
                        "non-equivalent mutants")
    p.add_argument("--rerun", default=None, metavar="REPORT",
                   help="hunt only the survivors of an earlier mutation-report.json again, "
                        "with this run's --budget (e.g. a default-length 40 s), keeping every "
                        "other result; the new report has both passes")


def main_mutate(args: Any) -> int:
    """``mmlist mutate``: 0 done; 1 with ``--fail-under`` and a lower score; 2 bad input (an
    unknown function or scenario, one line on stderr)."""
    import sys
    try:
        return _main_mutate(args)
    except ValueError as e:
        print(f"mmlist: error: {e}", file=sys.stderr)
        return 2


def _main_mutate(args: Any) -> int:
    import sys
    functions = getattr(args, "function", None)
    operators = getattr(args, "operator", None)
    limit = getattr(args, "limit", None)
    if getattr(args, "list", False):
        for m in generate(functions, operators, limit):
            print(f"{m.id:50} {m.where:32} {m.what}")
        return 0
    budget = float(getattr(args, "budget", 3.0))
    jobs = int(getattr(args, "jobs", 1))
    if budget <= 0 or jobs < 0:
        raise ValueError("--budget must be > 0 and --jobs >= 0")
    rerun = None
    if getattr(args, "rerun", None):
        if functions or operators or limit is not None:
            raise ValueError("--rerun takes the functions and mutants of its report: no "
                             "--function, --operator or --limit with it")
        rerun = load_report(args.rerun)
    triage = load_triage(args.triage) if getattr(args, "triage", None) else None
    tty = sys.stderr.isatty()

    def progress(done: int, total: int, r: MutantResult) -> None:
        line = f"[{done}/{total}] {r.mutant.id}: {r.status}" + (f" ({r.reason})"
                                                                if r.reason else "")
        if tty:
            print("\r\033[K" + line, end="", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)

    report = run(functions, budget=budget, out_dir=getattr(args, "out", "mmlist-out/mutate"),
                 jobs=jobs, seed=int(getattr(args, "seed", 0)), on_progress=progress,
                 operators=operators, limit=limit, scenarios=getattr(args, "scenario", None),
                 timeout=getattr(args, "timeout", None),
                 baseline=not getattr(args, "no_baseline", False), rerun=rerun)
    if tty:
        print("\r\033[K", end="", file=sys.stderr)
    print(report.render())
    if triage is not None:
        c = triaged_counts(report, triage)
        score = "-" if c["score"] is None else f"{100 * c['score']:.1f}%"
        print(f"triaged ({getattr(args, 'triage')}): {c['killed']} killed, "
              f"{c['equivalent']} equivalent or model-only, {c['non_equivalent_survivors']} "
              f"other survivors ({c['untriaged']} not triaged): score over the "
              f"non-equivalent mutants {score}")
    fail_under = getattr(args, "fail_under", None)
    if fail_under is not None and (report.score is None or 100 * report.score < fail_under):
        return 1
    return 0


__all__ = ["FUNCTIONS", "SEED_FUNCTIONS", "AGING_FUNCTIONS", "CALLER_FUNCTIONS", "OPERATORS",
           "Mutant", "MutantResult", "MutationReport", "generate", "mutants_of_source",
           "measure_coverage", "evaluate", "run", "load_report", "load_triage", "triaged_counts",
           "report_from_dict",
           "TRIAGE_JUDGEMENTS", "add_arguments", "main_mutate",
           "apply_patches", "function_source"]
