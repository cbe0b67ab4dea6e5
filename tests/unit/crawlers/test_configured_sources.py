"""The real sample bodies through the sources as configured for prod (chalicelib/config/sources.yaml):
exact counts, dates and numbers, each checked against the raw body read independently or against the
facts its folder's README states."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

import crawlers
from devstack.samples import read_sample

ROOT = Path(__file__).resolve().parents[3]
TODAY = date(2026, 12, 3)


@pytest.fixture(scope="module")
def configured():
    from chalicelib.crawl.sources_config import load_sources

    return {s.name: s for s in load_sources(ROOT / "chalicelib" / "config" / "sources.yaml")}


def run(configured, name: str, folder: str, file: str):
    source = configured[name]
    return crawlers.parse(source.kind, read_sample(folder, file), crawl_date=TODAY, options=source.crawl_options)


METRON = "metron-api"
KANG_2024 = "mokkari__issue_series_name_Kang__cf13fdb_2024-01-28.DERIVED.json"
KANG_2025 = "mokkari__issue_series_name_Kang__3053a54_2025-10-26.DERIVED.json"
AC_PAGE1 = "mokkari__issue_action-comics-1938_page1__3053a54_2025-10-26.DERIVED.json"
AC_LAST = "mokkari__issue_action-comics-1938_page9-last__3053a54_2025-10-26.DERIVED.json"


def test_metron_schema_change_2024_to_2025(configured):
    old = run(configured, "metron", METRON, KANG_2024)
    new = run(configured, "metron", METRON, KANG_2025)
    raw_old = json.loads(read_sample(METRON, KANG_2024))["results"]
    raw_new = json.loads(read_sample(METRON, KANG_2025))["results"]
    assert (len(old), len(new)) == (len(raw_old), len(raw_new)) == (6, 7)
    # 2024: no store_date in the schema -> no release date (the cover date is not an on-sale date).
    assert all("store_date" not in item for item in raw_old) and all(r.release_date is None for r in old)
    assert [r.release_date for r in new] == [item["store_date"] for item in raw_new]
    # Ids are Metron's issue ids, stable across the schema change: a re-crawl finds exactly the added issue.
    added = {r.id for r in new} - {r.id for r in old}
    assert len(added) == 1
    kanga = next(r for r in new if r.id in added)
    assert kanga.release_date == "2025-05-03" and kanga.title.startswith("Kanga-U: Tests and Tournaments")
    first = new[0]
    assert (first.id, first.series, first.volume, first.release_date) == (
        "metron:52876", "Avengers: Kang - Time and Time Again", "1", "2005-05-11")


def test_metron_pages_and_next_link(configured):
    from crawlers.sources import jsonapi

    page1, last = run(configured, "metron", METRON, AC_PAGE1), run(configured, "metron", METRON, AC_LAST)
    assert (len(page1), len(last)) == (100, 64)
    options = configured["metron"].crawl_options
    hint = jsonapi.next_page(read_sample(METRON, AC_PAGE1), options=options)
    assert hint["next"].startswith("https://metron.cloud/api/issue/?page=2") and hint["total"] == 864
    assert jsonapi.next_page(read_sample(METRON, AC_LAST), options=options)["next"] is None
    dated = [item for item in json.loads(read_sample(METRON, AC_LAST))["results"] if item.get("store_date")]
    assert sum(1 for r in last if r.release_date) == len(dated) == 54


RAKUTEN = "rakuten-books-api"
RAKUTEN_2026 = "aoton0029_intrahub-mediavault__search_by_author_oda-eiichiro__ca92c20_2026-07.TRANSCRIBED.json"
RAKUTEN_2013 = "rws-ruby-sdk__books_book_search_with_keyword_Ruby__e4afe5b_2013.json"


def test_rakuten_2026_body_comics_only_with_exact_dates_and_prices(configured):
    records = run(configured, "rakuten", RAKUTEN, RAKUTEN_2026)
    items = [w["Item"] for w in json.loads(read_sample(RAKUTEN, RAKUTEN_2026))["Items"]]
    comics = [i for i in items if any(g.startswith("001001") for g in i["booksGenreId"].split("/"))]
    assert len(items) == 5 and len(records) == len(comics) == 4  # the ZORO novel is left out
    assert [(r.id, r.series, r.volume, r.release_date, r.price, r.currency) for r in records] == [
        (f"isbn:{i['isbn']}", "ONE PIECE", v, d, str(i["itemPrice"]), "JPY")
        for i, v, d in zip(comics, ("115", "114", "113", "110"),
                           ("2026-07-03", "2026-03-04", "2025-11-04", "2024-11-01"), strict=True)
    ]


def test_rakuten_2013_body_keeps_the_two_comics(configured):
    records = run(configured, "rakuten", RAKUTEN, RAKUTEN_2013)
    lbx = next(r for r in records if r.series == "LBX激闘列伝プラモ戦機改")
    assert (lbx.volume, lbx.release_date) == ("2", "2013-07-26")
    assert len(records) == 2


@pytest.mark.parametrize("body, reason", [
    (b'{"errors":{"errorCode":403,"errorMessage":"CLIENT_IP_NOT_ALLOWED"}}', "403 CLIENT_IP_NOT_ALLOWED"),
    (b'{"error":"wrong_parameter","error_description":"specify valid applicationId"}',
     "wrong_parameter: specify valid applicationId"),
])
def test_rakuten_error_shapes_are_a_clear_reason(configured, body, reason):
    """Shapes quoted in the samples README (no error body exists as a file): hand-written here."""
    with pytest.raises(crawlers.ParseError) as err:
        crawlers.parse("json", body, options=configured["rakuten"].crawl_options)
    assert f"API error: {reason}" in str(err.value)


def test_ndl_manga_config_parses_the_ndlsearch_body(configured):
    from crawlers.sources import ndl

    folder, file = "ndl-opensearch", "remix-practice__response2_meitantei-conan.DERIVED.xml"
    records = run(configured, "ndl-manga", folder, file)
    raw = read_sample(folder, file)
    assert raw.count(b"<item>") == 200 and len(records) == 197  # 3 items share an id with another one: merged
    assert ndl.next_page(raw)["total"] == 1736
    assert configured["ndl-manga"].request["params"] == {"ndc": "726.1", "from": "{window_start}",
                                                        "dpid": "iss-ndl-opac", "cnt": 500}


def test_gigaviewer_feed_item_is_an_episode_of_the_channels_series(configured):
    records = run(configured, "gigaviewer-sundaywebry", "gigaviewer-rss",
                  "decatholac-mango__comic-zenon_series-rss_excerpt__ac61e5d_2022-09-23.DERIVED.xml")
    assert [(r.series, r.volume, r.release_date, "episode" in r.flags) for r in records] == [
        ("少年を飼う", "24", "2022-09-23", True), ("少年を飼う", "23", "2022-09-16", True)]
    assert records[0].id == "sundaywebry-giga:zenon:episode:316112896807373046"


def test_every_disabled_source_says_why_and_gone_ones_are_off(configured):
    for source in configured.values():
        assert source.enabled or source.disabled_reason, source.name
    for gone in ("previewsworld", "previewsworld-upcoming", "newtype", "comicwalker-old", "sundaywebry-old",
                 "kadocomi", "hanmoto", "comiclist", "lunar", "prh-comics"):
        assert not configured[gone].enabled
    assert "openapi.rakuten.co.jp" in configured["rakuten"].urls[0]
