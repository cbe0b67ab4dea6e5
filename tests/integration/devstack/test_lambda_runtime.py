"""The dev runner's Lambda semantics against moto: partial batch failures retry only the failed
records, a message that keeps failing lands in its DLQ after maxReceiveCount, stream batches
resume from the first failed record and go to the OnFailure queue after the retry limit, and the
local state survives a dump/restore (binary attributes included)."""
from __future__ import annotations

import json
import threading
import time

import boto3

from chalicelib import resources as r
from devstack import lambda_runtime as rt


def _drain(sqs, url: str) -> list[dict]:
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return out
        out += got


def test_partial_batch_failure_retries_only_failed_and_dead_letters_poison(aws):
    sqs = boto3.client("sqs")
    url, dlq = aws[r.CRAWL_QUEUE.env], aws["CRAWL_DLQ_URL"]
    for body in ("ok-1", "poison", "ok-2"):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    seen: list[str] = []

    def handler(event, _context):
        failures = []
        for record in event["Records"]:
            seen.append(json.loads(record["body"]))
            if json.loads(record["body"]) == "poison":
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    poller = rt.QueuePoller("crawl_worker", handler, url, 10, threading.Event(), visibility_backoff_s=0, wait_s=0)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for _ in range(r.CRAWL_QUEUE.max_receive_count + 2):
        poller.poll_once(sqs, arn)
    assert seen.count("ok-1") == 1 and seen.count("ok-2") == 1
    assert seen.count("poison") == r.CRAWL_QUEUE.max_receive_count
    dead = _drain(sqs, dlq)
    assert [json.loads(m["Body"]) for m in dead] == ["poison"]
    assert _drain(sqs, url) == []


def test_stream_batch_resumes_at_first_failure_then_goes_to_on_failure_queue():
    records = [{"eventID": str(i), "dynamodb": {"SequenceNumber": str(100 + i)}} for i in range(4)]
    calls: list[list[str]] = []
    sunk: list[list[str]] = []

    def handler(event, _context):
        seqs = [rec["dynamodb"]["SequenceNumber"] for rec in event["Records"]]
        calls.append(seqs)
        if "102" in seqs:
            position = seqs.index("102")
            return {"batchItemFailures": [{"itemIdentifier": s} for s in seqs[position:]]}
        return {"batchItemFailures": []}

    poller = rt.StreamPoller("f", handler, "t", 10, [], 2, threading.Event(),
                             lambda batch: sunk.append([x["dynamodb"]["SequenceNumber"] for x in batch]))
    poller.stop_event.wait = lambda _s: False  # no real backoff sleeps in the test
    poller.deliver(records)
    assert calls[0] == ["100", "101", "102", "103"]
    assert calls[1:] == [["102", "103"], ["102", "103"]]
    assert sunk == [["102", "103"]]


def test_filter_patterns_match_like_lambda():
    pattern = json.loads(r.MAPPINGS[1].filter_patterns[0])
    insert_meta = {"eventName": "INSERT", "dynamodb": {"Keys": {"sk": {"S": "META"}}}}
    insert_ref = {"eventName": "INSERT", "dynamodb": {"Keys": {"sk": {"S": "REF#x"}}}}
    assert rt.matches(pattern, insert_meta) and not rt.matches(pattern, insert_ref)


def test_the_release_fan_out_gets_inserts_and_date_moves_only():
    """issue 12: a date move is a MODIFY of META (crawl/store.py); other MODIFYs stay filtered out."""
    patterns = [json.loads(p) for p in r.MAPPINGS[1].filter_patterns]
    meta = {"Keys": {"sk": {"S": "META"}}}
    moved = {"eventName": "MODIFY", "dynamodb": {**meta, "NewImage": {"last_event": {"M": {"type": {"S": "release.date_changed"}}}}}}
    unlisted = {"eventName": "MODIFY", "dynamodb": {**meta, "NewImage": {"listing": {"S": "no longer listed"}}}}
    ref = {"eventName": "MODIFY", "dynamodb": {"Keys": {"sk": {"S": "REF#x"}}, "NewImage": moved["dynamodb"]["NewImage"]}}
    assert [any(rt.matches(p, rec) for p in patterns) for rec in (moved, unlisted, ref)] == [True, False, False]


def test_schedule_slots_and_rates():
    from datetime import datetime, timezone

    assert rt.rate_seconds("rate(1 minute)") == 60 and rt.rate_seconds("rate(2 hours)") == 7200
    when = datetime(2026, 11, 22, 10, 37, 12, tzinfo=timezone.utc)
    assert rt.scheduled_event("ping", rt.slot(when, 60))["time"] == "2026-11-22T10:37:00Z"
    assert rt.scheduled_event("crawl", rt.slot(when, 3600))["time"] == "2026-11-22T10:00:00Z"


def test_ttl_reaper_deletes_expired_and_tags_service_identity(aws):
    ddb = boto3.client("dynamodb")
    table = aws[r.CHECKS.env]
    now = time.time()
    ddb.put_item(TableName=table, Item={"pk": {"S": "TICK#0"}, "sk": {"S": "old"}, "expires_at": {"N": str(int(now - 5))}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "TICK#0"}, "sk": {"S": "new"}, "expires_at": {"N": str(int(now + 900))}})
    reaper = rt.TtlReaper({table: "expires_at"}, threading.Event())
    assert reaper.reap(now) == 1
    remove = {"eventName": "REMOVE", "dynamodb": {"Keys": {"pk": {"S": "TICK#0"}, "sk": {"S": "old"}}}}
    assert reaper.mark(remove)["userIdentity"]["type"] == "Service"
    other = {"eventName": "REMOVE", "dynamodb": {"Keys": {"pk": {"S": "TICK#0"}, "sk": {"S": "new"}}}}
    assert "userIdentity" not in reaper.mark(other)


def test_state_survives_dump_and_restore(aws, tmp_path):
    from devstack import persist

    ddb, s3 = boto3.client("dynamodb"), boto3.client("s3")
    ddb.put_item(TableName=aws[r.CHECKS.env], Item={"pk": {"S": "ROLLUP#a"}, "sk": {"S": "h"}, "hist": {"B": b"\x00\xff"},
                                                    "nested": {"M": {"b": {"B": b"\x01"}, "l": {"L": [{"N": "1"}, {"BS": [b"\x02"]}]}}}})
    s3.put_object(Bucket=aws[r.DATA_BUCKET.env], Key="raw/abc", Body=b"\x01body")
    tables = [aws[t.env] for t in r.TABLES]
    assert persist.dump(tmp_path, tables, aws[r.DATA_BUCKET.env]) == {"items": 1, "objects": 1}
    ddb.delete_item(TableName=aws[r.CHECKS.env], Key={"pk": {"S": "ROLLUP#a"}, "sk": {"S": "h"}})
    s3.delete_object(Bucket=aws[r.DATA_BUCKET.env], Key="raw/abc")
    assert persist.restore(tmp_path, tables, aws[r.DATA_BUCKET.env]) == {"items": 1, "objects": 1}
    item = ddb.get_item(TableName=aws[r.CHECKS.env], Key={"pk": {"S": "ROLLUP#a"}, "sk": {"S": "h"}})["Item"]
    assert item["hist"]["B"] == b"\x00\xff"
    assert item["nested"] == {"M": {"b": {"B": b"\x01"}, "l": {"L": [{"N": "1"}, {"BS": [b"\x02"]}]}}}
    assert s3.get_object(Bucket=aws[r.DATA_BUCKET.env], Key="raw/abc")["Body"].read() == b"\x01body"
