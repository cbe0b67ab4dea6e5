"""The three delivery defects of issue 14, each against real local HTTP peers and moto:

* `webhook:<url>` destinations are posted (not printed and marked sent);
* `slack-user:` and `slack-webhook:` are exactly once when a timeout hides that Slack accepted;
* a receiver echoing its URL in an error body leaks no token to logs, ledger, DLQ view or alert.
"""
from __future__ import annotations

import io
import json
import logging

import pytest

from chalicelib.notify.delivery import Senders
from chalicelib.notify.dlq import DlqAdmin
from chalicelib.notify.errors import PermanentError, scrub
from chalicelib.notify.model import ledger_key, safe_destination
from chalicelib.notify.slack import SlackWebApi, SlackWebhookSender
from chalicelib.notify.webhook import WebhookSender, verify
from chalicelib.uptime.ssrf import AddressPolicy
from tests.integration.notify.notify_testkit import Reply, release_event

TOKEN = "T0AAAA1111/B0BBBB2222/s3cr3tW3bh00kT0k3nXYZ"
EVENT_ID = "release.new:isbn:9784088820000"


def local_webhook_url(peer, secret="whsec"):
    return lambda url: WebhookSender(url, secret, timeout_s=2, sleep=lambda s: None, policy=AddressPolicy(allow_private=True))


def ledger_items(stack):
    return stack.ledger_table.scan()["Items"]


# --- webhook:<url> is posted -------------------------------------------------------------------


def test_webhook_url_destination_is_posted_signed_and_once(stack, peer):
    peer.default = Reply(204, "")
    url = f"{peer.url}/hooks/{TOKEN}"
    out = io.StringIO()
    from chalicelib.notify.console import ConsoleSender

    senders = Senders("https://n.example", webhook_url=local_webhook_url(peer), console=ConsoleSender(out))
    service = stack.delivery(senders)
    for _ in range(2):  # a duplicate SQS message
        stack.enqueue(release_event(), f"webhook:{url}")
    stack.runner("webhook", service).drain()
    (request,) = peer.posts()
    assert request.path == f"/hooks/{TOKEN}"
    assert request.json["event"]["id"] == EVENT_ID
    assert verify("whsec", request.headers["x-newbooks-timestamp"], request.body, request.headers["x-newbooks-signature"])
    assert TOKEN not in request.headers["x-newbooks-delivery"]
    assert out.getvalue() == ""  # nothing printed instead
    (item,) = ledger_items(stack)
    assert item["status"] == "sent" and TOKEN not in json.dumps(item, default=str)
    assert item["pk"] == ledger_key(EVENT_ID, f"webhook:{url}") == f"{EVENT_ID}#{safe_destination('webhook:' + url)}"


def test_webhook_url_from_configuration_posts_in_the_local_stage(stack, peer, monkeypatch):
    """The composition root builds the URL sender (unsigned without a secret) under the stage's
    SSRF rules: loopback allowed where the stage allows private targets, refused in prod."""
    from chalicelib.notify.delivery import senders_from_config
    from chalicelib.settings import get_settings

    peer.default = Reply(200, "ok")
    monkeypatch.setenv("NEWBOOKS_ALLOW_PRIVATE_TARGETS", "true")
    get_settings.cache_clear()
    senders_from_config(get_settings()).send(f"webhook:{peer.url}/h/{TOKEN}", release_event())
    (request,) = peer.posts()
    assert "x-newbooks-signature" not in request.headers and request.json["event"]["id"] == EVENT_ID
    monkeypatch.setenv("NEWBOOKS_ALLOW_PRIVATE_TARGETS", "false")
    get_settings.cache_clear()
    with pytest.raises(PermanentError, match=r"loopback address 127\.0\.0\.1 is not allowed"):
        senders_from_config(get_settings()).send(f"webhook:{peer.url}/h/{TOKEN}", release_event())
    get_settings.cache_clear()
    assert len(peer.posts()) == 1


@pytest.mark.parametrize("host", ["169.254.169.254", "[::ffff:169.254.169.254]", "0x7f000001", "metadata.invalid"])
def test_webhook_url_to_refused_or_unresolvable_hosts_never_connects(host):
    sender = WebhookSender(f"http://{host}/latest/meta-data/{TOKEN}", None, timeout_s=1, policy=AddressPolicy(False))
    with pytest.raises(Exception) as caught:
        sender.post({"delivery_id": "d"})
    assert TOKEN not in str(caught.value)


def test_redirect_is_not_followed(peer):
    peer.default = Reply(302, "", {"Location": "http://169.254.169.254/"})
    with pytest.raises(PermanentError, match="HTTP 302"):
        local_webhook_url(peer)(peer.url + "/h").post({"delivery_id": "d"})
    assert len(peer.posts()) == 1


# --- echoed tokens stay out of logs, ledger, DLQ view and alerts --------------------------------


ECHOES = [
    lambda path: f"no such hook: {path}",
    lambda path: json.dumps({"error": "not_found", "path": path}).replace("/", "\\/"),
    lambda path: f"<h1>404</h1><p>{path.replace('/', '%2F')}</p>",
    lambda path: "unknown token " + path.rsplit("/", 1)[-1],
]


@pytest.mark.parametrize("echo", ECHOES)
def test_echoed_url_token_reaches_no_log_ledger_dlq_or_alert(stack, peer, echo, caplog):
    peer.responder = lambda request: Reply(404, echo(request.path))
    url = f"{peer.url}/hooks/{TOKEN}"
    service = stack.delivery(Senders("https://n.example", webhook_url=local_webhook_url(peer)))
    stack.enqueue(release_event(), f"webhook:{url}")
    handler = _capture_json_logs()
    try:
        stack.runner("webhook", service).drain()
    finally:
        logging.getLogger("newbooks").removeHandler(handler)
    assert len(peer.posts()) == 1
    listed = DlqAdmin(stack.sqs, stack.queue_urls, stack.dlq_urls, peek_visibility_s=0).list_messages("webhook")
    assert len(listed) == 1 and listed[0]["reason"].startswith("webhook: HTTP 404")
    assert listed[0]["destination"] == safe_destination(f"webhook:{url}")
    (alert,) = stack.alerts
    surfaces = {
        "logs": handler.stream.getvalue(),
        "ledger": json.dumps(ledger_items(stack), default=str),
        "dlq view": json.dumps(listed),
        "alert": json.dumps(alert.to_dict()),
    }
    assert "***" in listed[0]["reason"] or "unknown token" not in listed[0]["reason"]
    for surface, text in surfaces.items():
        for secret in ("s3cr3tW3bh00kT0k3nXYZ", "B0BBBB2222", "T0AAAA1111"):
            assert secret not in text, f"{secret} leaked into the {surface}"
    # redrive still sends the real URL: the DLQ keeps the message, only the view is redacted
    peer.responder = None
    peer.default = Reply(200, "ok")
    assert DlqAdmin(stack.sqs, stack.queue_urls, stack.dlq_urls).redrive("webhook") == 1
    stack.runner("webhook", service).drain()
    assert peer.posts()[-1].path == f"/hooks/{TOKEN}"


def _capture_json_logs() -> logging.Handler:
    from chalicelib.log import JsonFormatter, get_logger

    get_logger("test")
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(JsonFormatter())
    logging.getLogger("newbooks").addHandler(handler)
    return handler


def test_scrub_removes_each_url_part_but_keeps_other_text():
    url = f"https://hooks.example/services/{TOKEN}?key=abcd1234&x=1"
    text = f"bad {url} / {TOKEN.replace('/', '%2F')} / abcd1234 / services are fine"
    cleaned = scrub(text, url)
    assert "s3cr3t" not in cleaned and "abcd1234" not in cleaned and "B0BBBB2222" not in cleaned
    assert cleaned.startswith("bad ***")


def test_slack_webhook_error_body_echo_is_scrubbed(peer):
    peer.responder = lambda request: Reply(403, f"invalid_token {request.path}")
    sender = SlackWebhookSender(f"{peer.url}/services/{TOKEN}", timeout_s=2, sleep=lambda s: None)
    with pytest.raises(PermanentError) as caught:
        sender.post({"text": "hi"})
    assert "invalid_token" in caught.value.reason and "s3cr3t" not in caught.value.reason


# --- slack-user and slack-webhook exactly once ---------------------------------------------------


class SlackWorkspace:
    """Answers the Web API methods a deliverer calls the way Slack documents them, from what it
    really received: conversations.open (one DM per user), chat.postMessage, and
    conversations.history listing the posts (with metadata) of a channel, including those that
    came through an incoming webhook bound to a channel."""

    def __init__(self, peer, webhook_channel: str = "CHOOK"):
        self.peer = peer
        self.webhook_channel = webhook_channel
        peer.responder = self.respond

    def respond(self, request):
        method = request.path.rsplit("/", 1)[-1]
        if method == "conversations.open":
            user = request.form.get("users", [""])[0] if not request.body.startswith(b"{") else request.json["users"]
            return Reply(200, {"ok": True, "channel": {"id": "D" + user[1:]}})
        if method == "conversations.history":
            channel = request.form.get("channel", [""])[0] if not request.body.startswith(b"{") else request.json["channel"]
            return Reply(200, {"ok": True, "messages": [{"ts": "1.0", "metadata": m.get("metadata")} for m in self.messages(channel)]})
        return None

    def messages(self, channel: str) -> list[dict]:
        out = []
        for r in self.peer.requests:
            if ((r.path.endswith("chat.postMessage") and r.json.get("channel") == channel)
                    or (r.path.startswith("/services/") and channel == self.webhook_channel)):
                out.append(r.json)
        return out


def slack_api(peer):
    return SlackWebApi("xoxb-t", peer.url + "/api/", timeout_s=1, sleep=lambda s: None)


def test_slack_user_timeout_after_accept_is_one_dm(stack, slack_peer):
    workspace = SlackWorkspace(slack_peer)
    slack_peer.script = [Reply(200, {"ok": True, "channel": "D0123", "ts": "1.1"}, delay_s=2)]  # > 1 s timeout
    service = stack.delivery(Senders("https://n.example", slack_api=slack_api(slack_peer)))
    stack.enqueue(release_event(), "slack-user:U0123")
    stack.runner("slack", service).drain()
    assert len(workspace.messages("D0123")) == 1
    posts = [r for r in slack_peer.posts() if r.path.endswith("chat.postMessage")]
    assert [p.json["channel"] for p in posts] == ["D0123"]  # posted into the DM, never to the user id
    item = stack.ledger_table.get_item(Key={"pk": f"{EVENT_ID}#slack-user:U0123"})["Item"]
    assert item["status"] == "sent" and item["info"].startswith("reconciled")


def test_slack_webhook_timeout_with_known_channel_is_reconciled(stack, slack_peer):
    workspace = SlackWorkspace(slack_peer)
    slack_peer.script = [Reply(200, "ok", delay_s=2)]
    hook = SlackWebhookSender(f"{slack_peer.url}/services/{TOKEN}", timeout_s=1, sleep=lambda s: None)
    senders = Senders("https://n.example", slack_api=slack_api(slack_peer), slack_webhook=lambda name: hook,
                      slack_webhook_channel=lambda name: "CHOOK")
    stack.enqueue(release_event(), "slack-webhook:team")
    stack.runner("slack", stack.delivery(senders)).drain()
    assert len(workspace.messages("CHOOK")) == 1
    assert workspace.messages("CHOOK")[0]["metadata"]["event_payload"]["event_id"] == EVENT_ID
    item = stack.ledger_table.get_item(Key={"pk": f"{EVENT_ID}#slack-webhook:team"})["Item"]
    assert item["status"] == "sent" and item["info"].startswith("reconciled")


def test_slack_webhook_timeout_without_a_way_to_check_is_parked_not_reposted(stack, slack_peer):
    workspace = SlackWorkspace(slack_peer)
    slack_peer.script = [Reply(200, "ok", delay_s=2)]
    hook = SlackWebhookSender(f"{slack_peer.url}/services/{TOKEN}", timeout_s=1, sleep=lambda s: None)
    service = stack.delivery(Senders("https://n.example", slack_webhook=lambda name: hook))
    stack.enqueue(release_event(), "slack-webhook:team")
    stack.runner("slack", service).drain()
    assert len(workspace.messages("CHOOK")) == 1  # one post, not two
    (dead,) = stack.queue_bodies(stack.dlq_urls["slack"])
    assert dead["attributes"]["reason"]["StringValue"].startswith("uncertain:")
    (alert,) = stack.alerts
    assert alert.data["destination"] == "slack-webhook:team"
    # an operator who checked the channel and redrives gets exactly one more post
    stack.sqs.send_message(QueueUrl=stack.queue_urls["slack"], MessageBody=json.dumps(dead["body"]))
    stack.runner("slack", service).drain()
    assert len(workspace.messages("CHOOK")) == 2


def test_slack_webhook_refused_connection_is_retried_normally(stack, slack_peer):
    hook = SlackWebhookSender("http://127.0.0.1:9/services/x", timeout_s=1, sleep=lambda s: None)
    service = stack.delivery(Senders("https://n.example", slack_webhook=lambda name: hook))
    stack.enqueue(release_event(), "slack-webhook:team")
    results = stack.runner("slack", service).drain(rounds=1)
    assert len(results[0]["batchItemFailures"]) == 1  # retried by SQS, not parked
    assert stack.ledger_table.get_item(Key={"pk": f"{EVENT_ID}#slack-webhook:team"})["Item"]["status"] == "released"


def test_history_unavailable_is_neither_reposted_nor_dropped(stack, slack_peer):
    """Slack accepted, the answer timed out, then conversations.history fails: the message waits
    for a later check instead of guessing."""
    workspace = SlackWorkspace(slack_peer)
    slack_peer.script = [Reply(200, {"ok": True, "ts": "1.1"}, delay_s=2)]
    service = stack.delivery(Senders("https://n.example", slack_api=slack_api(slack_peer)))
    stack.enqueue(release_event(), "slack:C0123")
    runner = stack.runner("slack", service)
    slack_peer.responder = lambda r: Reply(200, {"ok": False, "error": "missing_scope"}) if r.path.endswith("history") else None
    results = runner.drain(rounds=3)
    assert all(len(r["batchItemFailures"]) == 1 for r in results)
    assert len(workspace.messages("C0123")) == 1
    item = stack.ledger_table.get_item(Key={"pk": f"{EVENT_ID}#slack:C0123"})["Item"]
    assert item["status"] == "uncertain" and int(item["uncertain_since"]) == int(stack.clock())
    slack_peer.responder = workspace.respond  # the scope was granted
    runner.drain()
    assert len(workspace.messages("C0123")) == 1
    assert stack.ledger_table.get_item(Key={"pk": f"{EVENT_ID}#slack:C0123"})["Item"]["status"] == "sent"
