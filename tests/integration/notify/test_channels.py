"""Discord, Teams, Telegram, ntfy, PagerDuty Events v2 and email through the real deliverer
(ledger, moto queues) against local peers on 127.0.0.1: HTTP servers answering as each provider
documents (hand-written shapes: the shared samples hold none of these), and a minimal SMTP server."""
from __future__ import annotations

import json
import socketserver
import threading
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.events import Event
from chalicelib.notify.channels import (
    ChannelSenders,
    DiscordSender,
    EmailSender,
    NtfySender,
    PagerDutySender,
    TeamsSender,
    TelegramSender,
    event_tag,
)
from chalicelib.notify.delivery import Senders
from tests.integration.notify.notify_testkit import Reply, release_event

DOWN = Event(id="target.down:api:2026-11-22T10:05", type="target.down", occurred_at="2026-11-22T10:05:00Z",
             subject="api", data={"target": "api", "state": "down", "condition": "[STATUS] == 200"})
REMINDER = Event(id="target.reminder:api:2026-11-22T10:35", type="target.reminder", occurred_at="2026-11-22T10:35:00Z",
                 subject="api", data={"target": "api", "state": "down"})
RECOVERED = Event(id="target.recovered:api:2026-11-22T11:10", type="target.recovered", occurred_at="2026-11-22T11:10:00Z",
                  subject="api", data={"target": "api", "state": "up", "duration_s": 3900})
TOKEN = "s3cr3tW3bh00kT0k3nXYZ"


def senders(**channels):
    return Senders("https://n.example", channels=ChannelSenders(**channels))


def deliver(stack, service, *events, destination, twice=True):
    for event in events:
        for _ in range(2 if twice else 1):
            stack.enqueue(event, destination)
        stack.runner("webhook", service).drain()


def everything_visible(stack):
    from chalicelib.notify.dlq import DlqAdmin

    listed = DlqAdmin(stack.sqs, stack.queue_urls, stack.dlq_urls, peek_visibility_s=0).list_messages()
    return json.dumps([stack.ledger_table.scan()["Items"], listed, [a.to_dict() for a in stack.alerts]], default=str)


# --- PagerDuty Events v2 -------------------------------------------------------------------------


def test_pagerduty_triggers_and_resolves_one_alert_per_target(stack, peer):
    peer.default = Reply(202, {"status": "success", "message": "Event processed", "dedup_key": "x"})
    pd = PagerDutySender(peer.url, "R0UT1NGKEY0000000000000000000000")
    service = stack.delivery(senders(pagerduty=lambda name: pd if name == "ops" else None))
    deliver(stack, service, DOWN, REMINDER, RECOVERED, destination="pagerduty:ops")
    bodies = [r.json for r in peer.posts("/v2/enqueue")]
    assert [(b["event_action"], b["dedup_key"]) for b in bodies] == [
        ("trigger", "newbooks:target:api"), ("trigger", "newbooks:target:api"), ("resolve", "newbooks:target:api")]
    trigger = bodies[0]
    assert trigger["routing_key"] == "R0UT1NGKEY0000000000000000000000"
    assert trigger["payload"]["severity"] == "critical" and trigger["payload"]["source"] == "newbooks"
    assert trigger["payload"]["summary"].startswith("Target down: api")
    assert trigger["links"][0]["href"] == "https://n.example/pages/status#target-api"
    assert "payload" not in bodies[2]


def test_pagerduty_uncertain_send_is_resent_with_the_same_dedup_key(stack, peer):
    peer.reply(Reply(202, {"status": "success"}, delay_s=2))  # accepted, the answer comes too late
    peer.default = Reply(202, {"status": "success"})
    pd = PagerDutySender(peer.url, "R0UT1NGKEY", timeout_s=1)
    service = stack.delivery(senders(pagerduty=lambda name: pd))
    deliver(stack, service, DOWN, destination="pagerduty:ops", twice=False)
    first, second = [r.json for r in peer.posts()]
    assert first == second  # the same event twice: PagerDuty folds it into one alert by dedup_key
    assert stack.ledger_table.get_item(Key={"pk": f"{DOWN.id}#pagerduty:ops"})["Item"]["status"] == "sent"


def test_pagerduty_bad_request_echoing_the_routing_key_does_not_leak_it(stack, peer):
    peer.responder = lambda r: Reply(400, {"status": "invalid event", "errors": [f"bad routing_key {r.json['routing_key']}"]})
    pd = PagerDutySender(peer.url, "R0UT1NGKEYSECRET")
    service = stack.delivery(senders(pagerduty=lambda name: pd))
    deliver(stack, service, DOWN, destination="pagerduty:ops", twice=False)
    visible = everything_visible(stack)
    assert "pagerduty: HTTP 400" in visible and "R0UT1NGKEYSECRET" not in visible


# --- ntfy ------------------------------------------------------------------------------------------


class NtfyTopic:
    """Publishes into a cache and answers `GET /<topic>/json?poll=1&since=` from it."""

    def __init__(self, peer, topic):
        self.messages = []
        self.topic = topic
        peer.responder = self.respond

    def respond(self, request):
        path = urlsplit(request.path)
        if request.method == "POST" and path.path == f"/{self.topic}":
            message = {"id": f"m{len(self.messages)}", "time": 1763850000, "event": "message", "topic": self.topic,
                       "title": request.headers.get("title"), "message": request.body.decode(),
                       "tags": (request.headers.get("tags") or "").split(","), "click": request.headers.get("click")}
            self.messages.append(message)
            return None  # the scripted or default reply decides how (and when) the publisher hears back
        if request.method == "GET" and path.path == f"/{self.topic}/json":
            assert parse_qs(path.query)["poll"] == ["1"]
            return Reply(200, "\n".join(json.dumps(m) for m in self.messages) + "\n")
        return Reply(404, "not found")


def test_ntfy_publishes_title_tags_and_click(stack, peer):
    topic = NtfyTopic(peer, "nb-topic-7f3a")
    peer.default = Reply(200, {"id": "abc", "event": "message"})
    ntfy = NtfySender(peer.url, "nb-topic-7f3a")
    deliver(stack, stack.delivery(senders(ntfy=lambda name: ntfy)), release_event(title="ワンピース 108"),
            destination="ntfy:phone")
    (message,) = topic.messages
    assert message["tags"] == ["newbooks", event_tag("release.new:isbn:9784088820000")]
    assert message["click"] == "https://example.com/books/9784088820000"
    from email.header import decode_header, make_header

    assert str(make_header(decode_header(message["title"]))) == "New release: ワンピース 108"


def test_ntfy_timeout_after_publish_is_reconciled_from_the_topic(stack, peer):
    topic = NtfyTopic(peer, "nb-topic-7f3a")
    peer.reply(Reply(200, {"id": "abc"}, delay_s=2))
    peer.default = Reply(200, {"id": "def"})
    ntfy = NtfySender(peer.url, "nb-topic-7f3a", timeout_s=1)
    deliver(stack, stack.delivery(senders(ntfy=lambda name: ntfy)), DOWN, destination="ntfy:phone", twice=False)
    assert len(topic.messages) == 1
    item = stack.ledger_table.get_item(Key={"pk": f"{DOWN.id}#ntfy:phone"})["Item"]
    assert item["status"] == "sent" and item["info"].startswith("reconciled")


# --- Discord, Teams, Telegram ---------------------------------------------------------------------


def test_discord_posts_an_embed_that_cannot_ping(stack, peer):
    peer.default = Reply(200, {"id": "1175000000000000000", "channel_id": "1", "content": "x"})
    hook = DiscordSender(f"{peer.url}/api/webhooks/123/{TOKEN}")
    evil = "@everyone <@&1> ONE PIECE"
    deliver(stack, stack.delivery(senders(discord=lambda name: hook)), release_event(title=evil), destination="discord:manga")
    (request,) = peer.posts()
    assert request.path == f"/api/webhooks/123/{TOKEN}?wait=true"
    assert request.json["allowed_mentions"] == {"parse": []}
    assert request.json["embeds"][0]["url"] == "https://example.com/books/9784088820000"
    assert stack.ledger_table.get_item(Key={"pk": "release.new:isbn:9784088820000#discord:manga"})["Item"]["info"] == "1175000000000000000"


def test_discord_uncertain_send_is_parked_not_reposted(stack, peer):
    peer.reply(Reply(200, {"id": "1"}, delay_s=2))
    hook = DiscordSender(f"{peer.url}/api/webhooks/123/{TOKEN}", timeout_s=1)
    service = stack.delivery(senders(discord=lambda name: hook))
    deliver(stack, service, DOWN, destination="discord:ops", twice=False)
    assert len(peer.posts()) == 1
    (dead,) = stack.queue_bodies(stack.dlq_urls["webhook"])
    assert dead["attributes"]["reason"]["StringValue"].startswith("uncertain:")
    assert TOKEN not in everything_visible(stack)


def test_discord_rate_limit_then_token_echo(stack, peer):
    peer.reply(Reply(429, {"message": "You are being rate limited.", "retry_after": 0.1}, {"Retry-After": "0"}))
    peer.reply(Reply(404, {"message": f"Unknown Webhook {TOKEN}", "code": 10015}))
    hook = DiscordSender(f"{peer.url}/api/webhooks/123/{TOKEN}")
    service = stack.delivery(senders(discord=lambda name: hook))
    deliver(stack, service, DOWN, destination="discord:ops", twice=False)
    assert len(peer.posts()) == 2
    visible = everything_visible(stack)
    assert "discord: HTTP 404" in visible and TOKEN not in visible


def test_teams_posts_an_adaptive_card(stack, peer):
    peer.default = Reply(202, "")
    teams = TeamsSender(f"{peer.url}/workflows/{TOKEN}")
    deliver(stack, stack.delivery(senders(teams=lambda name: teams)), DOWN, destination="teams:ops")
    (request,) = peer.posts()
    attachment = request.json["attachments"][0]
    assert request.json["type"] == "message"
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["body"][0]["text"] == "Target down: api"
    assert card["actions"][0]["url"] == "https://n.example/pages/status#target-api"


def test_telegram_send_message_and_retry_after(stack, peer):
    peer.reply(Reply(429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 0",
                           "parameters": {"retry_after": 0}}))
    peer.default = Reply(200, {"ok": True, "result": {"message_id": 42, "chat": {"id": -100123}}})
    bot = TelegramSender(peer.url, f"123456:{TOKEN}")
    service = stack.delivery(senders(telegram=lambda: bot))
    deliver(stack, service, RECOVERED, destination="telegram:-100123")
    posts = peer.posts()
    assert [p.path for p in posts] == [f"/bot123456:{TOKEN}/sendMessage"] * 2
    assert posts[-1].json["chat_id"] == "-100123" and "api recovered" not in posts[-1].json["text"]
    assert posts[-1].json["text"].startswith("Target recovered: api\napi is up (1h 5m)")
    item = stack.ledger_table.get_item(Key={"pk": f"{RECOVERED.id}#telegram:-100123"})["Item"]
    assert item["status"] == "sent" and item["info"] == "42"
    assert TOKEN not in everything_visible(stack)


def test_telegram_chat_not_found_is_permanent(stack, peer):
    peer.default = Reply(400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"})
    service = stack.delivery(senders(telegram=lambda: TelegramSender(peer.url, f"1:{TOKEN}")))
    deliver(stack, service, DOWN, destination="telegram:999", twice=False)
    (dead,) = stack.queue_bodies(stack.dlq_urls["webhook"])
    assert dead["attributes"]["reason"]["StringValue"] == "telegram: 400 Bad Request: chat not found"


def test_unconfigured_channel_falls_back_to_the_console(stack):
    import io

    from chalicelib.notify.console import ConsoleSender

    out = io.StringIO()
    service = stack.delivery(Senders("https://n.example", channels=ChannelSenders(), console=ConsoleSender(out)))
    deliver(stack, service, DOWN, destination="discord:nowhere", twice=False)
    assert out.getvalue().startswith("[newbooks] target.down -> discord:nowhere | api is down")


# --- email -------------------------------------------------------------------------------------------


class SmtpServer:
    """Just enough SMTP (RFC 5321) on 127.0.0.1 to accept mail and record it."""

    def __init__(self):
        self.mail: list[dict] = []
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                w = lambda line: self.wfile.write(line.encode() + b"\r\n")  # noqa: E731
                w("220 localhost ESMTP test")
                envelope = {"rcpt": []}
                while True:
                    line = self.rfile.readline().decode(errors="replace").strip()
                    if not line:
                        return
                    verb = line.split(" ")[0].upper()
                    if verb in ("EHLO", "HELO"):
                        w("250 localhost")
                    elif verb == "MAIL":
                        envelope["from"] = line
                        w("250 OK")
                    elif verb == "RCPT":
                        envelope["rcpt"].append(line)
                        w("250 OK")
                    elif verb == "DATA":
                        w("354 go ahead")
                        data = []
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data.append(chunk)
                        envelope["data"] = b"".join(data).decode()
                        outer.mail.append(dict(envelope))
                        envelope = {"rcpt": []}
                        w("250 queued")
                    elif verb == "QUIT":
                        w("221 bye")
                        return
                    else:
                        w("250 OK")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_email_is_sent_once_with_a_stable_message_id(stack, smtp):
    mailer = EmailSender(smtp.url, "newbooks@example.com", timeout_s=2)
    service = stack.delivery(senders(email=lambda: mailer))
    deliver(stack, service, release_event(), destination="email:reader@example.com")
    (mail,) = smtp.mail
    assert [r.lower() for r in mail["rcpt"]] == ["rcpt to:<reader@example.com>"]
    assert "Subject: New release: ONE PIECE 108" in mail["data"]
    message_id = next(line for line in mail["data"].splitlines() if line.startswith("Message-ID:"))
    item = stack.ledger_table.get_item(Key={"pk": "release.new:isbn:9784088820000#email:reader@example.com"})["Item"]
    assert item["status"] == "sent" and item["info"] == message_id.split(": ", 1)[1]
