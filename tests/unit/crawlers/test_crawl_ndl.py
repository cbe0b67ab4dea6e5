"""NDL Search OpenSearch RSS (real 2025 responses). Values read off the XML."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from crawlers import ParseError
from crawlers.sources import ndl
from devstack.samples import read_sample
from tests.unit.crawlers.crawlers_testkit import NDL, by_id

CONAN = "remix-practice__response2_meitantei-conan.DERIVED.xml"
BOKEN = "remix-practice__response3_bokenshasakaba.DERIVED.xml"
BASIC = "deno-ndl__opensearch_basic_search_response.xml"


def parse(name):
    return ndl.parse(read_sample(NDL, name))


@pytest.mark.parametrize("name,items,records,merged", [
    # items = <item> count; records = distinct ISBN-or-NDL keys (a few ISBNs are held by two libraries)
    (CONAN, 200, 197, 3), (BOKEN, 200, 197, 3), (BASIC, 200, 195, 5),
])
def test_every_item_becomes_a_record(name, items, records, merged):
    assert read_sample(NDL, name).count(b"<item>") == items
    recs = parse(name)
    assert len(recs) == records
    assert sum(len(r.source_refs) == 2 for r in recs) == merged
    assert sum(len(r.source_refs) for r in recs) == items


def test_zero_hits():
    assert parse("remix-practice__response0_zero-hits.DERIVED.xml") == []


def test_conan_fields():
    recs = by_id(parse(CONAN))
    jo = recs["ndl:R100000128-IB16470619"]  # no ISBN, no NDLBibID: keyed by the NDL Search record id
    assert jo.series == "劇場版アニメコミック 名探偵コナン 紺碧の棺" and jo.volume == "上"
    assert (jo.publisher, jo.release_date, jo.price, jo.currency) == ("小学館", "2007-11", "781", "JPY")
    assert recs["ndl:R100000128-IB16471611"].volume == "下"
    koi = recs["isbn:9784098501090"]  # dc:identifier ISBN 978-4-09-850109-0, NDLBibID 030356244
    assert koi.isbn13 == "9784098501090" and koi.source_refs == ("ndl:030356244",)
    assert (koi.release_date, koi.price) == ("2020-04", "880")
    seikimatsu = recs["isbn:9784091248756"]  # ISBN-10 4-09-124875-6, volume 上巻, price ¥781
    assert (seikimatsu.volume, seikimatsu.price) == ("上", "781")
    special = [r for r in recs.values() if r.volume and r.volume.startswith("特別編")]
    assert len(special) == 6  # dcndl:volume 特別編 x3, 特別編 [3]/[4]/[5]


def test_bad_isbn_checksum_falls_back_to_ndl_id():
    # 1421504414: 1*10+4*9+2*8+1*7+5*6+0*5+4*4+4*3+1*2 = 129; 129 % 11 = 8 -> check digit 3, not 4.
    body = read_sample(NDL, CONAN).decode()
    item = next(it for it in body.split("<item>") if ">1421504414<" in it)
    bib = re.search(r'NDLBibID">([^<]+)<', item) or re.search(r"/books/([^<]+)</link>", item)
    rec = by_id(parse(CONAN))[f"ndl:{bib.group(1)}"]
    assert rec.isbn13 is None


def test_wrong_shapes_raise():
    with pytest.raises(ParseError):
        ndl.parse(read_sample("publisher-release-html", "exqir__imagecomics_releases_nailbiter-30__396e9c8.html"))
    with pytest.raises(ParseError):
        ndl.parse(read_sample(NDL, CONAN)[:5000])  # truncated
    with pytest.raises(ParseError):  # RSS, but not an OpenSearch response (hand-made: no such sample)
        ndl.parse(b"<rss version='2.0'><channel><title>x</title></channel></rss>")


def test_plan_builds_opensearch_query():
    (url,) = ndl.plan({"title": "名探偵コナン", "publisher": "小学館", "from": "2024-01"})
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://ndlsearch.ndl.go.jp/api/opensearch"
    assert parse_qs(parts.query) == {"title": ["名探偵コナン"], "publisher": ["小学館"], "from": ["2024-01"], "cnt": ["200"]}
    with pytest.raises(ValueError):
        ndl.plan({})
