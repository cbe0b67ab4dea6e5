"""Fan-out: DynamoDB stream record -> event -> matching subscriptions -> one SQS message per
(event, destination) on the destination's channel queue (or a held digest item).

Events from records (contract: chalicelib/events.py):

* RELEASES INSERT of `pk=REL#<id>, sk=META` -> `release.new`, id `release.new:<release id>`,
  occurred_at = the item's `first_seen`, data = the release fields.
* STATE item with `sk=STATE` whose NEW `last_event.id` differs from the OLD one -> that event
  (`subject` defaults to the part of pk after `#`).
* Anything else is ignored (other STATE items: subscriptions, digests, source index ...).

Routing: a release costs at most four by_match Queries (series key, publisher key, source,
keyword bucket); uptime events Query `MATCH#target#<name>` and `MATCH#target#*`; source health
and delivery failures Query `MATCH#ops#*`. Static subscriptions from YAML (configured routes)
are matched in memory. One message per destination: when several subscriptions of one
destination match, an instant one wins over a digest one.

Every step is idempotent: the event id is deterministic, the ledger dedupes a message enqueued
twice (a retried record re-enqueues all its destinations), held items are keyed by event id.
A record that raises is retried by Lambda (stream_batch reports it and everything after it).
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from chalicelib import events as ev
from chalicelib.log import get_logger
from chalicelib.notify import digest as dg
from chalicelib.notify.model import UPTIME_TYPES, channel_of, message
from chalicelib.notify.subscriptions import (
    SeriesKeyFn,
    StaticSubscriptions,
    Subscription,
    SubscriptionStore,
    announced,
    default_series_key,
    event_match_pks,
    load_yaml,
    matches_release,
    quiet_until,
    release_keys,
    resolve_series_key,
    select,
)
from chalicelib.settings import alert_route, notify_burst_limit, subscriptions_file

log = get_logger("notify.fanout")

_INDEX_ATTRS = {"pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"}


class SubscriptionSource(Protocol):
    def by_match(self, match_pk: str) -> list[Subscription]: ...


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, (bytes, bytearray)):
        return None
    return value


def _date_changed(new: dict[str, Any], old: dict[str, Any] | None) -> ev.Event | None:
    """A release moved to another date (crawl.store.ReleaseStore.save): one event per move, its id
    naming both dates, so a replayed or duplicated stream record tells followers once."""
    latest = new.get("last_event")
    previous = (old or {}).get("last_event")
    if not isinstance(latest, dict) or latest.get("type") != ev.RELEASE_DATE_CHANGED or not latest.get("id"):
        return None
    if isinstance(previous, dict) and previous.get("id") == latest.get("id"):
        return None  # another attribute changed (listing, refs): not a new move
    release = {k: _plain(v) for k, v in new.items() if k not in _INDEX_ATTRS and k != "last_event"}
    release.update(moved_from=_plain(latest.get("from")), moved_to=_plain(latest.get("to")))
    return ev.Event(id=str(latest["id"]), type=ev.RELEASE_DATE_CHANGED, occurred_at=str(latest.get("at") or ""),
                    subject=str(release.get("id") or ""), data=release)


def event_from_record(record: dict[str, Any]) -> ev.Event | None:
    """The event a stream record carries, or None when it carries none."""
    from chalicelib.batch import deserialize_image

    ddb = record.get("dynamodb") or {}
    keys = deserialize_image(ddb.get("Keys")) or {}
    new = deserialize_image(ddb.get("NewImage"))
    old = deserialize_image(ddb.get("OldImage"))
    pk = str((new or keys).get("pk") or keys.get("pk") or "")
    sk = str((new or keys).get("sk") or keys.get("sk") or "")
    if pk.startswith("REL#"):
        if record.get("eventName") == "MODIFY" and sk == "META" and new:
            return _date_changed(new, old)
        if record.get("eventName") != "INSERT" or sk != "META" or not new:
            return None
        release = {k: _plain(v) for k, v in new.items() if k not in _INDEX_ATTRS}
        release_id = str(release.get("id") or pk[len("REL#"):])
        release["id"] = release_id
        return ev.Event(
            id=f"{ev.RELEASE_NEW}:{release_id}",
            type=ev.RELEASE_NEW,
            occurred_at=str(release.get("first_seen") or ""),
            subject=release_id,
            data=release,
        )
    if sk != "STATE" or not new or record.get("eventName") == "REMOVE":
        return None
    latest = new.get("last_event")
    previous = (old or {}).get("last_event")
    if not isinstance(latest, dict) or not latest.get("id"):
        return None
    if isinstance(previous, dict) and previous.get("id") == latest.get("id"):
        return None
    raw = _plain(latest)
    raw.setdefault("subject", pk.split("#", 1)[-1])
    return ev.Event.from_dict(raw)  # UnsupportedEvent -> record retried until a newer consumer ships


class Enqueuer:
    """One SQS message per (event, destination) on the channel's queue."""

    def __init__(self, sqs: Any, queue_urls: dict[str, str]) -> None:
        self.sqs = sqs
        self.queue_urls = queue_urls

    def __call__(self, event: ev.Event, destination: str) -> None:
        channel = channel_of(destination)
        url = self.queue_urls.get(channel)
        if not url:
            raise RuntimeError(f"no queue configured for channel {channel!r}")
        self.sqs.send_message(
            QueueUrl=url,
            MessageBody=json.dumps(message(event, destination), ensure_ascii=False, default=str),
            MessageAttributes={
                "event_type": {"DataType": "String", "StringValue": event.type},
                "destination": {"DataType": "String", "StringValue": destination},
            },
        )


class Router:
    """Which destinations (and through which subscription) an event goes to.

    Uptime events also carry the target's configured alert channels (`data.channels`, from
    targets.yaml `alerts: [slack, webhook]`); each is a destination string, or a channel name
    resolved through `alert_routes` (e.g. {"slack": "slack:C0ALERTS"}). A channel name with no
    route goes to the console, so a misconfigured alert is printed rather than lost."""

    def __init__(
        self,
        sources: Iterable[SubscriptionSource],
        series_key: SeriesKeyFn = default_series_key,
        alert_routes: dict[str, str] | None = None,
        works: Any = None,
    ) -> None:
        self.sources = list(sources)
        self.series_key = series_key
        self.alert_routes = {"console": "console:", **(alert_routes or {})}
        self.works = works  # notify.works.WorkClaims: one announcement per work and destination

    def _query(self, match_pk: str) -> list[Subscription]:
        return [s for source in self.sources for s in source.by_match(match_pk)]

    def route(self, event: ev.Event) -> dict[str, Subscription]:
        if event.type == ev.RELEASE_DATE_CHANGED:  # "moved from X to Y" to whoever follows the release
            if not announced(event.data):
                return {}
            keys = release_keys(event.data, self.series_key)
            moved = select([s for pk in keys.match_pks() for s in self._query(pk) if matches_release(s, keys)])
            if self.works is not None:  # told once per work: all covers of an issue move together
                return {d: s for d, s in moved.items() if self.works.tell_move(event.data, d)}
            return moved
        if event.type == ev.RELEASE_NEW:
            if not announced(event.data):
                return {}  # merchandise is stored and listed on request, never announced
            keys = release_keys(event.data, self.series_key)
            found = [s for pk in keys.match_pks() for s in self._query(pk) if matches_release(s, keys)]
            if self.works is not None:
                chosen = select(found)
                return {d: s for d, s in chosen.items() if self.works.announce(event.data, d)}
        else:
            found = [s for pk in event_match_pks(event.type, event.subject, event.data) for s in self._query(pk)]
            if event.type in UPTIME_TYPES:
                found += self._configured_alerts(event)
        return select(found)

    def _configured_alerts(self, event: ev.Event) -> list[Subscription]:
        channels = event.data.get("channels") or []
        if isinstance(channels, str):
            channels = [channels]
        out = []
        for channel in channels:
            channel = str(channel).strip()
            destination = channel if ":" in channel else self.alert_routes.get(channel)
            if destination is None:
                log.warning("no alert route for channel; using the console", extra={"channel": channel})
                destination = "console:"
            try:
                out.append(Subscription(destination, "target", str(event.data.get("target") or event.subject or "*"),
                                        label="targets.yaml alerts"))
            except ValueError as exc:
                log.warning("bad alert destination", extra={"channel": channel, "error": str(exc)})
        return out


class FanoutService:
    def __init__(
        self,
        router: Router,
        enqueue: Callable[[ev.Event, str], None],
        digests: dg.DigestStore,
        clock: Callable[[], float] = time.time,
        burst_limit: int = 10,
    ) -> None:
        self.router = router
        self.enqueue = enqueue
        self.digests = digests
        self.clock = clock
        self.burst_limit = burst_limit

    def handle_record(self, record: dict[str, Any]) -> None:
        event = event_from_record(record)
        if event is None:
            return
        self.publish(event)

    def publish(self, event: ev.Event) -> int:
        """Route one event; returns how many destinations it went to (sent or held)."""
        routes = self.router.route(event)
        for destination, sub in sorted(routes.items()):
            self._dispatch(event, destination, sub)
        log.info("fan-out", extra={"event_id": event.id, "event_type": event.type, "destinations": len(routes)})
        return len(routes)

    def _event_time(self, event: ev.Event) -> datetime:
        try:
            moment = datetime.fromisoformat(event.occurred_at.replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        except (ValueError, AttributeError):
            return datetime.fromtimestamp(self.clock(), timezone.utc)

    def _dispatch(self, event: ev.Event, destination: str, sub: Subscription) -> None:
        if event.type != ev.RELEASE_NEW:  # uptime and operator alerts are never held
            self.enqueue(event, destination)
            return
        # Decisions use the event's own time, so a retried record decides the same way.
        at = self._event_time(event)
        if sub.digest != "off":
            bucket, due = dg.bucket_for(sub, at)
            self.digests.hold(destination, bucket, due, event)
            return
        until = quiet_until(sub, at)
        if until is not None:
            self.digests.hold(destination, f"quiet-{dg.iso(until)}", until, event)
            return
        if self.burst_limit > 0:
            hour, hour_end = dg.hour_bucket(at)
            if self.digests.burst_position(destination, hour, event.id) > self.burst_limit:
                self.digests.hold(destination, f"burst-{hour}", hour_end, event)
                return
        self.enqueue(event, destination)

    def flush_digests(self, now: datetime | float | None = None) -> int:
        """Send every held bucket due by `now` (default: the clock); returns messages enqueued."""
        if now is None:
            now = self.clock()
        if not isinstance(now, datetime):
            now = datetime.fromtimestamp(float(now), timezone.utc)
        return dg.flush(self.digests, self.enqueue, now)


def static_subscriptions(settings: Any, series_key: SeriesKeyFn) -> StaticSubscriptions:
    """Configured routes: the file named by NEWBOOKS_SUBSCRIPTIONS_FILE; on the local stage the
    sample chalicelib/config/subscriptions.yaml when the variable is unset."""
    path = _subscriptions_path(settings)
    return StaticSubscriptions(load_yaml(path, series_key) if path else [])


def _subscriptions_path(settings: Any) -> str | None:
    path = subscriptions_file()
    if not path and settings.stage == "local":
        path = str(Path(__file__).resolve().parent.parent / "config" / "subscriptions.yaml")
    return path if path and Path(path).exists() else None


def alert_routes(settings: Any) -> dict[str, str]:
    """Channel name -> destination for targets' `alerts:` lists: the `alert_routes:` mapping of
    the subscriptions file, overridden by NEWBOOKS_ALERT_<CHANNEL> (e.g. NEWBOOKS_ALERT_SLACK=
    slack:C0ALERTS)."""
    routes: dict[str, str] = {}
    path = _subscriptions_path(settings)
    if path:
        from chalicelib.configfile import load_mapping

        routes.update({str(k): str(v) for k, v in (load_mapping(path).get("alert_routes") or {}).items()})
    for channel in ("console", "slack", "x", "webhook"):
        value = alert_route(channel)
        if value:
            routes[channel] = value
    return routes


def build(settings: Any) -> FanoutService:
    from chalicelib import aws

    series_key = resolve_series_key()
    table = aws.table(settings.state_table)
    from chalicelib.notify.works import WorkClaims

    router = Router([SubscriptionStore(table), static_subscriptions(settings, series_key)], series_key,
                    alert_routes(settings), works=WorkClaims(table))
    return FanoutService(
        router=router,
        enqueue=Enqueuer(aws.client("sqs"), settings.notify_queue_urls),
        digests=dg.DigestStore(table),
        burst_limit=notify_burst_limit(),
    )
