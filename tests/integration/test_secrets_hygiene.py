"""Secrets never reach logs, API output, S3 or DynamoDB.

Every secret in chalicelib.secrets.KNOWN gets a distinctive value through the environment (the
way Lambda gets them), and the real services run as their Lambda handlers would (bootstrap, on
moto, peers on 127.0.0.1): a crawl (one source whose URL carries the Rakuten application id, as
the Rakuten API requires), a ping tick with a target that authenticates with a secret header, a
release fan-out delivered to console, webhook, Slack (bot token and an incoming-webhook URL that
fails) and X, then the API. Everything captured — stdout/stderr (the JSON log lines), every API
response body, every S3 object, every DynamoDB item — is searched for every secret value."""
from __future__ import annotations

import json

import pytest

from chalicelib import bootstrap
from chalicelib.secrets import KNOWN
from devstack.samples import read_sample
from tests.integration.peer_testkit import Peer, Reply, Request

PW = ("previewsworld-newreleases-txt", "slem1_comicspreviews-parser__catalog-2020-02-19__23c5b25.txt")
RAKUTEN = ("rakuten-books-api", "rws-ruby-sdk__books_book_search_with_keyword_Ruby__edd041a_2016.json")


def token(name: str) -> str:
    return f"SEKRET{abs(hash(name)) % 10**8:08d}x{name.replace('_', '')}"


def answer(request: Request) -> Reply:
    """127.0.0.1: serves sources and a target (GET), answers Slack/X/webhooks (POST)."""
    def send(status: int, body: bytes, ctype: str = "application/json") -> Reply:
        return Reply(status, body, {"Content-Type": ctype})

    if request.method == "GET":
        if request.route == "/robots.txt":
            return send(200, b"User-agent: *\nAllow: /\n", "text/plain")
        if request.route == "/pw.txt":
            return send(200, b"\n".join(read_sample(*PW).split(b"\n")[:30]), "text/plain")
        if request.route == "/rakuten":
            return send(200, read_sample(*RAKUTEN))
        if request.route == "/health":
            ok = request.headers.get("authorization") == f"Bearer {token('api_key')}"
            return send(200 if ok else 401, b'{"status":"up"}')
        return send(404, b"{}")
    if request.path.startswith("/slack-hook/"):
        return send(404, b"no_service", "text/plain")  # a revoked webhook URL
    if request.path.startswith("/2/tweets"):
        return send(201, b'{"data":{"id":"1","text":"x"}}')
    if request.path.startswith("/api/chat.postMessage"):
        return send(200, b'{"ok":true,"channel":"C0123","ts":"1.2"}')
    return send(200, b'{"ok":true}')


@pytest.fixture
def peer():
    """The shared peer, recording all."""
    with Peer(responder=answer) as p:
        yield p


@pytest.fixture
def secrets(aws, peer, tmp_path, monkeypatch):
    values = {name: token(name) for name in KNOWN}
    values["slack_webhook_url"] = f"{peer.url}/slack-hook/{token('slack_webhook_url')}"
    for name, value in values.items():
        monkeypatch.setenv(name.upper(), value)
    monkeypatch.setenv("SLACK_API_URL", f"{peer.url}/api/")
    monkeypatch.setenv("X_API_URL", peer.url)
    monkeypatch.setenv("NEWBOOKS_WEBHOOK_HOOK_URL", f"{peer.url}/hook")
    monkeypatch.setenv("NEWBOOKS_ALLOW_PRIVATE_TARGETS", "true")
    monkeypatch.setenv("NEWBOOKS_PEER", peer.url)
    (tmp_path / "sources.yaml").write_text(
        "sources:\n"
        "  - {name: pw, kind: previewsworld, url: '${NEWBOOKS_PEER}/pw.txt'}\n"
        "  - {name: rk, kind: rakuten, url: '${NEWBOOKS_PEER}/rakuten?format=json'}\n"
        "  - {name: rk-keyed, kind: rakuten, url: '${NEWBOOKS_PEER}/rakuten?applicationId=${RAKUTEN_APPLICATION_ID}&format=json'}\n"
    )
    (tmp_path / "targets.yaml").write_text(
        "endpoints:\n"
        "  - name: api\n"
        "    url: ${NEWBOOKS_PEER}/health\n"
        "    headers: {Authorization: 'Bearer ${API_KEY}'}\n"
        "    timeout: 2s\n"
    )
    series = "Nailbiter"
    (tmp_path / "subscriptions.yaml").write_text(
        "subscriptions:\n"
        + "".join(f"  - {{destination: '{d}', kind: series, match: '{series}'}}\n"
                  for d in ("console:", "webhook:hook", "slack:C0123", "slack-webhook:default", "x:main"))
        + "  - {destination: 'console:', kind: ops, match: '*'}\n"
    )
    monkeypatch.setenv("NEWBOOKS_SOURCES_FILE", str(tmp_path / "sources.yaml"))
    monkeypatch.setenv("NEWBOOKS_TARGETS_FILE", str(tmp_path / "targets.yaml"))
    monkeypatch.setenv("NEWBOOKS_SUBSCRIPTIONS_FILE", str(tmp_path / "subscriptions.yaml"))
    bootstrap.reset()
    yield values
    bootstrap.reset()


def _logs_to_stdout(monkeypatch) -> None:
    """The newbooks handler keeps the sys.stdout of whenever it was configured (often an earlier
    test's capture, closed since); point it at this test's captured stdout. Called in the test
    body: pytest swaps sys.stdout between the setup and call phases."""
    import logging
    import sys

    from chalicelib.log import get_logger

    get_logger("hygiene")
    monkeypatch.setattr(logging.getLogger("newbooks").handlers[0], "stream", sys.stdout)


def _stream_insert(item: dict) -> dict:
    from boto3.dynamodb.types import TypeSerializer

    ser = TypeSerializer()
    return {"eventID": "1", "eventName": "INSERT",
            "dynamodb": {"Keys": {"pk": ser.serialize(item["pk"]), "sk": ser.serialize("META")},
                         "NewImage": {k: ser.serialize(v) for k, v in item.items()}, "SequenceNumber": "1"}}


def _drain(channel: str, url: str) -> int:
    """Deliver every message of one notify queue through app.py's deliverer (Lambda semantics)."""
    import app
    from chalicelib import aws

    sqs, handled = aws.client("sqs"), 0
    handler = getattr(app, f"deliver_{channel}")
    for _ in range(5):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
        if not messages:
            break
        event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                              "attributes": {"ApproximateReceiveCount": "1"}, "eventSource": "aws:sqs"}
                             for m in messages]}
        handler(event, None)
        for m in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        handled += len(messages)
    return handled


def _everything_stored(env: dict) -> dict[str, str]:
    from chalicelib import aws
    from chalicelib.settings import get_settings

    settings = get_settings()
    out: dict[str, str] = {}
    for table in (settings.releases_table, settings.state_table, settings.checks_table, settings.ledger_table):
        items = list(aws.all_items(aws.table(table).scan))
        out[f"dynamodb:{table}"] = json.dumps(items, default=_plain, ensure_ascii=False)
    s3 = aws.client("s3")
    for obj in s3.list_objects_v2(Bucket=settings.data_bucket).get("Contents", []):
        body = s3.get_object(Bucket=settings.data_bucket, Key=obj["Key"])["Body"].read()
        out[f"s3:{obj['Key']}"] = obj["Key"] + "\n" + body.decode("utf-8", "replace")
    return out


def _plain(value):
    """DynamoDB Binary (tick rows are compressed) as text, decompressed when it is zlib data."""
    import zlib

    raw = bytes(getattr(value, "value", b"")) if not isinstance(value, (bytes, bytearray)) else bytes(value)
    if not raw:
        return str(value)
    for wbits in (15, 47, -15):
        try:
            raw = zlib.decompress(raw, wbits)
            break
        except zlib.error:
            continue
    return raw.decode("utf-8", "replace")


def _leaks(values: dict[str, str], haystacks: dict[str, str]) -> list[str]:
    needles = {name: {value, token(name)} for name, value in values.items()}
    return sorted(f"{name} in {where}" for where, text in haystacks.items()
                  for name, forms in needles.items() if any(form in text for form in forms))


def test_no_secret_in_logs_api_s3_or_dynamodb(secrets, peer, capfd, monkeypatch):
    _logs_to_stdout(monkeypatch)
    from chalice.test import Client

    import app
    from chalicelib import bootstrap as boot
    from crawlers.fetcher import Fetcher

    # crawl: both sources, through the worker handler
    crawl = boot.crawl_service()
    crawl.fetcher_factory = lambda: Fetcher(user_agent="newbooks-test", min_host_delay_s=0, sleep=lambda s: None)
    for source in ("pw", "rk"):  # rk-keyed: see the source-URL test below
        body = json.dumps({"schema_version": 1, "source": source, "scheduled_at": "2026-11-22T10:00Z"})
        assert app.crawl_worker({"Records": [{"messageId": f"c-{source}", "body": body}]}, None) == {"batchItemFailures": []}
    assert any(r.path.startswith("/rakuten?format=json") for r in peer.requests)

    # ping: the target authenticates with the api_key secret
    tick = boot.uptime_service().run_tick({"id": "t1", "time": "2026-11-22T10:00:00Z", "detail": {}})
    assert tick["checked"] == 1 and tick["up"] == 1, tick

    # fan-out of a release followed on every channel, then delivery
    item = {"pk": "REL#pw:NAILBITER30", "sk": "META", "id": "pw:NAILBITER30", "source": "pw",
            "title": "Nailbiter #30", "series": "Nailbiter", "volume": "30", "publisher": "Image Comics",
            "first_seen": "2026-11-22T10:00:00Z"}
    assert app.release_fanout({"Records": [_stream_insert(item)]}, None) == {"batchItemFailures": []}
    delivered = {channel: _drain(channel, secrets_env(channel)) for channel in ("console", "webhook", "slack", "x")}
    assert delivered["console"] >= 1 and delivered["webhook"] >= 1 and delivered["slack"] >= 2 and delivered["x"] >= 1
    posted = {r.path.split("/")[1] for r in peer.requests if r.method == "POST"}
    assert {"hook", "api", "slack-hook", "2"} <= posted, posted  # every sender really sent

    # the API
    client = Client(app.app)
    api = {}
    for path in ("/releases", "/sources", "/status", "/healthz"):
        response = client.http.get(path)
        api[f"api:{path}"] = response.body.decode("utf-8", "replace")
    assert "Nailbiter" in api["api:/releases"] or "pw" in api["api:/sources"]

    captured = capfd.readouterr()
    logs = {"stdout": captured.out, "stderr": captured.err}
    assert "\"correlation_id\"" in captured.out and '"source crawled"' in captured.out  # the JSON logs were captured
    leaks = _leaks(secrets, {**logs, **api, **_everything_stored(secrets)})
    assert not leaks, "secret values found:\n" + "\n".join(leaks)


def secrets_env(channel: str) -> str:
    import os

    return os.environ[f"NOTIFY_{channel.upper()}_QUEUE_URL"]


def test_secret_in_a_source_url_stays_out_of_dynamodb_and_logs(secrets, peer, capfd, monkeypatch):
    _logs_to_stdout(monkeypatch)
    import app
    from chalicelib import bootstrap as boot
    from crawlers.fetcher import Fetcher

    crawl = boot.crawl_service()
    crawl.fetcher_factory = lambda: Fetcher(user_agent="newbooks-test", min_host_delay_s=0, sleep=lambda s: None)
    body = json.dumps({"schema_version": 1, "source": "rk-keyed", "scheduled_at": "2026-11-22T10:00Z"})
    assert app.crawl_worker({"Records": [{"messageId": "c-rk", "body": body}]}, None) == {"batchItemFailures": []}
    assert any(r.path.startswith(f"/rakuten?applicationId={token('rakuten_application_id')}") for r in peer.requests)
    captured = capfd.readouterr()
    leaks = _leaks(secrets, {"stdout": captured.out, "stderr": captured.err, **_everything_stored(secrets)})
    assert not leaks, "secret values found:\n" + "\n".join(leaks)
