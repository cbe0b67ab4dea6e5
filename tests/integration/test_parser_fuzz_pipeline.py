"""Hostile bodies through the real crawl worker (CrawlService.crawl) on moto with a real local HTTP
server: after a good crawl, each hostile body marks the source degraded, no exception escapes the
worker, and no stored release or snapshot is written or overwritten."""
from __future__ import annotations

import json

import pytest

from devstack.samples import read_sample
from tests.integration.peer_testkit import Site

GOOD = {
    "previewsworld": (("previewsworld-newreleases-txt", "slem1_comicspreviews-parser__catalog-2020-02-19__23c5b25.txt"), "text/plain"),
    "ndl": (("ndl-opensearch", "remix-practice__response2_meitantei-conan.DERIVED.xml"), "application/rss+xml"),
    "openbd": (("openbd", "tools-labo_book-scout__lane2_cache_openbd__b804571_2026-02-09.json"), "application/json"),
    "imagecomics": (("publisher-release-html", "exqir__imagecomics_release-archive_series_nailbiter__396e9c8.html"), "text/html"),
}
BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
                  + b"".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(8))
                  + b']><rss><channel><item><title>&i;</title></item></channel></rss>')
HOSTILE = {
    "deep-json": b"[" * 100_000 + b"]" * 100_000,
    "deep-object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "billion-laughs": BILLION_LAUGHS,
    "deep-xml": b"<?xml version='1.0'?><rss>" + b"<a>" * 10_000 + b"</a>" * 10_000 + b"</rss>",
    "huge-html": b"<html><body>" + b"<p>x</p>" * 400_000 + b"</body></html>",
    "random-bytes": bytes(range(256)) * 64,
    "shift-jis": "新刊のお知らせ：ワンピース 第108巻　2024年3月4日発売".encode("shift_jis") * 50,
    "euc-jp": "新刊のお知らせ：ワンピース 第108巻".encode("euc_jp") * 50,
}


@pytest.fixture
def site():
    s = Site("/list")
    yield s
    s.close()


def _service(site, kind):
    from chalicelib.crawl.service import build
    from chalicelib.crawl.sources_config import SourceConfig
    from chalicelib.settings import get_settings
    from crawlers.fetcher import Fetcher

    svc = build(get_settings())
    svc.sources = [SourceConfig("src", kind, (site.url,))]
    svc.fetcher_factory = lambda: Fetcher(user_agent="newbooks-test", min_host_delay_s=0, sleep=lambda s: None)
    return svc


def _stored():
    """Every release item and every snapshot object, as they are now."""
    from chalicelib import aws
    from chalicelib.settings import get_settings

    settings = get_settings()
    items = aws.table(settings.releases_table).scan()["Items"]
    s3 = aws.client("s3")
    snapshots = {}
    for obj in s3.list_objects_v2(Bucket=settings.data_bucket, Prefix="snapshots/").get("Contents", []):
        snapshots[obj["Key"]] = s3.get_object(Bucket=settings.data_bucket, Key=obj["Key"])["Body"].read()
    return sorted(items, key=lambda i: (i["pk"], i["sk"])), snapshots


def _small(kind, body):
    """The real sample cut down to a few items (fewer moto writes; the parser path is the same)."""
    if kind == "previewsworld":
        return b"\n".join(body.split(b"\n")[:40])
    if kind == "ndl":
        head, *items = body.split(b"</item>")
        return b"</item>".join([head, *items[:4]]) + b"</item></channel></rss>"
    return body


def _message(hour):
    return {"schema_version": 1, "source": "src", "scheduled_at": f"2020-02-19T{hour:02d}:00Z"}


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_hostile_bodies_degrade_the_source_and_touch_no_release(aws, site, kind):
    from chalicelib import aws as aws_adapter
    from chalicelib.batch import sqs_batch
    from chalicelib.settings import get_settings

    service = _service(site, kind)
    sample, site.content_type = GOOD[kind]
    site.body = _small(kind, read_sample(*sample))
    first = service.crawl(_message(1))
    assert first["status"] == "ok" and first["new"] > 0
    before = _stored()
    state_table = aws_adapter.table(get_settings().state_table)

    for hour, (label, body) in enumerate(sorted(HOSTILE.items()), start=2):
        site.body = body
        # through the Lambda batch wrapper, as crawl_worker runs it: nothing may escape
        event = {"Records": [{"messageId": f"m-{label}", "body": json.dumps(_message(hour))}]}
        outcome = {}
        response = sqs_batch(event, lambda msg, _r, outcome=outcome: outcome.update(service.crawl(msg)))
        assert response == {"batchItemFailures": []}, f"{kind}/{label}: the worker raised"
        assert outcome["status"] == "degraded", f"{kind}/{label}: {outcome}"
        state = state_table.get_item(Key={"pk": "SOURCE#src", "sk": "STATE"})["Item"]
        assert state["status"] == "degraded" and "parse failed" in state["reason"], (kind, label, state["reason"])

    assert _stored() == before, f"{kind}: a release or snapshot changed"
    health = {row["name"]: row for row in service.source_health()}
    assert health["src"]["status"] == "degraded"
    assert health["src"]["items"] == first["items"]  # the baseline stays the last good crawl's
