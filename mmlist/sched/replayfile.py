"""Replay files: a failing schedule as JSON, keyed by meaning.

    {"schema_version": 1, "kind": "mmlist-replay", "scenario": "fork-migrate",
     "threads": ["fork(app1)", "migrate(child)", "reclaim0"], "dropped": [],
     "variant": null, "variant_path": null, "variant_sha256": null,
     "structural": true, "fair": false, "step_budget": 5000,
     "violation": {...}, "strategy": "dfs(...)", "seed": 0,
     "decisions": [{"thread": "fork(app1)", "op": "LOCK", "obj": "cgroup_threadgroup_rwsem"},
                   {"choose": 1, "n": 2, "thread": "reclaim0"}, ...]}

Each thread decision names the thread, the op it was parked on and the object's label: never a
bytecode position or an ``id()`` (pitfalls.md #4). A file from another schema, for a scenario
that no longer exists or whose threads changed, or that is not valid JSON, is refused with a
one-line ``ReplayFileError``.

A replay file is untrusted data (it is mailed around, attached to bug reports): ``load`` reads
at most ``MAX_BYTES`` (+1, to tell "too large"), wants UTF-8, refuses JSON nested deeper than
``MAX_DEPTH``, and ``validate`` type-checks every field, naming the first bad one
(``corrupt replay file PATH: field step_budget: expected an integer >= 1, got a string``).
Nothing that a file contains makes them raise anything but ``ReplayFileError``.

``dump`` writes atomically (a unique temporary file in the same directory, renamed into place:
a reader never sees half a file, two writers never share a temporary); ``dump_new`` never
overwrites: ``x.json`` taken, it writes ``x-2.json``, ``x-3.json``... and returns the path.
"""
from __future__ import annotations

import errno
import gc
import json
import os
import re
import stat
import tempfile
from typing import Any, Iterator, NoReturn

from ..violation import SCHEMA_VERSION as VIOLATION_SCHEMA_VERSION
from .decisions import Decision

SCHEMA_VERSION = 1
KIND = "mmlist-replay"
_REQUIRED = ("scenario", "threads", "decisions", "violation")

#: the largest replay file ``load`` reads (a real one is a few KiB to a few hundred KiB)
MAX_BYTES = 16 * 1024 * 1024
#: the deepest nesting of arrays/objects ``load`` accepts (a real file is about 6 deep)
MAX_DEPTH = 100
#: ``dump_new`` gives up after this many taken names
_MAX_SUFFIX = 100_000

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


class ReplayFileError(Exception):
    """A replay file that cannot be used (corrupt, stale, from another schema): one line."""


# ---------------------------------------------------------------------------------------------
# Writing.
# ---------------------------------------------------------------------------------------------
def _umask() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)                  # no other way to read it; restored at once
    os.umask(mask)
    return mask


def _write_temp(data: dict[str, Any], path: str) -> str:
    """``data`` as JSON in a new, unique, fsync'ed file next to ``path``; its name."""
    text = json.dumps(data, indent=1, sort_keys=False, default=str) + "\n"
    directory, base = os.path.split(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=".tmp", dir=directory or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), 0o666 & ~_umask())    # mkstemp makes it 0600; open() would not
    except BaseException:
        _unlink_quietly(tmp)
        raise
    return tmp


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def dump(data: dict[str, Any], path: str | os.PathLike, *, exclusive: bool = False) -> str:
    """Write ``data`` to ``path`` atomically (replacing it); returns ``path``.
    ``exclusive=True``: never replace an existing file, see ``dump_new``."""
    path = os.fspath(path)
    if exclusive:
        return dump_new(data, path)
    tmp = _write_temp(data, path)
    try:
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    return path


def _candidates(path: str) -> Iterator[str]:
    yield path
    stem, ext = os.path.splitext(path)
    for k in range(2, _MAX_SUFFIX):
        yield f"{stem}-{k}{ext}"


def dump_new(data: dict[str, Any], path: str | os.PathLike) -> str:
    """Write ``data`` to ``path``, or, if that exists, to the first free ``stem-2.json``,
    ``stem-3.json``...; never replaces a file, race-free; returns the path written. The name is
    claimed with a hard link to the finished temporary file (the content appears all at once),
    or, on a file system without hard links, with an ``O_EXCL`` create that the temporary file is
    then renamed over (an empty file is visible for that moment)."""
    path = os.fspath(path)
    tmp = _write_temp(data, path)
    try:
        use_link = True
        for candidate in _candidates(path):
            if use_link:
                try:
                    os.link(tmp, candidate)
                    return candidate
                except FileExistsError:
                    continue
                except OSError as e:
                    if e.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS,
                                       errno.EMLINK, errno.EXDEV, errno.EACCES):
                        raise
                    use_link = False            # no hard links here: claim with O_EXCL
            try:
                fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                continue
            os.close(fd)
            try:
                os.replace(tmp, candidate)      # over our own empty placeholder
            except BaseException:
                _unlink_quietly(candidate)
                raise
            return candidate
        raise FileExistsError(errno.EEXIST, f"no free name like {path} "
                              f"(tried {_MAX_SUFFIX - 1})", path)
    finally:
        _unlink_quietly(tmp)


# ---------------------------------------------------------------------------------------------
# Validating.
# ---------------------------------------------------------------------------------------------
def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_text(value: Any) -> bool:
    """A str that is valid Unicode (a JSON ``"\\ud800"`` escape gives a lone surrogate)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_label(value: Any) -> bool:
    """A name or label (scenario, thread, op, object): printable, so one line in any message."""
    return isinstance(value, str) and value.isprintable()


class _Checker:
    def __init__(self, where: str):
        self.where = where

    def fail(self, field: str, expected: str, value: Any, present: bool = True) -> NoReturn:
        got = _json_type(value) if present else "nothing"
        if present and isinstance(value, str) and expected.endswith("string"):
            got = ("a string that is not valid Unicode" if not _is_text(value)
                   else "a string with a non-printable character")
        raise ReplayFileError(f"corrupt replay file {self.where}: field {field}: expected "
                              f"{expected}, got {got}")

    def label(self, obj: dict, key: str, name: str, *, optional: bool = False,
              nullable: bool = False) -> None:
        self._scalar(obj, key, name, _is_label, "a printable string", optional, nullable)

    def text(self, obj: dict, key: str, name: str, *, optional: bool = False,
             nullable: bool = False) -> None:
        self._scalar(obj, key, name, _is_text, "a string", optional, nullable)

    def boolean(self, obj: dict, key: str, name: str) -> None:
        self._scalar(obj, key, name, lambda v: isinstance(v, bool), "true or false", True, False)

    def integer(self, obj: dict, key: str, name: str, *, minimum: int | None = None,
                optional: bool = True) -> None:
        if minimum is None:
            self._scalar(obj, key, name, _is_int, "an integer", optional, False)
        else:
            self._scalar(obj, key, name, lambda v: _is_int(v) and v >= minimum,
                         f"an integer >= {minimum}", optional, False)

    def _scalar(self, obj: dict, key: str, name: str, ok: Any, expected: str, optional: bool,
                nullable: bool) -> None:
        if key not in obj:
            if optional:
                return
            self.fail(name, ("null or " if nullable else "") + expected, None, present=False)
        value = obj[key]
        if (nullable and value is None) or ok(value):
            return
        self.fail(name, ("null or " if nullable else "") + expected, value)

    def strings(self, obj: dict, key: str, name: str, *, labels: bool,
                optional: bool = False) -> None:
        if key not in obj:
            if not optional:
                self.fail(name, "an array of strings", None, present=False)
            return
        value = obj[key]
        if not isinstance(value, list):
            self.fail(name, "an array of strings", value)
        ok = _is_label if labels else _is_text
        for i, item in enumerate(value):
            if not ok(item):
                self.fail(f"{name}[{i}]", "a printable string" if labels else "a string", item)

    def obj(self, obj: dict, key: str, name: str, *, optional: bool = False,
            nullable: bool = False) -> None:
        self._scalar(obj, key, name, lambda v: isinstance(v, dict), "an object", optional,
                     nullable)


def _check_violation(c: _Checker, data: dict[str, Any]) -> None:
    c.obj(data, "violation", "violation")
    v = data["violation"]
    version = v.get("schema_version")
    if not (_is_int(version) and version == VIOLATION_SCHEMA_VERSION):
        raise ReplayFileError(f"stale replay file {c.where}: violation schema_version "
                              f"{_short(version)}, this mmlist reads {VIOLATION_SCHEMA_VERSION};"
                              " re-run the search to record it again")
    c.label(v, "check", "violation.check")
    c.text(v, "message", "violation.message")
    c.text(v, "severity", "violation.severity", optional=True)
    c.label(v, "thread", "violation.thread", optional=True, nullable=True)
    c.label(v, "function", "violation.function", optional=True, nullable=True)
    c.text(v, "condition", "violation.condition", optional=True, nullable=True)
    c.obj(v, "snapshot", "violation.snapshot", optional=True, nullable=True)
    c.strings(v, "events", "violation.events", labels=False, optional=True)
    c.obj(v, "details", "violation.details", optional=True)
    c.strings(v, "stack", "violation.stack", labels=False, optional=True)
    if "trace" in v and not isinstance(v["trace"], list):
        c.fail("violation.trace", "an array", v["trace"])


def _check_decisions(c: _Checker, data: dict[str, Any]) -> list[Decision]:
    decisions = data["decisions"]
    if not isinstance(decisions, list):
        c.fail("decisions", "an array of decision objects", decisions)
    out = []
    for i, d in enumerate(decisions):
        name = f"decisions[{i}]"
        if not isinstance(d, dict):
            c.fail(name, "a decision object", d)
        c.label(d, "thread", f"{name}.thread")
        if "choose" in d:
            c.integer(d, "n", f"{name}.n", minimum=1, optional=False)
            value = d["choose"]
            if not (_is_int(value) and 0 <= value < d["n"]):
                c.fail(f"{name}.choose", f"an integer in 0..{d['n'] - 1}", value)
        else:
            c.label(d, "op", f"{name}.op")
            c.label(d, "obj", f"{name}.obj")
            c.boolean(d, "preempt", f"{name}.preempt")
        try:
            out.append(Decision.from_dict(d))
        except (KeyError, TypeError, ValueError) as e:     # not reached: checked above
            raise ReplayFileError(f"corrupt replay file {c.where}: bad decision {name} "
                                  f"({type(e).__name__})") from None
    return out


def validate(data: Any, where: str = "replay data") -> dict[str, Any]:
    """``data`` (parsed JSON) checked field by field; returns it with ``_decisions`` (the
    ``Decision`` list) added. Raises a one-line ``ReplayFileError`` naming the first bad field."""
    if not isinstance(data, dict):
        raise ReplayFileError(f"corrupt replay file {where}: top level: expected a JSON object, "
                              f"got {_json_type(data)}")
    kind = data.get("kind")
    if kind != KIND:
        raise ReplayFileError(f"not an mmlist replay file: {where} (kind={_short(kind)})")
    version = data.get("schema_version")
    if not (_is_int(version) and version == SCHEMA_VERSION):
        raise ReplayFileError(f"stale replay file {where}: schema_version {_short(version)}, "
                              f"this mmlist reads {SCHEMA_VERSION}; re-run the search to record "
                              "it again")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise ReplayFileError(f"corrupt replay file {where}: missing {', '.join(missing)}")
    c = _Checker(where)
    c.label(data, "scenario", "scenario")
    c.strings(data, "threads", "threads", labels=True)
    c.strings(data, "dropped", "dropped", labels=True, optional=True)
    c.text(data, "variant", "variant", optional=True, nullable=True)
    c.text(data, "variant_path", "variant_path", optional=True, nullable=True)
    c._scalar(data, "variant_sha256", "variant_sha256",
              lambda v: isinstance(v, str) and _HEX64.fullmatch(v) is not None,
              "64 hex digits (a sha256)", True, True)
    c.boolean(data, "structural", "structural")
    c.boolean(data, "fair", "fair")
    c.integer(data, "step_budget", "step_budget", minimum=1)
    c.integer(data, "seed", "seed")
    c.text(data, "strategy", "strategy", optional=True)
    _check_violation(c, data)
    data["_decisions"] = _check_decisions(c, data)
    if "stress_scenario" in data:
        from ..stress_replay import StressScenarioError, check_definition
        try:
            check_definition(data["stress_scenario"])
        except StressScenarioError as e:
            raise ReplayFileError(f"corrupt replay file {where}: field {e}") from None
    return data


# ---------------------------------------------------------------------------------------------
# Reading.
# ---------------------------------------------------------------------------------------------
def _too_deep(value: Any, limit: int) -> bool:
    """Whether arrays/objects nest more than ``limit`` deep (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        for c in (v.values() if isinstance(v, dict) else v):
            if isinstance(c, (list, dict)):
                if depth >= limit:
                    return True
                if c:
                    stack.append((c, depth + 1))
    return False


def _read(path: str, where: str, limit: int) -> bytes:
    """At most ``limit`` bytes of ``path`` (a regular file is refused by its size before reading;
    a device such as ``/dev/zero`` after ``limit + 1`` bytes)."""
    too_large = ReplayFileError(f"corrupt replay file {where}: larger than "
                                + (f"{limit // (1024 * 1024)} MiB" if limit % (1024 * 1024) == 0
                                   else f"{limit} bytes"))
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if stat.S_ISREG(st.st_mode) and st.st_size > limit:
                raise too_large
            raw = f.read(limit + 1)
    except OSError as e:
        raise ReplayFileError(f"cannot read replay file {where}: "
                              f"{e.strerror or type(e).__name__}") from None
    except ValueError as e:                     # a NUL in the path
        raise ReplayFileError(f"cannot read replay file {where}: {e}") from None
    if len(raw) > limit:
        raise too_large
    return raw


def load(path: str | os.PathLike, *, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """Read, parse and ``validate`` a replay file; only ``ReplayFileError`` on bad content."""
    try:
        path = os.fspath(path)
    except TypeError:
        raise ReplayFileError(f"cannot read replay file {_short(path)}: not a path") from None
    where = path if path.isprintable() else repr(path)
    raw = _read(path, where, max_bytes)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        hint = (" (UTF-16: save it as UTF-8)" if raw[:2] in (b"\xff\xfe", b"\xfe\xff")
                else f" (byte {e.start})")
        raise ReplayFileError(f"corrupt replay file {where}: not UTF-8 text{hint}") from None
    if text.startswith("\ufeff"):               # a UTF-8 byte order mark: RFC 8259 lets us skip it
        text = text[1:]
    gc_was_enabled = gc.isenabled()
    gc.disable()            # millions of small containers: the cyclic GC would make it 6x slower
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ReplayFileError(f"corrupt replay file {where}: invalid JSON at line {e.lineno} "
                              f"column {e.colno}") from None
    except RecursionError:
        raise ReplayFileError(f"corrupt replay file {where}: JSON nested too deeply (more "
                              f"than {MAX_DEPTH} levels)") from None
    except ValueError as e:                     # e.g. an integer of more than 4300 digits
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ReplayFileError(f"corrupt replay file {where}: invalid JSON "
                              f"({first[:80]})") from None
    except MemoryError:
        raise ReplayFileError(f"corrupt replay file {where}: too large to parse") from None
    finally:
        if gc_was_enabled:
            gc.enable()
    data = validate(data, where)                # shallow: refuses a wrong top level at once
    if _too_deep(data, MAX_DEPTH):              # what callers may walk recursively
        raise ReplayFileError(f"corrupt replay file {where}: JSON nested too deeply (more "
                              f"than {MAX_DEPTH} levels)")
    return data
