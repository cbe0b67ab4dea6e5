"""Slack delivery against a real local HTTP server (Web API and incoming webhooks)."""
from __future__ import annotations

import json

import pytest
import yaml

from chalicelib.notify.delivery import Senders
from chalicelib.notify.errors import PermanentError, TransientError
from chalicelib.notify.slack import SlackWebApi, SlackWebhookSender
from devstack.samples import read_sample
from tests.integration.notify.notify_testkit import Reply, release_event


def api(peer, **kw):
    kw.setdefault("sleep", lambda s: None)
    return SlackWebApi("xoxb-test-token", peer.url + "/api/", timeout_s=2, **kw)


def test_post_message_sends_blocks_with_bot_token(slack_peer):
    ts = api(slack_peer).post("C0123", {"text": "hi", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}]})
    assert ts == "1503435956.000247"
    (request,) = slack_peer.posts()
    assert request.path == "/api/chat.postMessage"
    assert request.headers["authorization"] == "Bearer xoxb-test-token"
    body = request.json
    assert body["channel"] == "C0123" and body["blocks"][0]["type"] == "section"
    assert "link_names" not in body


def test_429_retry_after_then_success_is_one_post(slack_peer):
    waits = []
    slack_peer.reply(Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}))
    assert api(slack_peer, sleep=waits.append).post("C0123", {"text": "hi"})
    assert waits == [1.0]
    assert len(slack_peer.posts()) == 2  # the rejected attempt and the one post


def test_long_retry_after_from_recorded_cassette_is_handed_back(slack_peer):
    cassette = yaml.safe_load(read_sample("slack", "slack-ruby-client__429_error__dd0e69e.yml"))
    recorded = cassette["http_interactions"][0]["response"]
    retry_after = str(recorded["headers"]["Retry-After"][0])
    slack_peer.reply(Reply(recorded["status"]["code"], recorded["body"]["string"], {"Retry-After": retry_after}))
    with pytest.raises(TransientError) as caught:
        api(slack_peer).post("C0123", {"text": "hi"})
    assert caught.value.retry_after_s == 3600
    assert len(slack_peer.posts()) == 1


def test_not_authed_from_cassette_is_permanent(slack_peer):
    cassette = yaml.safe_load(read_sample("slack", "slack-ruby-client__auth_test_error.yml"))
    body = cassette["http_interactions"][0]["response"]["body"]["string"]
    slack_peer.reply(Reply(200, json.loads(body)))
    with pytest.raises(PermanentError, match="not_authed"):
        api(slack_peer).post("C0123", {"text": "hi"})


def test_spec_error_example_is_permanent(slack_peer):
    spec = json.loads(read_sample("slack", "slack-api-specs__chat.postMessage_path.DERIVED.json"))
    error = spec["/chat.postMessage"]["post"]["responses"]["default"]["examples"]["application/json"]
    slack_peer.reply(Reply(200, error))
    with pytest.raises(PermanentError, match="too_many_attachments"):
        api(slack_peer).post("C0123", {"text": "hi"})


@pytest.mark.parametrize(
    "reply",
    [
        Reply(500, "<html><body>Server Error</body></html>"),
        Reply(200, {"ok": False, "error": "internal_error"}),
        Reply(503, ""),
    ],
)
def test_server_errors_are_transient(slack_peer, reply):
    slack_peer.reply(reply)
    with pytest.raises(TransientError):
        api(slack_peer).post("C0123", {"text": "hi"})


def test_timeout_is_transient(slack_peer):
    slack_peer.reply(Reply(200, {"ok": True, "ts": "1"}, delay_s=2.5))
    client = SlackWebApi("xoxb-t", slack_peer.url + "/api/", timeout_s=1)
    with pytest.raises(TransientError):
        client.post("C0123", {"text": "hi"})


def test_incoming_webhook_posts_and_classifies(peer):
    peer.default = Reply(200, "ok")
    sender = SlackWebhookSender(peer.url + "/services/T/B/X", timeout_s=2, sleep=lambda s: None)
    assert sender.post({"text": "hi", "blocks": []}) == "ok"
    assert peer.posts()[0].path == "/services/T/B/X" and peer.posts()[0].json["text"] == "hi"
    peer.reply(Reply(429, "rate limited", {"Retry-After": "2"}))
    assert sender.post({"text": "again"}) == "ok"
    peer.reply(Reply(404, "no_service"))
    with pytest.raises(PermanentError, match="404"):
        sender.post({"text": "gone"})
    peer.reply(Reply(500, "oops"))
    with pytest.raises(TransientError):
        sender.post({"text": "later"})


def test_crawled_title_arrives_as_literal_text(stack, slack_peer):
    """`<!channel>`, a forged link and `&` in a crawled title cannot ping or link."""
    senders = Senders("https://newbooks.example", slack_api=api(slack_peer))
    service = stack.delivery(senders)
    evil = "<!channel> <http://evil|click> & <@U999> @channel"
    stack.enqueue(release_event("isbn:9784000000001", title=evil, series=evil, publisher="A&B <b>"), "slack:C0123")
    stack.runner("slack", service).drain()
    (request,) = slack_peer.posts()
    raw = request.body.decode()
    body = request.json
    payload = json.dumps([body["text"], body["blocks"]], ensure_ascii=False)
    for forbidden in ("<!channel>", "<http://evil|click>", "<@U999>", "<b>"):
        assert forbidden not in payload and forbidden not in raw
    assert "&lt;!channel&gt; &lt;http://evil|click&gt; &amp; &lt;@U999&gt; @channel" in payload
    assert "A&amp;B &lt;b&gt;" in payload
    # the only link markup is the one we built, to the release URL
    section = body["blocks"][1]["text"]["text"]
    assert section.startswith("*<https://example.com/books/9784088820000|")


def test_permanent_error_goes_to_dlq_with_reason_and_alerts(stack, slack_peer):
    slack_peer.default = Reply(200, {"ok": False, "error": "channel_not_found"})
    service = stack.delivery(Senders("https://n.example", slack_api=api(slack_peer)))
    stack.enqueue(release_event(), "slack:CBAD")
    results = stack.runner("slack", service).drain()
    assert results[0]["batchItemFailures"] == []  # acknowledged: it is in the DLQ now
    (dead,) = stack.queue_bodies(stack.dlq_urls["slack"])
    assert dead["attributes"]["reason"]["StringValue"] == "slack: channel_not_found"
    assert dead["attributes"]["destination"]["StringValue"] == "slack:CBAD"
    assert dead["body"]["event"]["id"] == "release.new:isbn:9784088820000"
    (alert,) = stack.alerts
    assert alert.type == "notify.failed" and alert.data["reason"] == "slack: channel_not_found"
    assert stack.ledger_table.get_item(Key={"pk": "release.new:isbn:9784088820000#slack:CBAD"})["Item"]["status"] == "failed"


def test_429_through_the_deliverer_is_one_post(stack, slack_peer):
    slack_peer.reply(Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "0"}))
    service = stack.delivery(Senders("https://n.example", slack_api=api(slack_peer)))
    stack.enqueue(release_event(), "slack:C0123")
    stack.runner("slack", service).drain()
    successes = list(slack_peer.posts())
    assert len(successes) == 2  # 429, then the post
    stack.enqueue(release_event(), "slack:C0123")  # a redelivery of the same notification
    stack.runner("slack", service).drain()
    assert len(slack_peer.posts()) == 2


def test_long_429_hides_the_message_for_retry_after(stack, slack_peer):
    slack_peer.default = Reply(429, "", {"Retry-After": "3600"})
    service = stack.delivery(Senders("https://n.example", slack_api=api(slack_peer)))
    stack.enqueue(release_event(), "slack:C0123")
    runner = stack.runner("slack", service)
    results = runner.drain(reset_failed=False)
    assert len(results[0]["batchItemFailures"]) == 1
    assert runner.receive() == []  # invisible for an hour, not lost
    item = stack.ledger_table.get_item(Key={"pk": "release.new:isbn:9784088820000#slack:C0123"})["Item"]
    assert item["status"] == "released"
