"""The real composition: app.py handlers -> bootstrap -> notify build(settings), on moto, with
no credentials (console fallback) and the sample subscriptions file."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from boto3.dynamodb.types import TypeSerializer

from chalicelib import bootstrap

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def wired(aws, monkeypatch):
    monkeypatch.setenv("NEWBOOKS_SUBSCRIPTIONS_FILE", str(ROOT / "chalicelib" / "config" / "subscriptions.yaml"))
    for name in ("SLACK_BOT_TOKEN", "X_API_KEY", "WEBHOOK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    bootstrap.reset()
    yield aws
    bootstrap.reset()


def test_stream_to_console_through_app_handlers(wired, capsys):
    import boto3

    import app

    ser = TypeSerializer()
    item = {"pk": "REL#ndl:meitantei:105", "sk": "META", "id": "ndl:meitantei:105", "source": "ndl",
            "title": "名探偵コナン 105", "series": "名探偵コナン", "volume": "105", "publisher": "小学館",
            "first_seen": "2026-11-22T10:00:00Z"}
    record = {"eventID": "1", "eventName": "INSERT",
              "dynamodb": {"Keys": {"pk": ser.serialize(item["pk"]), "sk": ser.serialize("META")},
                           "NewImage": {k: ser.serialize(v) for k, v in item.items()}, "SequenceNumber": "1"}}
    assert app.release_fanout({"Records": [record, record]}, None) == {"batchItemFailures": []}

    sqs = boto3.client("sqs", region_name="us-east-1")
    url = wired["NOTIFY_CONSOLE_QUEUE_URL"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 2  # the duplicated record enqueued twice ...
    capsys.readouterr()
    event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"]}
                         for m in messages]}
    assert app.deliver_console(event, None) == {"batchItemFailures": []}
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[newbooks]")]
    assert lines == ["[newbooks] release.new -> console: | 名探偵コナン 105 (小学館)"]  # ... and posted once


def test_subscription_service_and_dlq_admin_build(wired):
    from chalicelib.notify import dlq, subscriptions
    from chalicelib.settings import get_settings

    service = subscriptions.build(get_settings())
    sub = service.follow("slack:C0123", "series", "ワンピース 108巻", digest="weekly", tz="Asia/Tokyo")
    assert sub.key == "onepiece"  # the alias list maps ワンピース to ONE PIECE (crawlers/series_aliases.json)
    assert [s.key for s in service.list("slack:C0123")] == ["onepiece"]
    service.unfollow("slack:C0123", "series", "ワンピース")
    assert service.list("slack:C0123") == []
    with pytest.raises(ValueError):
        service.follow("slack:C0123", "series", "x", digest="hourly")
    assert dlq.build(get_settings()).list_messages() == []
    json.dumps(list(dlq.build(get_settings()).list_messages()))
