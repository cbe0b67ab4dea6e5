"""Signature and window checks (pure), against Slack's documented known answer."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from chalicelib.slackbot.verify import Rejected, ReplayGuard, Verifier, check_signature


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


def test_replay_store_errors_other_than_the_condition_propagate(known):
    class Broken:
        def put_item(self, **kw):
            raise ConnectionError("dynamodb unreachable")

    verifier = Verifier(lambda: known["signing_secret"], ReplayGuard(Broken()), clock=lambda: int(known["timestamp"]))
    with pytest.raises(ConnectionError):
        verifier.verify(_headers(known["timestamp"], known["signature"]), known["body"].encode())
