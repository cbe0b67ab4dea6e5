"""Example-based tests of the pure normalization helpers, the model, the registry and diff_new."""
from __future__ import annotations

import json
from datetime import date

import pytest

import crawlers
from crawlers.model import EXTRA_KEYS, KEYS, Release, merge
from crawlers.normalize import (
    edition_flags,
    extract_volume,
    isbn10_to_13,
    isbn13_to_10,
    nfkc,
    normalize_isbn,
    normalize_jan,
    parse_date,
    parse_price,
    release_id,
    series_key,
)
from crawlers.snapshot import diff_new

TODAY = date(2022, 3, 26)


@pytest.mark.parametrize("text,expected", [
    ("20170214", "2017-02-14"), ("201811", "2018-11"), ("2017-02", "2017-02"), ("2017-02-14", "2017-02-14"),
    ("2017年02月14日", "2017-02-14"), ("2017年2月", "2017-02"), ("2016年09月上旬", "2016-09"),
    ("2/14/2017", "2017-02-14"), ("02/14/17", "2017-02-14"), ("Jan 4, 2017", "2017-01-04"),
    ("Published: March 1, 2017", "2017-03-01"), ("March 2017", "2017-03"), ("2007.11", "2007-11"),
    ("[2022.9]", "2022-09"), ("１９９０．６", "1990-06"), ("2022/7/29 更新", "2022-07-29"),
    ("配信日：2021/07/22", "2021-07-22"), ("2012", None), ("[19--]", None), ("", None), (None, None),
    ("2017-02-30", None), ("13/45/2017", None),
    ("3/5", "2022-03-05"), ("3月5日", "2022-03-05"), ("12月24日配信", "2021-12-24"), ("4月23日", "2022-04-23"),
])
def test_parse_date(text, expected):
    assert parse_date(text, today=TODAY) == expected


def test_parse_date_latest_is_for_past_lists():
    assert parse_date("4月23日配信", latest=TODAY) == "2021-04-23"
    assert parse_date("3月26日", latest=TODAY) == "2022-03-26"


@pytest.mark.parametrize("title,series,volume", [
    ("ONE PIECE 第3巻", "ONE PIECE", "3"), ("ONE PIECE（２１）", "ONE PIECE", "21"), ("Naruto (21)", "Naruto", "21"),
    ("ハイキュー!! 3巻", "ハイキュー!!", "3"), ("Saga Vol. 3", "Saga", "3"), ("SAGA TP VOL 04", "SAGA", "4"),
    ("Nailbiter #17", "Nailbiter", "17"), ("HEARTBEAT #1 (OF 5) (MR)", "HEARTBEAT", "1"),
    ("劇場版 名探偵コナン 紺碧の棺 上", "劇場版 名探偵コナン 紺碧の棺", "上"), ("鬼滅の刃 前編", "鬼滅の刃", "前編"),
    ("下巻", "", "下"), ("第二十一話", "", "21"), ("LBX激闘列伝プラモ戦機改（第2巻）", "LBX激闘列伝プラモ戦機改", "2"),
    ("黄泉のツガイ. 1", "黄泉のツガイ", "1"), ("ワンパンマン 1 (一撃)", "ワンパンマン", "1"),
    ("ZOMBIES VS ROBOTS ANNUAL 2012", "ZOMBIES VS ROBOTS ANNUAL 2012", None), ("", "", None),
])
def test_extract_volume(title, series, volume):
    assert extract_volume(title) == (series, volume)


@pytest.mark.parametrize("title,flags", [
    ("FIREFLY #14 CVR B PREORDER KAMBADAIS VAR", ("variant",)), ("FIREFLY #14 CVR A MAIN ASPINALL", ()),
    ("JUSTICE LEAGUE #1 8TH PTG", ("printing",)), ("ブルーピリオド（1）実写映画化記念特装版", ("special-edition",)),
    ("五等分の花嫁 14巻 限定版", ("limited-edition",)), ("呪術廻戦 0 同梱版", ("bundle",)),
    ("NARUTO BOX SET 1", ("box-set",)), ("地縛少年 花子くん 1巻～3巻バリューパック", ("value-pack",)),
    ("HACK SLASH OMNIBUS TP VOL 04", ("omnibus", "tp")), ("BATMAN ARCHIVES HC VOL 08", ("hc",)),
    ("WALKING DEAD #98 (MR)", ("mature",)),
])
def test_edition_flags(title, flags):
    assert edition_flags(title) == flags


def test_series_key_matches_spellings():
    assert series_key("ONE PIECE") == series_key("One Piece") == series_key("ＯＮＥ　ＰＩＥＣＥ") == "onepiece"
    assert series_key("ONE PIECE 特装版") == "onepiece"
    assert series_key("Spider-Man") == series_key("SPIDER MAN")
    assert series_key("Mr. Miracle") == "mrmiracle"


def test_isbn_and_jan():
    assert isbn10_to_13("4-09-124875-6") == "9784091248756"
    assert isbn13_to_10("9784091248756") == "4091248756"
    assert isbn13_to_10("9791234567896") is None  # 979 ISBNs have no ISBN-10
    assert normalize_isbn("4-09-115381-X") == "9784091153814"
    assert normalize_isbn("ISBN978-4-09-850109-0") == "9784098501090"
    assert normalize_isbn("9784098501091") is None  # check digit off by one
    assert normalize_jan("4910193011232") == "4910193011232" and normalize_jan("4910193011233") is None


@pytest.mark.parametrize("text,expected", [
    ("$3.99", ("3.99", "USD")), ("¥660", ("660", "JPY")), ("660円", ("660", "JPY")), ("660円(税込)", ("660", "JPY")),
    ("本体1,320円+税", ("1320", "JPY")), ("$PI", (None, None)), ("PI", (None, None)), ("$20.00", ("20", "USD")),
])
def test_parse_price(text, expected):
    assert parse_price(text) == expected


def test_release_id_precedence():
    assert release_id("x", isbn="4-09-124875-6", jan="4910193011232", item_code="C") == "isbn:9784091248756"
    assert release_id("x", isbn="bad", jan="4910193011232") == "jan:4910193011232"
    assert release_id("x", jan="9784091248756") == "isbn:9784091248756"  # a 978 JAN is the ISBN
    assert release_id("previewsworld", item_code="FEB200016") == "previewsworld:FEB200016"
    assert release_id("x", series="One Piece", volume="３") == "x:onepiece:3"
    with pytest.raises(ValueError):
        release_id("x")


def test_nfkc():
    assert nfkc("ＯＮＥ　ＰＩＥＣＥ（２１）\n") == "ONE PIECE(21)"
    assert nfkc(None) is None


def _rel(**kw):
    return Release(**{"id": "isbn:9784091248756", "source": "ndl", **kw})


def test_release_dict_round_trip_and_keys():
    r = _rel(title="t", flags=("tp",), price="7.99", source_refs=("ndl:1",))
    d = r.to_dict()
    assert list(d) == [*KEYS, "source_refs", *EXTRA_KEYS] and len(KEYS) == 15
    assert json.loads(json.dumps(d)) == d
    assert Release.from_dict(d) == r


def test_merge_same_isbn_from_two_sources():
    a = _rel(title="劇場版名探偵コナン世紀末の魔術師 上巻", price="781", currency="JPY", source_refs=("ndl:X",))
    b = Release(id=a.id, source="openbd", title="other title", publisher="小学館", cover_url="https://c/x.jpg",
                price="800", currency="JPY", flags=("tp",), source_refs=("openbd:9784091248756",))
    m = merge(a, b)
    assert m.title == a.title and m.price == "781"  # earliest-seen wins
    assert (m.publisher, m.cover_url, m.flags) == ("小学館", "https://c/x.jpg", ("tp",))
    assert m.source_refs == ("ndl:X", "openbd:9784091248756") and m.source == "ndl"
    with pytest.raises(ValueError):
        merge(a, _rel(id="isbn:9784098501090"))


def test_diff_new():
    a, b, c = (Release(id=f"s:{i}", source="s") for i in "abc")
    assert diff_new([a, b], [b, c, c]) == [c]
    assert diff_new([], [a]) == [a] and diff_new([a], []) == []


def test_registry():
    assert set(crawlers.SOURCES) == {"previewsworld", "imagecomics", "ndl", "openbd", "rakuten", "comicwalker",
                                     "newtype", "sundaywebry", "feed", "html", "json", "table"}
    for name, mod in crawlers.SOURCES.items():
        assert name == mod.NAME and callable(mod.parse) and callable(mod.plan) and mod.DESCRIPTION
    assert crawlers.get_source("ndl").NAME == "ndl"
    with pytest.raises(KeyError):
        crawlers.get_source("nope")
    assert crawlers.parse("openbd", b"[null]") == []
