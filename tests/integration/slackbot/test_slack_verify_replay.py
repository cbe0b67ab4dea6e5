"""The Slack replay guard against moto's DynamoDB (moved from tests/unit/slackbot/test_slack_verify.py,
which keeps the pure signature and window checks)."""
from __future__ import annotations

import json

import pytest

from chalicelib.slackbot.verify import Rejected, ReplayGuard, Verifier


@pytest.fixture
def known():
    from devstack.samples import read_sample

    return json.loads(read_sample("slack", "slack-docs__signature_known_answer.DERIVED.json"))


def _headers(ts, sig):
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


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
