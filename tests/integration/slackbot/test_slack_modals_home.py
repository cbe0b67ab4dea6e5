"""Modals (follow, add a target), the App Home and the Events API, driven with real signed
payloads through the Chalice app against a local Slack Web API peer that records the calls.
Every view the code sends is validated with slack-sdk's Block Kit models."""
from __future__ import annotations

import time

import pytest

from tests.integration.slackbot.slackbot_testkit import (
    block_actions,
    checkbox_values,
    select_value,
    text_value,
    validate_view,
    view_submission,
)


@pytest.fixture
def web(slack, slack_api):
    return slack_api


def opened_view(web, n: int = -1) -> dict:
    view = web.methods("views.open")[n]["view"]
    validate_view(view)
    return view


def follow_values(match="ONE PIECE", kind="series", digest="off", quiet=None, tz=None, where="channel"):
    return {"kind": select_value(kind), "match": text_value(match), "digest": select_value(digest, "radio_buttons"),
            "quiet_hours": text_value(quiet), "tz": text_value(tz), "where": select_value(where, "radio_buttons")}


def target_values(name="shop-api", url="https://shop.example/health", conditions="[STATUS] == 200", interval=None,
                  alerts=("slack",), follow=True):
    return {"name": text_value(name), "url": text_value(url), "method": select_value("GET"),
            "conditions": text_value(conditions), "interval": text_value(interval), "alerts": checkbox_values(*alerts),
            "follow_alerts": checkbox_values(*(["yes"] if follow else []))}


# --- opening the forms ---------------------------------------------------------------------------


def test_follow_alone_opens_the_follow_modal_within_the_ack(slack, web):
    response = slack.command("follow")
    assert response.status_code == 200 and response.body in (b"", "")
    (call,) = web.methods("views.open")
    assert call["trigger_id"] == "1.2.3"
    view = opened_view(web)
    assert view["callback_id"] == "follow_modal" and view["type"] == "modal"
    assert [b["block_id"] for b in view["blocks"]] == ["kind", "match", "digest", "quiet_hours", "tz", "where"]
    where = [o["value"] for o in view["blocks"][5]["element"]["options"]]
    assert where == ["channel", "dm"]


def test_target_command_opens_the_target_modal(slack, web):
    slack.command("target")
    view = opened_view(web)
    assert view["callback_id"] == "target_modal"
    assert [b["block_id"] for b in view["blocks"]] == ["name", "url", "method", "conditions", "interval", "alerts",
                                                        "follow_alerts"]


def test_home_buttons_open_the_modals(slack, web):
    response = slack.interact(block_actions({"action_id": "open_target_modal", "block_id": "home_actions"},
                                            channel=None, container="view"))
    assert response.status_code == 200
    assert opened_view(web)["callback_id"] == "target_modal"
    assert slack.queued() == []  # opened inline, nothing deferred


# --- follow modal ----------------------------------------------------------------------------------


def test_follow_submission_creates_what_the_api_would(slack, web):
    from chalicelib.bootstrap import subscription_service

    slack.command("follow")
    view = opened_view(web)
    response = slack.interact(view_submission(view, follow_values("集英社", "publisher", "daily", "22:00-07:00",
                                                                  "Asia/Tokyo")))
    assert response.status_code == 200 and response.json == {"response_action": "clear"}
    (sub,) = subscription_service().list("slack:C0NEWBOOKS")
    assert (sub.kind, sub.digest, sub.quiet_hours, sub.tz, sub.label) == ("publisher", "daily", "22:00-07:00",
                                                                          "Asia/Tokyo", "集英社")


def test_follow_to_dm_uses_the_user_destination(slack, web):
    from chalicelib.bootstrap import subscription_service

    slack.command("follow")
    slack.interact(view_submission(opened_view(web), follow_values("ワンピース", "keyword", where="dm"), user="U7"))
    assert [(s.kind, s.key) for s in subscription_service().list("slack-user:U7")] == [("keyword", "ワンピース")]
    assert subscription_service().list("slack:C0NEWBOOKS") == []


@pytest.mark.parametrize("values, block, words", [
    ({"quiet": "25:00-07:00"}, "quiet_hours", "quiet_hours"),
    ({"tz": "Mars/Olympus"}, "tz", "time zone"),
    ({"match": "!!!"}, "match", ""),
    ({"match": "x" * 300}, "match", "match"),
])
def test_follow_errors_show_under_the_field(slack, web, values, block, words):
    from chalicelib.bootstrap import subscription_service

    slack.command("follow")
    response = slack.interact(view_submission(opened_view(web), follow_values(**values)))
    assert response.status_code == 200
    assert response.json["response_action"] == "errors"
    assert list(response.json["errors"]) == [block]
    assert words in response.json["errors"][block]
    assert subscription_service().list("slack:C0NEWBOOKS") == []


# --- target modal ----------------------------------------------------------------------------------


def test_target_submission_adds_the_target_and_its_alerts_here(slack, web):
    from chalicelib.bootstrap import subscription_service, uptime_service

    slack.command("target")
    response = slack.interact(view_submission(opened_view(web), target_values()))
    assert response.json == {"response_action": "clear"}
    added = next(t for t in uptime_service().list_targets() if t["name"] == "shop-api")
    assert added["source"] == "api" and added["conditions"] == ["[STATUS] == 200"]
    assert [(s.kind, s.key) for s in subscription_service().list("slack:C0NEWBOOKS")] == [("target", "shop-api")]
    time.sleep(1.1)  # the identical signed request would be a replay (401); Slack re-signs a resubmission
    again = slack.interact(view_submission(opened_view(web), target_values()))
    assert again.json["response_action"] == "errors" and "already" in again.json["errors"]["name"]
    assert sum(t["name"] == "shop-api" for t in uptime_service().list_targets()) == 1


@pytest.mark.parametrize("values, block", [
    ({"url": "ftp://shop.example/"}, "url"),
    ({"url": "http://169.254.169.254/latest"}, "url"),
    ({"conditions": "[NOPE] == 1"}, "conditions"),
    ({"name": "bad name!"}, "name"),
    ({"interval": "soon"}, "interval"),
])
def test_target_errors_show_under_the_field(slack, web, values, block, monkeypatch):
    from chalicelib.bootstrap import uptime_service

    slack.command("target")
    response = slack.interact(view_submission(opened_view(web), target_values(**values)))
    assert response.json["response_action"] == "errors", response.json
    assert list(response.json["errors"]) == [block]
    assert [t for t in uptime_service().list_targets() if t.get("source") == "api"] == []


def test_target_admins_gate_adding(slack, web, monkeypatch):
    from chalicelib import bootstrap

    monkeypatch.setenv("NEWBOOKS_SLACK_TARGET_ADMINS", "UADMIN")
    bootstrap.reset()
    slack.command("target")
    refused = slack.interact(view_submission(opened_view(web), target_values(), user="U1"))
    assert refused.json["response_action"] == "errors" and "admins" in refused.json["errors"]["name"]
    allowed = slack.interact(view_submission(opened_view(web), target_values(), user="UADMIN"))
    assert allowed.json == {"response_action": "clear"}


# --- Events API and the App Home -------------------------------------------------------------------


def test_url_verification_echoes_the_challenge(slack):
    response = slack.event({"token": "unused", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                            "type": "url_verification"})
    assert response.status_code == 200
    assert response.json == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def home_opened(event_id="Ev0HOME1", user="U1"):
    """An event_callback wrapping app_home_opened (https://docs.slack.dev/reference/events/app_home_opened,
    read 2026-12-03; hand-written, no sample)."""
    return {"token": "unused", "team_id": "T1", "api_app_id": "A1", "type": "event_callback", "event_id": event_id,
            "event_time": int(time.time()),
            "event": {"type": "app_home_opened", "user": user, "channel": "D0U1", "tab": "home",
                      "event_ts": f"{time.time():.6f}"}}


def test_app_home_opened_publishes_follows_releases_status(slack, web):
    from chalicelib.bootstrap import subscription_service

    subscription_service().follow("slack-user:U1", "series", "ONE PIECE", digest="weekly")
    soon = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 7 * 86400))
    slack.seed_release("isbn:9784088830000", soon, "ONE PIECE 110", "ONE PIECE", url="https://example.com/b/110")
    response = slack.event(home_opened())
    assert response.status_code == 200 and web.methods("views.publish") == []  # deferred
    slack.run_worker()
    (call,) = web.methods("views.publish")
    assert call["user_id"] == "U1"
    view = call["view"]
    validate_view(view)
    text = str(view)
    assert "*ONE PIECE* · series · weekly digest" in text
    assert "ONE PIECE 110" in text and soon in text
    assert "/pages/status" in text


def test_event_retries_are_deduplicated_by_event_id(slack, web):
    slack.event(home_opened("Ev0RETRY"))
    time.sleep(1.1)
    retry = slack.event(home_opened("Ev0RETRY"), headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert retry.status_code == 200
    assert [j["body"]["event_id"] for j in slack.queued()] == ["Ev0RETRY"]
    slack.event(home_opened("Ev0OTHER"))
    assert [j["body"]["event_id"] for j in slack.queued()] == ["Ev0OTHER"]


def test_remove_buttons_on_home_unfollow_and_republish(slack, web):
    from chalicelib.bootstrap import subscription_service

    subscription_service().follow("slack-user:U1", "keyword", "鬼滅")
    slack.event(home_opened("Ev0A"))
    slack.run_worker()
    view = web.methods("views.publish")[-1]["view"]
    remove = next(b["accessory"] for b in view["blocks"] if (b.get("accessory") or {}).get("action_id") == "remove_follow")
    slack.interact(block_actions({"action_id": "remove_follow", "block_id": "x", "value": remove["value"]},
                                 channel=None, container="view"))
    slack.run_worker()
    assert subscription_service().list("slack-user:U1") == []
    assert len(web.methods("views.publish")) == 2
    validate_view(web.methods("views.publish")[-1]["view"])


def test_home_cannot_remove_someone_elses_follow(slack, web):
    import json

    from chalicelib.bootstrap import subscription_service

    subscription_service().follow("slack:CSECRET", "series", "ONE PIECE")
    forged = json.dumps({"d": "slack:CSECRET", "k": "series", "m": "ONE PIECE"})
    slack.interact(block_actions({"action_id": "remove_follow", "block_id": "x", "value": forged},
                                 channel=None, container="view"))
    result = slack.run_worker()
    assert len(result["batchItemFailures"]) == 1  # refused (retried, then the DLQ shows it)
    assert len(subscription_service().list("slack:CSECRET")) == 1


def test_home_lists_and_removes_runtime_targets(slack, web):
    from chalicelib.bootstrap import uptime_service

    uptime_service().add_target({"name": "shop-api", "url": "https://shop.example/health?key=SECRETKEY123",
                                 "conditions": ["[STATUS] == 200"]})
    slack.event(home_opened("Ev0T"))
    slack.run_worker()
    view = web.methods("views.publish")[-1]["view"]
    assert "SECRETKEY123" not in str(view) and "shop.example" in str(view)
    button = next(b["accessory"] for b in view["blocks"] if (b.get("accessory") or {}).get("action_id") == "remove_target")
    slack.interact(block_actions({"action_id": "remove_target", "block_id": "x", "value": button["value"]},
                                 channel=None, container="view"))
    slack.run_worker()
    assert [t for t in uptime_service().list_targets() if t["name"] == "shop-api"] == []


def test_any_channel_follow_can_be_removed_from_the_following_list(slack, web):
    """Keyword / publisher follows made with the form are listed by `/newbooks following`, whose
    menu removes them (what DELETE /subscriptions/... does, without the key)."""
    from chalicelib.bootstrap import subscription_service
    from tests.integration.slackbot.slackbot_testkit import validate_blocks

    slack.command("follow")
    slack.interact(view_submission(opened_view(web), follow_values("鬼滅の刃", "keyword")))
    subscription_service().follow("slack:C0NEWBOOKS", "publisher", "集英社")
    listing = slack.command("following").json
    validate_blocks(listing["blocks"])
    menu = listing["blocks"][-1]["elements"][0]
    assert menu["type"] == "static_select"
    option = next(o for o in menu["options"] if o["value"].startswith("keyword#"))
    payload = block_actions({"action_id": menu["action_id"], "block_id": "following_actions",
                             "selected_option": option}, response_url=slack.responses.url("/actions/rm"))
    payload["actions"][0]["type"] = "static_select"
    assert slack.interact(payload).status_code == 200
    slack.run_worker()
    assert [s.kind for s in subscription_service().list("slack:C0NEWBOOKS")] == ["publisher"]
    assert slack.responses.messages()[-1]["text"].startswith("Removed the keyword follow")
