"""DynamoDB and S3 adapters for the crawl pipeline (key layout: chalicelib/resources.py)."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from chalicelib import aws

def release_item(release: dict[str, Any], *, series_key: str, first_seen: str) -> dict[str, Any]:
    """The META item of a release: the record plus the keys of both indexes."""
    date = release.get("release_date") or "0000-00"
    item = {k: v for k, v in release.items() if v not in (None, [], "")}
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
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
            return True
        except Exception as exc:
            if aws.is_conditional_failure(exc):
                return False
            raise

    def add_source_ref(self, release_id: str, source_ref: str, seen_at: str) -> bool:
        try:
            self._table.put_item(
                Item={"pk": f"REL#{release_id}", "sk": f"REF#{source_ref}", "seen_at": seen_at},
                ConditionExpression="attribute_not_exists(pk)",
            )
            return True
        except Exception as exc:
            if aws.is_conditional_failure(exc):
                return False
            raise


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
        try:
            if previous == 0:
                self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
            else:
                self._table.put_item(Item=item, ConditionExpression="version = :v", ExpressionAttributeValues={":v": previous})
        except Exception as exc:
            if aws.is_conditional_failure(exc):
                return False
            raise
        name = state["pk"].split("#", 1)[1]
        self._table.put_item(
            Item={"pk": "SOURCES", "sk": name, "status": item.get("status"), "items": item.get("item_count", 0),
                  "last_crawl": item.get("last_crawl"), "reason": item.get("reason"),
                  "degraded_since": item.get("degraded_since"), "retry_at": item.get("retry_at")}
        )
        return True

    def list_health(self) -> list[dict[str, Any]]:
        from boto3.dynamodb.conditions import Key

        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq("SOURCES")}
        while True:
            page = self._table.query(**kwargs)
            items += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


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
        return self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()

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
        return json.loads(body)["releases"]
