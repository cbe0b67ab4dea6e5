"""Buttons on release and alert posts, driven with real signed interaction payloads through the
Chalice app (chalice.test.Client), the slack-jobs queue drained into the `slack_worker` handler,
moto for AWS, and local HTTP peers for Slack's response_url and Web API."""
from __future__ import annotations

import json
import time

import pytest

from chalicelib.events import Event
from tests.integration.slackbot.slackbot_testkit import block_actions, validate_blocks

RELEASE = Event(id="release.new:isbn:9784088820000", type="release.new", occurred_at="2026-11-22T10:00:00Z",
                subject="isbn:9784088820000",
                data={"id": "isbn:9784088820000", "title": "ONE PIECE 108", "series": "ONE PIECE", "volume": "108",
                      "publisher": "集英社", "release_date": "2026-11-04", "url": "https://example.com/b/1",
                      "source": "openbd"})
DOWN = Event(id="target.down:api:2026-11-22T10:05", type="target.down", occurred_at="2026-11-22T10:05:00Z",
             subject="api", data={"target": "api", "state": "down", "condition": "[STATUS] == 200"})


def posted(event: Event, ts: str = "1763850000.000200") -> dict:
    """The message as Slack stores it after deliver_slack posted our rendering."""
    from chalicelib.notify.render import slack_message

    message = slack_message(event, "https://n.example")
    validate_blocks(message["blocks"])
    return {"type": "message", "ts": ts, "text": message["text"], "blocks": message["blocks"], "bot_id": "B1"}


def button(message: dict, action_id: str) -> dict:
    for block in message["blocks"]:
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                return {"action_id": action_id, "block_id": block["block_id"], "value": element.get("value"),
                        "text": element["text"]}
    raise AssertionError(f"no {action_id} button")


def click(slack, message, action_id, *, user="U1", action_ts="1763850000.000100", channel="C0NEWBOOKS"):
    payload = block_actions(button(message, action_id), user=user, message=message, channel=channel,
                            response_url=slack.responses.url(f"/actions/T1/{action_ts}/{user}"), action_ts=action_ts)
    return payload, slack.interact(payload)


def subs(slack, destination):
    from chalicelib.bootstrap import subscription_service

    return [(s.kind, s.key) for s in subscription_service().list(destination)]


def test_release_post_has_follow_unfollow_mute_buttons():
    message = posted(RELEASE)
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == ["open_release", "follow_series", "unfollow_series", "mute_series"]
    assert button(message, "follow_series")["value"] == "ONE PIECE"


def test_alert_post_has_acknowledge_mute_and_status_page():
    message = posted(DOWN)
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == ["ack_alert", "mute_alert", "open_status"]
    assert actions["elements"][2]["url"] == "https://n.example/pages/status#target-api"
    recovered = posted(Event(id="target.recovered:api:x", type="target.recovered", occurred_at="2026-11-22T11:00:00Z",
                             subject="api", data={"target": "api"}))
    assert [e["action_id"] for b in recovered["blocks"] if b["type"] == "actions" for e in b["elements"]] == ["open_status"]


def test_follow_button_is_acked_at_once_and_done_by_the_worker(slack):
    message = posted(RELEASE)
    _payload, response = click(slack, message, "follow_series")
    assert response.status_code == 200 and response.body in (b"", "")
    assert subs(slack, "slack:C0NEWBOOKS") == []  # deferred: nothing written on the ack path
    assert slack.responses.messages() == []
    slack.run_worker()
    assert subs(slack, "slack:C0NEWBOOKS") == [("series", "onepiece")]
    (reply,) = slack.responses.messages()
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert "Following *ONE PIECE* in this channel" in reply["text"]
    validate_blocks(reply["blocks"])


def test_repeated_action_payload_changes_nothing_twice(slack):
    message = posted(RELEASE)
    payload, _ = click(slack, message, "follow_series")
    slack.run_worker()
    time.sleep(1.1)  # a new request timestamp, so a new signature: the replay guard lets it in
    assert slack.interact(payload).status_code == 200
    jobs = slack.queued()
    assert len(jobs) == 1  # queued again ...
    slack.run_worker(jobs)
    assert len(slack.responses.messages()) == 1  # ... but the ledger knew the payload: no second reply
    assert subs(slack, "slack:C0NEWBOOKS") == [("series", "onepiece")]


def test_identical_signed_request_is_a_replay(slack):
    from tests.integration.slackbot.slackbot_testkit import interaction_body

    payload = block_actions(button(posted(RELEASE), "follow_series"), message=posted(RELEASE),
                            response_url=slack.responses.url("/actions/1"))
    body = interaction_body(payload)
    ts = str(int(time.time()))
    first = slack.signed("/slack/interactions", body, "application/x-www-form-urlencoded", timestamp=ts)
    again = slack.signed("/slack/interactions", body, "application/x-www-form-urlencoded", timestamp=ts)
    assert (first.status_code, again.status_code) == (200, 401)
    assert len(slack.queued()) == 1


@pytest.mark.parametrize("tamper", ["secret", "stale", "body"])
def test_unsigned_or_stale_or_altered_requests_do_nothing(slack, tamper):
    from tests.integration.slackbot.slackbot_testkit import interaction_body, sign

    payload = block_actions(button(posted(RELEASE), "follow_series"), message=posted(RELEASE),
                            response_url=slack.responses.url("/actions/1"))
    body = interaction_body(payload)
    ts = str(int(time.time()) - (400 if tamper == "stale" else 0))
    signature = sign(body, ts, "wrong-secret" if tamper == "secret" else "8f7422-test-signing-secret-not-real")
    sent = body + b"x" if tamper == "body" else body
    response = slack.client.http.post("/slack/interactions", body=sent, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature})
    assert response.status_code == 401
    assert slack.queued() == []


def test_unfollow_then_mute_series_silences_the_next_release(slack, monkeypatch):
    from chalicelib.bootstrap import subscription_service
    from chalicelib.notify.mutes import Mutes

    subscription_service().follow("slack:C0NEWBOOKS", "series", "ONE PIECE")
    message = posted(RELEASE)
    click(slack, message, "unfollow_series", action_ts="1.1")
    click(slack, message, "mute_series", action_ts="1.2")
    slack.run_worker()
    assert subs(slack, "slack:C0NEWBOOKS") == []
    texts = [m["text"] for m in slack.responses.messages()]
    assert any(t.startswith("Stopped following *ONE PIECE*") for t in texts)
    assert any(t.startswith(":mute: Muted *ONE PIECE* here until") for t in texts)
    from chalicelib.notify.subscriptions import resolve_series_key

    mutes = Mutes(slack.state, series_key=resolve_series_key())
    assert mutes.silenced("slack:C0NEWBOOKS", RELEASE)
    assert not mutes.silenced("slack:COTHER", RELEASE)
    # a second click on Mute by someone else changes nothing and says who muted it
    click(slack, message, "mute_series", user="U2", action_ts="1.3")
    slack.run_worker()
    assert slack.responses.messages()[-1]["text"].startswith("<@U1> already muted *ONE PIECE*")


def test_acknowledge_replaces_the_button_once(slack):
    message = posted(DOWN)
    click(slack, message, "ack_alert", action_ts="2.1")
    slack.run_worker()
    (replaced,) = slack.responses.messages()
    assert replaced["replace_original"] is True
    validate_blocks(replaced["blocks"])
    context = next(b for b in replaced["blocks"] if b["type"] == "context" and "Acknowledged" in json.dumps(b))
    assert "Acknowledged by <@U1>" in context["elements"][0]["text"]
    remaining = [e["action_id"] for b in replaced["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert remaining == ["mute_alert", "open_status"]
    click(slack, message, "ack_alert", user="U2", action_ts="2.2")  # from a stale copy of the message
    slack.run_worker()
    second = slack.responses.messages()[-1]
    assert second["text"] == "<@U1> already acknowledged this alert." and second["replace_original"] is False
    ack = slack.state.get_item(Key={"pk": "ACK#api", "sk": DOWN.id})["Item"]
    assert ack["by"] == "U1"


def test_mute_alert_for_an_hour_silences_that_target_here(slack):
    from chalicelib.notify.mutes import Mutes

    click(slack, posted(DOWN), "mute_alert", action_ts="3.1")
    slack.run_worker()
    item = slack.state.get_item(Key={"pk": "MUTE#slack:C0NEWBOOKS", "sk": "target#api"})["Item"]
    assert 3590 <= int(item["until"]) - time.time() <= 3600
    reminder = Event(id="target.reminder:api:x", type="target.reminder", occurred_at="2026-11-22T10:35:00Z",
                     subject="api", data={"target": "api"})
    assert Mutes(slack.state).silenced("slack:C0NEWBOOKS", reminder)
    assert not Mutes(slack.state, clock=lambda: time.time() + 3700).silenced("slack:C0NEWBOOKS", reminder)


def test_button_in_a_dm_follows_for_the_user(slack):
    click(slack, posted(RELEASE), "follow_series", channel="D0U1")
    slack.run_worker()
    assert subs(slack, "slack-user:U1") == [("series", "onepiece")]
    assert subs(slack, "slack:D0U1") == []


def test_muted_destination_is_not_posted_and_not_replayed(slack, monkeypatch):
    """End to end through the deliverer: a muted series is recorded as done, not posted."""
    from chalicelib.notify.delivery import DeliveryService, Senders
    from chalicelib.notify.ledger import Ledger
    from chalicelib.notify.mutes import Mutes
    from chalicelib.notify.slack import SlackWebApi
    from chalicelib.notify.subscriptions import resolve_series_key
    from tests.integration.slackbot.slackbot_testkit import SlackApiPeer

    web = SlackApiPeer()
    try:
        Mutes(slack.state).mute("slack:C0NEWBOOKS", "series", "onepiece", 600, "U1")
        import boto3

        ledger_table = boto3.resource("dynamodb", region_name="us-east-1").Table(slack.env["LEDGER_TABLE"])
        service = DeliveryService(Ledger(ledger_table), Senders("https://n.example", slack_api=SlackWebApi("xoxb-t", web.url)),
                                  sqs=slack.sqs, queue_urls={}, dlq_urls={},
                                  mutes=Mutes(slack.state, series_key=resolve_series_key()))
        body = {"v": 1, "event": RELEASE.to_dict(), "destination": "slack:C0NEWBOOKS"}
        service.deliver("slack", body, {})
        service.deliver("slack", {**body, "destination": "slack:COTHER"}, {})
        assert [c["channel"] for c in web.methods("chat.postMessage")] == ["COTHER"]
        item = ledger_table.get_item(Key={"pk": f"{RELEASE.id}#slack:C0NEWBOOKS"})["Item"]
        assert item["status"] == "sent" and item["info"] == "muted"
    finally:
        web.server.shutdown()
        web.server.server_close()
