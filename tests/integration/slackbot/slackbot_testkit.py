"""Helpers for the Slack integration tests: signing, the local Slack peers (on the shared peer) and payload builders
(conftest.py holds the fixtures)."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

from tests.integration.peer_testkit import Peer, Reply, Request

SECRET = "8f7422-test-signing-secret-not-real"


def sign(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    return "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()


class ResponseUrlServer:
    """Slack's response_url on the shared peer: records every POST; answers `statuses` in turn
    (then 200) with Slack's bodies ("ok", "expired_url" for 404)."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.peer = Peer(responder=self._answer).start()
        self.server = self.peer.server
        self.requests = self.peer.requests

    def _answer(self, request: Request) -> Reply:
        status = self.statuses.pop(0) if self.statuses else 200
        return Reply(status, b"ok" if status == 200 else b"expired_url" if status == 404 else b"oops",
                     {"Content-Type": "text/plain"})

    def url(self, path: str = "/commands/T1/123/abc") -> str:
        return self.peer.url + path

    def messages(self) -> list[dict[str, Any]]:
        with self.peer.lock:
            return [r.json for r in self.requests]


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

    def signed(self, path: str, body: bytes, content_type: str, *, timestamp: str | None = None,
               headers: dict[str, str] | None = None, secret: str = SECRET) -> Any:
        """POST a body signed the way Slack signs every request to `path`."""
        ts = timestamp if timestamp is not None else str(int(time.time()))
        sent = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": sign(body, ts, secret), **(headers or {})}
        response = self.client.http.post(path, headers=sent, body=body)
        response.json = json.loads(response.body) if response.body else None
        return response

    def interact(self, payload: dict[str, Any], **kw: Any) -> Any:
        return self.signed("/slack/interactions", interaction_body(payload), "application/x-www-form-urlencoded", **kw)

    def event(self, body: dict[str, Any], **kw: Any) -> Any:
        return self.signed("/slack/events", json.dumps(body).encode(), "application/json", **kw)

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


class SlackApiPeer:
    """A Web API stand-in on 127.0.0.1 that records every call (`/api/<method>`, JSON or form
    bodies) and answers the way Slack documents: `views.open`/`views.publish` echo the view with
    an id, `chat.postMessage`/`chat.update` return a ts, `conversations.open` a DM id."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.counter = 0
        self.peer = Peer(responder=self._answer).start()
        self.server = self.peer.server
        self.lock = self.peer.lock

    def _answer(self, request: Request) -> Reply:
        if "json" in request.headers.get("content-type", ""):
            args = json.loads(request.body or b"{}")
        else:
            args = {k: v[0] for k, v in request.form.items()}
            for key in ("view", "blocks", "metadata"):
                if isinstance(args.get(key), str):
                    args[key] = json.loads(args[key])
        method = request.route.rsplit("/", 1)[-1]
        self.counter += 1  # under the peer's lock
        self.calls.append({"method": method, "args": args, "auth": request.headers.get("authorization")})
        return Reply(200, self.answer(method, args, self.counter))

    @staticmethod
    def answer(method: str, args: dict[str, Any], n: int) -> dict[str, Any]:
        if method in ("views.open", "views.publish", "views.update"):
            return {"ok": True, "view": {**(args.get("view") or {}), "id": f"V{n:08d}", "hash": f"{n}.abc"}}
        if method in ("chat.postMessage", "chat.update"):
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts") or f"1763850000.{n:06d}"}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users"))[1:]}}
        return {"ok": True}

    @property
    def url(self) -> str:
        return self.peer.url + "/api/"

    def methods(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            return [c["args"] for c in self.calls if c["method"] == name]


def validate_view(view: dict[str, Any]) -> None:
    """slack-sdk's models raise on Block Kit violations (lengths, counts, required fields)."""
    from slack_sdk.models.blocks import Block
    from slack_sdk.models.views import View

    View(**view).validate_json()
    for block in view["blocks"]:
        Block.parse(block).validate_json()


def validate_blocks(blocks: list[dict[str, Any]]) -> None:
    from slack_sdk.models.blocks import Block

    assert 1 <= len(blocks) <= 50
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.validate_json()


def interaction_body(payload: dict[str, Any]) -> bytes:
    """How Slack posts an interaction: form-encoded with one `payload` field of JSON."""
    return urlencode({"payload": json.dumps(payload)}).encode()


def block_actions(action: dict[str, Any], *, user: str = "U1", channel: str | None = "C0NEWBOOKS",
                  message: dict[str, Any] | None = None, response_url: str = "", container: str = "message",
                  action_ts: str = "1763850000.000100") -> dict[str, Any]:
    """A block_actions payload with the fields Slack documents
    (https://docs.slack.dev/reference/interaction-payloads/block_actions-payload, read
    2026-12-03). Hand-written: the shared samples hold no interaction payloads."""
    payload: dict[str, Any] = {
        "type": "block_actions", "api_app_id": "A1", "token": "unused", "trigger_id": "1234.5678.abcd",
        "team": {"id": "T1", "domain": "example"}, "user": {"id": user, "username": "reader", "team_id": "T1"},
        "container": {"type": container, "message_ts": (message or {}).get("ts"), "channel_id": channel},
        "actions": [{**action, "action_ts": action_ts, "type": "button"}],
    }
    if container == "view":
        payload["container"] = {"type": "view", "view_id": "VHOME"}
        payload["view"] = {"id": "VHOME", "type": "home"}
    if channel:
        payload["channel"] = {"id": channel, "name": "manga"}
    if message is not None:
        payload["message"] = message
    if response_url:
        payload["response_url"] = response_url
    return payload


def view_submission(view: dict[str, Any], values: dict[str, Any], user: str = "U1") -> dict[str, Any]:
    """A view_submission payload: the view we opened plus `state.values` as Slack fills them
    (https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload, read
    2026-12-03; hand-written, no sample)."""
    return {"type": "view_submission", "team": {"id": "T1"}, "user": {"id": user}, "api_app_id": "A1",
            "view": {**view, "id": "V1", "state": {"values": values}}}


def text_value(text: str | None) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": text}}


def select_value(value: str, kind: str = "static_select") -> dict[str, Any]:
    return {"value": {"type": kind, "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}}}}


def checkbox_values(*values: str) -> dict[str, Any]:
    return {"value": {"type": "checkboxes", "selected_options": [{"value": v} for v in values]}}
