"""Dates that move (issue 12, point 3) through the crawl worker, the stored item's stream image and
the fan-out, on the real Image Comics series page (one card's date edited in the test): the
release moves in place (version-conditional), one release.date_changed event per move, followers
get "moved from X to Y" once, and a future release gone from the list is kept as "no longer listed"."""
from __future__ import annotations

import json

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer

from devstack.samples import read_sample

PAGE = ("publisher-release-html", "exqir__imagecomics_series_nailbiter__396e9c8.html")
ISSUE_30 = "imagecomics:nailbiter-30"


@pytest.fixture
def service(aws, site):
    from chalicelib.crawl.service import build
    from chalicelib.crawl.sources_config import SourceConfig
    from chalicelib.settings import get_settings
    from crawlers.fetcher import Fetcher

    svc = build(get_settings())
    svc.sources = [SourceConfig("img", "imagecomics", (site.url,))]
    svc.fetcher_factory = lambda: Fetcher(user_agent="newbooks-test", min_host_delay_s=0, sleep=lambda s: None)
    site.content_type = "text/html"
    return svc


def crawl(service, hour):
    return service.crawl({"schema_version": 1, "source": "img", "scheduled_at": hour})


def meta(release_id):
    from chalicelib import aws
    from chalicelib.settings import get_settings

    return aws.table(get_settings().releases_table).get_item(Key={"pk": f"REL#{release_id}", "sk": "META"})["Item"]


def stream_modify(item, seq):
    ser = TypeSerializer()
    image = {k: ser.serialize(v) for k, v in item.items()}
    return {"eventID": seq, "eventName": "MODIFY", "eventSource": "aws:dynamodb",
            "dynamodb": {"Keys": {"pk": image["pk"], "sk": image["sk"]}, "NewImage": image, "SequenceNumber": seq}}


def console_messages(env):
    sqs, out = boto3.client("sqs", region_name="us-east-1"), []
    while got := sqs.receive_message(QueueUrl=env["NOTIFY_CONSOLE_QUEUE_URL"], MaxNumberOfMessages=10).get("Messages"):
        for m in got:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=env["NOTIFY_CONSOLE_QUEUE_URL"], ReceiptHandle=m["ReceiptHandle"])
    return out


def test_a_moved_date_is_updated_in_place_and_told_once(aws, service, site):
    from chalicelib import aws as aws_mod
    from chalicelib.events import Event
    from chalicelib.notify import digest as dg
    from chalicelib.notify.fanout import Enqueuer, FanoutService, Router
    from chalicelib.notify.render import console_line
    from chalicelib.notify.subscriptions import Subscription, SubscriptionStore
    from chalicelib.settings import get_settings

    body = read_sample(*PAGE)
    site.body = body
    first = crawl(service, "2017-02-15T10:00Z")
    assert first["new"] == first["items"] and meta(ISSUE_30)["release_date"] == "2017-03-01"
    assert meta(ISSUE_30)["version"] == 1

    site.body = body.replace(b"Published: March 1, 2017", b"Published: March 8, 2017")
    moved = crawl(service, "2017-02-15T11:00Z")
    assert moved["new"] == 0
    item = meta(ISSUE_30)
    assert (item["release_date"], item["previous_release_date"], item["version"]) == ("2017-03-08", "2017-03-01", 2)
    assert item["gsi1sk"].startswith("2017-03-08#") and item["gsi2sk"].startswith("2017-03-08#")
    assert item["last_event"]["id"] == f"release.date_changed:{ISSUE_30}:2017-03-01>2017-03-08"
    assert meta("imagecomics:nailbiter-29")["version"] == 1  # the others did not move

    from chalicelib.bootstrap import release_queries
    march = release_queries().list({"from": "2017-03-08", "to": "2017-03-08"})["releases"]
    assert [r["id"] for r in march] == [ISSUE_30]  # the week list reads the new date
    assert crawl(service, "2017-02-15T12:00Z")["unchanged"]  # same page again: nothing moves twice

    settings = get_settings()
    state = aws_mod.table(settings.state_table)
    SubscriptionStore(state).put(Subscription.create("console:", "series", "Nailbiter"))
    fanout = FanoutService(Router([SubscriptionStore(state)]), Enqueuer(boto3.client("sqs", region_name="us-east-1"),
                           settings.notify_queue_urls), dg.DigestStore(state))
    record = stream_modify(item, "7")
    fanout.handle_record(record)
    fanout.handle_record(record)  # the shard batch retried
    sent = console_messages(aws)
    assert {m["event"]["id"] for m in sent} == {item["last_event"]["id"]}  # one event; the ledger dedupes the copy
    line = console_line(Event.from_dict(sent[0]["event"]), "console:", "https://n.example")
    assert "Nailbiter #30 moved from 2017-03-01 to 2017-03-08" in line

    # a MODIFY that is not a move (listing, refs) tells nobody
    service.releases.mark_unlisted(ISSUE_30, "2017-02-15T13:00Z")
    fanout.handle_record(stream_modify(meta(ISSUE_30), "8"))
    assert console_messages(aws) == []


def test_a_future_release_gone_from_the_list_is_kept_as_no_longer_listed(service, site):
    body = read_sample(*PAGE)
    site.body = body
    crawl(service, "2017-02-15T10:00Z")
    start = body.index(b"Published: March 1, 2017")
    card_start = body.rindex(b'<div class="book', 0, start)
    card_end = body.index(b'<div class="book', start)
    site.body = body[:card_start] + body[card_end:]  # issue #30 (future on 2017-02-15) disappears
    crawl(service, "2017-02-15T11:00Z")
    item = meta(ISSUE_30)
    assert item["listing"] == "no longer listed" and item["release_date"] == "2017-03-01"
    assert meta("imagecomics:nailbiter-28").get("listing") != "no longer listed"  # past ones are left alone
    site.body = body  # listed again
    crawl(service, "2017-02-15T12:00Z")
    assert meta(ISSUE_30)["listing"] == "listed"


def test_moved_back_and_again_is_one_event_per_move_and_a_stale_crawl_moves_nothing(service, site):
    """A>B, B>A, A>B: three moves, three event ids (the third must not look like a repeat of the
    first to the delivery ledger). A crawl that fetched before the last move but writes after it
    (two crawls of one source may overlap) leaves the newer date alone."""
    from chalicelib.crawl.store import release_item
    from crawlers.normalize import series_key

    body = read_sample(*PAGE)
    site.body = body
    crawl(service, "2017-02-15T10:00Z")
    ids = []
    for n, new in enumerate(("March 8", "March 1", "March 8")):
        site.body = body.replace(b"Published: March 1, 2017", f"Published: {new}, 2017".encode())
        crawl(service, f"2017-02-15T1{n + 1}:00Z")
        ids.append(meta(ISSUE_30)["last_event"]["id"])
    assert ids == [f"release.date_changed:{ISSUE_30}:2017-03-01>2017-03-08",
                   f"release.date_changed:{ISSUE_30}:2017-03-08>2017-03-01:v3",
                   f"release.date_changed:{ISSUE_30}:2017-03-01>2017-03-08:v4"]
    stored = meta(ISSUE_30)
    assert stored["version"] == 4 and stored["date_observed_at"]
    # the slow crawl saw the page before the last move (March 1) and writes now: nothing moves
    old_view = {**stored, "release_date": "2017-03-01"}
    item = release_item({k: v for k, v in old_view.items() if k in ("id", "title", "series", "release_date", "source")},
                        series_key=series_key("Nailbiter"), first_seen="2017-02-15T10:00Z")
    assert service.releases.save(item, "2017-02-15T14:00Z", observed_at="2017-02-15T00:00:00+00:00") == "same"
    assert (meta(ISSUE_30)["release_date"], meta(ISSUE_30)["version"]) == ("2017-03-08", 4)
    # a later observation of the same page does move it (and names its version)
    assert service.releases.save(item, "2017-02-15T15:00Z", observed_at="2999-01-01T00:00:00+00:00") == "moved"
    assert meta(ISSUE_30)["last_event"]["id"] == f"release.date_changed:{ISSUE_30}:2017-03-08>2017-03-01:v5"
