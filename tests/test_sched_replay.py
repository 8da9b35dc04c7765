"""Replay files: round trip, divergence, stale and corrupt files refused (a replay file is
untrusted data: every bad one is a one-line ReplayFileError naming the bad field), atomic and
non-overwriting writes."""
from __future__ import annotations

import copy
import json
import os
import stat
import threading

import pytest

from mmlist import sched
from mmlist.sched import replayfile


@pytest.fixture(scope="module")
def failure():
    r = sched.explore("fork-migrate", strategy="dfs", preemption_bound=1, stop_on_first=True)
    f = next(f for f in r.failures if f.violation.check == "VM_BUG_ON_MM")
    return f


def test_replay_round_trip(failure, tmp_path):
    path = str(tmp_path / "fm.json")
    sched.save_replay(failure, path)
    assert f"mmlist replay {path}" in failure.table_text
    data = json.load(open(path))
    assert data["schema_version"] == 1 and data["scenario"] == "fork-migrate"
    # keyed by meaning: thread, op name, object label; never ids or bytecode offsets
    d = next(d for d in data["decisions"] if "op" in d)
    assert set(d) <= {"thread", "op", "obj", "preempt"}
    res = sched.replay(path)
    assert res.reproduced and res.divergence is None, res
    assert "lru_gen_migrate_mm" in res.table_text
    assert res.execution.decisions == failure.schedule
    # the same file again: byte-for-byte the same execution
    again = sched.replay(sched.load_replay(path))
    assert [e.__dict__ for e in again.execution.events] == \
        [e.__dict__ for e in res.execution.events]


def test_replay_reports_first_divergence(failure):
    data = copy.deepcopy(failure.replay_dict)
    k = next(i for i, d in enumerate(data["decisions"]) if d.get("op") == "LOCK")
    data["decisions"][k]["obj"] = "some.other.lock"
    res = sched.replay(data)
    assert not res.reproduced
    assert res.divergence.startswith(f"decision #{k}: expected ")
    assert "some.other.lock" in res.divergence and "observed" in res.divergence


@pytest.mark.parametrize("mutate, words", [
    (lambda d: d.update(schema_version=0), "stale replay file"),
    (lambda d: d.update(scenario="no-such-scenario"), "unknown scenario"),
    (lambda d: d.update(threads=["a", "b"]), "now has threads"),
    (lambda d: d.pop("decisions"), "missing decisions"),
    (lambda d: d.update(kind="something"), "not an mmlist replay file"),
])
def test_stale_replay_refused_with_one_line(failure, tmp_path, mutate, words):
    data = copy.deepcopy(failure.replay_dict)
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(sched.ReplayFileError) as e:
        sched.replay(str(path))
    assert words in str(e.value) and "\n" not in str(e.value)


def test_corrupt_replay_refused(tmp_path):
    path = tmp_path / "corrupt.json"
    path.write_text('{"schema_version": 1, "kind": "mmlist-replay", "decis')
    with pytest.raises(sched.ReplayFileError, match="corrupt replay file .*invalid JSON"):
        sched.load_replay(str(path))
    with pytest.raises(sched.ReplayFileError, match="cannot read"):
        sched.replay(str(tmp_path / "missing.json"))


# ---------------------------------------------------------------------------------------------
# A replay file is untrusted data: every bad file is one ReplayFileError naming what is wrong.
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def valid(failure):
    data = copy.deepcopy(failure.replay_dict)
    data.pop("_decisions", None)
    return data


def _write(tmp_path, content, name="r.json"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_text(json.dumps(content), encoding="utf-8")
    return str(path)


def _refused(path, *words):
    with pytest.raises(sched.ReplayFileError) as e:
        replayfile.load(path)
    msg = str(e.value)
    assert "\n" not in msg and len(msg.splitlines()) == 1, msg
    for w in words:
        assert w in msg, msg
    return msg


def test_valid_file_loads(valid, tmp_path):
    data = replayfile.load(_write(tmp_path, valid))
    assert data["scenario"] == "fork-migrate"
    assert [d.to_dict() for d in data["_decisions"]] == valid["decisions"]


def test_new_variant_fields_accepted(valid, tmp_path):
    valid.update(variant="my-fix", variant_path="/home/me/my_fix.py",
                 variant_sha256="0123456789abcdef" * 4)
    assert replayfile.load(_write(tmp_path, valid))["variant_sha256"] == "0123456789abcdef" * 4
    valid.update(variant=None, variant_path=None, variant_sha256=None)
    replayfile.load(_write(tmp_path, valid))


def test_utf8_byte_order_mark_is_skipped(valid, tmp_path):
    path = _write(tmp_path, b"\xef\xbb\xbf" + json.dumps(valid).encode())
    assert replayfile.load(path)["scenario"] == "fork-migrate"


def test_not_utf8_refused(valid, tmp_path):
    raw = json.dumps(valid).encode().replace(b"fork-migrate", b"fork-\xff\xfemigrate", 1)
    _refused(_write(tmp_path, raw), "corrupt replay file", "not UTF-8 text")


def test_utf16_with_bom_refused(valid, tmp_path):
    _refused(_write(tmp_path, json.dumps(valid).encode("utf-16")), "not UTF-8 text")
    _refused(_write(tmp_path, json.dumps(valid).encode("utf-16-be")), "corrupt replay file")


def test_deep_nesting_refused(tmp_path):
    _refused(_write(tmp_path, "[" * 100_000 + "]" * 100_000), "nested too deeply")
    _refused(_write(tmp_path, '{"a":' * 100_000 + "1" + "}" * 100_000), "nested too deeply")


def test_nesting_below_the_recursion_limit_but_deep_refused(valid, tmp_path):
    inner: object = 1
    for _ in range(500):
        inner = [inner]
    valid["violation"]["details"] = {"x": inner}
    _refused(_write(tmp_path, valid), "nested too deeply")


def test_top_level_not_an_object(tmp_path):
    for content, got in (("[]", "an array"), ("[1, 2]", "an array"), ('"x"', "a string"),
                         ("3", "an integer"), ("null", "null"), ("true", "a boolean")):
        _refused(_write(tmp_path, content), "corrupt replay file", "top level",
                 "expected a JSON object", got)


def test_huge_integer_refused(valid, tmp_path):
    text = json.dumps(valid).replace('"seed": 0', '"seed": ' + "9" * 5000)
    _refused(_write(tmp_path, text), "corrupt replay file", "invalid JSON")


def test_dev_zero_refused_after_a_bounded_read(monkeypatch):
    """An endless file is refused after reading at most MAX_BYTES + 1 bytes, never read to the
    end (the bound that keeps a load short, tested as a bound, not as a time)."""
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    asked: list[int] = []
    real_open = open

    class Counting:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            self.f.__enter__()
            return self

        def __exit__(self, *exc):
            return self.f.__exit__(*exc)

        def read(self, n=-1):
            asked.append(n)
            return self.f.read(n)

        def __getattr__(self, name):
            return getattr(self.f, name)

    monkeypatch.setattr(replayfile, "open",
                        lambda *a, **k: Counting(real_open(*a, **k)), raising=False)
    _refused("/dev/zero", "corrupt replay file /dev/zero: larger than 16 MiB")
    assert asked and all(0 <= n <= replayfile.MAX_BYTES + 1 for n in asked), asked


def test_over_limit_file_refused(tmp_path):
    path = tmp_path / "big.json"
    with open(path, "wb") as f:            # sparse: costs no disk
        f.truncate(replayfile.MAX_BYTES + 1)
    _refused(str(path), f"corrupt replay file {path}: larger than 16 MiB")
    # exactly at the limit it is read (and is then just not JSON)
    with open(path, "r+b") as f:
        f.truncate(replayfile.MAX_BYTES)
    _refused(str(path), "invalid JSON")


def test_over_limit_stream_refused(tmp_path, valid):
    """A small limit, a file larger than it: refused after reading limit + 1 bytes."""
    path = _write(tmp_path, valid)
    with pytest.raises(sched.ReplayFileError, match="larger than 100 bytes"):
        replayfile.load(path, max_bytes=100)


def test_unreadable_path_refused(tmp_path):
    _refused(str(tmp_path), "cannot read replay file")
    _refused(str(tmp_path / "nope.json"), "cannot read replay file")
    _refused("bad\0path.json", "cannot read replay file")


def _set(*keys_and_value):
    *keys, value = keys_and_value

    def mutate(d):
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value
    return mutate


def _first_thread_decision(d):
    return next(x for x in d["decisions"] if "op" in x)


WRONG_TYPES = [
    ("scenario", _set("scenario", 3)),
    ("scenario", _set("scenario", None)),
    ("scenario", _set("scenario", ["fork-migrate"])),
    ("scenario", _set("scenario", "fork\nmigrate")),
    ("scenario", _set("scenario", "\ud800")),
    ("threads", _set("threads", "fork(app1)")),
    ("threads", _set("threads", {"a": 1})),
    ("threads[1]", _set("threads", ["fork(app1)", 7, "reclaim0"])),
    ("dropped", _set("dropped", "reclaim0")),
    ("dropped", _set("dropped", None)),
    ("dropped[0]", _set("dropped", [None])),
    ("variant", _set("variant", 1)),
    ("variant", _set("variant", ["x"])),
    ("variant", _set("variant", False)),
    ("variant_path", _set("variant_path", 1)),
    ("variant_path", _set("variant_path", {})),
    ("variant_sha256", _set("variant_sha256", "abc")),
    ("variant_sha256", _set("variant_sha256", "g" * 64)),
    ("variant_sha256", _set("variant_sha256", "0" * 64 + "\n")),
    ("variant_sha256", _set("variant_sha256", 12)),
    ("structural", _set("structural", "false")),
    ("structural", _set("structural", 0)),
    ("structural", _set("structural", None)),
    ("fair", _set("fair", "false")),
    ("fair", _set("fair", "true")),
    ("fair", _set("fair", 1)),
    ("step_budget", _set("step_budget", 0)),
    ("step_budget", _set("step_budget", -5)),
    ("step_budget", _set("step_budget", "5000")),
    ("step_budget", _set("step_budget", 5000.0)),
    ("step_budget", _set("step_budget", True)),
    ("step_budget", _set("step_budget", None)),
    ("seed", _set("seed", "0")),
    ("seed", _set("seed", 0.5)),
    ("seed", _set("seed", False)),
    ("strategy", _set("strategy", 1)),
    ("strategy", _set("strategy", None)),
    ("violation", _set("violation", "VM_BUG_ON_MM")),
    ("violation", _set("violation", [])),
    ("violation", _set("violation", None)),
    ("violation.check", _set("violation", "check", 1)),
    ("violation.check", lambda d: d["violation"].pop("check")),
    ("violation.message", _set("violation", "message", None)),
    ("violation.message", lambda d: d["violation"].pop("message")),
    ("violation.severity", _set("violation", "severity", 2)),
    ("violation.thread", _set("violation", "thread", ["x"])),
    ("violation.function", _set("violation", "function", 5)),
    ("violation.condition", _set("violation", "condition", {})),
    ("violation.snapshot", _set("violation", "snapshot", "state")),
    ("violation.events", _set("violation", "events", "one event")),
    ("violation.events[0]", _set("violation", "events", [1])),
    ("violation.details", _set("violation", "details", [])),
    ("violation.stack", _set("violation", "stack", "f")),
    ("decisions", _set("decisions", "fork(app1)")),
    ("decisions", _set("decisions", {"0": {}})),
    ("decisions", _set("decisions", None)),
    ("decisions[0]", _set("decisions", ["x"])),
    ("decisions[0]", _set("decisions", [None])),
    ("decisions[0].thread", _set("decisions", [{"op": "LOCK", "obj": "x"}])),
    ("decisions[0].thread", _set("decisions", [{"thread": 1, "op": "LOCK", "obj": "x"}])),
    ("decisions[0].op", _set("decisions", [{"thread": "t", "obj": "x"}])),
    ("decisions[0].op", _set("decisions", [{"thread": "t", "op": None, "obj": "x"}])),
    ("decisions[0].obj", _set("decisions", [{"thread": "t", "op": "LOCK", "obj": ["x"]}])),
    ("decisions[0].obj", _set("decisions", [{"thread": "t", "op": "LOCK",
                                             "obj": "a\nDIVERGED"}])),
    ("decisions[0].preempt", _set("decisions", [{"thread": "t", "op": "LOCK", "obj": "x",
                                                 "preempt": "false"}])),
    ("decisions[0].n", _set("decisions", [{"thread": "t", "choose": 0}])),
    ("decisions[0].n", _set("decisions", [{"thread": "t", "choose": 0, "n": 0}])),
    ("decisions[0].n", _set("decisions", [{"thread": "t", "choose": 0, "n": "2"}])),
    ("decisions[0].choose", _set("decisions", [{"thread": "t", "choose": 2, "n": 2}])),
    ("decisions[0].choose", _set("decisions", [{"thread": "t", "choose": -1, "n": 2}])),
    ("decisions[0].choose", _set("decisions", [{"thread": "t", "choose": "1", "n": 2}])),
    ("decisions[0].choose", _set("decisions", [{"thread": "t", "choose": None, "n": 2}])),
    ("decisions[0].choose", _set("decisions", [{"thread": "t", "choose": True, "n": 2}])),
]


@pytest.mark.parametrize("field, mutate", WRONG_TYPES,
                         ids=[f"{f}-{i}" for i, (f, _) in enumerate(WRONG_TYPES)])
def test_wrong_typed_field_refused_with_its_name(valid, tmp_path, field, mutate):
    mutate(valid)
    path = _write(tmp_path, valid)
    msg = _refused(path, f"corrupt replay file {path}: field {field}: expected ")
    # and through the public entry points too
    with pytest.raises(sched.ReplayFileError, match="field "):
        sched.replay(path)
    with pytest.raises(sched.ReplayFileError, match="field "):
        sched.replay(copy.deepcopy(valid))
    assert msg


def test_string_false_is_not_true(valid, tmp_path):
    valid["structural"] = "false"
    msg = _refused(_write(tmp_path, valid), "field structural: expected true or false",
                   "got a string")
    assert "structural" in msg


def test_step_budget_zero_refused(valid, tmp_path):
    valid["step_budget"] = 0
    _refused(_write(tmp_path, valid), "field step_budget: expected an integer >= 1")


@pytest.mark.parametrize("version", [0, 2, "1", 1.0, True, None])
def test_schema_version_checked_strictly(valid, tmp_path, version):
    valid["schema_version"] = version
    _refused(_write(tmp_path, valid), "stale replay file", "schema_version")


def test_violation_schema_version_checked(valid, tmp_path):
    valid["violation"]["schema_version"] = 0
    _refused(_write(tmp_path, valid), "stale replay file", "violation schema_version")
    del valid["violation"]["schema_version"]
    _refused(_write(tmp_path, valid), "stale replay file", "violation schema_version")


def test_huge_values_do_not_make_huge_messages(valid, tmp_path):
    valid["kind"] = "x" * 1_000_000
    msg = _refused(_write(tmp_path, valid), "not an mmlist replay file")
    assert len(msg) < 300


def test_cli_replay_wrong_field_is_one_line_exit_2(valid, tmp_path, capsys):
    from mmlist.cli import main
    valid["fair"] = "false"
    path = _write(tmp_path, valid)
    code = main(["replay", path])
    out, err = capsys.readouterr()
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mmlist: error: ")
    assert "field fair: expected true or false" in lines[0]


# ---------------------------------------------------------------------------------------------
# Writing: atomic, and (dump_new) never over an existing file.
# ---------------------------------------------------------------------------------------------
def _listing(d):
    return sorted(os.listdir(d))


def test_dump_is_atomic_and_leaves_no_temporary(valid, tmp_path):
    path = str(tmp_path / "fm.json")
    assert replayfile.dump(valid, path) == path
    assert _listing(tmp_path) == ["fm.json"]
    assert replayfile.load(path)["scenario"] == "fork-migrate"
    valid["seed"] = 7
    replayfile.dump(valid, path)                      # replaces
    assert replayfile.load(path)["seed"] == 7
    assert _listing(tmp_path) == ["fm.json"]


def test_dump_file_mode_follows_umask(valid, tmp_path):
    old = os.umask(0o022)
    try:
        path = replayfile.dump(valid, str(tmp_path / "fm.json"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644


def test_dump_failure_keeps_the_old_file_and_no_temporary(valid, tmp_path, monkeypatch):
    path = str(tmp_path / "fm.json")
    replayfile.dump(valid, path)
    before = open(path).read()

    def boom(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(replayfile.os, "replace", boom)
    with pytest.raises(OSError):
        replayfile.dump(dict(valid, seed=9), path)
    monkeypatch.undo()
    assert open(path).read() == before
    assert _listing(tmp_path) == ["fm.json"]
    cyclic: dict = {}
    cyclic["self"] = cyclic
    with pytest.raises(ValueError):                     # not serialisable: nothing written
        replayfile.dump(cyclic, path)
    assert open(path).read() == before and _listing(tmp_path) == ["fm.json"]


def test_concurrent_dumps_never_show_a_partial_file(valid, tmp_path):
    path = str(tmp_path / "fm.json")
    replayfile.dump(valid, path)
    stop = threading.Event()
    errors: list = []

    def writer(seed):
        data = dict(valid, seed=seed)
        while not stop.is_set():
            try:
                replayfile.dump(data, path)
            except Exception as e:                       # noqa: BLE001
                errors.append(e)

    writers = [threading.Thread(target=writer, args=(k,)) for k in range(3)]
    for t in writers:
        t.start()
    try:
        seeds = set()
        for _ in range(200):
            seeds.add(replayfile.load(path)["seed"])     # never a partial / corrupt file
    finally:
        stop.set()
        for t in writers:
            t.join()
    assert not errors
    assert seeds <= {0, 1, 2}
    assert _listing(tmp_path) == ["fm.json"]


def test_dump_new_never_overwrites(valid, tmp_path):
    path = str(tmp_path / "fm.json")
    assert replayfile.dump_new(valid, path) == path
    assert replayfile.dump_new(dict(valid, seed=2), path) == str(tmp_path / "fm-2.json")
    assert replayfile.dump(dict(valid, seed=3), path, exclusive=True) == \
        str(tmp_path / "fm-3.json")
    assert [replayfile.load(str(tmp_path / n))["seed"] for n in
            ("fm.json", "fm-2.json", "fm-3.json")] == [0, 2, 3]
    assert _listing(tmp_path) == ["fm-2.json", "fm-3.json", "fm.json"]
    # a name without an extension
    bare = str(tmp_path / "bare")
    assert replayfile.dump_new(valid, bare) == bare
    assert replayfile.dump_new(valid, bare) == bare + "-2"


def test_dump_new_concurrent_writers_get_distinct_files(valid, tmp_path):
    path = str(tmp_path / "fm.json")
    results: list = []
    barrier = threading.Barrier(8)

    def writer(seed):
        barrier.wait()
        results.append((seed, replayfile.dump_new(dict(valid, seed=seed), path)))

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    paths = [p for _, p in results]
    assert len(set(paths)) == 8
    assert set(paths) == {path} | {str(tmp_path / f"fm-{k}.json") for k in range(2, 9)}
    for seed, p in results:                               # each kept its own content
        assert replayfile.load(p)["seed"] == seed
    assert len(_listing(tmp_path)) == 8


def test_dump_new_without_hard_links(valid, tmp_path, monkeypatch):
    def no_link(src, dst):
        raise OSError(1, "Operation not permitted")
    monkeypatch.setattr(replayfile.os, "link", no_link)
    path = str(tmp_path / "fm.json")
    replayfile.dump(valid, path)
    assert replayfile.dump_new(dict(valid, seed=5), path) == str(tmp_path / "fm-2.json")
    assert replayfile.load(path)["seed"] == 0
    assert replayfile.load(str(tmp_path / "fm-2.json"))["seed"] == 5
    assert _listing(tmp_path) == ["fm-2.json", "fm.json"]
