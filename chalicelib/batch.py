"""Lambda batch semantics for queue and stream handlers: partial batch failure responses.

A handler processes records one by one; a record that raises is reported in
`batchItemFailures` so Lambda retries only it (SQS) or resumes from it (streams: records after
the first failure are reported too, because a stream checkpoint cannot skip ahead).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from chalicelib.log import correlation, get_logger

log = get_logger("batch")


def sqs_batch(event: dict[str, Any], handle: Callable[[Any, dict[str, Any]], None]) -> dict[str, Any]:
    """Call `handle(body, record)` per SQS record; failed message ids go back to Lambda."""
    failures = []
    for record in event.get("Records", []):
        message_id = record.get("messageId")
        with correlation(message_id):
            try:
                body = json.loads(record.get("body") or "null")
                handle(body, record)
            except Exception as exc:
                log.exception("record failed", extra={"error": type(exc).__name__})
                failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def stream_batch(event: dict[str, Any], handle: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Call `handle(record)` per DynamoDB stream record, in order; on the first failure report
    that record and every later one (sequence numbers), as Lambda checkpoints streams in order."""
    records = event.get("Records", [])
    for position, record in enumerate(records):
        with correlation(record.get("eventID")):
            try:
                handle(record)
            except Exception as exc:
                log.exception("stream record failed", extra={"error": type(exc).__name__})
                return {
                    "batchItemFailures": [
                        {"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in records[position:]
                    ]
                }
    return {"batchItemFailures": []}


def deserialize_image(image: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stream NewImage/OldImage (DynamoDB JSON) as plain Python values."""
    if image is None:
        return None
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {key: deserializer.deserialize(value) for key, value in image.items()}
