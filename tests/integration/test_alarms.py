"""Alarms reach people, locally: the definitions the template deploys (infra/alarms.py) are
evaluated by devstack/alarms.py against moto (`mock_aws`) and the local Lambda runtime, printed
on the console at each state change, and published to the ops topic, whose SQS subscription
feeds `ops_alarm` -> our notify pipeline -> the console channel (sample ops subscription)."""
from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from chalicelib import bootstrap
from chalicelib import resources as r
from devstack import lambda_runtime as rt
from devstack.alarms import LocalAlarms, RuntimeMetrics, queue_urls_from_env
from infra.alarms import alarm_definitions

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        import time

        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def local(aws, monkeypatch):
    monkeypatch.setenv("NEWBOOKS_SUBSCRIPTIONS_FILE", str(ROOT / "chalicelib" / "config" / "subscriptions.yaml"))
    bootstrap.reset()
    clock, lines = Clock(), []
    sqs, sns = boto3.client("sqs", region_name="us-east-1"), boto3.client("sns", region_name="us-east-1")
    topic = sns.create_topic(Name=r.physical_name("test", "ops"))["TopicArn"]
    ops_queue_arn = sqs.get_queue_attributes(QueueUrl=aws[r.OPS_ALARMS_QUEUE.env],
                                             AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=ops_queue_arn, Attributes={"RawMessageDelivery": "true"})
    alarms = LocalAlarms("test", alarm_definitions("dev"), sqs, queue_urls_from_env(), metrics=RuntimeMetrics(clock),
                         sns=sns, topic_arn=topic, out=lines.append, clock=clock)
    alarms.install()
    yield alarms, clock, lines, sqs
    rt.invocation_observers.remove(alarms.metrics.invocation)
    rt.receive_observers.remove(alarms.metrics.receive)
    bootstrap.reset()


def _drain(sqs, url: str) -> list[dict]:
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])


def test_every_dlq_stream_failures_functions_and_crawl_age_have_a_definition():
    defs = {d.logical_id: d for d in alarm_definitions("prod")}
    for queue in r.QUEUES:
        assert queue.has_dlq, f"{queue.short} has no DLQ"  # stream-failures included
        assert defs[f"{queue.logical_id}DlqAlarm"].subject == queue.dlq_short
    assert defs["StreamFailuresQueueAlarm"].metric == "ApproximateNumberOfMessagesVisible"
    assert defs["CrawlQueueAgeAlarm"].metric == "ApproximateAgeOfOldestMessage"
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for function in config["stages"]["prod"]["lambda_functions"]:
        mine = {d.metric for d in defs.values() if d.subject_kind == "function" and d.subject == function}
        assert mine == {"Errors", "Throttles"}, function


def test_a_dead_letter_fires_once_prints_and_clears(local, aws):
    alarms, _clock, lines, sqs = local
    assert alarms.evaluate() == []  # everything empty: OK, nothing printed
    dlq = aws["CRAWL_DLQ_URL"]
    sqs.send_message(QueueUrl=dlq, MessageBody='{"source": "previewsworld"}')
    (change,) = alarms.evaluate()
    assert change["AlarmName"] == "newbooks-test-crawl-dlq-not-empty" and change["NewStateValue"] == "ALARM"
    assert lines[-1].startswith("[newbooks] ALARM newbooks-test-crawl-dlq-not-empty: ApproximateNumberOfMessagesVisible 1")
    assert alarms.evaluate() == []  # still in ALARM: not printed again
    for message in _drain(sqs, dlq):
        sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
    (cleared,) = alarms.evaluate()
    assert cleared["NewStateValue"] == "OK" and cleared["OldStateValue"] == "ALARM"
    assert lines[-1].startswith("[newbooks] OK newbooks-test-crawl-dlq-not-empty")


def test_function_errors_from_the_local_runtime(local):
    alarms, clock, _lines, _ = local

    def broken(event, context):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        rt.invoke("crawl_worker", broken, {"Records": []})
    rt.invoke("ping", lambda event, context: {"ok": True}, {})
    changes = alarms.evaluate()
    assert [c["AlarmName"] for c in changes] == ["newbooks-test-crawl-worker-errors"]
    clock.now += 301  # the 5-minute period has passed without errors
    assert [(c["AlarmName"], c["NewStateValue"]) for c in alarms.evaluate()] == [("newbooks-test-crawl-worker-errors", "OK")]


def test_stream_failures_and_a_stuck_crawl_queue(local, aws):
    alarms, clock, _lines, sqs = local
    sqs.send_message(QueueUrl=aws["STREAM_FAILURES_QUEUE_URL"], MessageBody='{"requestContext": {}}')
    sqs.send_message(QueueUrl=aws["CRAWL_QUEUE_URL"], MessageBody='{"source": "ndl-comics"}')
    assert [c["AlarmName"] for c in alarms.evaluate()] == ["newbooks-test-stream-failures-not-empty"]
    clock.now += 46 * 60  # nobody received the crawl message for 46 minutes
    (stuck,) = alarms.evaluate()
    assert stuck["AlarmName"] == "newbooks-test-crawl-oldest-message-age" and stuck["NewStateValue"] == "ALARM"
    messages = _drain(sqs, aws["CRAWL_QUEUE_URL"])  # a worker finally takes it
    alarms.metrics.receive(aws["CRAWL_QUEUE_URL"], messages)
    for message in messages:
        sqs.delete_message(QueueUrl=aws["CRAWL_QUEUE_URL"], ReceiptHandle=message["ReceiptHandle"])
    clock.now += 301
    assert [(c["AlarmName"], c["NewStateValue"]) for c in alarms.evaluate()] == [
        ("newbooks-test-crawl-oldest-message-age", "OK")]


def test_an_alarm_reaches_the_ops_subscription_through_our_notifier_once(local, aws, capsys):
    import app

    alarms, _clock, _lines, sqs = local
    sqs.send_message(QueueUrl=aws["NOTIFY_SLACK_DLQ_URL"], MessageBody="{}")
    (change,) = alarms.evaluate()
    ops = _drain(sqs, aws[r.OPS_ALARMS_QUEUE.env])  # SNS -> SQS (raw delivery), as deployed
    assert len(ops) == 1 and json.loads(ops[0]["Body"])["AlarmName"] == change["AlarmName"]
    record = {"messageId": ops[0]["MessageId"], "receiptHandle": ops[0]["ReceiptHandle"], "body": ops[0]["Body"]}
    envelope = {"messageId": "m-env", "body": json.dumps({"Type": "Notification", "Message": ops[0]["Body"]})}
    assert app.ops_alarm({"Records": [record, envelope]}, None) == {"batchItemFailures": []}  # raw, and SNS envelope

    console = _drain(sqs, aws["NOTIFY_CONSOLE_QUEUE_URL"])
    assert len(console) == 2  # the same alarm twice (duplicate delivery) ...
    capsys.readouterr()
    event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"]}
                         for m in console]}
    assert app.deliver_console(event, None) == {"batchItemFailures": []}
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[newbooks] ops.alarm")]
    assert len(printed) == 1  # ... printed once (ledger)
    assert "newbooks-test-notify-slack-dlq-not-empty is ALARM" in printed[0]


def test_a_message_that_is_not_an_alarm_fails_its_record(local):
    import app

    result = app.ops_alarm({"Records": [{"messageId": "junk", "body": '{"hello": "world"}'}]}, None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "junk"}]}
