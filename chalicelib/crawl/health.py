"""Pure decisions: is a source healthy after this crawl, which change raises an event, and when
may a failing source be tried again.

A crawl that fails to fetch (DNS, connect, 404/410, 5xx after retries, robots refusal, bad URL,
refused address), fails to parse, yields no items, or loses more than half of last time's items
marks the source DEGRADED: one `source.degraded` event on the transition, also when the source has
no state yet. A source still failing `dead_after_days` after it first degraded is DEAD: one
`source.dead` event (an ops alert). The first good crawl after either recovers it: one
`source.recovered` event. Event ids come from the crawl's scheduled time (the dead event's from the
incident start), so a re-run of the same crawl message produces the same id and the ledger dedupes.

Retry policy: fetch failures never go back to SQS (the worker acks the message); a transient one
(network, timeout, 5xx after the fetcher's own retries) backs off across schedules, 1 h doubling
to 24 h; a permanent one (404/410 and other 4xx, robots refusal, bad URL, refused address, too
large) waits a day before the next look.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib import events

OK = "ok"
DEGRADED = "degraded"
DEAD = "dead"
FAILING = frozenset({DEGRADED, DEAD})

DEFAULT_DEAD_AFTER_DAYS = 7
PERMANENT_WAIT = timedelta(hours=24)
BACKOFF_CAP = timedelta(hours=24)

# FetchError kinds retrying cannot fix (crawlers.fetcher.FetchError documents the kinds).
_PERMANENT_KINDS = frozenset({"robots", "bad_url", "too_many_redirects", "refused", "too_large", "budget"})
_TRANSIENT_STATUSES = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Verdict:
    status: str
    reason: str | None
    write_releases: bool  # False when the body is not trusted (parse error, empty)
    baseline_count: int  # the item count the next crawl compares against
    event: events.Event | None


@dataclass(frozen=True)
class Failure:
    """A crawl that produced no body: why, and whether retrying can help."""

    kind: str
    reason: str
    permanent: bool


def classify(kind: str, status: int | None, message: str, *, transient: bool = False) -> Failure:
    """A fetch failure as a state reason; `transient` forces a retry (robots.txt answered 5xx)."""
    if kind == "http_status":
        permanent = status is not None and 400 <= status < 500 and status not in _TRANSIENT_STATUSES
    else:
        permanent = kind in _PERMANENT_KINDS and not transient
    return Failure(kind, f"fetch failed ({kind}): {message}"[:300], permanent)


def judge(
    source: str,
    *,
    previous_status: str | None,
    previous_count: int,
    item_count: int,
    parse_error: str | None,
    scheduled_at: str,
) -> Verdict:
    """The verdict on a parsed body (health of the page itself; DEAD is decided by `transition`)."""
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
    event = transition_event(source, previous_status, status, scheduled_at, reason=reason, items=item_count)
    return Verdict(status, reason, trusted, baseline, event)


def transition_event(
    source: str, previous_status: str | None, status: str, scheduled_at: str, *, reason: str | None,
    items: int | None = None, since: str | None = None,
) -> events.Event | None:
    """At most one event per change of health: ok -> failing, degraded -> dead, failing -> ok."""
    previous_failing = previous_status in FAILING
    if status in FAILING and not previous_failing:
        return _event(events.SOURCE_DEGRADED, source, scheduled_at, {"reason": reason, "items": items or 0,
                                                                     "status": DEGRADED})
    if status == DEAD and previous_status != DEAD:
        # Keyed by the incident start: every worker that finds the source dead writes the same id.
        return _event(events.SOURCE_DEAD, source, scheduled_at, {"reason": reason, "since": since, "status": DEAD},
                      key=since or scheduled_at)
    if status == OK and previous_failing:
        return _event(events.SOURCE_RECOVERED, source, scheduled_at, {"items": items or 0, "since": since,
                                                                      "status": OK})
    return None


def failing_status(degraded_since: str, scheduled_at: str, dead_after_days: int) -> str:
    """DEGRADED until the incident is `dead_after_days` old, then DEAD."""
    age = _time(scheduled_at) - _time(degraded_since)
    return DEAD if age >= timedelta(days=dead_after_days) else DEGRADED


def retry_at(failure: Failure, failures: int, scheduled_at: str) -> str:
    """When the dispatcher may send this source again: 1 h, 2 h, 4 h ... 24 h; a day if permanent."""
    if failure.permanent:
        wait = PERMANENT_WAIT
    else:
        wait = min(BACKOFF_CAP, timedelta(hours=2 ** max(0, min(failures - 1, 10))))
    return _stamp(_time(scheduled_at) + wait)


def after_failure(
    source: str, state: dict[str, Any], failure: Failure, scheduled_at: str, dead_after_days: int
) -> dict[str, Any]:
    """The next state item after a fetch failure. Everything else in `state` (fetch validators,
    raw keys, item count) is kept, so the next good crawl compares against what was stored."""
    previous_status = state.get("status")
    since = state.get("degraded_since") if previous_status in FAILING else None
    since = since or scheduled_at
    repeat = state.get("last_failure_at") == scheduled_at  # the same message delivered twice
    failures = int(state.get("failures", 0)) + (0 if repeat else 1)
    status = failing_status(since, scheduled_at, dead_after_days)
    out = {
        **state,
        "status": status,
        "reason": failure.reason,
        "problem": "fetch",
        "failure_kind": failure.kind,
        "permanent": failure.permanent,
        "degraded_since": since,
        "failures": failures,
        "last_failure_at": scheduled_at,
        "retry_at": retry_at(failure, failures, scheduled_at),
        "last_crawl": scheduled_at,
    }
    event = transition_event(source, previous_status, status, scheduled_at, reason=failure.reason,
                             items=int(state.get("item_count", 0)), since=since)
    if event is not None:
        out["last_event"] = event.to_dict()
    return out


def after_parse(
    source: str, state: dict[str, Any], verdict: Verdict, scheduled_at: str, dead_after_days: int
) -> tuple[str, events.Event | None, dict[str, Any]]:
    """(status, event, health fields) after a parsed crawl: a bad body keeps the incident open
    (and can turn it DEAD); a good one closes it."""
    previous_status = state.get("status")
    if verdict.status == OK:
        since = state.get("degraded_since")
        event = transition_event(source, previous_status, OK, scheduled_at, reason=None,
                                 items=verdict.baseline_count, since=since)
        fields = {"degraded_since": None, "failures": 0, "retry_at": None, "problem": None, "failure_kind": None,
                  "permanent": None, "last_ok": scheduled_at}
        return OK, event, fields
    since = (state.get("degraded_since") if previous_status in FAILING else None) or scheduled_at
    status = failing_status(since, scheduled_at, dead_after_days)
    event = transition_event(source, previous_status, status, scheduled_at, reason=verdict.reason,
                             items=verdict.baseline_count, since=since)
    return status, event, {"degraded_since": since, "problem": "parse", "retry_at": None, "failure_kind": None,
                           "permanent": None}


def due(health_row: dict[str, Any] | None, scheduled_at: str) -> bool:
    """False while a failing source waits out its backoff."""
    waiting = (health_row or {}).get("retry_at")
    return not waiting or _time(str(waiting)) <= _time(scheduled_at)


def _event(kind: str, source: str, scheduled_at: str, data: dict[str, Any], *, key: str | None = None) -> events.Event:
    return events.Event(
        id=f"{kind}:{source}:{key or scheduled_at}",
        type=kind,
        occurred_at=scheduled_at,
        subject=source,
        data={"source": source, **data},
    )


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%MZ")
