"""The crawl worker against moto (mock_aws) and the shared HTTP peer serving the shared
samples (fixtures in conftest.py): first sighting is new, repeats are no-ops, an unchanged source costs no writes, a
broken page degrades the source without touching stored releases, and it recovers."""
from __future__ import annotations

import re

from devstack.samples import read_sample

WEEK1 = ("previewsworld-newreleases-txt", "slem1_comicspreviews-parser__catalog-2020-02-19__23c5b25.txt")
WEEK2 = ("previewsworld-newreleases-txt", "slem1_comicspreviews-parser__catalog-2020-02-26__23c5b25.txt")
CODE = re.compile(rb"^([A-Z]{3}\d{6})\t", re.M)


class AwsCalls:
    """Counts AWS write requests through botocore's event hooks."""

    WRITES = frozenset({"PutItem", "UpdateItem", "BatchWriteItem", "PutObject", "DeleteItem"})

    def __init__(self) -> None:
        self.calls: list[str] = []

    def attach(self) -> None:
        from chalicelib import aws

        for service in ("dynamodb", "s3"):
            events = (aws.client(service) if service == "s3" else aws.resource(service).meta.client).meta.events
            events.register("before-call.*.*", self._record)

    def _record(self, model, **_kwargs) -> None:
        self.calls.append(model.name)

    @property
    def writes(self) -> int:
        return sum(1 for c in self.calls if c in self.WRITES)


def message(hour: str = "2020-02-19T10:00Z") -> dict:
    return {"schema_version": 1, "source": "pw", "scheduled_at": hour}


def release_count() -> int:
    from chalicelib import aws
    from chalicelib.settings import get_settings

    table = aws.table(get_settings().releases_table)
    return sum(1 for i in table.scan()["Items"] if i["sk"] == "META")


def test_first_crawl_stores_every_item_once_and_repeat_is_free(service, site):
    site.body = read_sample(*WEEK1)
    expected = len(set(CODE.findall(site.body)))
    first = service.crawl(message())
    assert first["new"] == expected == release_count()

    calls = AwsCalls()
    calls.attach()
    again = service.crawl(message())  # the same message delivered twice
    assert again == {"source": "pw", "unchanged": True, "new": 0}
    assert calls.writes == 0
    assert release_count() == expected


def test_next_week_yields_exactly_the_added_items(service, site):
    site.body = read_sample(*WEEK1)
    service.crawl(message())
    site.body = read_sample(*WEEK2)
    added = set(CODE.findall(site.body)) - set(CODE.findall(read_sample(*WEEK1)))
    outcome = service.crawl(message("2020-02-26T10:00Z"))
    assert outcome["new"] == len(added) > 0


def test_broken_page_degrades_once_keeps_releases_and_recovers(service, site):
    from chalicelib import aws
    from chalicelib.settings import get_settings

    site.body = read_sample(*WEEK1)
    service.crawl(message())
    stored = release_count()
    state_table = aws.table(get_settings().state_table)

    site.body, site.content_type = b"<html><body>We moved! New site soon.</body></html>", "text/html"
    broken = service.crawl(message("2020-02-19T11:00Z"))
    assert broken["status"] == "degraded"
    state = state_table.get_item(Key={"pk": "SOURCE#pw", "sk": "STATE"})["Item"]
    assert state["last_event"]["type"] == "source.degraded"
    assert state["last_event"]["id"] == "source.degraded:pw:2020-02-19T11:00Z"
    assert release_count() == stored

    site.body = site.body + b"<p>still broken</p>"  # a second bad crawl: no second alert
    service.crawl(message("2020-02-19T12:00Z"))
    state = state_table.get_item(Key={"pk": "SOURCE#pw", "sk": "STATE"})["Item"]
    assert state["last_event"]["id"] == "source.degraded:pw:2020-02-19T11:00Z"

    site.body, site.content_type = read_sample(*WEEK1), "text/plain"
    recovered = service.crawl(message("2020-02-19T13:00Z"))
    assert recovered["status"] == "ok" and recovered["new"] == 0
    state = state_table.get_item(Key={"pk": "SOURCE#pw", "sk": "STATE"})["Item"]
    assert state["last_event"]["type"] == "source.recovered"
    health = {row["name"]: row for row in service.source_health()}
    assert health["pw"]["status"] == "ok" and health["pw"]["items"] == stored


def test_raw_body_stored_once_content_addressed(service, site):
    import boto3

    from chalicelib.settings import get_settings

    site.body = read_sample(*WEEK1)
    service.crawl(message())
    # Same body again but forget the fetch state: the raw object is not duplicated.
    from chalicelib import aws

    aws.table(get_settings().state_table).delete_item(Key={"pk": "SOURCE#pw", "sk": "STATE"})
    service.crawl(message("2020-02-19T11:00Z"))
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=get_settings().data_bucket, Prefix="raw/")["Contents"]]
    assert len(keys) == 1
    snaps = boto3.client("s3").list_objects_v2(Bucket=get_settings().data_bucket, Prefix="snapshots/pw/")["Contents"]
    assert {o["Key"] for o in snaps} == {"snapshots/pw/latest.json", "snapshots/pw/2020-02-19.json"}


def test_dispatch_sends_one_message_per_source_keyed_by_schedule_hour(service):
    sent = []
    service.send_message = sent.append
    result = service.dispatch({"time": "2026-11-22T10:37:12Z"})
    assert result["dispatched"] == 1
    assert sent == [{"schema_version": 1, "source": "pw", "scheduled_at": "2026-11-22T10:00Z"}]


# Hand-written: no real feed of releases exists in the samples (their README lists it as a gap);
# one Atom entry naming an ISBN that the real openBD sample also carries.
ATOM_WITH_SHARED_ISBN = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>new books</title><id>urn:x</id><updated>2026-11-01T00:00:00Z</updated>
<entry><title>\xe3\x81\x8a\xe3\x81\xab\xe3\x81\x8e\xe3\x82\x8a\xe3\x83\xac\xe3\x82\xb7\xe3\x83\x94101</title><id>urn:isbn:9784780802047</id>
<link href="http://127.0.0.1/onigiri"/><updated>2026-11-01T00:00:00Z</updated><summary>ISBN 978-4-7808-0204-7</summary></entry>
</feed>"""


def test_same_isbn_from_two_sources_is_one_release_with_two_refs(service, site):
    from chalicelib.bootstrap import release_queries
    from chalicelib.crawl.sources_config import SourceConfig

    service.sources = [SourceConfig("ob", "openbd", (site.url,)), SourceConfig("news", "feed", (site.url,))]
    site.body, site.content_type = read_sample("openbd", "kawax_laravel-openbd__tests_stubs_get_9784780802047.json"), "application/json"
    first = service.crawl({"schema_version": 1, "source": "ob", "scheduled_at": "2026-11-01T10:00Z"})
    site.body, site.content_type = ATOM_WITH_SHARED_ISBN, "application/atom+xml"
    second = service.crawl({"schema_version": 1, "source": "news", "scheduled_at": "2026-11-01T11:00Z"})
    assert (first["new"], second["new"]) == (1, 0)
    assert release_count() == 1
    stored = release_queries().get("isbn:9784780802047")
    assert stored["publisher"] == "ポット出版"  # the first sighting's record is kept
    assert len(stored["source_refs"]) == 2
    assert any(ref.startswith("openbd:") for ref in stored["source_refs"])
