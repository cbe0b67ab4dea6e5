"""A secret that cannot be read is an error, not an absence (chalicelib/secrets.py).

SSM runs in moto (`mock_aws`); failures are injected with a botocore `before-send` hook on the
application's own SSM client (registered through `chalicelib.aws.client_hooks`, the way the
chaos runs inject faults), so botocore's retry logic sees them as it would see AWS's answers.
Only ParameterNotFound means "not configured"; anything else fails the delivery, SQS retries
it, nothing goes to the console and the ledger never says "sent"."""
from __future__ import annotations

import json

import boto3
import pytest

from chalicelib import aws as aws_module
from chalicelib import bootstrap, secrets
from chalicelib.notify.model import ledger_key
from tests.integration.notify.notify_testkit import QueueRunner, release_event

TOKEN = "xoxb-from-ssm-0123456789"


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_kwargs):
        yield self._body


class SsmFaults:
    """Answers the next `fail` GetParameter requests with `error` (HTTP `status`), then lets
    them through to moto; counts every attempt botocore makes."""

    def __init__(self) -> None:
        self.fail = 0
        self.error, self.status = "InternalServerError", 500
        self.attempts = 0

    def attach(self, service: str, client) -> None:
        if service == "ssm":
            client.meta.events.register("before-send.ssm.GetParameter", self.before_send)

    def before_send(self, request, **_kwargs):
        from botocore.awsrequest import AWSResponse

        self.attempts += 1
        if self.fail <= 0:
            return None
        self.fail -= 1
        body = json.dumps({"__type": self.error, "message": "injected"}).encode()
        return AWSResponse(request.url, self.status, {"Content-Type": "application/x-amz-json-1.1"}, _Raw(body))


@pytest.fixture
def ssm(aws, monkeypatch):
    monkeypatch.delenv("NEWBOOKS_SSM_DISABLED", raising=False)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    faults = SsmFaults()
    monkeypatch.setattr(aws_module, "client_hooks", [faults.attach])
    bootstrap.reset()
    yield faults
    bootstrap.reset()


def _put(name: str, value: str) -> None:
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name=f"/newbooks/test/{name}", Value=value, Type="SecureString")


def test_parameter_not_found_is_the_only_absence(ssm):
    assert secrets.get_secret("slack_bot_token") is None  # ParameterNotFound from moto
    _put("x_api_key", "x-key-from-ssm")
    assert secrets.get_secret("x_api_key") == "x-key-from-ssm"
    assert ssm.attempts == 2


def test_a_transient_failure_is_retried_by_botocore(ssm):
    _put("slack_bot_token", TOKEN)
    ssm.fail = 1
    assert secrets.get_secret("slack_bot_token") == TOKEN
    assert ssm.attempts == 2  # the injected 500, then the retry that reached moto


def test_an_unreadable_secret_raises_names_it_and_is_not_cached(ssm):
    _put("slack_bot_token", TOKEN)
    ssm.fail, ssm.error, ssm.status = 1, "AccessDeniedException", 400  # not retryable: one attempt
    with pytest.raises(secrets.SecretUnavailable) as caught:
        secrets.get_secret("slack_bot_token")
    message = str(caught.value)
    assert "slack_bot_token" in message and "AccessDeniedException" in message and TOKEN not in message
    assert ssm.attempts == 1
    assert secrets.get_secret("slack_bot_token") == TOKEN  # asked again, not remembered as "not set"


def test_unreadable_slack_token_fails_the_delivery_and_the_retry_posts_once(ssm, aws, slack_peer, monkeypatch, capsys):
    monkeypatch.setenv("SLACK_API_URL", slack_peer.url + "/api/")
    _put("slack_bot_token", TOKEN)
    sqs = boto3.client("sqs", region_name="us-east-1")
    event = release_event()
    destination = "slack:C0123"
    sqs.send_message(QueueUrl=aws["NOTIFY_SLACK_QUEUE_URL"],
                     MessageBody=json.dumps({"destination": destination, "event": event.to_dict()}))
    runner = QueueRunner(sqs, aws["NOTIFY_SLACK_QUEUE_URL"],
                         lambda channel, body, record: bootstrap.delivery_service().deliver(channel, body, record), "slack")
    ledger = boto3.resource("dynamodb", region_name="us-east-1").Table(aws["LEDGER_TABLE"])
    key = ledger_key(event.id, destination)

    ssm.fail, ssm.error, ssm.status = 1, "AccessDeniedException", 400
    capsys.readouterr()
    (first,) = runner.drain(rounds=1)
    assert len(first["batchItemFailures"]) == 1  # the message goes back to SQS
    assert "[newbooks]" not in capsys.readouterr().out  # no console fallback
    assert slack_peer.posts() == []
    item = ledger.get_item(Key={"pk": key}).get("Item")
    assert item is None or item.get("status") != "sent"

    second = runner.drain(rounds=1)  # SQS redelivers; SSM answers now
    assert second and second[0]["batchItemFailures"] == []
    (post,) = slack_peer.posts("/api/chat.postMessage")
    assert post.headers["authorization"] == f"Bearer {TOKEN}"
    assert ledger.get_item(Key={"pk": key})["Item"]["status"] == "sent"
    assert runner.drain(rounds=1) == []  # deleted after success: nothing left
