"""Japanese web-manga episode lists (Comic Newtype, Sunday Webry, ComicWalker), real captures."""
from __future__ import annotations

from datetime import date

import pytest

from crawlers import ParseError
from crawlers.snapshot import diff_new
from crawlers.sources import comicwalker, newtype, sundaywebry
from devstack.samples import read_sample
from tests.unit.crawlers.crawlers_testkit import JP, by_id

MARCH, AUGUST = date(2022, 3, 26), date(2022, 8, 12)  # capture commit dates


def nt(name, crawl):
    return newtype.parse(read_sample(JP, name), crawl_date=crawl)


@pytest.mark.parametrize("name,crawl,count", [
    ("rssfly__newtype.fuzoroi__3d3eedb_2022-03.json", MARCH, 18),
    ("rssfly__newtype.fuzoroi__a8c2c33_2022-08.json", AUGUST, 22),
    ("rssfly__newtype.watatsuyo__3d3eedb_2022-03.json", MARCH, 1),
    ("rssfly__newtype.watatsuyo__a8c2c33_2022-08.json", AUGUST, 5),
    ("rssfly__newtype.fuzoroi.html", MARCH, 8),
])
def test_newtype_counts(name, crawl, count):
    recs = nt(name, crawl)
    assert len(recs) == count
    assert all(r.flags == ("episode",) and r.release_date for r in recs)


def test_newtype_both_markups_agree():
    old = by_id(nt("rssfly__newtype.fuzoroi__3d3eedb_2022-03.json", MARCH))
    new = by_id(nt("rssfly__newtype.fuzoroi__a8c2c33_2022-08.json", AUGUST))
    # The March markup has no year ("3月25日配信"); the August one does ("2022/3/25 更新").
    # Resolving year-less dates against the crawl date must give the August capture's dates.
    for rid, rec in old.items():
        assert new[rid].release_date == rec.release_date, rid
        assert new[rid].volume == rec.volume
    assert old["newtype:fuzoroi/170"].release_date == "2022-03-25"
    assert old["newtype:fuzoroi/140"].release_date == "2021-12-24"  # 12月24日配信, previous year
    assert old["newtype:fuzoroi/60"].release_date == "2021-04-09"
    assert old["newtype:fuzoroi/10"].release_date == "2020-11-20"  # two years back
    assert new["newtype:fuzoroi/210"].volume == "21"  # 第二十一話
    assert new["newtype:fuzoroi/120"].volume == "12"  # 第十二話(前編)


@pytest.mark.parametrize("slug,new_ids", [
    ("fuzoroi", {"fuzoroi/210", "fuzoroi/200", "fuzoroi/190", "fuzoroi/180"}),
    ("watatsuyo", {"watatsuyo/1005", "watatsuyo/1004", "watatsuyo/1003", "watatsuyo/1002"}),
])
def test_newtype_new_since_march(slug, new_ids):
    old = nt(f"rssfly__newtype.{slug}__3d3eedb_2022-03.json", MARCH)
    new = nt(f"rssfly__newtype.{slug}__a8c2c33_2022-08.json", AUGUST)
    assert {r.id for r in diff_new(old, new)} == {f"newtype:{i}" for i in new_ids}


def test_newtype_title_page_series_name_and_options():
    page = nt("rssfly__newtype.fuzoroi.html", MARCH)
    assert page[0].series == "不揃いの連理" and page[0].title == "不揃いの連理 第十七話"
    named = newtype.parse(read_sample(JP, "rssfly__newtype.fuzoroi__3d3eedb_2022-03.json"), crawl_date=MARCH,
                          options={"series": "不揃いの連理"})
    assert named[0].series == "不揃いの連理"


def test_sundaywebry():
    recs = sundaywebry.parse(read_sample(JP, "rssfly__sunday_webry.5743.html"), crawl_date=date(2021, 7, 23))
    assert [(r.id, r.volume, r.release_date) for r in recs] == [
        ("sundaywebry:104947", "5", "2021-07-22"), ("sundaywebry:103600", "3", "2021-07-08"),
        ("sundaywebry:102835", "2", "2021-07-01"), ("sundaywebry:102730", "1", "2021-06-24"),
    ]
    assert recs[0].series == "ちょっとだけ抜けちゃう柊さん"
    assert recs[0].url == "https://www.sunday-webry.com/viewer.php?chapter_id=104947"


def test_comicwalker():
    recs = comicwalker.parse(read_sample(JP, "rssfly__comic_walker.KDCW_KS13202228010000_68.html"))
    assert len(recs) == 9  # 全9話
    assert recs[0].id == "comicwalker:KDCW_KS13202228010001_68" and recs[0].volume == "1"
    assert recs[1].volume == "2-1"  # 第2話-1
    latest = recs[-1]
    assert (latest.id, latest.volume, latest.release_date) == ("comicwalker:KDCW_KS13202228010009_68", "5-2", "2021-09-24")
    assert all(r.release_date is None for r in recs[:-1])  # only the latest episode shows a date
    assert latest.series == "クラスの大嫌いな女子と結婚することになった。"


def test_web_manga_wrong_shapes_raise():
    html = read_sample("publisher-release-html", "exqir__imagecomics_releases_nailbiter-30__396e9c8.html")
    for mod in (newtype, sundaywebry, comicwalker):
        with pytest.raises(ParseError):
            mod.parse(html)
    with pytest.raises(ParseError):
        newtype.parse(read_sample(JP, "rssfly__newtype.fuzoroi__a8c2c33_2022-08.json")[:300])
    with pytest.raises(ParseError):
        newtype.parse(b'{"items": []}')


def test_plans():
    assert newtype.plan({"slug": "fuzoroi"}) == ["https://comic.webnewtype.com/contents/fuzoroi/"]
    assert sundaywebry.plan({"title_id": 5743}) == ["https://www.sunday-webry.com/detail.php?title_id=5743"]
    assert comicwalker.plan({"content_id": "KDCW_KS13202228010000_68"}) == [
        "https://comic-walker.com/jp/contents/detail/KDCW_KS13202228010000_68/"]
