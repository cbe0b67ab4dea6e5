"""Row handling shared by the list parsers (issue 12, point 7): irregular whitespace is read, a bad
row is skipped and counted, the list fails only above a configurable share of bad rows, and long
values never reach a key. Bodies are real samples with rows edited here."""
from __future__ import annotations

import json
import re

import pytest

import crawlers
from crawlers import ParseError
from crawlers.normalize import (
    MAX_ID_BYTES,
    MAX_SERIES_KEY_BYTES,
    cap_key,
    release_id,
    series_key,
)
from crawlers.rows import ParsedList, split_tab_row
from devstack.samples import read_sample
from tests.unit.crawlers.crawlers_testkit import OPENBD, PW_CSV, PW_TXT, item_codes

WEEK = "slem1_comicspreviews-parser__catalog-2020-02-19__23c5b25.txt"
CSV_WEEK = "vokurka_comics__raw_Export_csv_releaseDate_2017-03-01.csv"
ROW = re.compile(rb"^([A-Z]{3}\d{6})\t([^\t\r\n]*)\t([^\t\r\n]*)(?=[\r\n]|\Z)", re.M)


def _edit(body: bytes, edits: dict[int, bytes]) -> bytes:
    rows = list(ROW.finditer(body))
    for i in sorted(edits, reverse=True):
        body = body[: rows[i].start()] + edits[i] + body[rows[i].end():]
    return body


@pytest.mark.parametrize("line,fields", [
    ("ABC123456 \tTITLE #1\t$3.99", ["ABC123456", "TITLE #1", "$3.99"]),
    ("ABC123456\t\tTITLE #1  \t $3.99", ["ABC123456", "TITLE #1", "$3.99"]),
    ("ABC123456\u00a0\tTITLE\tPI ", ["ABC123456", "TITLE", "PI"]),
])
def test_split_tab_row_tolerates_irregular_whitespace(line, fields):
    assert split_tab_row(line) == fields


def test_diamond_row_with_space_before_tab_is_read():
    body = read_sample(PW_TXT, WEEK)
    row = list(ROW.finditer(body))[5]
    edited = _edit(body, {5: row[1] + b" \t" + row[2] + b"\t" + row[3]})
    got = {r.id: r for r in crawlers.parse("previewsworld", edited)}
    assert len(got) == len(item_codes(PW_TXT, WEEK))
    assert got[f"previewsworld:{row[1].decode()}"].price == row[3].decode().strip("$").rstrip("0").rstrip(".")


def test_unreadable_rows_are_skipped_and_counted():
    body = read_sample(PW_TXT, WEEK)
    rows = list(ROW.finditer(body))
    edited = _edit(body, {3: rows[3][1] + b" no tabs here", 9: rows[9][1] + b"\tonly one field"})
    got = crawlers.parse("previewsworld", edited)
    assert isinstance(got, ParsedList) and got.skipped_rows == 2 and got.read_rows == len(rows) - 2
    ids = {r.id for r in got}
    assert f"previewsworld:{rows[3][1].decode()}" not in ids and f"previewsworld:{rows[4][1].decode()}" in ids
    assert "no tabs here" in got.bad_rows[0]


def test_share_of_bad_rows_is_configurable():
    body = read_sample(PW_TXT, WEEK)
    rows = list(ROW.finditer(body))
    n = len(rows) // 10  # 10 % bad
    edited = _edit(body, {i: rows[i][1] + b" ???" for i in range(n)})
    assert crawlers.parse("previewsworld", edited).skipped_rows == n  # default limit 20 %
    with pytest.raises(ParseError, match=rf"{n} of {len(rows)} rows unreadable"):
        crawlers.parse("previewsworld", edited, options={"max_bad_row_share": 0.05})
    with pytest.raises(ValueError, match="max_bad_row_share"):
        crawlers.parse("previewsworld", edited, options={"max_bad_row_share": "lots"})


def test_csv_week_bad_row_is_skipped():
    body = read_sample(PW_CSV, CSV_WEEK)
    first = re.search(rb"^([A-Z]{3}\d{6}),[^\r\n]*", body, re.M)
    edited = body[: first.start()] + first[1] + b" no commas" + body[first.end():]
    got = crawlers.parse("previewsworld", edited)
    assert got.skipped_rows == 1 and len(got) == len(item_codes(PW_CSV, CSV_WEEK)) - 1


def test_openbd_bad_record_among_real_ones_is_skipped():
    name = "tools-labo_book-scout__lane2_cache_openbd__a44636c_2026-02-11-middle.json"
    data = json.loads(read_sample(OPENBD, name))
    good = len(crawlers.parse("openbd", read_sample(OPENBD, name)))
    key = next(iter(data))
    data[key] = {"summary": {"isbn": "0000000000", "title": "broken"}}  # all-zero ISBN: refused
    got = crawlers.parse("openbd", json.dumps(data).encode())
    assert got.skipped_rows == 1 and len(got) == good - 1


def test_long_values_are_capped_before_keys():
    title = "LONG " * 1000
    rid = release_id("imagecomics", item_code=title)
    assert len(rid.encode()) <= MAX_ID_BYTES and rid == release_id("imagecomics", item_code=title)
    assert rid != release_id("imagecomics", item_code=title + "x")  # the hash keeps them apart
    key = series_key("ワンピース" * 400)
    assert len(key.encode()) <= MAX_SERIES_KEY_BYTES
    assert cap_key("short", 10) == "short" and release_id("x", item_code="C1") == "x:C1"
