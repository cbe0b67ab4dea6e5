"""Pure decision: is a source healthy after this crawl, and does that change raise an event?

A crawl that fails to parse, yields no items, or loses more than half of last time's items marks
the source degraded (one `source.degraded` event on the transition); the first good crawl after
that recovers it (one `source.recovered` event). Event ids come from the crawl's scheduled time,
so a re-run of the same crawl message produces the same id and the ledger dedupes it.
"""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib import events

OK = "ok"
DEGRADED = "degraded"


@dataclass(frozen=True)
class Verdict:
    status: str
    reason: str | None
    write_releases: bool  # False when the body is not trusted (parse error, empty)
    baseline_count: int  # the item count the next crawl compares against
    event: events.Event | None


def judge(
    source: str,
    *,
    previous_status: str | None,
    previous_count: int,
    item_count: int,
    parse_error: str | None,
    scheduled_at: str,
) -> Verdict:
    if parse_error is not None:
        status, reason, trusted = DEGRADED, f"parse failed: {parse_error}", False
    elif item_count == 0:
        status, reason, trusted = DEGRADED, "the crawl yielded no items", False
    elif previous_count and item_count * 2 < previous_count:
        # Shrunk: the new items are still real (conditional puts never overwrite), but warn.
        status, reason, trusted = DEGRADED, f"items dropped from {previous_count} to {item_count}", True
    else:
        status, reason, trusted = OK, None, True
    baseline = item_count if trusted else previous_count
    event = None
    if status == DEGRADED and previous_status != DEGRADED:
        event = _event(events.SOURCE_DEGRADED, source, scheduled_at, {"reason": reason, "items": item_count})
    elif status == OK and previous_status == DEGRADED:
        event = _event(events.SOURCE_RECOVERED, source, scheduled_at, {"items": item_count})
    return Verdict(status, reason, trusted, baseline, event)


def _event(kind: str, source: str, scheduled_at: str, data: dict) -> events.Event:
    return events.Event(
        id=f"{kind}:{source}:{scheduled_at}",
        type=kind,
        occurred_at=scheduled_at,
        subject=source,
        data={"source": source, **data},
    )
