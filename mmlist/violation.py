"""A violation: what a check (or a kernel assertion) found, as data.

Serialisable to JSON with a schema version so that reports and replay files can be read back
and refused when stale.
"""
from __future__ import annotations

import json
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
    schema_version: int = SCHEMA_VERSION

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        """What makes two violations "the same" when deduplicating a campaign's findings."""
        return (self.check, self.function, self.condition)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

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
