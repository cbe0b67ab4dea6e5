"""openBD and Rakuten Books JSON (real captures). Values read off the JSON files."""
from __future__ import annotations

import json

import pytest

from crawlers import ParseError
from crawlers.snapshot import diff_new
from crawlers.sources import openbd, rakuten
from devstack.samples import read_sample
from tests.unit.crawlers.crawlers_testkit import OPENBD, RAKUTEN, by_id

EARLY = "tools-labo_book-scout__lane2_cache_openbd__b804571_2026-02-09.json"
MIDDLE = "tools-labo_book-scout__lane2_cache_openbd__a44636c_2026-02-11-middle.json"
KAWAX = "kawax_laravel-openbd__tests_stubs_get_9784780802047.json"


def test_openbd_cache_counts_skip_nulls():
    assert len(openbd.parse(read_sample(OPENBD, EARLY))) == 3
    middle = openbd.parse(read_sample(OPENBD, MIDDLE))
    assert len(middle) == 18  # 21 keys, 3 of them null
    assert "isbn:9784592842019" not in by_id(middle)  # a null entry


def test_openbd_growth_diff():
    early, middle = json.loads(read_sample(OPENBD, EARLY)), json.loads(read_sample(OPENBD, MIDDLE))
    expected = {f"isbn:{k}" for k, v in middle.items() if v is not None} - {f"isbn:{k}" for k in early}
    got = diff_new(openbd.parse(read_sample(OPENBD, EARLY)), openbd.parse(read_sample(OPENBD, MIDDLE)))
    assert {r.id for r in got} == expected and len(got) == 15


def test_openbd_fields_title_wins_over_summary_volume():
    recs = by_id(openbd.parse(read_sample(OPENBD, MIDDLE)))
    vagabond = recs["isbn:9784063286199"]  # title "バガボンド. 1", summary.volume "619" (the imprint number)
    assert (vagabond.series, vagabond.volume) == ("バガボンド", "1")
    bluelock = recs["isbn:9784065134009"]  # "ブルーロック = BLUELOCK. 1", pubdate 201811, PriceAmount 440
    assert (bluelock.series, bluelock.volume, bluelock.release_date) == ("ブルーロック", "1", "2018-11")
    assert (bluelock.price, bluelock.currency, bluelock.publisher) == ("440", "JPY", "講談社")
    frieren = recs["isbn:9784098501809"]  # "葬送のフリーレン = FRIEREN. VOL.1"
    assert (frieren.series, frieren.volume) == ("葬送のフリーレン", "1")
    horimiya = recs["isbn:9784757570603"]  # "ホリミヤ TVアニメ化記念 1巻～3巻 ﾊﾞﾘｭｰﾊﾟｯｸ", pubdate 20201221
    assert horimiya.volume == "1-3" and "value-pack" in horimiya.flags and horimiya.release_date == "2020-12-21"
    assert "special-edition" in recs["isbn:9784065368381"].flags  # ブルーピリオド（1）実写映画化記念特装版
    assert recs["isbn:9784065368381"].volume == "1"


def test_openbd_raw_api_array():
    (rec,) = openbd.parse(read_sample(OPENBD, KAWAX))
    assert (rec.id, rec.title, rec.publisher, rec.release_date) == (
        "isbn:9784780802047", "おにぎりレシピ101", "ポット出版", "2014-04-08")
    assert rec.cover_url == "https://cover.openbd.jp/9784780802047.jpg" and rec.price == "1300"


def test_openbd_wrong_shapes_raise():
    body = read_sample(OPENBD, MIDDLE)
    with pytest.raises(ParseError):
        openbd.parse(body[: len(body) // 2])  # truncated JSON
    with pytest.raises(ParseError):
        openbd.parse(b'{"error": "not found"}')
    with pytest.raises(ParseError):
        openbd.parse(read_sample("ndl-opensearch", "remix-practice__response0_zero-hits.DERIVED.xml"))


def test_openbd_plan_batches_valid_isbns():
    assert openbd.plan({"isbns": ["4-09-124875-6", "9784065134009", "bad"]}) == [
        "https://api.openbd.jp/v1/get?isbn=9784091248756,9784065134009"]


RK_2013 = "rws-ruby-sdk__books_book_search_with_keyword_Ruby__e4afe5b_2013.json"
RK_2016 = "rws-ruby-sdk__books_book_search_with_keyword_Ruby__edd041a_2016.json"
RK_TOTAL = "rws-ruby-sdk__books_total_search_with_keyword_Ruby__6ff5f83.json"


@pytest.mark.parametrize("name", [RK_2013, RK_2016, RK_TOTAL])
def test_rakuten_counts(name):
    assert len(rakuten.parse(read_sample(RAKUTEN, name))) == 30  # hits 30 in each file


def test_rakuten_comics_fields():
    lbx = by_id(rakuten.parse(read_sample(RAKUTEN, RK_2013)))["isbn:9784091416582"]
    assert (lbx.series, lbx.volume, lbx.release_date) == ("LBX激闘列伝プラモ戦機改", "2", "2013-07-26")
    assert (lbx.price, lbx.currency, lbx.publisher) == ("420", "JPY", "小学館")
    poke = by_id(rakuten.parse(read_sample(RAKUTEN, RK_2016)))["isbn:9784091422354"]
    assert (poke.volume, poke.release_date, poke.price) == ("3", "2016-09-28", "463")


def test_rakuten_total_search_jan_items():
    recs = by_id(rakuten.parse(read_sample(RAKUTEN, RK_TOTAL)))
    suumo = recs["jan:4910193011232"]  # a magazine: isbn "", jan 4910193011232, salesDate 2013年10月30日
    assert suumo.jan == "4910193011232" and suumo.release_date == "2013-10-30"
    assert recs["jan:4528189314009"].isbn13 is None  # bargain book: EAN in the "isbn" field
    assert recs["isbn:9784522431757"].release_date == "2013-03"  # "2013年03月"


def test_rakuten_flat_format_version_2():
    # Hand-made: formatVersion 2 (flat Items) is only in the heldout set; same fields as the 2016 item.
    body = json.dumps({"count": 1, "Items": [{"title": "ポケットモンスターSPECIAL Ωルビー・αサファイア 3",
                                             "isbn": "9784091422354", "salesDate": "2016年09月28日",
                                             "itemPrice": 463, "publisherName": "小学館",
                                             "itemUrl": "http://books.rakuten.co.jp/rb/14382742/"}]}).encode()
    (flat,) = rakuten.parse(body)
    nested = by_id(rakuten.parse(read_sample(RAKUTEN, RK_2016)))["isbn:9784091422354"]
    assert (flat.id, flat.volume, flat.release_date, flat.price) == (nested.id, nested.volume, nested.release_date, nested.price)


def test_rakuten_wrong_shapes_raise():
    with pytest.raises(ParseError):
        rakuten.parse(b'{"error": "wrong_parameter", "error_description": "specify valid applicationId"}')
    with pytest.raises(ParseError):
        rakuten.parse(read_sample(RAKUTEN, RK_2013)[:1000])


def test_rakuten_plan():
    (url,) = rakuten.plan({"application_id": "APP", "title": "ワンピース"})
    assert "applicationId=APP" in url and "sort=-releaseDate" in url and "booksGenreId=001001" in url
    assert url.startswith("https://openapi.rakuten.co.jp/services/api/BooksBook/Search/")  # the 2026 host
    with pytest.raises(ValueError):
        rakuten.plan({"title": "x"})


def test_rakuten_item_with_only_a_title_names_no_source_ref():
    # Hand-made: an item with no ISBN, JAN or itemUrl (no sample has one); it used to get "rakuten:None".
    body = json.dumps({"count": 2, "Items": [{"title": "ワンピース 108"},
                                             {"title": "ワンピース 107", "isbn": "9784088836287"}]}).encode()
    bare, with_isbn = rakuten.parse(body)
    assert bare.source_refs == () and bare.volume == "108"
    assert with_isbn.source_refs == ("rakuten:9784088836287",)
