"""Replay files: a failing schedule as JSON, keyed by meaning.

    {"schema_version": 1, "kind": "mmlist-replay", "scenario": "fork-migrate",
     "threads": ["fork(app1)", "migrate(child)", "reclaim0"], "dropped": [],
     "variant": null, "structural": true, "fair": false, "step_budget": 5000,
     "violation": {...}, "strategy": "dfs(...)", "seed": 0,
     "decisions": [{"thread": "fork(app1)", "op": "LOCK", "obj": "cgroup_threadgroup_rwsem"},
                   {"choose": 1, "n": 2, "thread": "reclaim0"}, ...]}

Each thread decision names the thread, the op it was parked on and the object's label: never a
bytecode position or an ``id()`` (pitfalls.md #4). A file from another schema, for a scenario
that no longer exists or whose threads changed, or that is not valid JSON, is refused with a
one-line ``ReplayFileError``.
"""
from __future__ import annotations

import json
import os
from typing import Any

from .decisions import Decision

SCHEMA_VERSION = 1
KIND = "mmlist-replay"
_REQUIRED = ("scenario", "threads", "decisions", "violation")


class ReplayFileError(Exception):
    """A replay file that cannot be used (corrupt, stale, from another schema): one line."""


def dump(data: dict[str, Any], path: str) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1, sort_keys=False, default=str)
        f.write("\n")
    os.replace(tmp, path)


def validate(data: Any, where: str = "replay data") -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ReplayFileError(f"corrupt replay file {where}: not a JSON object")
    if data.get("kind") != KIND:
        raise ReplayFileError(f"not an mmlist replay file: {where} (kind={data.get('kind')!r})")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ReplayFileError(f"stale replay file {where}: schema_version {version!r}, this "
                              f"mmlist reads {SCHEMA_VERSION}; re-run the search to record it "
                              "again")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise ReplayFileError(f"corrupt replay file {where}: missing {', '.join(missing)}")
    if not isinstance(data["decisions"], list) or not isinstance(data["threads"], list):
        raise ReplayFileError(f"corrupt replay file {where}: decisions/threads must be lists")
    try:
        data["_decisions"] = [Decision.from_dict(d) for d in data["decisions"]]
    except (KeyError, TypeError, ValueError) as e:
        raise ReplayFileError(f"corrupt replay file {where}: bad decision ({e})") from None
    return data


def load(path: str) -> dict[str, Any]:
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise ReplayFileError(f"cannot read replay file {path}: {e.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ReplayFileError(f"corrupt replay file {path}: invalid JSON at line {e.lineno} "
                              f"column {e.colno}") from None
    return validate(data, path)
