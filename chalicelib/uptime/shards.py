"""Fan-out of a minute's ping tick, one SQS message per shard (the `ping-shards` queue feeds the
`ping_shard` function, batch size 1, so shards run as concurrent invocations).

A shard message is the schedule event itself plus `detail.shard`: `UptimeService.run_tick`
checks only that shard, keyed by the event's `time` truncated to the minute, so a message
delivered twice, or a schedule that fired twice, finds the shard's tick item and re-checks
nothing (idempotent on (minute, shard)).
"""
from __future__ import annotations

import json
from typing import Any

SEND_BATCH = 10  # SendMessageBatch's limit


def fan_out(sqs: Any, queue_url: str, event: dict[str, Any], shards: int) -> int:
    """Send one message per shard of `event`'s tick; raises if any was not accepted (the
    schedule invocation then fails and is retried; shards already sent dedupe)."""
    entries = [
        {"Id": str(shard), "MessageBody": json.dumps(shard_event(event, shard), separators=(",", ":"))}
        for shard in range(shards)
    ]
    for start in range(0, len(entries), SEND_BATCH):
        response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries[start : start + SEND_BATCH])
        failed = response.get("Failed") or []
        if failed:
            raise RuntimeError(f"ping shard fan-out: {len(failed)} message(s) refused: {failed[0].get('Code')}")
    return len(entries)


def shard_event(event: dict[str, Any], shard: int) -> dict[str, Any]:
    return {"id": event.get("id"), "time": event["time"], "detail-type": "Ping Shard", "detail": {"shard": shard}}
