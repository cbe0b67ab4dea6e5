"""`POST /slack/commands` through the Chalice app with real signed form bodies (moto for AWS)."""
from __future__ import annotations

import json
import time


def _texts(blocks):
    out = []
    for block in blocks:
        if "text" in block:
            out.append(block["text"]["text"])
        for element in block.get("elements", []):
            out.append(element.get("text", ""))
    return out


def _subscriptions(slack, channel="C0NEWBOOKS"):
    from boto3.dynamodb.conditions import Key

    return slack.state.query(KeyConditionExpression=Key("pk").eq(f"SUB#slack:{channel}"))["Items"]


# --- rejected requests: 401 and nothing happens -----------------------------------------------------


def _assert_nothing_happened(slack):
    assert _subscriptions(slack) == []
    assert slack.queued() == []


BAD_CASES = ("wrong_secret", "stale_timestamp", "future_timestamp", "missing_signature", "missing_timestamp",
             "missing_both", "tampered_body", "garbage_signature", "text_timestamp", "v1_scheme")


def test_bad_requests_get_401_and_do_nothing(slack):
    body = slack.form("follow ONE PIECE")
    for case in BAD_CASES:  # one moto setup for all cases (each costs ~1 s)
        now = str(int(time.time()))
        kwargs = {
            "wrong_secret": {"secret": "not-the-signing-secret"},
            "stale_timestamp": {"timestamp": str(int(time.time()) - 360)},
            "future_timestamp": {"timestamp": str(int(time.time()) + 360)},
            "missing_signature": {"omit": ("X-Slack-Signature",)},
            "missing_timestamp": {"omit": ("X-Slack-Request-Timestamp",)},
            "missing_both": {"omit": ("X-Slack-Signature", "X-Slack-Request-Timestamp")},
            "tampered_body": {"signature": slack.sign(slack.form("follow NARUTO"), now), "timestamp": now},
            "garbage_signature": {"signature": "v0=deadbeef", "timestamp": now},
            "text_timestamp": {"timestamp": "yesterday", "signature": slack.sign(body, "yesterday")},
            "v1_scheme": {"signature": slack.sign(body, now).replace("v0=", "v1="), "timestamp": now},
        }[case]
        response = slack.post(body, **kwargs)
        assert response.status_code == 401, case
        assert response.json == {"error": "invalid_request"}, case
    _assert_nothing_happened(slack)
    assert slack.command("follow ONE PIECE").status_code == 200  # the same body, signed: accepted
    assert len(_subscriptions(slack)) == 1


def test_replayed_request_gets_401(slack):
    body = slack.form("week")
    ts = str(int(time.time()))
    first = slack.post(body, timestamp=ts)
    assert first.status_code == 200
    assert len(slack.queued()) == 1
    replay = slack.post(body, timestamp=ts)
    assert replay.status_code == 401
    assert slack.queued() == []  # the replay queued nothing


def test_window_edge_and_missing_secret(slack, monkeypatch):
    from chalicelib import bootstrap

    assert slack.post(slack.form("help"), timestamp=str(int(time.time()) - 240)).status_code == 200
    monkeypatch.delenv("SLACK_SIGNING_SECRET")
    bootstrap.reset()
    assert slack.command("help").status_code == 401  # no secret configured: nothing is accepted


# --- quick commands, inline ----------------------------------------------------------------------------


def test_help_is_ephemeral_block_kit(slack):
    response = slack.command("help")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    reply = response.json
    assert reply["response_type"] == "ephemeral"
    kinds = [b["type"] for b in reply["blocks"]]
    assert kinds == ["header", "section", "context"]
    assert reply["blocks"][0]["text"]["type"] == "plain_text"
    usage = reply["blocks"][1]["text"]["text"]
    for sub in ("today", "week", "next", "search", "follow", "unfollow", "following", "status", "help"):
        assert f"{sub}" in usage


def test_unknown_input_gets_help_with_the_word_escaped(slack):
    reply = slack.command("<!channel> ばんざい").json
    assert [b["type"] for b in reply["blocks"]] == ["header", "section", "section", "context"]
    problem = reply["blocks"][1]["text"]["text"]
    assert "&lt;!channel&gt;" in problem and "<!channel>" not in problem
    assert slack.queued() == []


def test_follow_following_unfollow_japanese_with_full_width_spaces(slack):
    reply = slack.command("ｆｏｌｌｏｗ　ハイキュー!!　１０８巻").json
    assert reply["response_type"] == "ephemeral"
    assert [b["type"] for b in reply["blocks"]] == ["section", "context"]
    assert "*ハイキュー!! １０８巻*" in reply["blocks"][0]["text"]["text"]
    assert "`ハイキュー`" in reply["blocks"][1]["elements"][0]["text"]  # the series key, volume dropped
    (item,) = _subscriptions(slack)
    assert item["sk"] == "series#ハイキュー" and item["gsi1pk"] == "MATCH#series#ハイキュー"

    slack.command("フォロー ONE PIECE")
    listing = slack.command("フォロー中").json
    assert [b["type"] for b in listing["blocks"]] == ["header", "section", "actions"]  # + the "Remove a follow…" menu
    assert [o["value"] for o in listing["blocks"][2]["elements"][0]["options"]] == ["series#onepiece", "series#ハイキュー"]
    assert listing["blocks"][0]["text"]["text"] == "Following (2)"
    assert listing["blocks"][1]["text"]["text"].splitlines() == ["• *ONE PIECE*", "• *ハイキュー!! １０８巻*"]

    gone = slack.command("unfollow　ハイキュー!!").json
    assert "no longer follows *ハイキュー!!*" in gone["blocks"][0]["text"]["text"]
    assert [i["sk"] for i in _subscriptions(slack)] == ["series#onepiece"]
    assert slack.queued() == []  # quick commands are never deferred
    # issue 12: ワンピース is an alias of ONE PIECE (crawlers/series_aliases.json): the same follow
    slack.command("follow ワンピース")
    assert [i["sk"] for i in _subscriptions(slack)] == ["series#onepiece"]


def test_follow_is_per_channel_and_punctuation_only_is_a_friendly_error(slack):
    slack.command("follow Saga", channel="C0OTHER")
    assert _subscriptions(slack) == []
    assert len(_subscriptions(slack, "C0OTHER")) == 1
    assert slack.command("following").json["blocks"][1]["text"]["text"].startswith("This channel follows nothing")

    reply = slack.command("follow !!!").json
    assert reply["blocks"][0]["text"]["text"].startswith(":warning:")
    assert _subscriptions(slack) == []


def test_quick_commands_make_at_most_two_dynamodb_calls(slack):
    """The replay put plus one Put/Delete/Query, counted at botocore's request level."""
    from chalicelib import aws

    for text in ("help", "follow Saga", "following", "unfollow Saga"):
        calls = []
        # the replay guard uses the low-level client, subscriptions the resource: count both
        clients = (aws.resource("dynamodb").meta.client, aws.client("dynamodb"))

        def count(model, calls=calls, **kw):  # bound per command: registered and removed in this loop
            calls.append(model.name)

        for ddb in clients:
            ddb.meta.events.register("before-call.dynamodb", count)
        try:
            assert slack.command(text).status_code == 200
        finally:
            for ddb in clients:
                ddb.meta.events.unregister("before-call.dynamodb", count)
        assert 1 <= len(calls) <= 2, (text, calls)
        assert calls[0] == "PutItem"  # the replay guard comes first


# --- deferred commands: queued, answered through response_url -------------------------------------------


DEFERRED = (("", "followed"), ("today", "today"), ("week", "week"), ("来週", "next"),
            ("search ワンピース", "search"), ("status", "status"))


def test_long_commands_are_acked_and_queued_with_the_job_schema(slack):
    for text, name in DEFERRED:
        response = slack.command(text)
        assert response.status_code == 200
        reply = response.json
        assert reply["response_type"] == "ephemeral"
        assert [b["type"] for b in reply["blocks"]] == ["context"]
        assert "Working on it" in reply["blocks"][0]["elements"][0]["text"]
        (job,) = slack.queued()
        assert job["body"] == {"schema_version": 1, "command": name, "response_url": slack.last_response_url,
                               "channel_id": "C0NEWBOOKS", "user_id": "U1", "text": text}
    assert slack.responses.requests == []  # nothing is posted before the worker runs


def test_known_answer_request_from_slack_docs_is_accepted(aws, monkeypatch):
    """Slack's documented example (secret, timestamp, body, signature) through the real handler,
    with the clock set to the example's time; its empty text is the default listing, so it is
    queued with the example's response_url."""
    from chalicelib.settings import get_settings
    from chalicelib.slackbot.service import build
    from devstack.samples import read_sample

    sample = json.loads(read_sample("slack", "slack-docs__signature_known_answer.DERIVED.json"))
    monkeypatch.setenv("SLACK_SIGNING_SECRET", sample["signing_secret"])
    from chalicelib import bootstrap

    bootstrap.reset()
    commands = build(get_settings(), clock=lambda: float(sample["timestamp"]) + 10)
    headers = {"X-Slack-Request-Timestamp": sample["timestamp"], "X-Slack-Signature": sample["signature"]}
    status, reply = commands.handle(headers, sample["body"].encode())
    assert status == 200 and "Working on it" in json.dumps(reply)
    import boto3

    msgs = boto3.client("sqs", region_name="us-east-1").receive_message(QueueUrl=aws["SLACK_JOBS_QUEUE_URL"])["Messages"]
    job = json.loads(msgs[0]["Body"])
    assert job["response_url"].startswith("https://hooks.slack.com/commands/T1DC2JH3J/")
    assert job["channel_id"] == "G8PSS9T3V" and job["command"] == "followed"
    # one byte changed: 401
    assert commands.handle(headers, sample["body"].replace("roadrunner", "roadrunnex").encode())[0] == 401
    bootstrap.reset()
