"""DynamoDB and S3 adapters for the crawl pipeline (key layout: chalicelib/resources.py)."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from chalicelib import aws

LISTED, NO_LONGER_LISTED = "listed", "no longer listed"


def vanished(previous: list[dict[str, Any]], current: list[dict[str, Any]], today: str) -> list[str]:
    """Ids of the previous snapshot that were still to come (release date today or later) and are
    not in the current list: the source stopped listing them (pure)."""
    now = {r["id"] for r in current}
    return [r["id"] for r in previous
            if r["id"] not in now and str(r.get("release_date") or "")[:10] >= today[:10] and r.get("release_date")]


# Text fields longer than this are cut in the DynamoDB item (the S3 snapshot keeps the full value):
# a hostile 300 KB title must not push the item past DynamoDB's 400 KB limit or into a key.
MAX_FIELD_CHARS = 1000
_KEY_PART_BYTES = 900  # a release id or series key inside "<prefix>#<part>" keys (limits: 2048 / 1024)


def _cut(release: dict[str, Any]) -> dict[str, Any]:
    out, cut = {}, []
    for k, v in release.items():
        if isinstance(v, str) and len(v) > MAX_FIELD_CHARS:
            v = v[: MAX_FIELD_CHARS - 1] + "…"
            cut.append(k)
        out[k] = v
    if cut:
        out["truncated"] = cut
    return out


def release_item(release: dict[str, Any], *, series_key: str, first_seen: str) -> dict[str, Any]:
    """The META item of a release: the record plus the keys of both indexes."""
    from crawlers.normalize import cap_key

    date = release.get("release_date") or "0000-00"
    series_key = cap_key(series_key, _KEY_PART_BYTES)
    release = {**release, "id": cap_key(release["id"], _KEY_PART_BYTES)}
    item = {k: v for k, v in _cut(release).items() if v not in (None, [], "")}
    item.update(
        pk=f"REL#{release['id']}",
        sk="META",
        series_key=series_key,
        first_seen=first_seen,
        gsi1pk=f"MONTH#{date[:7]}",
        gsi1sk=f"{date}#{release['id']}",
        gsi2pk=f"SERIES#{series_key}",
        gsi2sk=f"{date}#{release['id']}",
        gsi3pk=f"SEEN#{first_seen[:10]}",
        gsi3sk=f"{first_seen}#{release['id']}",
    )
    return item


class ReleaseStore:
    def __init__(self, table_name: str):
        self._table = aws.table(table_name)

    def put_if_new(self, item: dict[str, Any]) -> bool:
        """First writer wins: True when this call created the release (a "new" sighting)."""
        with aws.conditional() as write:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        return write.held

    def save(self, item: dict[str, Any], seen_at: str, observed_at: str | None = None) -> str:
        """Store a crawled release: "new" (first sighting), "same", or "moved" when its release
        date changed. A move is one conditional UpdateItem on the stored `version`: the date and
        the index keys move in place, and `last_event` (release.date_changed, id naming the old and
        new date) is what the stream turns into one notification. A lost race re-reads once.
        `observed_at` (when this crawl fetched) keeps a slow crawl of an older page from moving the
        date back over what a later fetch already stored (two crawls of a source may overlap)."""
        observed = {"date_observed_at": observed_at} if observed_at else {}
        if self.put_if_new({**item, "version": 1, **observed}):
            return "new"
        for _ in range(2):
            stored = self._table.get_item(Key={"pk": item["pk"], "sk": "META"}, ConsistentRead=True).get("Item") or {}
            if observed_at and str(stored.get("date_observed_at") or "") > observed_at:
                return "same"  # stale: a crawl that fetched later already wrote what it saw
            old, new = stored.get("release_date"), item.get("release_date")
            relisted = stored.get("listing") == NO_LONGER_LISTED
            if (not new or old == new) and not relisted:
                return "same"
            if self._move(stored, {**item, **observed}, seen_at):
                return "moved" if new and old != new else "same"
        return "same"  # another worker moved it meanwhile: its write stands

    def _move(self, stored: dict[str, Any], item: dict[str, Any], seen_at: str) -> bool:
        version = int(stored.get("version") or 0)
        old, new = stored.get("release_date"), item.get("release_date") or stored.get("release_date")
        values: dict[str, Any] = {
            ":d": new, ":g1": item["gsi1pk"], ":s1": item["gsi1sk"], ":s2": item["gsi2sk"], ":next": version + 1,
            ":listed": LISTED,
        }
        sets = ["release_date = :d", "gsi1pk = :g1", "gsi1sk = :s1", "gsi2sk = :s2", "version = :next",
                "listing = :listed"]
        if item.get("date_observed_at"):
            values[":obs"] = item["date_observed_at"]
            sets.append("date_observed_at = :obs")
        if old != new:
            # A later move names the version it makes: moved back and again (A>B, B>A, A>B) is three
            # events, not two (the ledger would take the third A>B for a repeat of the first).
            again = f":v{version + 1}" if stored.get("previous_release_date") else ""
            values[":ev"] = {"type": "release.date_changed", "id": f"release.date_changed:{item['id']}:{old}>{new}{again}",
                             "from": old, "to": new, "at": seen_at}
            values[":prev"] = old
            sets += ["last_event = :ev", "previous_release_date = :prev"]
        update = "SET " + ", ".join(sets) + ("" if old != new else " REMOVE last_event")  # no move: no event
        condition = "version = :v" if version else "attribute_not_exists(version)"
        if version:
            values[":v"] = version
        with aws.conditional() as write:
            self._table.update_item(Key={"pk": item["pk"], "sk": "META"}, UpdateExpression=update,
                                    ConditionExpression=condition, ExpressionAttributeValues=values)
        return write.held

    def mark_unlisted(self, release_id: str, seen_at: str) -> bool:
        """A future release gone from its source's list: kept, marked "no longer listed" (once)."""
        with aws.conditional() as write:
            self._table.update_item(
                Key={"pk": f"REL#{release_id}", "sk": "META"},
                UpdateExpression="SET listing = :gone, unlisted_at = :at REMOVE last_event",  # not a move
                ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(listing) OR listing <> :gone)",
                ExpressionAttributeValues={":gone": NO_LONGER_LISTED, ":at": seen_at},
            )
        return write.held

    def add_source_ref(self, release_id: str, source_ref: str, seen_at: str) -> bool:
        from crawlers.normalize import cap_key

        with aws.conditional() as write:
            self._table.put_item(
                Item={"pk": f"REL#{cap_key(release_id, _KEY_PART_BYTES)}",
                      "sk": f"REF#{cap_key(source_ref, _KEY_PART_BYTES)}", "seen_at": seen_at},
                ConditionExpression="attribute_not_exists(pk)",
            )
        return write.held


class SourceStateStore:
    """`SOURCE#<name>/STATE`: fetch state per URL, health, item count, version for optimistic
    concurrency, and `last_event` (the stream turns a new last_event into a notification)."""

    def __init__(self, table_name: str):
        self._table = aws.table(table_name)

    def get(self, name: str) -> dict[str, Any]:
        item = self._table.get_item(Key={"pk": f"SOURCE#{name}", "sk": "STATE"}, ConsistentRead=True).get("Item")
        return item or {"pk": f"SOURCE#{name}", "sk": "STATE", "version": 0}

    def save(self, state: dict[str, Any]) -> bool:
        """Write the next version; False when another worker got there first (its result stands)."""
        previous = int(state.get("version", 0))
        item = {**state, "version": previous + 1}
        with aws.conditional() as write:
            if previous == 0:
                self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
            else:
                self._table.put_item(Item=item, ConditionExpression="version = :v", ExpressionAttributeValues={":v": previous})
        if not write.held:
            return False
        name = state["pk"].split("#", 1)[1]
        self._table.put_item(
            Item={"pk": "SOURCES", "sk": name, "status": item.get("status"), "items": item.get("item_count", 0),
                  "skipped_rows": item.get("skipped_rows", 0),
                  "last_crawl": item.get("last_crawl"), "reason": item.get("reason"),
                  "degraded_since": item.get("degraded_since"), "retry_at": item.get("retry_at")}
        )
        return True

    def list_health(self) -> list[dict[str, Any]]:
        from boto3.dynamodb.conditions import Key

        return list(aws.all_items(self._table.query, KeyConditionExpression=Key("pk").eq("SOURCES")))


class BlobStore:
    def __init__(self, bucket: str):
        self._bucket = bucket
        self._s3 = aws.client("s3")

    def put_raw(self, body: bytes, content_type: str | None) -> str:
        """Content-addressed: the same body is stored once (HEAD before PUT)."""
        key = f"raw/{hashlib.sha256(body).hexdigest()}"
        try:
            self._s3.head_object(Bucket=self._bucket, Key=key)
            return key
        except Exception as exc:
            if aws.error_code(exc) not in {"404", "NoSuchKey", "NotFound"}:
                raise
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type or "application/octet-stream")
        return key

    def get_raw(self, key: str) -> bytes:
        body: bytes = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        return body

    def put_snapshot(self, source: str, day: str, releases: list[dict[str, Any]]) -> None:
        body = json.dumps({"source": source, "day": day, "releases": releases}, ensure_ascii=False, sort_keys=True).encode()
        for key in (f"snapshots/{source}/{day}.json", f"snapshots/{source}/latest.json"):
            self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType="application/json")

    def get_latest_snapshot(self, source: str) -> list[dict[str, Any]] | None:
        try:
            body = self._s3.get_object(Bucket=self._bucket, Key=f"snapshots/{source}/latest.json")["Body"].read()
        except Exception as exc:
            if aws.error_code(exc) in {"NoSuchKey", "404"}:
                return None
            raise
        releases: list[dict[str, Any]] = json.loads(body)["releases"]
        return releases
