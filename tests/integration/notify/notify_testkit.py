"""Helpers for the notification tests (fixtures in conftest.py): the shared recording HTTP peer on
127.0.0.1, a Lambda-like SQS runner over moto queues, and a sample release event.
Import as `from tests.integration.notify.notify_testkit import ...`."""
from __future__ import annotations

import json
from typing import Any

from tests.integration import peer_testkit
from tests.integration.peer_testkit import Reply, Request

__all__ = ["Peer", "Reply", "Request"]  # the shared peer's types, as the notify tests import them


class Peer(peer_testkit.Peer):
    """The shared recording peer (tests/integration/peer_testkit.py) answering 200 {"ok": true}
    unless scripted: what most receivers say."""

    def __init__(self, default: Reply | None = None) -> None:
        super().__init__(default=default or Reply(200, {"ok": True}))


SLACK_OK = {"ok": True, "channel": "C1H9RESGL", "ts": "1503435956.000247"}


class Clock:
    def __init__(self, start: float = 1_763_850_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Crash(BaseException):
    """Simulates the Lambda process dying: not an Exception, so nothing in the app catches it."""


class QueueRunner:
    """Feeds SQS messages to a deliverer the way Lambda's event source mapping does: receive a
    batch, call the handler through `sqs_batch`, delete the messages it did not report."""

    def __init__(self, sqs: Any, queue_url: str, handler: Any, channel: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.handler = handler
        self.channel = channel

    def receive(self, max_messages: int = 10) -> list[dict[str, Any]]:
        return self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=max_messages, VisibilityTimeout=30, AttributeNames=["All"]
        ).get("Messages", [])

    def run_batch(self, messages: list[dict[str, Any]], reset_failed: bool = True) -> dict[str, Any]:
        from chalicelib.batch import sqs_batch

        event = {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "eventSource": "aws:sqs",
                }
                for m in messages
            ]
        }
        try:
            result = sqs_batch(event, lambda body, record: self.handler(self.channel, body, record))
        except Crash:
            if reset_failed:
                for m in messages:
                    self._visible(m)
            return {"crashed": True, "batchItemFailures": [{"itemIdentifier": m["MessageId"]} for m in messages]}
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        for m in messages:
            if m["MessageId"] in failed:
                if reset_failed:
                    self._visible(m)
            else:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
        return result

    def _visible(self, m: dict[str, Any]) -> None:
        self.sqs.change_message_visibility(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)

    def drain(self, rounds: int = 10, reset_failed: bool = True) -> list[dict[str, Any]]:
        results = []
        for _ in range(rounds):
            messages = self.receive()
            if not messages:
                break
            results.append(self.run_batch(messages, reset_failed))
        return results


class NotifyStack:
    """The notify pieces wired against the moto resources of the `aws` fixture."""

    def __init__(self, env: dict[str, str]) -> None:
        import boto3

        from chalicelib.settings import get_settings

        self.env = env
        self.settings = get_settings()
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        ddb = boto3.resource("dynamodb", region_name="us-east-1")
        self.ledger_table = ddb.Table(env["LEDGER_TABLE"])
        self.state_table = ddb.Table(env["STATE_TABLE"])
        self.queue_urls = {c: env[f"NOTIFY_{c.upper()}_QUEUE_URL"] for c in ("slack", "x", "webhook", "console")}
        self.dlq_urls = {c: env[f"NOTIFY_{c.upper()}_DLQ_URL"] for c in ("slack", "x", "webhook", "console")}
        self.clock = Clock()
        self.alerts: list[Any] = []

    def delivery(self, senders: Any, after_claim: Any = None, stale_after_s: float = 120, alert: Any = None) -> Any:
        from chalicelib.notify.delivery import DeliveryService
        from chalicelib.notify.ledger import Ledger

        return DeliveryService(
            ledger=Ledger(self.ledger_table, clock=self.clock, stale_after_s=stale_after_s),
            senders=senders,
            sqs=self.sqs,
            queue_urls=self.queue_urls,
            dlq_urls=self.dlq_urls,
            alert=alert or self.alerts.append,
            clock=self.clock,
            after_claim=after_claim,
        )

    def runner(self, channel: str, service: Any) -> QueueRunner:
        return QueueRunner(self.sqs, self.queue_urls[channel], service.deliver, channel)

    def enqueue(self, event: Any, destination: str) -> None:
        from chalicelib.notify.fanout import Enqueuer

        Enqueuer(self.sqs, self.queue_urls)(event, destination)

    def fanout(self, burst_limit: int = 10, static: list | None = None) -> Any:
        from chalicelib.notify import digest as dg
        from chalicelib.notify.fanout import Enqueuer, FanoutService, Router
        from chalicelib.notify.subscriptions import StaticSubscriptions, SubscriptionStore

        router = Router([SubscriptionStore(self.state_table), StaticSubscriptions(static or [])])
        return FanoutService(router, Enqueuer(self.sqs, self.queue_urls), dg.DigestStore(self.state_table),
                             clock=self.clock, burst_limit=burst_limit)

    def queue_bodies(self, url: str) -> list[dict[str, Any]]:
        out = []
        while True:
            msgs = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages", [])
            if not msgs:
                return out
            for m in msgs:
                out.append({"body": json.loads(m["Body"]), "attributes": m.get("MessageAttributes", {})})
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def release_event(release_id: str = "isbn:9784088820000", **data: Any) -> Any:
    from chalicelib.events import Event

    fields = {
        "id": release_id,
        "source": "openbd",
        "title": "ONE PIECE 108",
        "series": "ONE PIECE",
        "volume": "108",
        "publisher": "集英社",
        "release_date": "2026-11-04",
        "url": "https://example.com/books/9784088820000",
        "cover_url": "https://example.com/covers/9784088820000.jpg",
        "isbn13": "9784088820000",
    }
    fields.update(data)
    return Event(id=f"release.new:{release_id}", type="release.new", occurred_at="2026-11-22T10:00:00Z",
                 subject=release_id, data=fields)
