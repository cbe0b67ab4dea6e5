"""Held release notifications: digests, quiet hours and burst collapsing.

A release event for a destination is *held* instead of sent when its subscription is in digest
mode (daily / weekly), when it arrives in the subscription's quiet hours, or when the
destination already got `burst_limit` instant release posts in the event's hour (a crawl that
finds 200 releases yields a few posts and then one digest, never 200 posts).

Storage (STATE table):

    pk=DIGEST#<destination>#<bucket>  sk=<event id>        one held event (attribute `event`)
    pk=DIGESTS  sk=<due ISO UTC>#<destination>#<bucket>    index of buckets to flush; `n`
                                                           counts additions (optimistic lock)
    pk=BURST#<destination>  sk=<YYYY-MM-DDTHH>              instant posts in that hour; one
                                                           attribute per event id records the
                                                           event's position, so a retried
                                                           record gets the same decision

Buckets: `daily-<local date>` (due next day 09:00 local), `weekly-<ISO year>-W<week>` (due the
next Monday 09:00 local), `quiet-<end ISO>` (due when quiet hours end), `burst-<hour>` (due at
the end of that hour). All keys derive from the event's own time, so retries and duplicates
land in the same bucket.

`flush(now)` (scheduled, e.g. every 5 minutes) Queries the index for buckets due by `now`; for
each it reads the held events, enqueues one message (the original event when only one is held
in a quiet/burst bucket, else a `release.digest` whose id hashes the held event ids, so a flush
repeated after a crash is deduped by the ledger), deletes the flushed events, and deletes the
index entry only if nothing was added meanwhile.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib import aws
from chalicelib.events import Event
from chalicelib.notify.model import RELEASE_DIGEST, parse_event
from chalicelib.notify.subscriptions import Subscription, zone

DIGEST_HOUR = 9
DIGEST_FIELDS = ("id", "title", "series", "volume", "publisher", "release_date", "url", "source")


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def bucket_for(sub: Subscription, at: datetime) -> tuple[str, datetime]:
    """(bucket name, due time UTC) for a digest-mode subscription and an event time."""
    local = at.astimezone(zone(sub.tz))
    if sub.digest == "weekly":
        year, week, weekday = local.isocalendar()
        monday = (local + timedelta(days=8 - weekday)).date()
        due = datetime(monday.year, monday.month, monday.day, DIGEST_HOUR, tzinfo=local.tzinfo)
        return f"weekly-{year}-W{week:02d}", due.astimezone(timezone.utc)
    next_day = (local + timedelta(days=1)).date()
    due = datetime(next_day.year, next_day.month, next_day.day, DIGEST_HOUR, tzinfo=local.tzinfo)
    return f"daily-{local.date().isoformat()}", due.astimezone(timezone.utc)


def hour_bucket(at: datetime) -> tuple[str, datetime]:
    start = at.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
    return start.strftime("%Y-%m-%dT%H"), start + timedelta(hours=1)


@dataclass(frozen=True)
class DueBucket:
    destination: str
    bucket: str
    index_sk: str
    n: int


class DigestStore:
    def __init__(self, table: Any) -> None:
        self.table = table

    # -- writes by the fan-out -------------------------------------------------------------

    def hold(self, destination: str, bucket: str, due: datetime, event: Event) -> None:
        self.table.put_item(
            Item={
                "pk": f"DIGEST#{destination}#{bucket}",
                "sk": event.id,
                "event": json.dumps(event.to_dict(), ensure_ascii=False, default=str),
            }
        )
        self.table.update_item(
            Key={"pk": "DIGESTS", "sk": f"{iso(due)}#{destination}#{bucket}"},
            UpdateExpression="SET destination = :d, #b = :b ADD n :one",
            ExpressionAttributeNames={"#b": "bucket"},
            ExpressionAttributeValues={":d": destination, ":b": bucket, ":one": 1},
        )

    def burst_position(self, destination: str, hour: str, event_id: str) -> int:
        """1-based position of `event_id` among the destination's instant posts in `hour`
        (stable across retries: the first call records it)."""
        attr = "e_" + hashlib.sha256(event_id.encode()).hexdigest()[:16]
        key = {"pk": f"BURST#{destination}", "sk": hour}
        with aws.conditional() as write:
            out = self.table.update_item(
                Key=key,
                UpdateExpression="SET n = if_not_exists(n, :zero) + :one, #e = if_not_exists(n, :zero) + :one",
                ConditionExpression="attribute_not_exists(#e)",
                ExpressionAttributeNames={"#e": attr},
                ExpressionAttributeValues={":zero": 0, ":one": 1},
                ReturnValues="UPDATED_NEW",
            )
        if write.held:
            return int(out["Attributes"][attr])
        item = self.table.get_item(Key=key, ConsistentRead=True).get("Item") or {}
        return int(item.get(attr, 1))

    # -- flush -------------------------------------------------------------------------------

    def due(self, now: datetime) -> list[DueBucket]:
        from boto3.dynamodb.conditions import Key

        items = aws.all_items(self.table.query, ConsistentRead=True,
                              KeyConditionExpression=Key("pk").eq("DIGESTS") & Key("sk").lte(f"{iso(now)}#\uffff"))
        return [DueBucket(str(i["destination"]), str(i["bucket"]), str(i["sk"]), int(i.get("n", 0))) for i in items]

    def held(self, destination: str, bucket: str) -> list[Event]:
        from boto3.dynamodb.conditions import Key

        items = aws.all_items(self.table.query, ConsistentRead=True,
                              KeyConditionExpression=Key("pk").eq(f"DIGEST#{destination}#{bucket}"))
        return [parse_event(json.loads(i["event"])) for i in items]

    def forget(self, destination: str, bucket: str, event_ids: list[str]) -> None:
        with self.table.batch_writer() as batch:
            for event_id in event_ids:
                batch.delete_item(Key={"pk": f"DIGEST#{destination}#{bucket}", "sk": event_id})

    def close(self, due: DueBucket) -> bool:
        """Delete the index entry unless the fan-out added to the bucket since it was read."""
        with aws.conditional() as write:
            self.table.delete_item(
                Key={"pk": "DIGESTS", "sk": due.index_sk},
                ConditionExpression="n = :n",
                ExpressionAttributeValues={":n": due.n},
            )
        return write.held


def digest_event(destination: str, bucket: str, held: list[Event]) -> Event:
    ids = sorted(e.id for e in held)
    digest_id = hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]
    ordered = sorted(held, key=lambda e: (str(e.data.get("release_date") or ""), str(e.data.get("title") or ""), e.id))
    items = [{k: e.data.get(k) for k in DIGEST_FIELDS if e.data.get(k) not in (None, "")} for e in ordered]
    period = bucket.split("-", 1)[1] if "-" in bucket else bucket
    return Event(
        id=f"{RELEASE_DIGEST}:{destination}:{bucket}:{digest_id}",
        type=RELEASE_DIGEST,
        occurred_at=max((e.occurred_at for e in held), default=""),
        subject=destination,
        data={"bucket": bucket, "period": period, "count": len(items), "items": items, "event_ids": ids},
    )


def flush(store: DigestStore, enqueue: Callable[[Event, str], None], now: datetime) -> int:
    """Send every due bucket; returns the number of messages enqueued."""
    sent = 0
    for due in store.due(now):
        held = store.held(due.destination, due.bucket)
        if held:
            single = len(held) == 1 and not due.bucket.startswith(("daily-", "weekly-"))
            enqueue(held[0] if single else digest_event(due.destination, due.bucket, held), due.destination)
            sent += 1
            store.forget(due.destination, due.bucket, [e.id for e in held])
        store.close(due)
    return sent
