"""Issue 12, point 7 through the real crawl worker (moto + a local HTTP peer): a row with irregular
whitespace is read, an unreadable row is skipped and counted without losing the list, too many bad
rows degrade the source, and a >2 KB title no longer stops the source's releases from being stored
(DynamoDB item cut, S3 snapshot full). Bodies are real sample weeks with rows edited in the test."""
from __future__ import annotations

import json
import re

from devstack.samples import read_sample
from tests.integration.crawl.test_crawl_pipeline import WEEK1, message, release_count

ROW = re.compile(rb"^([A-Z]{3}\d{6})\t([^\t\r\n]*)\t([^\t\r\n]*)(?=[\r\n]|\Z)", re.M)


def _week_rows() -> tuple[bytes, list[re.Match[bytes]]]:
    body = read_sample(*WEEK1)
    return body, list(ROW.finditer(body))


def _replace(body: bytes, row: re.Match[bytes], new: bytes) -> bytes:
    return body[: row.start()] + new + body[row.end():]


def test_space_before_tab_is_read_and_a_junk_row_is_skipped(service, site):
    body, rows = _week_rows()
    spaced, junk = rows[10], rows[20]
    # the Diamond row from the issue: "CODE \tTITLE\t$PRICE"; and a row no layout can read
    body = _replace(body, junk, junk[1] + b" ???")
    body = _replace(body, spaced, spaced[1] + b" \t" + spaced[2] + b" \t " + spaced[3])
    site.body = body
    codes = {m[1] for m in rows}
    outcome = service.crawl(message())
    assert outcome["new"] == len(codes) - 1 == release_count()
    from chalicelib.bootstrap import release_queries

    got = release_queries().get(f"previewsworld:{spaced[1].decode()}")
    assert got is not None and got["title"].startswith(spaced[2].decode().strip()[:20])
    assert release_queries().get(f"previewsworld:{junk[1].decode()}") is None
    # the skipped row is counted in the source's state and on /sources (OpenAPI Source schema)
    from chalicelib import aws
    from chalicelib.settings import get_settings
    from tests.integration.api.api_testkit import assert_schema

    state = aws.table(get_settings().state_table).get_item(Key={"pk": "SOURCE#pw", "sk": "STATE"})["Item"]
    assert state["skipped_rows"] == 1 and state["status"] == "ok"
    (pw,) = [s for s in service.source_health() if s["name"] == "pw"]
    assert pw["skipped_rows"] == 1 and pw["items"] == len(codes) - 1
    assert_schema({"sources": service.source_health()}, "SourceList")
    # the same list again (unchanged: no parse) keeps the count; a clean list sets it back to 0
    service.crawl(message("2020-02-19T11:00Z"))
    assert [s["skipped_rows"] for s in service.source_health() if s["name"] == "pw"] == [1]
    site.body = read_sample(*WEEK1)
    service.crawl(message("2020-02-19T12:00Z"))
    assert [s["skipped_rows"] for s in service.source_health() if s["name"] == "pw"] == [0]


def test_too_many_bad_rows_degrade_the_source_and_keep_what_was_stored(service, site):
    body, rows = _week_rows()
    site.body = body
    service.crawl(message())
    stored = release_count()
    for row in reversed(rows[: len(rows) // 3]):  # a third of the rows broken: above the 20 % default
        body = _replace(body, row, row[1] + b" broken")
    site.body = body
    outcome = service.crawl(message("2020-02-19T11:00Z"))
    assert outcome["status"] == "degraded"
    from chalicelib import aws
    from chalicelib.settings import get_settings

    state = aws.table(get_settings().state_table).get_item(Key={"pk": "SOURCE#pw", "sk": "STATE"})["Item"]
    assert f"{len(rows) // 3} of {len(rows)} rows unreadable" in json.dumps(state, default=str)
    assert release_count() == stored


def test_a_title_over_2kb_is_cut_in_dynamodb_and_full_in_the_snapshot(service, site):
    import boto3

    from chalicelib.bootstrap import release_queries
    from chalicelib.settings import get_settings

    body, rows = _week_rows()
    long_row = rows[0]
    long_title = b"AN EXTREMELY LONG TITLE " * 120 + b"#1"  # ~2.9 KB: past DynamoDB's 2048-byte key
    site.body = _replace(body, long_row, long_row[1] + b"\t" + long_title + b"\t$3.99")
    outcome = service.crawl(message())
    codes = {m[1] for m in rows}
    assert outcome["new"] == len(codes) == release_count()  # every later release is stored too
    stored = release_queries().get(f"previewsworld:{long_row[1].decode()}")
    assert len(stored["title"]) <= 1000 and stored["title"].endswith("…")
    snap = json.loads(boto3.client("s3").get_object(Bucket=get_settings().data_bucket,
                                                    Key="snapshots/pw/latest.json")["Body"].read())
    full = next(r for r in snap["releases"] if r["id"] == f"previewsworld:{long_row[1].decode()}")
    assert full["title"] == long_title.decode()
