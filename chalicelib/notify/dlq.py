"""Dead-letter queues of the notification channels: look, and redrive.

Messages reach a channel's DLQ two ways: the deliverer sends a permanently failed one there
itself with message attributes `reason`, `channel`, `destination`, `event_id`, `failed_at`; or
SQS moves one there after `maxReceiveCount` failed receives (transient failures that never
cleared), which carries no reason ("retries exhausted" is reported).

`list_messages` peeks: it receives with a short visibility timeout and never deletes, so a
listing hides the listed messages from a concurrent redrive for `peek_visibility_s`.
`redrive` moves messages back to the channel's source queue (all, or the given message ids) and
deletes them from the DLQ only after the send succeeded; the ledger makes a message redriven
twice post once.
"""
from __future__ import annotations

import json
from typing import Any

from chalicelib.notify.model import CHANNELS, safe_destination

RETRIES_EXHAUSTED = "retries exhausted (maxReceiveCount reached)"


class DlqAdmin:
    def __init__(self, sqs: Any, queue_urls: dict[str, str], dlq_urls: dict[str, str], peek_visibility_s: int = 5) -> None:
        self.sqs = sqs
        self.queue_urls = queue_urls
        self.dlq_urls = dlq_urls
        self.peek_visibility_s = peek_visibility_s

    def _receive(self, channel: str, limit: int, visibility: int) -> list[dict[str, Any]]:
        url = self.dlq_urls[channel]
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        while len(out) < limit:
            page = self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(10, limit - len(out)),
                VisibilityTimeout=visibility,
                WaitTimeSeconds=0,
                MessageAttributeNames=["All"],
                AttributeNames=["All"],
            ).get("Messages", [])
            fresh = [m for m in page if m["MessageId"] not in seen]
            if not fresh:
                break
            seen.update(m["MessageId"] for m in fresh)
            out += fresh
        return out

    def list_messages(self, channel: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        channels = [channel] if channel else [c for c in CHANNELS if self.dlq_urls.get(c)]
        found = []
        for name in channels:
            for msg in self._receive(name, limit, self.peek_visibility_s):
                found.append(describe(name, msg))
        return found

    def redrive(self, channel: str, message_ids: list[str] | None = None, limit: int = 100) -> int:
        wanted = set(message_ids or [])
        moved = 0
        for msg in self._receive(channel, limit, 30):
            if wanted and msg["MessageId"] not in wanted:
                self.sqs.change_message_visibility(
                    QueueUrl=self.dlq_urls[channel], ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=0
                )
                continue
            self.sqs.send_message(QueueUrl=self.queue_urls[channel], MessageBody=msg["Body"])
            self.sqs.delete_message(QueueUrl=self.dlq_urls[channel], ReceiptHandle=msg["ReceiptHandle"])
            moved += 1
        return moved


def describe(channel: str, msg: dict[str, Any]) -> dict[str, Any]:
    attrs = {k: v.get("StringValue") for k, v in (msg.get("MessageAttributes") or {}).items()}
    try:
        body = json.loads(msg.get("Body") or "null")
    except ValueError:
        body = msg.get("Body")
    event = body.get("event") if isinstance(body, dict) else None
    destination = attrs.get("destination") or (body.get("destination") if isinstance(body, dict) else None)
    if isinstance(destination, str):
        destination = safe_destination(destination)
    if isinstance(body, dict) and isinstance(body.get("destination"), str):
        body = {**body, "destination": safe_destination(body["destination"])}  # the view only: redrive sends the original
    return {
        "channel": channel,
        "message_id": msg["MessageId"],
        "reason": attrs.get("reason") or RETRIES_EXHAUSTED,
        "destination": destination,
        "event_id": attrs.get("event_id") or (event.get("id") if isinstance(event, dict) else None),
        "event_type": event.get("type") if isinstance(event, dict) else None,
        "failed_at": int(attrs["failed_at"]) if attrs.get("failed_at") else None,
        "receive_count": int((msg.get("Attributes") or {}).get("ApproximateReceiveCount", 0)),
        "body": body,
    }


def build(settings: Any) -> DlqAdmin:
    from chalicelib import aws
    from chalicelib.notify.delivery import dlq_urls_from_env

    return DlqAdmin(aws.client("sqs"), settings.notify_queue_urls, dlq_urls_from_env())
