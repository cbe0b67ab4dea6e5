"""One target's result in one tick, and how a tick's rows are stored.

Stored form (DynamoDB `TICK#<shard>/<minute>` attribute `r`, and read back by the TTL archiver
and anything reading old items): zlib of compact, key-sorted JSON mapping target name to
`[code, latency_ms, status, error, detail, tls_expiry]`. That list is the only place the field
order lives: everything else uses `TickRow`'s names. The format is unchanged since version 1
(`v: 1` on the item), so old items read the same.

Codes: `o` passed, `s` passed but slower than the target's degraded threshold, `f` failed, `F`
failed in a tick where so many checks failed that the DOWNs are announced as one group, `m` in
a maintenance window (neither up nor down).
"""
from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from typing import Any, Final, Literal, NamedTuple, TypeAlias, get_args

TickCode: TypeAlias = Literal["o", "s", "f", "F", "m"]
OK: Final = "o"
SLOW: Final = "s"
FAILED: Final = "f"
FAILED_GROUPED: Final = "F"
MAINTENANCE: Final = "m"
CODES: Final[frozenset[str]] = frozenset(get_args(TickCode))
PASSING: Final[frozenset[str]] = frozenset({OK, SLOW})
FAILING: Final[frozenset[str]] = frozenset({FAILED, FAILED_GROUPED})
STORED_FIELDS: Final = 6


class TickRow(NamedTuple):
    code: TickCode
    latency_ms: int = 0
    status: int | None = None
    error: str | None = None  # dns|connect|tls|timeout|status|condition|policy|error, or fail|late (heartbeats)
    detail: str | None = None  # the failing condition rendered with its value, or what went wrong (<= 200 chars)
    tls_expiry: str | None = None  # ISO date-time of the peer certificate's notAfter

    @property
    def passed(self) -> bool:
        return self.code in PASSING

    @property
    def failed(self) -> bool:
        return self.code in FAILING

    @property
    def in_maintenance(self) -> bool:
        return self.code == MAINTENANCE

    def with_code(self, code: TickCode) -> TickRow:
        return self._replace(code=code)

    def to_stored(self) -> list[Any]:
        return [self.code, self.latency_ms, self.status, self.error, self.detail, self.tls_expiry]

    @classmethod
    def from_stored(cls, raw: Sequence[Any]) -> TickRow:
        """A stored row; shorter rows (missing trailing fields) read with those fields empty."""
        if not raw or raw[0] not in CODES:
            raise ValueError(f"not a tick row code: {raw[:1]!r}")
        padded = list(raw[:STORED_FIELDS]) + [None] * (STORED_FIELDS - len(raw))
        code, latency, status, error, detail, tls = padded
        return cls(code, int(latency or 0), None if status is None else int(status),
                   _text(error), _text(detail), _text(tls))

    def archive_fields(self) -> dict[str, Any]:
        """The row's fields as the archive and `/status/{target}` name them."""
        return {"code": self.code, "ok": self.passed, "latency_ms": self.latency_ms, "status": self.status,
                "error": self.error, "condition": self.detail, "tls_expiry": self.tls_expiry}


TickRows: TypeAlias = dict[str, TickRow]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def encode_rows(rows: TickRows) -> bytes:
    stored = {name: row.to_stored() for name, row in rows.items()}
    return zlib.compress(json.dumps(stored, separators=(",", ":"), sort_keys=True).encode(), 6)


def decode_rows(blob: Any) -> TickRows:
    """A stored `r` attribute (bytes, or boto3's Binary wrapper); None reads as no rows."""
    if blob is None:
        return {}
    raw = getattr(blob, "value", blob)
    stored: dict[str, list[Any]] = json.loads(zlib.decompress(bytes(raw)))
    return {name: TickRow.from_stored(row) for name, row in stored.items()}
