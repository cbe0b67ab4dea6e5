"""Failure honesty of the crawl worker, each kind driven by a real peer on 127.0.0.1 (or a name in
`.invalid`, which never resolves): the source gets a DEGRADED state with the reason and one
`source.degraded` event on the first failure (also with no state item yet), the SQS message is
acked (permanent failures are never retried through the queue; transient ones back off through
the dispatcher), DEAD after N days with one `source.dead` alert, one `source.recovered` event, and
nothing stored is lost."""
from __future__ import annotations

import json
import socket

import pytest

from devstack.samples import read_sample
from tests.integration.peer_testkit import Peer, Reply

WEEK1 = ("previewsworld-newreleases-txt", "slem1_comicspreviews-parser__catalog-2020-02-19__23c5b25.txt")


def text(status: int, body: bytes) -> Reply:
    return Reply(status, body, {"Content-Type": "text/plain"})


ALLOW_ALL = b"User-agent: *\nAllow: /\n"


@pytest.fixture
def peer():
    """The shared peer: pages by route, robots.txt allowing all, every hit in its request log."""
    with Peer(default=text(404, b"not found")) as p:
        p.route("/robots.txt", text(200, ALLOW_ALL))
        yield p


@pytest.fixture
def service(aws):
    from chalicelib.crawl.service import build
    from chalicelib.settings import get_settings
    from crawlers.fetcher import Fetcher

    svc = build(get_settings())
    svc.fetcher_factory = lambda: Fetcher(user_agent="newbooks-test", min_host_delay_s=0, max_retries=2,
                                          sleep=lambda s: None)
    svc.dead_after_days = 3
    return svc


def use(service, url: str, name: str = "pw") -> None:
    from chalicelib.crawl.sources_config import SourceConfig

    service.sources = [SourceConfig(name, "previewsworld", (url,))]


def crawl_via_sqs(service, hour: str, name: str = "pw") -> dict:
    """The worker as Lambda runs it: a batch of one SQS record; returns the handler's answer."""
    from chalicelib.batch import sqs_batch

    results: list[dict] = []
    body = json.dumps({"schema_version": 1, "source": name, "scheduled_at": hour})
    reply = sqs_batch({"Records": [{"messageId": "m-1", "body": body}]},
                      lambda b, _r: results.append(service.crawl(b)))
    return {"batch": reply, "result": results[0] if results else None}


def state(name: str = "pw") -> dict:
    from chalicelib import aws
    from chalicelib.settings import get_settings

    return aws.table(get_settings().state_table).get_item(Key={"pk": f"SOURCE#{name}", "sk": "STATE"}).get("Item") or {}


def release_ids() -> set[str]:
    from chalicelib import aws
    from chalicelib.settings import get_settings

    return {i["pk"] for i in aws.table(get_settings().releases_table).scan()["Items"] if i["sk"] == "META"}


def slack_status_text(service) -> str:
    """`/newbooks status` as the Slack worker answers it, with this test's sources."""
    from chalicelib.settings import get_settings
    from chalicelib.slackbot import commands
    from chalicelib.slackbot import service as slack

    bot = slack.build(get_settings())
    bot.sources = lambda: service
    return json.dumps(bot.answer_job(commands.parse("status"), "C1"), ensure_ascii=False)


def closed_port_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there any more: connect is refused
    return f"http://127.0.0.1:{port}/list.txt"


# kind -> (how to make the peer fail, expected failure kind, permanent?, page requests made)
CASES = {
    "404": (lambda p: p.route("/list.txt", text(404, b"gone")), "http_status", True, 1),
    "410": (lambda p: p.route("/list.txt", text(410, b"gone for good")), "http_status", True, 1),
    "5xx": (lambda p: p.route("/list.txt", text(503, b"busy")), "retries_exhausted", False, 3),
    "robots": (lambda p: p.route("/robots.txt", text(200, b"User-agent: *\nDisallow: /list\n")), "robots", True, 0),
    # robots.txt answering 503: the host is off limits for now, not forbidding us: transient.
    "robots-unavailable": (lambda p: p.route("/robots.txt", text(503, ALLOW_ALL)), "robots", False, 0),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_first_failure_without_state_degrades_once_and_is_not_retried_through_sqs(service, peer, case):
    breaks, kind, permanent, page_requests = CASES[case]
    use(service, peer.url + "/list.txt")
    breaks(peer)

    first = crawl_via_sqs(service, "2026-12-01T10:00Z")
    assert first["batch"] == {"batchItemFailures": []}  # acked: SQS does not retry it
    assert first["result"]["failure"] == kind and first["result"]["permanent"] is permanent
    assert len(peer.hits("/list.txt")) == page_requests  # 5xx: the fetcher's own retries, with backoff
    item = state()
    assert item["status"] == "degraded" and item["failure_kind"] == kind
    assert kind in item["reason"]
    assert item["last_event"]["type"] == "source.degraded"
    assert item["last_event"]["id"] == "source.degraded:pw:2026-12-01T10:00Z"
    assert item["last_event"]["data"]["reason"] == item["reason"]
    # Permanent: a day before the next look; transient: 1 h, doubling.
    assert item["retry_at"] == ("2026-12-02T10:00Z" if permanent else "2026-12-01T11:00Z")

    again = crawl_via_sqs(service, "2026-12-01T11:00Z")  # still failing: no second event
    assert again["batch"] == {"batchItemFailures": []}
    assert state()["last_event"]["id"] == "source.degraded:pw:2026-12-01T10:00Z"


def test_dns_connect_and_bad_url_failures(service):
    for name, url, kind, permanent in (
        ("dns", "http://newbooks-no-such-host.invalid/list.txt", "dns", False),
        ("connect", closed_port_url(), "connect", False),
        ("badurl", "ftp://127.0.0.1/list.txt", "bad_url", True),
    ):
        use(service, url, name)
        outcome = crawl_via_sqs(service, "2026-12-01T10:00Z", name)
        assert outcome["batch"] == {"batchItemFailures": []}, name
        assert (outcome["result"]["failure"], outcome["result"]["permanent"]) == (kind, permanent), name
        item = state(name)
        assert item["status"] == "degraded" and kind in item["reason"], name
        assert item["last_event"] == {**item["last_event"], "type": "source.degraded",
                                      "id": f"source.degraded:{name}:2026-12-01T10:00Z"}
    health = {row["name"]: row for row in service.source_health()}
    assert health["badurl"]["status"] == "degraded" and "bad_url" in health["badurl"]["reason"]


def test_prod_address_policy_refusal_is_a_permanent_failure_and_nothing_is_sent(service, peer):
    from chalicelib.uptime.ssrf import AddressPolicy
    from crawlers.fetcher import Fetcher

    service.fetcher_factory = lambda: Fetcher(user_agent="newbooks-test", min_host_delay_s=0, sleep=lambda s: None,
                                              address_policy=AddressPolicy(allow_private=False))
    use(service, peer.url + "/list.txt")
    outcome = crawl_via_sqs(service, "2026-12-01T10:00Z")
    assert outcome["batch"] == {"batchItemFailures": []}
    assert (outcome["result"]["failure"], outcome["result"]["permanent"]) == ("refused", True)
    assert "loopback" in state()["reason"] and state()["last_event"]["type"] == "source.degraded"
    assert peer.paths() == []


def test_our_own_errors_still_go_back_to_sqs(service, peer, monkeypatch):
    """An AWS failure is not the site's fault: the message is reported failed and retried."""
    use(service, peer.url + "/list.txt")
    peer.route("/list.txt", text(200, read_sample(*WEEK1)))

    def broken_put(*_a, **_k):
        raise RuntimeError("S3 is having a bad day")

    monkeypatch.setattr(service.blobs, "put_raw", broken_put)
    outcome = crawl_via_sqs(service, "2026-12-01T10:00Z")
    assert outcome["batch"] == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert state() == {}


def test_transient_failure_backs_off_through_the_dispatcher(service, peer):
    use(service, peer.url + "/list.txt")
    peer.route("/list.txt", text(500, b"oops"))
    sent: list[dict] = []
    service.send_message = sent.append

    def dispatched(hour: str) -> bool:
        sent.clear()
        service.dispatch({"time": hour + ":00Z"})
        return bool(sent)

    assert dispatched("2026-12-01T10:00")
    crawl_via_sqs(service, "2026-12-01T10:00Z")  # failure 1: wait 1 h
    assert dispatched("2026-12-01T11:00")
    crawl_via_sqs(service, "2026-12-01T11:00Z")  # failure 2: wait 2 h
    assert not dispatched("2026-12-01T12:00")
    assert dispatched("2026-12-01T13:00")
    crawl_via_sqs(service, "2026-12-01T13:00Z")  # failure 3: wait 4 h
    assert state()["failures"] == 3 and state()["retry_at"] == "2026-12-01T17:00Z"
    assert not dispatched("2026-12-01T16:00") and dispatched("2026-12-01T17:00")


def test_duplicate_failure_message_counts_once(service, peer):
    use(service, peer.url + "/list.txt")
    peer.route("/list.txt", text(500, b"oops"))
    crawl_via_sqs(service, "2026-12-01T10:00Z")
    crawl_via_sqs(service, "2026-12-01T10:00Z")  # the same message delivered twice
    item = state()
    assert item["failures"] == 1 and item["retry_at"] == "2026-12-01T11:00Z"
    assert item["last_event"]["id"] == "source.degraded:pw:2026-12-01T10:00Z"


def test_dead_after_n_days_alerts_once_keeps_releases_and_recovers(service, peer, monkeypatch):
    from chalicelib.settings import get_settings

    monkeypatch.setenv("NEWBOOKS_ALLOW_PRIVATE_TARGETS", "true")  # the shipped targets file's local peers
    get_settings.cache_clear()
    use(service, peer.url + "/list.txt")
    peer.route("/list.txt", text(200, read_sample(*WEEK1)))
    good = crawl_via_sqs(service, "2026-12-01T10:00Z")["result"]
    stored = release_ids()
    assert good["status"] == "ok" and len(stored) == good["new"] > 0
    kept = state()

    peer.route("/list.txt", text(410, b"this list is no more"))
    crawl_via_sqs(service, "2026-12-02T10:00Z")
    assert state()["status"] == "degraded" and state()["degraded_since"] == "2026-12-02T10:00Z"
    crawl_via_sqs(service, "2026-12-04T10:00Z")  # 2 days: still degraded (dead after 3)
    assert state()["status"] == "degraded"
    assert state()["last_event"]["id"] == "source.degraded:pw:2026-12-02T10:00Z"

    crawl_via_sqs(service, "2026-12-05T10:00Z")
    dead = state()
    assert dead["status"] == "dead"
    assert dead["last_event"]["type"] == "source.dead"
    assert dead["last_event"]["id"] == "source.dead:pw:2026-12-02T10:00Z"
    assert dead["last_event"]["data"]["since"] == "2026-12-02T10:00Z"
    crawl_via_sqs(service, "2026-12-06T10:00Z")
    assert state()["last_event"]["id"] == "source.dead:pw:2026-12-02T10:00Z"  # one alert
    row = {r["name"]: r for r in service.source_health()}["pw"]
    assert row["status"] == "dead" and row["degraded_since"] == "2026-12-02T10:00Z" and "410" in row["reason"]
    assert "*pw* dead since 2026-12-02T10:00Z" in slack_status_text(service)

    # Nothing stored was lost: releases, item count, fetch validators all still there.
    assert release_ids() == stored
    assert dead["item_count"] == kept["item_count"] and dead["fetch"] == kept["fetch"]

    # The same list comes back: unchanged body, no re-parse writes, one recovery event.
    peer.route("/list.txt", text(200, read_sample(*WEEK1)))
    back = crawl_via_sqs(service, "2026-12-07T10:00Z")["result"]
    assert back["status"] == "ok"
    item = state()
    assert item["status"] == "ok" and item["reason"] is None and item["degraded_since"] is None
    assert item["last_event"]["type"] == "source.recovered"
    assert item["last_event"]["id"] == "source.recovered:pw:2026-12-07T10:00Z"
    assert release_ids() == stored
    assert {r["name"]: r for r in service.source_health()}["pw"]["status"] == "ok"


def test_shape_change_degrades_and_dies_like_a_fetch_failure(service, peer):
    use(service, peer.url + "/list.txt")
    peer.route("/list.txt", text(200, read_sample(*WEEK1)))
    crawl_via_sqs(service, "2026-12-01T10:00Z")
    peer.route("/list.txt", text(200, b"<html><body>We moved!</body></html>"))
    outcome = crawl_via_sqs(service, "2026-12-02T10:00Z")
    assert outcome["batch"] == {"batchItemFailures": []}
    assert state()["status"] == "degraded" and state()["last_event"]["type"] == "source.degraded"
    peer.route("/list.txt", text(200, b"<html><body>We moved! Still.</body></html>"))
    crawl_via_sqs(service, "2026-12-05T10:00Z")
    assert state()["status"] == "dead" and state()["last_event"]["id"] == "source.dead:pw:2026-12-02T10:00Z"


def _stream_records(table_name: str) -> list[dict]:
    """The table's stream records as moto recorded them (in-process mock_aws answers the
    dynamodbstreams API with "Not yet implemented"; the moto server the local stack uses does not)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(table_name)
    return [record.to_json() for record in table.stream_shard.items]


@pytest.mark.parametrize("event_names", [("MODIFY",), ("INSERT", "MODIFY")],
                         ids=["filter-modify-only", "filter-insert-and-modify"])
def test_first_failure_event_reaches_fan_out_whatever_the_stream_filter(service, peer, event_names):
    """The real stream records of the state table (moto), through the state_fanout filter as it is
    today (MODIFY only) and as branch `uptime` widens it (INSERT too): one degraded event, then one
    recovered event, either way."""
    from chalicelib import resources as r
    from chalicelib.notify.fanout import event_from_record
    from chalicelib.settings import get_settings
    from devstack.lambda_runtime import matches

    use(service, peer.url + "/list.txt")
    peer.route("/robots.txt", text(200, b"User-agent: *\nDisallow: /\n"))
    crawl_via_sqs(service, "2026-12-01T10:00Z")  # the very first crawl fails: no state item before
    crawl_via_sqs(service, "2026-12-01T11:00Z")
    peer.route("/robots.txt", text(200, ALLOW_ALL))
    peer.route("/list.txt", text(200, read_sample(*WEEK1)))
    crawl_via_sqs(service, "2026-12-02T10:00Z")

    state_mapping = next(m for m in r.MAPPINGS if m.function == "state_fanout")
    key_filter = json.loads(state_mapping.filter_patterns[0])["dynamodb"]
    pattern = {"eventName": list(event_names), "dynamodb": key_filter}
    records = [rec for rec in _stream_records(get_settings().state_table) if matches(pattern, rec)]
    announced = [e.id for e in (event_from_record(rec) for rec in records) if e is not None]
    assert announced == ["source.degraded:pw:2026-12-01T10:00Z", "source.recovered:pw:2026-12-02T10:00Z"]


def test_source_events_are_routed_to_ops():
    from chalicelib.notify.subscriptions import event_match_pks

    for kind in ("source.degraded", "source.dead", "source.recovered"):
        assert event_match_pks(kind, "pw", {}) == ["MATCH#ops#*"]
