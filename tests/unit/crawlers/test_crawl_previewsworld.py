"""PREVIEWSworld weekly lists (text + CSV) on real downloads. Expected values were read off the files."""
from __future__ import annotations

from itertools import pairwise

import pytest

from crawlers import ParseError
from crawlers.snapshot import diff_new
from crawlers.sources import previewsworld as pw
from devstack.samples import read_sample
from tests.unit.crawlers.crawlers_testkit import PW_CSV, PW_TXT, by_id, item_codes

TXT_COUNTS = {  # item counts from the samples README, re-checked with grep
    "ngsmrk_comix_scraper__new_releases_2012-05-30.rubydump.txt": 341,
    "ngsmrk_comix_scraper__new_releases_2012-05-30.undumped.DERIVED.txt": 341,
    "ngsmrk_comix_scraper__new_releases_2018-10-03.txt": 528,
    "ngsmrk_comix_scraper__upcoming_releases_2012-06-06.rubydump.txt": 94,
    "ngsmrk_comix_scraper__upcoming_releases_2012-06-06.undumped.DERIVED.txt": 94,
    "slem1_comicspreviews-parser__catalog-2020-02-19__23c5b25.txt": 531,
    "slem1_comicspreviews-parser__catalog-2020-02-26__23c5b25.txt": 497,
    "slem1_comicspreviews-parser__catalog-2020-03-04__23c5b25.txt": 405,
    "slem1_comicspreviews-parser__catalog-2020-03-04__40920497_with-C-codes.txt": 405,
    "slem1_comicspreviews-parser__catalog-2020-03-11__23c5b25.txt": 433,
    "slem1_comicspreviews-parser__catalog-2020-03-11__40920497_with-C-codes.txt": 433,
    "slem1_comicspreviews-parser__march_2020-02-19_with-C-codes.txt": 531,
    "theymightbetim_eris__comics_2022-11-02.CRonly.txt": 625,
    "theymightbetim_eris__comics_2022-11-09.CRonly.txt": 527,
}
CSV_COUNTS = {
    "2016-12-21": 583, "2016-12-28": 442, "2017-01-04": 409, "2017-02-22": 480,
    "2017-03-01": 454, "2017-03-08": 454, "2017-03-15": 510, "2017-10-25": 587,
}


def txt(name):
    return pw.parse(read_sample(PW_TXT, name))


def csv(day):
    return pw.parse(read_sample(PW_CSV, f"vokurka_comics__raw_Export_csv_releaseDate_{day}.csv"))


@pytest.mark.parametrize("name,count", sorted(TXT_COUNTS.items()))
def test_text_list_counts_and_ids(name, count):
    records = txt(name)
    assert len(records) == count
    ship = name.split("__")[-1]
    assert {r.diamond_code for r in records} == item_codes(PW_TXT, name) or "rubydump" in name
    assert all(r.id == f"previewsworld:{r.diamond_code}" and r.source_refs == (r.id,) for r in records)
    assert len({r.release_date for r in records}) == 1, ship


@pytest.mark.parametrize("day,count", sorted(CSV_COUNTS.items()))
def test_csv_export_counts_and_ship_date(day, count):
    records = csv(day)
    assert len(records) == count
    assert {r.release_date for r in records} == {day}
    assert {r.diamond_code for r in records} == item_codes(PW_CSV, f"vokurka_comics__raw_Export_csv_releaseDate_{day}.csv")


def test_text_fields_2020_02_19():
    recs = by_id(txt("slem1_comicspreviews-parser__catalog-2020-02-19__23c5b25.txt"))
    # OCT191408<TAB>BUFFY THE VAMPIRE SLAYER TP VOL 02 (C: 0-1-2)<TAB>$14.99, first row under BOOM! STUDIOS
    buffy = recs["previewsworld:OCT191408"]
    assert buffy.title == "BUFFY THE VAMPIRE SLAYER TP VOL 02"
    assert (buffy.series, buffy.volume, buffy.price, buffy.currency) == ("BUFFY THE VAMPIRE SLAYER", "2", "14.99", "USD")
    assert buffy.publisher == "BOOM! STUDIOS" and buffy.release_date == "2020-02-19"
    assert "tp" in buffy.flags
    # DEC190209<TAB>(USE JAN208872) BANG #1 (OF 5) CVR A TORRES<TAB>$3.99 under DARK HORSE COMICS
    bang = recs["previewsworld:DEC190209"]
    assert (bang.series, bang.volume, bang.publisher) == ("BANG", "1", "DARK HORSE COMICS")
    # DEC198457 SOMETHING IS KILLING CHILDREN #1 (6TH PTG); DEC191252 ... CVR B PREORDER KAMBADAIS VAR
    assert "printing" in recs["previewsworld:DEC198457"].flags
    assert "variant" in recs["previewsworld:DEC191252"].flags
    assert "variant" not in recs["previewsworld:DEC191251"].flags  # CVR A MAIN is the regular cover


def test_2012_header_pi_price_and_section_without_blank_line():
    recs = by_id(txt("ngsmrk_comix_scraper__new_releases_2012-05-30.undumped.DERIVED.txt"))
    previews = recs["previewsworld:APR120001"]  # "PREVIEWS #285 JUNE 2012 \tPI" (trailing space, PI price)
    assert previews.title == "PREVIEWS #285 JUNE 2012" and previews.price is None and previews.currency is None
    assert previews.publisher == "PREVIEWS PUBLICATIONS" and previews.release_date == "2012-05-30"
    # "DC COMICS" follows the FEB120014 row with no blank line in between
    assert recs["previewsworld:FEB120014"].publisher == "DARK HORSE COMICS"
    assert recs["previewsworld:FEB120308"].publisher == "DC COMICS"


def test_ruby_dump_equals_its_undumped_copy():
    for stem in ("new_releases_2012-05-30", "upcoming_releases_2012-06-06"):
        dumped = txt(f"ngsmrk_comix_scraper__{stem}.rubydump.txt")
        plain = txt(f"ngsmrk_comix_scraper__{stem}.undumped.DERIVED.txt")
        assert dumped == plain


def test_bare_cr_endings_and_dollar_pi_and_empty_dc_section():
    recs = txt("theymightbetim_eris__comics_2022-11-02.CRonly.txt")
    csn = by_id(recs)["previewsworld:AUG221332"]  # COMIC SHOP NEWS (100CT BUNDLE) #1837 (NET) $PI
    assert csn.price is None and csn.volume == "1837"
    assert not any(r.publisher == "DC COMICS" for r in recs)  # header present, no items under it
    witcher = by_id(recs)["previewsworld:JUN220514"]  # last DARK HORSE row before the empty DC COMICS header
    assert witcher.publisher == "DARK HORSE COMICS" and witcher.title == "WITCHER RONIN TP"


def test_line_endings_do_not_matter():
    body = read_sample(PW_TXT, "slem1_comicspreviews-parser__catalog-2020-03-11__23c5b25.txt")
    crlf = pw.parse(body)
    assert pw.parse(body.replace(b"\r\n", b"\n")) == crlf
    assert pw.parse(body.replace(b"\r\n", b"\r")) == crlf


def test_csv_fields_and_split_on_first_and_last_comma():
    recs = by_id(csv("2017-03-01"))
    baltimore = recs["previewsworld:JAN170105"]  # JAN170105,BALTIMORE THE RED KINGDOM #2,$3.99
    assert (baltimore.series, baltimore.volume, baltimore.price) == ("BALTIMORE THE RED KINGDOM", "2", "3.99")
    assert baltimore.publisher == "DARK HORSE COMICS"
    assert recs["previewsworld:JAN170746"].title == "NAILBITER #30 (MR)"  # the Image detail page's Diamond ID
    # A title with a comma survives (no sample has one: hand-made row in the real layout).
    body = b"New Releases For 3/1/2017\r\n\r\nIMAGE COMICS\r\n\r\nJAN170001,SAGA, VOL 1 TP,$9.99\r\n"
    (rec,) = pw.parse(body)
    assert (rec.title, rec.price, rec.volume) == ("SAGA, VOL 1 TP", "9.99", "1")


def test_c_codes_are_stripped_even_when_truncated():
    recs = by_id(txt("slem1_comicspreviews-parser__catalog-2020-03-04__40920497_with-C-codes.txt"))
    titles = [r.title for r in recs.values()]
    assert "SOMETHING IS KILLING CHILDREN TP VOL 01 DISCOVER NOW" in titles  # was "... (C: 0-1"
    assert not any("(C" in t for t in titles)


WEEKS = ["2020-02-19", "2020-02-26", "2020-03-04", "2020-03-11"]


@pytest.mark.parametrize("old,new", list(pairwise(WEEKS)))
def test_consecutive_weeks_diff(old, new):
    name = "slem1_comicspreviews-parser__catalog-{}__23c5b25.txt"
    expected = item_codes(PW_TXT, name.format(new)) - item_codes(PW_TXT, name.format(old))
    got = diff_new(txt(name.format(old)), txt(name.format(new)))
    assert {r.diamond_code for r in got} == expected
    # Counted by hand with comm(1): no item code repeats between these weeks.
    assert len(got) == {"2020-02-26": 497, "2020-03-04": 405, "2020-03-11": 433}[new]


def test_eris_weeks_diff():
    old = txt("theymightbetim_eris__comics_2022-11-02.CRonly.txt")
    new = txt("theymightbetim_eris__comics_2022-11-09.CRonly.txt")
    assert len(diff_new(old, new)) == 527


@pytest.mark.parametrize("old,new,count", [
    ("2016-12-21", "2016-12-28", 442), ("2016-12-28", "2017-01-04", 409), ("2017-02-22", "2017-03-01", 454),
    ("2017-03-01", "2017-03-08", 454), ("2017-03-08", "2017-03-15", 510),
])
def test_csv_consecutive_weeks_diff(old, new, count):
    expected = item_codes(PW_CSV, f"vokurka_comics__raw_Export_csv_releaseDate_{new}.csv") - item_codes(
        PW_CSV, f"vokurka_comics__raw_Export_csv_releaseDate_{old}.csv")
    got = diff_new(csv(old), csv(new))
    assert {r.diamond_code for r in got} == expected and len(got) == count


@pytest.mark.parametrize("first,again", [
    ("catalog-2020-03-04__23c5b25", "catalog-2020-03-04__40920497_with-C-codes"),
    ("catalog-2020-03-11__23c5b25", "catalog-2020-03-11__40920497_with-C-codes"),
    ("catalog-2020-02-19__23c5b25", "march_2020-02-19_with-C-codes"),
])
def test_redownload_with_changed_titles_is_not_new(first, again):
    a = txt(f"slem1_comicspreviews-parser__{first}.txt")
    b = txt(f"slem1_comicspreviews-parser__{again}.txt")
    raw_a = read_sample(PW_TXT, f"slem1_comicspreviews-parser__{first}.txt")
    raw_b = read_sample(PW_TXT, f"slem1_comicspreviews-parser__{again}.txt")
    assert raw_a != raw_b  # the bodies really differ
    assert diff_new(a, b) == [] and diff_new(b, a) == []


def test_wrong_shapes_raise():
    with pytest.raises(ParseError):
        pw.parse(read_sample("publisher-release-html", "exqir__imagecomics_releases_nailbiter-30__396e9c8.html"))
    with pytest.raises(ParseError):
        pw.parse(b"")
    body = read_sample(PW_TXT, "slem1_comicspreviews-parser__catalog-2020-03-11__23c5b25.txt")
    with pytest.raises(ParseError):  # an item row whose separators were lost
        pw.parse(body.replace(b"DEC191251\t", b"DEC191251 ", 1).replace(b"\t", b" "))


def test_plan_urls():
    assert pw.plan({}) == ["https://www.previewsworld.com/NewReleases/Export?format=txt"]
    assert pw.plan({"format": "csv", "release_date": "2017-03-01"}) == [
        "https://www.previewsworld.com/NewReleases/Export?format=csv&releaseDate=03%2F01%2F2017"]
