"""A violation: what a check (or a kernel assertion) found, as data.

Serialisable to JSON with a schema version so that reports and replay files can be read back
and refused when stale.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = 1


@dataclass
class Violation:
    """One finding.

    ``check`` names the check (``"VM_BUG_ON"``, ``"handout_once"``, ``"lock_order"``...);
    ``message`` is one line in kernel vocabulary; ``severity`` is ``"bug"`` (the kernel would
    oops, or the protocol is broken), ``"warning"`` (a WARN splat) or ``"liveness"``.
    """

    check: str
    message: str
    severity: str = "bug"
    thread: str | None = None
    function: str | None = None
    condition: str | None = None
    snapshot: dict[str, Any] | None = None
    events: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    #: the protocol (model) functions on the violating thread's stack, outermost first; empty
    #: for a check on the state as a whole (the structural invariants)
    stack: list[str] = field(default_factory=list)
    #: the execution's protocol events up to the violation, as ``[thread, event, {fact: label}]``
    #: (what the findings registry's signatures read); in memory only, not serialised
    trace: list[Any] = field(default_factory=list, repr=False, compare=False)
    schema_version: int = SCHEMA_VERSION

    @property
    def key(self) -> tuple[Any, ...]:
        """What makes two violations the same *new* finding: check, function, condition, the
        message with its numbers normalised, and the set of protocol functions on the
        violating thread's stack (``mmlist.findings`` merges known ones by registry entry)."""
        return (self.check, self.function, self.condition, normalise(self.message),
                tuple(sorted(set(self.stack))))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        del d["trace"]
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, default=str)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Violation":
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ValueError(f"violation schema version {version!r}, expected {SCHEMA_VERSION}")
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def from_json(cls, text: str) -> "Violation":
        return cls.from_dict(json.loads(text))

    def __str__(self) -> str:
        where = f" in {self.function}()" if self.function else ""
        who = f" [{self.thread}]" if self.thread else ""
        return f"{self.check}{where}{who}: {self.message}"


_NUMBER = re.compile(r"\d+")


def normalise(message: str) -> str:
    """``message`` with every number replaced by ``N``: ``mm#3 handed out twice in iteration
    seq=4`` and ``mm#5 handed out twice in iteration seq=6`` are the same kind of violation."""
    return _NUMBER.sub("N", message)
