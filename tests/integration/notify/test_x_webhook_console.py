"""X, outgoing webhook and console senders against real local servers."""
from __future__ import annotations

import io
import re
import time
from urllib.parse import unquote

import pytest

from chalicelib.events import Event
from chalicelib.notify.console import ConsoleSender
from chalicelib.notify.delivery import Senders
from chalicelib.notify.errors import PermanentError, TransientError
from chalicelib.notify.render import weighted_length
from chalicelib.notify.webhook import WebhookSender, verify
from chalicelib.notify.x import XClient, hmac_sha1_signature, signature_base_string
from tests.integration.notify.notify_testkit import Reply, release_event

CREDS = {"consumer_key": "ck", "consumer_secret": "cs", "token": "tok", "token_secret": "ts"}


def x_client(peer, clock=time.time):
    return XClient(peer.url, timeout_s=2, clock=clock, sleep=lambda s: None, **CREDS)


def parse_oauth(header: str) -> dict[str, str]:
    assert header.startswith("OAuth ")
    return {k: unquote(v) for k, v in re.findall(r'([a-z_]+)="([^"]*)"', header)}


def test_tweet_is_signed_oauth1_user_context(peer):
    peer.default = Reply(201, {"data": {"id": "1445880548472328192", "text": "hi"}})
    assert x_client(peer).post("hello") == "1445880548472328192"
    (request,) = peer.posts()
    assert request.path == "/2/tweets" and request.json == {"text": "hello"}
    oauth = parse_oauth(request.headers["authorization"])
    assert oauth["oauth_consumer_key"] == "ck" and oauth["oauth_token"] == "tok"
    assert oauth["oauth_signature_method"] == "HMAC-SHA1" and oauth["oauth_version"] == "1.0"
    # the server side recomputes the signature: a JSON body is not part of it
    params = [(k, v) for k, v in oauth.items() if k != "oauth_signature"]
    base = signature_base_string("POST", peer.url + "/2/tweets", params)
    assert oauth["oauth_signature"] == hmac_sha1_signature(base, "cs", "ts")


def test_tweet_429_then_success_is_one_post(peer):
    now = time.time()
    peer.reply(Reply(429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": str(int(now) + 2)}))
    peer.default = Reply(201, {"data": {"id": "7"}})
    assert x_client(peer, clock=lambda: now).post("hi") == "7"
    assert len(peer.posts()) == 2


def test_tweet_long_rate_limit_is_handed_back(peer):
    peer.default = Reply(429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": "2000000000"})
    with pytest.raises(TransientError) as caught:
        x_client(peer, clock=lambda: 1_999_999_000).post("hi")
    assert caught.value.retry_after_s == 1000


def test_duplicate_content_counts_as_sent(peer):
    peer.default = Reply(403, {"detail": "You are not allowed to create a Tweet with duplicate content.", "status": 403})
    assert x_client(peer).post("hi") == "duplicate"


@pytest.mark.parametrize("status", [401, 403, 400])
def test_other_client_errors_are_permanent(peer, status):
    peer.default = Reply(status, {"title": "Unauthorized", "detail": "nope"})
    with pytest.raises(PermanentError):
        x_client(peer).post("hi")


def test_tweet_server_error_and_timeout_are_transient(peer):
    peer.reply(Reply(503, "busy"))
    with pytest.raises(TransientError):
        x_client(peer).post("hi")
    peer.reply(Reply(201, {"data": {"id": "1"}}, delay_s=2.5))
    with pytest.raises(TransientError):
        XClient(peer.url, timeout_s=1, **CREDS).post("hi")


def test_x_destination_sends_fitted_text(peer):
    peer.default = Reply(201, {"data": {"id": "1"}})
    title = "名探偵コナン" * 40
    senders = Senders("https://n.example", x=x_client(peer))
    senders.send("x:default", release_event(title=title, series="名探偵コナン"))
    text = peer.posts()[0].json["text"]
    assert weighted_length(text) <= 280 and "https://example.com/books/9784088820000" in text


def test_webhook_is_signed_over_timestamp_dot_body(peer):
    peer.default = Reply(204, "")
    sender = WebhookSender(peer.url + "/hook", "s3cret", timeout_s=2, clock=lambda: 1_763_850_000)
    senders = Senders("https://n.example", webhook=lambda name: sender if name == "ops" else None)
    senders.send("webhook:ops", release_event())
    (request,) = peer.posts()
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-newbooks-timestamp"] == "1763850000"
    assert request.headers["x-newbooks-delivery"] == "release.new:isbn:9784088820000#webhook:ops"
    signature = request.headers["x-newbooks-signature"]
    assert re.fullmatch(r"v1=[0-9a-f]{64}", signature)
    assert verify("s3cret", "1763850000", request.body, signature, now=1_763_850_010)
    assert not verify("other", "1763850000", request.body, signature, now=1_763_850_010)
    assert not verify("s3cret", "1763850000", request.body, signature, now=1_763_860_000)  # replay
    assert request.json["event"]["id"] == "release.new:isbn:9784088820000"


def test_webhook_errors(peer):
    sender = WebhookSender(peer.url + "/hook", "k", timeout_s=1, sleep=lambda s: None)
    peer.reply(Reply(429, "", {"Retry-After": "1"}), Reply(200, "ok"))
    assert sender.post({"delivery_id": "a"}) == "200"
    peer.reply(Reply(500, "boom"))
    with pytest.raises(TransientError):
        sender.post({"delivery_id": "b"})
    peer.reply(Reply(410, "gone"))
    with pytest.raises(PermanentError, match="410"):
        sender.post({"delivery_id": "c"})
    peer.reply(Reply(200, "slow", delay_s=2))
    with pytest.raises(TransientError):
        sender.post({"delivery_id": "d"})


def test_console_prints_one_line_and_is_the_fallback():
    out = io.StringIO()
    senders = Senders("https://n.example", console=ConsoleSender(out))
    senders.send("console:", release_event())
    senders.send("slack:C0123", Event(id="target.down:api:t", type="target.down", occurred_at="2026-11-22T10:05:00Z",
                                      subject="api", data={"since": "2026-11-22T10:00:00Z", "condition": "[STATUS] == 200"}))
    lines = out.getvalue().splitlines()
    assert lines[0] == ("[newbooks] release.new -> console: | ONE PIECE 108 (集英社, 2026-11-04) "
                        "https://example.com/books/9784088820000")
    assert lines[1] == "[newbooks] target.down -> slack:C0123 | api is down (5m; [STATUS] == 200)"
