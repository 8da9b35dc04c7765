"""Fuzzing the replay-file loader and ``mmlist replay``: a replay file is untrusted data.

Whatever the bytes, ``replayfile.load`` returns a validated dict or raises a one-line
``ReplayFileError``; ``mmlist replay FILE`` exits 0, 1, 2 or 3 (2 with exactly one line
on stderr) and never lets an exception escape. That each ends in bounded time is not timed here
(no wall-clock assertion): it follows from the bounds the loader enforces, which have tests of
their own (reads of at most ``MAX_BYTES + 1`` bytes, nesting and size limits:
tests/test_sched_replay.py), and a hang would stop the suite.

Small by default (the whole file runs in well under 30 s); ``MMLIST_FUZZ=long`` runs many more
examples.
"""
from __future__ import annotations

import contextlib
import copy
import functools
import json
import os
import re
import tempfile
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from mmlist import sched
from mmlist.sched import replayfile
from mmlist.sched.replayfile import ReplayFileError

LONG = os.environ.get("MMLIST_FUZZ", "").lower() == "long"



def fuzz_settings(default: int, long: int) -> Any:
    return settings(max_examples=long if LONG else default, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large],
                    print_blob=True)


# ---------------------------------------------------------------------------------------------
# A real replay dict, computed once.
# ---------------------------------------------------------------------------------------------
#: a real replay file of fork-migrate (shrunk; snapshot and events trimmed), used when the search
#: below cannot run (the loader's fuzz does not depend on the strategies)
FALLBACK = {
    "schema_version": 1, "kind": "mmlist-replay", "scenario": "fork-migrate",
    "threads": ["fork(app1)", "migrate(child)", "reclaim0"], "dropped": [], "variant": None,
    "structural": True, "fair": False, "step_budget": 5000,
    "strategy": "dfs(preemption_bound=1)", "seed": 0,
    "violation": {"check": "VM_BUG_ON_MM", "message": "VM_BUG_ON_MM(!mm->lru_gen.memcg) failed "
                  "in lru_gen_migrate_mm(): dump_mm(mm#2)", "severity": "bug",
                  "thread": "migrate(child)", "function": "lru_gen_migrate_mm",
                  "condition": "!mm->lru_gen.memcg",
                  "snapshot": {"lists": {"root": [], "A": ["mm1"], "B": []}},
                  "events": ["migrate(child): LOCK task#7.alloc_lock"],
                  "details": {"mm": "mm#2"},
                  "stack": ["cgroup_migrate", "mem_cgroup_attach", "lru_gen_migrate_mm"],
                  "schema_version": 1},
    "decisions": [
        {"thread": "fork(app1)", "op": "THREAD_START", "obj": "start"},
        {"thread": "fork(app1)", "op": "READ_ONCE", "obj": "app1"},
        {"thread": "fork(app1)", "op": "ATOMIC", "obj": "A.css.refcnt"},
        {"thread": "fork(app1)", "op": "WRITE_ONCE", "obj": "mm#2.lru_gen.list"},
        {"thread": "fork(app1)", "op": "LOCK", "obj": "cgroup_threadgroup_rwsem"},
        {"thread": "fork(app1)", "op": "UNLOCK", "obj": "cgroup_threadgroup_rwsem"},
        {"thread": "migrate(child)", "op": "THREAD_START", "obj": "start", "preempt": True},
        {"thread": "migrate(child)", "op": "LOCK", "obj": "cgroup_threadgroup_rwsem"},
        {"thread": "migrate(child)", "op": "READ_ONCE", "obj": "task#7"},
        {"thread": "migrate(child)", "op": "ATOMIC", "obj": "B.css.refcnt"},
        {"thread": "migrate(child)", "op": "WRITE_ONCE", "obj": "task#7"},
        {"thread": "migrate(child)", "op": "LOCK", "obj": "task#7.alloc_lock"},
        {"thread": "migrate(child)", "op": "READ_ONCE", "obj": "task#7"}]}


@functools.lru_cache(maxsize=None)
def _valid_json() -> str:
    """A real replay dict, found once: the random walk of the brief, else the bounded DFS,
    else (the search itself broken) ``FALLBACK``."""
    try:
        report = sched.explore("fork-migrate", strategy="random", seed=0, max_executions=200,
                               shrink=False)
        if not report.failures:     # the random walk may miss it; the bounded DFS does not
            report = sched.explore("fork-migrate", strategy="dfs", preemption_bound=1,
                                   stop_on_first=True, shrink=False)
    except Exception:               # noqa: BLE001 - not what this file tests
        return json.dumps(FALLBACK)
    if not report.failures:
        return json.dumps(FALLBACK)
    data = dict(report.failures[0].replay_dict)
    data.pop("_decisions", None)
    return json.dumps(data)


def valid_dict() -> dict[str, Any]:
    return json.loads(_valid_json())


@functools.lru_cache(maxsize=None)
def _scenario_threads() -> dict[str, list[str]]:
    from mmlist.scenarios import BUILTIN
    out = {}
    for name, sc in BUILTIN.items():
        try:
            _, specs = sc.build()
            out[name] = [s.name for s in specs]
        except Exception:       # noqa: BLE001 - a scenario under construction elsewhere
            pass
    return out


@functools.lru_cache(maxsize=None)
def _builtin_variants() -> tuple[str, ...]:
    try:
        from mmlist.variants import list_mutants, list_variants
        return tuple(v.name for v in list_variants() + list_mutants())
    except Exception:           # noqa: BLE001
        return ()


# ---------------------------------------------------------------------------------------------
# Strategies.
# ---------------------------------------------------------------------------------------------
INTERESTING_TEXT = ["", "false", "true", "null", "0", "fork-migrate", "fork(app1)",
                    "migrate(child)", "reclaim0", "LOCK", "THREAD_START", "VM_BUG_ON_MM",
                    "a\nb", "\r", "\x00", "\ud800", "\u2028", "é", "0" * 64, "f" * 63, "-",
                    "x" * 300]
scalars = (st.none() | st.booleans()
           | st.integers() | st.sampled_from([0, 1, -1, 2, 5000, 2 ** 63, -2 ** 63, 10 ** 30])
           | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=20) | st.sampled_from(INTERESTING_TEXT))
json_values = st.recursive(
    scalars,
    lambda children: (st.lists(children, max_size=4)
                      | st.dictionaries(st.text(max_size=8) | st.sampled_from(
                          ["thread", "op", "obj", "choose", "n", "preempt", "check",
                           "message", "schema_version", "kind"]), children, max_size=4)),
    max_leaves=12)


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path into ``data`` (dicts and lists), the root excluded."""
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            out.append(prefix + (k,))
            out.extend(_paths(v, prefix + (k,)))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.append(prefix + (i,))
            out.extend(_paths(v, prefix + (i,)))
    return out


def _parent(data: Any, path: tuple) -> Any:
    for k in path[:-1]:
        data = data[k]
    return data


@st.composite
def mutated_dicts(draw: Any, variants: Any = None, gentle: bool = False) -> dict[str, Any]:
    """The real replay dict with a few mutations: a value replaced (by anything, or by a
    plausible value), a key removed or added, the decision list cut, reordered or repeated,
    a pair (scenario, threads) of another scenario. ``gentle``: mostly well-typed mutations
    (which get past the loader, to the replay itself)."""
    data = valid_dict()
    plausible = (st.sampled_from(["fork-migrate", "fork(app1)", "migrate(child)", "reclaim0",
                                  "LOCK", "UNLOCK", "READ_ONCE", "start", "-"])
                 | st.integers(-2, 6) | st.booleans() | st.none())
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(
            ["plausible", "decisions", "decisions", "scenario", "variant", "config"] if gentle
            else ["replace", "replace", "plausible", "delete", "add", "decisions", "scenario",
                  "variant", "config"]))
        if op == "config":
            data.update(draw(st.fixed_dictionaries({}, optional={
                "structural": st.booleans(), "fair": st.booleans(),
                "step_budget": st.integers(1, 6000), "seed": st.integers(),
                "strategy": st.text(max_size=10)})))
            continue
        if op == "decisions":
            ds = data.get("decisions")
            if isinstance(ds, list) and ds:
                how = draw(st.sampled_from(["cut", "shuffle", "repeat", "choose"]))
                if how == "cut":
                    data["decisions"] = ds[:draw(st.integers(0, len(ds)))]
                elif how == "shuffle":
                    data["decisions"] = draw(st.permutations(ds))
                elif how == "repeat":
                    data["decisions"] = ds + ds[:draw(st.integers(0, len(ds)))]
                else:
                    i = draw(st.integers(0, len(ds)))
                    n = draw(st.integers(1, 4))
                    threads = data.get("threads")
                    names = [t for t in threads if isinstance(t, str)] \
                        if isinstance(threads, list) else []
                    ds.insert(i, {"choose": draw(st.integers(0, n - 1)), "n": n,
                                  "thread": draw(st.sampled_from(names or ["t"]))})
            continue
        if op == "scenario":
            table = _scenario_threads()
            if table:
                name = draw(st.sampled_from(sorted(table)))
                threads = table[name]
                dropped = draw(st.lists(st.sampled_from(threads), unique=True,
                                        max_size=len(threads))) if threads else []
                data.update(scenario=name, dropped=dropped,
                            threads=[t for t in threads if t not in dropped])
            continue
        if op == "variant":
            data["variant"] = draw(variants if variants is not None
                                   else st.sampled_from((None,) + _builtin_variants()))
            continue
        paths = _paths(data)
        if not paths:
            continue
        path = draw(st.sampled_from(paths))
        parent = _parent(data, path)
        if op in ("replace", "plausible"):
            value = draw(json_values if op == "replace" else plausible)
            if variants is None and path == ("variant",):
                value = draw(st.sampled_from((None,) + _builtin_variants()))
            parent[path[-1]] = value
        elif op == "delete":
            del parent[path[-1]]
        else:
            target = parent if isinstance(parent, dict) else data
            key = draw(st.text(max_size=10) | st.sampled_from(
                ["variant_path", "variant_sha256", "preempt", "trace", "_decisions"]))
            if variants is None and target is data and key == "variant":
                continue
            target[key] = draw(json_values)
    return data


def _encode(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode("utf-8", "surrogatepass")


@st.composite
def mutated_bytes(draw: Any) -> bytes:
    """The real file's bytes cut, with bytes flipped, inserted or deleted."""
    raw = bytearray(_valid_json().encode())
    for _ in range(draw(st.integers(1, 4))):
        how = draw(st.sampled_from(["cut", "flip", "insert", "delete"]))
        i = draw(st.integers(0, max(0, len(raw) - 1)))
        if how == "cut":
            del raw[i:]
        elif how == "flip" and raw:
            raw[i] = draw(st.integers(0, 255))
        elif how == "insert":
            raw[i:i] = draw(st.binary(min_size=1, max_size=8)
                            | st.sampled_from([b"[", b"{", b'"', b"\\", b"\xff", b"\xc3",
                                               b"\\ud800", b"NaN", b"1e999", b"9" * 5000]))
        elif raw:
            del raw[i:i + draw(st.integers(1, 16))]
    return bytes(raw)


deep_text = st.builds(lambda n, pair: (pair[0] * n + pair[1] + pair[2] * n).encode(),
                      st.integers(1, 20_000),
                      st.sampled_from([("[", "", "]"), ('{"a":', "1", "}"), ("[", "", ""),
                                       ('{"k":[', "0", "]}")]))

file_bytes = (st.binary(max_size=600)
              | json_values.map(_encode)
              | mutated_bytes()
              | deep_text
              | mutated_dicts(variants=json_values).map(_encode)
              | st.builds(lambda v, enc: json.dumps(v).encode(enc), mutated_dicts(),
                          st.sampled_from(["utf-16", "utf-16-le", "utf-32", "utf-8-sig",
                                           "latin-1"])))


# ---------------------------------------------------------------------------------------------
# Helpers.
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: Any) -> str:
    return str(tmp_path_factory.mktemp("replay-fuzz"))


def _write(directory: str, raw: bytes) -> str:
    fd, path = tempfile.mkstemp(suffix=".json", dir=directory)
    with os.fdopen(fd, "wb") as f:
        f.write(raw)
    return path


def _kind_of(msg: str, path: str) -> str:
    """A message without its path, indices and values: the statistics' category."""
    if ": field " in msg:
        return "field " + re.sub(r"\[\d+\]", "[]", msg.split(": field ", 1)[1].split(":")[0])
    msg = msg.replace(path, "PATH")
    return " ".join(msg.split("PATH: ", 1)[-1].split()[:3])[:60]


def _check_load(path: str) -> None:
    try:
        data = replayfile.load(path)
    except ReplayFileError as e:
        msg = str(e)
        event("refused: " + _kind_of(msg, path))
        assert msg and len(msg.splitlines()) == 1, repr(msg)
        assert len(msg) < 1000 + len(path), msg[:200]
    else:
        event("loaded")
        assert isinstance(data, dict)
        assert isinstance(data["_decisions"], list)


@contextlib.contextmanager
def _crash_logs_in(directory: str) -> Any:
    """``mmlist`` writes an internal error's traceback to a temporary file: keep it here."""
    old = tempfile.tempdir
    tempfile.tempdir = directory
    try:
        yield
    finally:
        tempfile.tempdir = old


def _check_cli(capsys: Any, directory: str, raw: bytes) -> None:
    from mmlist.cli import main
    path = _write(directory, raw)
    capsys.readouterr()
    try:
        with _crash_logs_in(directory):
            code = main(["replay", path])
    finally:
        out, err = capsys.readouterr()
        os.unlink(path)
    event(f"exit {code}")
    assert code in (0, 1, 2, 3), f"exit {code}: {err.strip()[:500]}"
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("mmlist: error: "), err[:500]


# ---------------------------------------------------------------------------------------------
# The loader.
# ---------------------------------------------------------------------------------------------
def test_the_real_dict_loads(fuzz_dir: str) -> None:
    for text in (_valid_json(), json.dumps(FALLBACK)):
        path = _write(fuzz_dir, text.encode())
        assert replayfile.load(path)["scenario"] == "fork-migrate"


@fuzz_settings(default=200, long=5000)
@given(raw=file_bytes)
@example(raw=b"")
@example(raw=b"\xff\xfe{\x00}\x00")
@example(raw=b"[" * 100_000)
@example(raw=b'{"kind": "mmlist-replay", "schema_version": true}')
@example(raw=b"1" * 10_000)
def test_load_fuzz_bytes(fuzz_dir: str, raw: bytes) -> None:
    path = _write(fuzz_dir, raw)
    try:
        _check_load(path)
    finally:
        os.unlink(path)


@fuzz_settings(default=200, long=5000)
@given(data=mutated_dicts(variants=json_values) | json_values)
def test_load_fuzz_mutated_dicts(fuzz_dir: str, data: Any) -> None:
    path = _write(fuzz_dir, _encode(data))
    try:
        _check_load(path)
    finally:
        os.unlink(path)


@fuzz_settings(default=200, long=5000)
@given(data=mutated_dicts(variants=json_values) | json_values)
def test_validate_fuzz(data: Any) -> None:
    """``validate`` on parsed data (what ``replay(dict)`` does)."""
    try:
        out = replayfile.validate(copy.deepcopy(data), "fuzz")
    except ReplayFileError as e:
        assert len(str(e).splitlines()) == 1
    else:
        assert isinstance(out, dict)
        # whatever validate accepts is well-typed for the code that uses it
        assert isinstance(out["scenario"], str) and isinstance(out["threads"], list)
        assert isinstance(out.get("step_budget", 1), int) and out.get("step_budget", 1) >= 1
        assert isinstance(out.get("fair", False), bool)
        assert isinstance(out.get("structural", True), bool)
        assert isinstance(out["violation"]["check"], str)


# ---------------------------------------------------------------------------------------------
# The command.
# ---------------------------------------------------------------------------------------------
@fuzz_settings(default=100, long=3000)
@given(raw=(mutated_dicts(gentle=True).map(_encode) | mutated_dicts().map(_encode)
            | mutated_bytes() | st.binary(max_size=200) | json_values.map(_encode)))
def test_cli_replay_fuzz(capsys: Any, fuzz_dir: str, raw: bytes) -> None:
    """``mmlist replay`` on mutations of a real file (``variant`` null or a built-in name)."""
    _check_cli(capsys, fuzz_dir, raw)


@fuzz_settings(default=25, long=500)
@given(data=mutated_dicts(gentle=True),
       variant=(st.text(max_size=12) | st.sampled_from(["", "nope", "x.py", "/etc/passwd", "."])))
@example(data=FALLBACK, variant="nope")
def test_cli_replay_fuzz_any_variant(capsys: Any, fuzz_dir: str, data: dict[str, Any],
                                     variant: str) -> None:
    """``mmlist replay`` on mutations whose ``variant`` is any string."""
    data = dict(data, variant=variant)
    _check_cli(capsys, fuzz_dir, _encode(data))
