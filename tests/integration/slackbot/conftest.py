"""Fixtures for the slash command: the Chalice app with moto resources, real signed form bodies,
a recording HTTP server on 127.0.0.1 standing in for Slack's response_url, and the
slack-jobs queue drained into the `slack_worker` Lambda handler."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

import pytest

SECRET = "8f7422-test-signing-secret-not-real"


def sign(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    return "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()


class ResponseUrlServer:
    """Records every POST; answers with `status` (a list is consumed first, then 200)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with recorder.lock:
                    recorder.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
                    status = recorder.statuses.pop(0) if recorder.statuses else 200
                payload = b"ok" if status == 200 else b"expired_url" if status == 404 else b"oops"
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str = "/commands/T1/123/abc") -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def messages(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(r["body"]) for r in self.requests]


@pytest.fixture
def response_url():
    server = ResponseUrlServer()
    yield server
    server.server.shutdown()
    server.server.server_close()


class SlackApp:
    """The deployed shape: Chalice app via chalice.test.Client, worker via its Lambda handler."""

    def __init__(self, env: dict[str, str], response_server: ResponseUrlServer) -> None:
        import boto3
        from chalice.test import Client

        from app import app

        self.env = env
        self.app = app
        self.client = Client(app)
        self.responses = response_server
        self.sequence = 0
        self.last_response_url = ""
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        self.state = boto3.resource("dynamodb", region_name="us-east-1").Table(env["STATE_TABLE"])
        self.releases = boto3.resource("dynamodb", region_name="us-east-1").Table(env["RELEASES_TABLE"])

    @staticmethod
    def sign(body: bytes, timestamp: str, secret: str = SECRET) -> str:
        return sign(body, timestamp, secret)

    def form(self, text: str, channel: str = "C0NEWBOOKS", **extra: str) -> bytes:
        """A slash-command body; like Slack, every invocation gets its own response_url."""
        self.sequence += 1
        self.last_response_url = self.responses.url(f"/commands/T1/{self.sequence}/abc")
        fields = {"token": "unused", "team_id": "T1", "team_domain": "example", "channel_id": channel,
                  "channel_name": "manga", "user_id": "U1", "user_name": "reader", "command": "/newbooks",
                  "text": text, "api_app_id": "A1", "response_url": self.last_response_url,
                  "trigger_id": "1.2.3"}
        fields.update(extra)
        return urlencode(fields).encode()

    def post(self, body: bytes, *, timestamp: str | None = None, signature: str | None = None,
             secret: str = SECRET, headers: dict[str, str] | None = None, omit: tuple[str, ...] = ()) -> Any:
        ts = timestamp if timestamp is not None else str(int(time.time()))
        sent = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": signature if signature is not None else sign(body, ts, secret)}
        for name in omit:
            sent.pop(name)
        sent.update(headers or {})
        response = self.client.http.post("/slack/commands", headers=sent, body=body)
        response.json = json.loads(response.body or b"null")
        return response

    def command(self, text: str, **kw: Any) -> Any:
        return self.post(self.form(text, **kw))

    def queued(self) -> list[dict[str, Any]]:
        """Receive (and keep in flight) every job message; returns [{"body", "message"}]."""
        out = []
        while True:
            msgs = self.sqs.receive_message(QueueUrl=self.env["SLACK_JOBS_QUEUE_URL"], MaxNumberOfMessages=10,
                                            VisibilityTimeout=30).get("Messages", [])
            if not msgs:
                return out
            out.extend({"body": json.loads(m["Body"]), "message": m} for m in msgs)

    def run_worker(self, messages: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Feed job messages to the `slack_worker` handler as Lambda's SQS mapping would."""
        messages = self.queued() if messages is None else messages
        event = {"Records": [{"messageId": m["message"]["MessageId"], "receiptHandle": m["message"]["ReceiptHandle"],
                              "body": m["message"]["Body"], "eventSource": "aws:sqs"} for m in messages]}
        from app import slack_worker

        return slack_worker(event, None)

    def seed_release(self, release_id: str, release_date: str, title: str, series: str, **fields: Any) -> None:
        from chalicelib.crawl.store import release_item
        from chalicelib.notify.subscriptions import resolve_series_key

        release = {"id": release_id, "source": "openbd", "title": title, "series": series,
                   "release_date": release_date, "source_refs": [f"openbd:{release_id}"], **fields}
        item = release_item(release, series_key=resolve_series_key()(series), first_seen=f"{release_date}T00:00:00Z")
        self.releases.put_item(Item=item)


@pytest.fixture
def slack(aws, response_url, monkeypatch):
    from chalicelib import bootstrap

    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("NEWBOOKS_ALLOW_PRIVATE_TARGETS", "true")  # lets the worker answer a 127.0.0.1 URL
    bootstrap.reset()
    yield SlackApp(aws, response_url)
    bootstrap.reset()
