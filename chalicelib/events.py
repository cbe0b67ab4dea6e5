"""The event contract between producers (crawl, uptime) and consumers (fan-out, deliverers).

Producers do not publish events themselves: they write state, and the DynamoDB streams carry
it. An event is derived from a stream record:

* `release.new`        - INSERT of a RELEASES item with sk == "META"
* any STATE-table item with sk == "STATE" that carries `last_event` (a dict with at least
  `id` and `type`) - emitted when the NEW image's `last_event.id` differs from the OLD image's.
  Types: `target.down`, `target.recovered`, `target.reminder`, `targets.grouped_down`,
  `source.degraded`, `source.recovered`, `source.dead`.

Event ids are deterministic (derived from what happened, never from a clock), so a duplicated
stream record or a re-run produces the same id, and the delivery ledger dedupes on it.

Schema versions: producers write `SCHEMA_VERSION`; consumers accept every version in
`ACCEPTED_VERSIONS` (the previous one stays accepted during a rollout).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from chalicelib.settings import event_schema_version

# The version this code writes; a rollout sets NEWBOOKS_EVENT_SCHEMA_VERSION on the new functions
# first (the local chaos run "deploys" 2 mid-stream) while every consumer accepts both.
SCHEMA_VERSION = event_schema_version()
ACCEPTED_VERSIONS = frozenset({1, 2})

RELEASE_NEW = "release.new"
RELEASE_DATE_CHANGED = "release.date_changed"  # MODIFY of a release whose last_event is a date move
TARGET_DOWN = "target.down"
TARGET_RECOVERED = "target.recovered"
TARGET_REMINDER = "target.reminder"
TARGETS_GROUPED_DOWN = "targets.grouped_down"
TARGETS_GROUPED_REMINDER = "targets.grouped_reminder"
TARGETS_GROUPED_RECOVERED = "targets.grouped_recovered"
SOURCE_DEGRADED = "source.degraded"
SOURCE_RECOVERED = "source.recovered"
SOURCE_DEAD = "source.dead"  # degraded for N days: an ops alert

EVENT_TYPES = frozenset(
    {RELEASE_NEW, RELEASE_DATE_CHANGED, TARGET_DOWN, TARGET_RECOVERED, TARGET_REMINDER, TARGETS_GROUPED_DOWN,
     SOURCE_DEGRADED, SOURCE_RECOVERED}
    | {TARGETS_GROUPED_REMINDER, TARGETS_GROUPED_RECOVERED, SOURCE_DEAD}
)


class UnsupportedEvent(ValueError):
    """An event whose type or schema version this code does not understand (goes to the DLQ)."""


@dataclass(frozen=True)
class Event:
    id: str  # deterministic, e.g. "release.new:isbn:9784088820000" or "target.down:api:2026-11-22T10:03"
    type: str
    occurred_at: str  # ISO-8601 UTC, taken from the triggering data (tick time, first sighting)
    subject: str  # what it is about: release id, target name, source name
    data: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Event:
        version = int(raw.get("schema_version", 1))
        if version not in ACCEPTED_VERSIONS:
            raise UnsupportedEvent(f"schema_version {version} not in {sorted(ACCEPTED_VERSIONS)}")
        if raw.get("type") not in EVENT_TYPES:
            raise UnsupportedEvent(f"unknown event type {raw.get('type')!r}")
        return cls(
            id=str(raw["id"]),
            type=str(raw["type"]),
            occurred_at=str(raw.get("occurred_at", "")),
            subject=str(raw.get("subject", "")),
            data=dict(raw.get("data") or {}),
            schema_version=version,
        )
