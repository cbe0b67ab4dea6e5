"""Every dead-letter queue: look, and redrive.

The queues (named as /dlq shows them, `chalicelib.resources.Queue.dead_letter_name`): the four
notification channels (slack, x, webhook, console), crawl, slack-jobs, and stream-failures, which
is itself Lambda's OnFailure destination for the stream mappings (its records point at stream
records, so it is listed but has no queue to redrive into).

Messages reach a channel's DLQ two ways: the deliverer sends a permanently failed one there
itself with message attributes `reason`, `channel`, `destination`, `event_id`, `failed_at`; or
SQS moves one there after `maxReceiveCount` failed receives (transient failures that never
cleared), which carries no reason ("retries exhausted" is reported).

`list_messages` peeks: it receives (hiding each message for `peek_visibility_s` so one listing
pages through a queue without seeing a message twice), never deletes, and at the end makes
every listed message visible again, so a redrive right after a listing finds them all.
Receives long-poll for 1 s: a short poll samples only some SQS servers and can answer empty
while messages exist ("Amazon SQS short and long polling", SQS Developer Guide, read
2026-12-03); the queue's ApproximateNumberOfMessages tells when to stop without waiting.
`redrive` moves messages back to the queue they came from (all, or the given message ids) and
deletes them from the DLQ only after the send succeeded; the ledger makes a message redriven
twice post once. Whatever a redrive does not move is made visible again at once.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from chalicelib.resources import QUEUES

RETRIES_EXHAUSTED = "retries exhausted (maxReceiveCount reached)"
DLQ_NAMES: tuple[str, ...] = tuple(q.dead_letter_name for q in QUEUES)


class DlqAdmin:
    def __init__(self, sqs: Any, queue_urls: dict[str, str], dlq_urls: dict[str, str], peek_visibility_s: int = 20) -> None:
        self.sqs = sqs
        self.queue_urls = queue_urls  # where a redrive sends each DLQ's messages back to
        self.dlq_urls = dlq_urls
        self.peek_visibility_s = peek_visibility_s

    def _waiting(self, url: str) -> int:
        attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attrs.get("Attributes", {}).get("ApproximateNumberOfMessages", 0))

    def _receive(self, channel: str, limit: int, visibility: int) -> list[dict[str, Any]]:
        url = self.dlq_urls[channel]
        want = min(limit, self._waiting(url))
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        while len(out) < want:
            page = self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(10, want - len(out)),
                VisibilityTimeout=visibility,
                WaitTimeSeconds=1,
                MessageAttributeNames=["All"],
                AttributeNames=["All"],
            ).get("Messages", [])
            fresh = [m for m in page if m["MessageId"] not in seen]
            if not fresh:
                break
            seen.update(m["MessageId"] for m in fresh)
            out += fresh
        return out

    def _release(self, channel: str, messages: list[dict[str, Any]]) -> None:
        """Make received messages visible again now. One call per message: moto's IAM enforcement
        (the local stack) checks ChangeMessageVisibilityBatch as its own action, AWS as
        sqs:ChangeMessageVisibility, so the batch call would need a different policy per place."""
        for msg in messages:
            self.sqs.change_message_visibility(QueueUrl=self.dlq_urls[channel], ReceiptHandle=msg["ReceiptHandle"],
                                               VisibilityTimeout=0)

    def list_messages(self, channel: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        channels = [channel] if channel else [c for c in DLQ_NAMES if self.dlq_urls.get(c)]
        found = []
        for name in channels:
            received = self._receive(name, limit, self.peek_visibility_s)
            try:
                found += [describe(name, msg) for msg in received]
            finally:
                self._release(name, received)
        return found

    def redrivable(self) -> dict[str, str]:
        """The DLQs a redrive can move messages out of: name -> DLQ URL."""
        return {c: u for c, u in self.dlq_urls.items() if u and self.queue_urls.get(c)}

    def redrive(self, channel: str, message_ids: list[str] | None = None, limit: int = 100) -> int:
        wanted = set(message_ids or [])
        moved = 0
        kept: list[dict[str, Any]] = []
        received = self._receive(channel, limit, 30)
        try:
            for msg in received:
                if wanted and msg["MessageId"] not in wanted:
                    kept.append(msg)
                    continue
                self.sqs.send_message(QueueUrl=self.queue_urls[channel], MessageBody=msg["Body"])
                self.sqs.delete_message(QueueUrl=self.dlq_urls[channel], ReceiptHandle=msg["ReceiptHandle"])
                moved += 1
        except Exception:
            kept += received[moved + len(kept):]  # not reached: visible again below, then re-raise
            raise
        finally:
            self._release(channel, kept)
        return moved


def describe(channel: str, msg: dict[str, Any]) -> dict[str, Any]:
    attrs = {k: v.get("StringValue") for k, v in (msg.get("MessageAttributes") or {}).items()}
    try:
        body = json.loads(msg.get("Body") or "null")
    except ValueError:
        body = msg.get("Body")
    event = body.get("event") if isinstance(body, dict) else None
    return {
        "channel": channel,
        "message_id": msg["MessageId"],
        "reason": attrs.get("reason") or _on_failure_reason(body) or RETRIES_EXHAUSTED,
        "destination": attrs.get("destination") or (body.get("destination") if isinstance(body, dict) else None),
        "event_id": attrs.get("event_id") or (event.get("id") if isinstance(event, dict) else None),
        "event_type": event.get("type") if isinstance(event, dict) else None,
        "failed_at": int(attrs["failed_at"]) if attrs.get("failed_at") else _on_failure_time(body),
        "receive_count": int((msg.get("Attributes") or {}).get("ApproximateReceiveCount", 0)),
        "body": body,
    }


def _on_failure_reason(body: Any) -> str | None:
    """A Lambda OnFailure record (stream-failures): its condition and the stream records it covers
    (record shape: "Configuring destinations for event source mappings", Lambda Developer Guide)."""
    context = body.get("requestContext") if isinstance(body, dict) else None
    if not isinstance(context, dict) or not context.get("condition"):
        return None
    batch = body.get("DDBStreamBatchInfo") if isinstance(body.get("DDBStreamBatchInfo"), dict) else {}
    span = f"; stream records {batch.get('startSequenceNumber')}..{batch.get('endSequenceNumber')}" if batch else ""
    function = str(context.get("functionArn") or "").rsplit(":", 1)[-1]
    return f"{context['condition']}{' in ' + function if function else ''}{span}"


def _on_failure_time(body: Any) -> int | None:
    stamp = body.get("timestamp") if isinstance(body, dict) else None
    try:
        return int(datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()) if stamp else None
    except ValueError:
        return None


def build(settings: Any) -> DlqAdmin:
    from chalicelib import aws

    queue_urls = {**settings.notify_queue_urls, "crawl": settings.crawl_queue_url, "slack-jobs": settings.slack_jobs_queue_url}
    return DlqAdmin(aws.client("sqs"), queue_urls, dict(settings.dlq_urls))
