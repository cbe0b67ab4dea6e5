"""Signature and window checks (pure), against Slack's documented known answer."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from chalicelib.slackbot.verify import ReplayGuard, Rejected, Verifier, check_signature


@pytest.fixture
def known():
    from devstack.samples import read_sample

    return json.loads(read_sample("slack", "slack-docs__signature_known_answer.DERIVED.json"))


def _headers(ts, sig):
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


def test_known_answer_signature_is_accepted(known):
    ts = int(known["timestamp"])
    got = check_signature(known["signing_secret"], _headers(known["timestamp"], known["signature"]),
                          known["body"].encode(), now=ts + 1)
    assert got == (ts, known["signature"])
    # our own HMAC over v0:<ts>:<body> reproduces the documented value
    mine = "v0=" + hmac.new(known["signing_secret"].encode(), f"v0:{ts}:{known['body']}".encode(),
                            hashlib.sha256).hexdigest()
    assert mine == known["signature"]


def test_headers_are_case_insensitive(known):
    headers = {"x-slack-request-timestamp": known["timestamp"], "X-SLACK-SIGNATURE": known["signature"]}
    check_signature(known["signing_secret"], headers, known["body"].encode(), now=int(known["timestamp"]))


@pytest.mark.parametrize(
    "mutate,reason",
    [
        (lambda k: {**k, "signing_secret": k["signing_secret"][:-1] + "6"}, "signature mismatch"),
        (lambda k: {**k, "body": k["body"] + "&x=1"}, "signature mismatch"),
        (lambda k: {**k, "signature": k["signature"].upper()}, "signature mismatch"),
        (lambda k: {**k, "signature": ""}, "missing signature headers"),
        (lambda k: {**k, "timestamp": ""}, "missing signature headers"),
        (lambda k: {**k, "timestamp": "1531420618.5"}, "timestamp is not an integer"),
        (lambda k: {**k, "signing_secret": ""}, "no signing secret configured"),
    ],
)
def test_tampering_is_rejected(known, mutate, reason):
    k = mutate(known)
    with pytest.raises(Rejected) as caught:
        check_signature(k["signing_secret"], _headers(k["timestamp"], k["signature"]), k["body"].encode(),
                        now=int(known["timestamp"]))
    assert caught.value.reason == reason


@pytest.mark.parametrize("offset,ok", [(0, True), (300, True), (-300, True), (301, False), (-301, False),
                                       (86400, False)])
def test_five_minute_window_both_ways(known, offset, ok):
    args = (known["signing_secret"], _headers(known["timestamp"], known["signature"]), known["body"].encode())
    now = int(known["timestamp"]) + offset
    if ok:
        check_signature(*args, now=now)
    else:
        with pytest.raises(Rejected, match="window"):
            check_signature(*args, now=now)


def test_replay_inside_the_window_is_rejected_and_the_item_expires_after_it(known, aws):
    """Against moto's DynamoDB (the STATE table as provisioned), through the low-level client."""
    import boto3

    client = boto3.client("dynamodb", region_name="us-east-1")
    now = [int(known["timestamp"])]
    guard = ReplayGuard((client, aws["STATE_TABLE"]), clock=lambda: now[0])
    verifier = Verifier(lambda: known["signing_secret"], guard, clock=lambda: now[0])
    headers = _headers(known["timestamp"], known["signature"])
    verifier.verify(headers, known["body"].encode())
    (item,) = client.scan(TableName=aws["STATE_TABLE"])["Items"]
    assert (item["pk"]["S"], item["sk"]["S"]) == (f"SLACKREQ#{known['signature']}", known["timestamp"])
    assert int(item["expires_at"]["N"]) == int(known["timestamp"]) + 360
    with pytest.raises(Rejected, match="replayed"):
        verifier.verify(headers, known["body"].encode())
    now[0] += 301  # past the window: the signature check refuses it before the replay store is asked
    with pytest.raises(Rejected, match="window"):
        verifier.verify(headers, known["body"].encode())


def test_replay_store_errors_other_than_the_condition_propagate(known):
    class Broken:
        def put_item(self, **kw):
            raise ConnectionError("dynamodb unreachable")

    verifier = Verifier(lambda: known["signing_secret"], ReplayGuard(Broken()), clock=lambda: int(known["timestamp"]))
    with pytest.raises(ConnectionError):
        verifier.verify(_headers(known["timestamp"], known["signature"]), known["body"].encode())
