"""Image Comics pages (real 2017 captures). Values read off the HTML."""
from __future__ import annotations

import pytest

from crawlers import ParseError
from crawlers.sources import imagecomics
from devstack.samples import read_sample
from tests.unit.crawlers.crawlers_testkit import IMAGE, by_id

ARCHIVE = "exqir__imagecomics_release-archive_series_nailbiter__396e9c8.html"
DETAIL = "exqir__imagecomics_releases_nailbiter-30__396e9c8.html"
SERIES = "exqir__imagecomics_series_nailbiter__396e9c8.html"
SEARCH = "exqir__imagecomics_series_search__396e9c8.html"


def parse(name):
    return imagecomics.parse(read_sample(IMAGE, name), url="https://imagecomics.com/comics/x")


def test_release_archive_lists_issues_30_down_to_11():
    recs = parse(ARCHIVE)
    assert len(recs) == 20
    assert [r.volume for r in recs] == [str(n) for n in range(30, 10, -1)]
    first, last = recs[0], recs[-1]
    assert (first.id, first.title, first.series, first.release_date) == (
        "imagecomics:nailbiter-30", "Nailbiter #30", "Nailbiter", "2017-03-01")
    assert (first.price, first.currency) == ("3.99", "USD")  # "Print: $3.99" (Digital: $1.99 ignored)
    assert (last.id, last.release_date) == ("imagecomics:nailbiter-11", "2015-04-01")
    assert first.cover_url == "https://imagecomics.com/uploads/releases/_small/Nailbiter_30-1.png"


def test_series_page_skips_news_cards():
    recs = by_id(parse(SERIES))
    assert len(recs) == 8  # 8 release cards; the 4 news headlines link to /content/view/
    tp = recs["imagecomics:nailbiter-vol.-6-the-bloody-truth-tp"]
    assert (tp.title, tp.series, tp.volume, tp.release_date, tp.price) == (
        "Nailbiter, Vol. 6: The Bloody Truth Tp", "Nailbiter", "6", "2017-05-03", "14.99")
    assert "tp" in tp.flags
    assert recs["imagecomics:nailbiter-the-murderedtion-deluxe-hc"].flags == ("deluxe", "hc")
    assert recs["imagecomics:nailbiter-27"].release_date == "2016-12-07"


def test_archive_and_series_page_agree_on_ids():
    archive, series = by_id(parse(ARCHIVE)), by_id(parse(SERIES))
    shared = set(archive) & set(series)
    assert shared == {f"imagecomics:nailbiter-{n}" for n in (27, 28, 29, 30)}


def test_search_page_new_releases_widget():
    recs = parse(SEARCH)
    assert len(recs) == 16
    first = recs[0]
    assert (first.id, first.title, first.volume, first.release_date) == (
        "imagecomics:circuit-breaker-5-of-5", "Circuit-Breaker #5 (Of 5)", "5", "2017-04-12")


def test_detail_page_has_diamond_id():
    (rec,) = parse(DETAIL)
    assert (rec.id, rec.title, rec.release_date, rec.diamond_code) == (
        "imagecomics:nailbiter-30", "Nailbiter #30", "2017-03-01", "JAN170746")
    assert rec.url == "https://imagecomics.com/comics/releases/nailbiter-30"


def test_page_with_cards_removed_raises():
    body = read_sample(IMAGE, ARCHIVE).replace(b'class="book"', b'class="gone"')
    with pytest.raises(ParseError):
        imagecomics.parse(body)
    with pytest.raises(ParseError):
        imagecomics.parse(read_sample("openbd", "kawax_laravel-openbd__tests_stubs_get_9784780802047.json"))


def test_plan():
    assert imagecomics.plan({"month": "2017-02"}) == ["https://imagecomics.com/comics/upcoming-releases/2017/2"]
    assert imagecomics.plan({"series": "nailbiter"})[1] == \
        "https://imagecomics.com/comics/release-archive/series/nailbiter"
