"""Helpers for the notification tests (fixtures in conftest.py): a recording HTTP peer on
127.0.0.1, a Lambda-like SQS runner over moto queues, and a sample release event.
Import as `from tests.integration.notify.notify_testkit import ...`."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode() or "null")

    @property
    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict -> JSON, str/bytes as is
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


class Peer:
    """A real HTTP server on 127.0.0.1:<ephemeral> that records every request and answers from
    a script (then with `default`)."""

    def __init__(self, default: Reply | None = None) -> None:
        self.requests: list[Request] = []
        self.script: list[Reply] = []
        self.default = default or Reply(200, {"ok": True})
        self.responder: Any = None  # optional: Request -> Reply | None, consulted first
        self.lock = threading.Lock()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with peer.lock:
                    peer.requests.append(request)
                    reply = peer.responder(request) if peer.responder else None
                    if reply is None:
                        reply = peer.script.pop(0) if peer.script else peer.default
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if isinstance(reply.body, (dict, list)):
                    payload = json.dumps(reply.body).encode()
                    ctype = "application/json; charset=utf-8"
                else:
                    payload = reply.body.encode() if isinstance(reply.body, str) else (reply.body or b"")
                    ctype = "text/plain; charset=utf-8"
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.headers.get("Content-Type", ctype))
                    for key, value in reply.headers.items():
                        if key != "Content-Type":
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def reply(self, *replies: Reply) -> None:
        with self.lock:
            self.script.extend(replies)

    def posts(self, path: str | None = None) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if path is None or r.path == path]


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
