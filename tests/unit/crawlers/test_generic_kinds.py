"""The generic kinds on shapes the samples do not cover. Every inline body here is hand-written (and
says so); real bodies are used where one exists."""
from __future__ import annotations

import io
import zipfile

import pytest

import crawlers
from devstack.samples import read_sample

# --- feed ---------------------------------------------------------------------------------------

# Hand-written: RSS 1.0 (RDF), one item with only a description, ISBN-13 in dc:identifier.
RSS1 = """<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://pub.example/new.rdf"><title>新刊</title><link>https://pub.example/</link>
<description>d</description></channel>
<item rdf:about="https://pub.example/b/1"><title>ダンジョン飯 14</title><link>https://pub.example/b/1</link>
<dc:identifier>ISBN978-4-04-737847-6</dc:identifier><dc:date>2026-12-15</dc:date></item>
<item rdf:about="https://pub.example/b/2"><link>https://pub.example/b/2</link>
<description>&lt;p&gt;葬送のフリーレン 15巻&lt;/p&gt;</description><dc:date>2026-12-18</dc:date></item>
</rdf:RDF>""".encode()

# Hand-written: RSS 0.91 with the ISBN only in the guid, Atom with the ISBN only in <id> (issue 16, 7).
RSS091 = b"""<?xml version="1.0"?><rss version="0.91"><channel><title>t</title>
<item><title>A book</title><link>https://pub.example/x</link><guid>urn:isbn:9784088820002</guid></item>
</channel></rss>"""
ATOM_ID_ONLY = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>n</title>
<id>urn:x</id><updated>2026-11-01T00:00:00Z</updated><entry><title>Untitled volume</title>
<id>urn:isbn:978-4-7808-0204-7</id><updated>2026-11-01T00:00:00Z</updated></entry></feed>"""


def test_rss_1_0_with_identifier_and_description_only_item():
    records = crawlers.parse("feed", RSS1, options={"source_name": "pub"})
    assert [(r.id, r.series, r.volume, r.release_date) for r in records] == [
        ("isbn:9784047378476", "ダンジョン飯", "14", "2026-12-15"),
        ("pub:https://pub.example/b/2", "葬送のフリーレン", "15", "2026-12-18"),
    ]
    assert records[1].title == "葬送のフリーレン 15巻"


def test_isbn_only_in_the_feed_id_keys_the_release():
    assert crawlers.parse("feed", RSS091)[0].id == "isbn:9784088820002"
    atom = crawlers.parse("feed", ATOM_ID_ONLY)[0]
    assert (atom.id, atom.isbn13) == ("isbn:9784780802047", "9784780802047")


def test_gigaviewer_series_from_option_or_item_description():
    body = read_sample("gigaviewer-rss", "decatholac-mango__comic-zenon_series-rss_excerpt__ac61e5d_2022-09-23.DERIVED.xml")
    by_option = crawlers.parse("feed", body, options={"series": "少年を飼う", "episodes": True})
    by_description = crawlers.parse("feed", body, options={"series_from": "description", "episodes": True})
    plain = crawlers.parse("feed", body)
    assert [(r.series, r.volume) for r in by_option] == [("少年を飼う", "24"), ("少年を飼う", "23")]
    assert [(r.series, r.volume) for r in by_description] == [("少年を飼う", "24"), ("少年を飼う", "23")]
    assert plain[0].series != "少年を飼う"  # without the option the title is all there is


# --- html with embedded JSON ---------------------------------------------------------------------

# Hand-written: a Next.js page (no real __NEXT_DATA__ body is in the samples).
NEXT_PAGE = """<html><body><div id="__next"></div><script id="__NEXT_DATA__" type="application/json">
{"props":{"pageProps":{"work":{"title":"異世界おじさん","episodes":[
{"id":"KC_1_E","title":"第60話","publishedAt":"2026-11-28T03:00:00Z"},
{"id":"KC_2_E","title":"第61話","publishedAt":"2026年12月26日頃"}]}}}}
</script></body></html>""".encode()


def test_next_data_items_and_fields():
    records = crawlers.parse("html", NEXT_PAGE, options={
        "embedded": "next_data", "source_name": "kadocomi", "items": "props.pageProps.work.episodes",
        "fields": {"title": "title", "code": "id", "release_date": "publishedAt"}})
    assert [(r.id, r.volume, r.release_date) for r in records] == [
        ("kadocomi:KC_1_E", "60", "2026-11-28"), ("kadocomi:KC_2_E", "61", "2026-12-26")]


def test_ld_json_from_a_real_page():
    body = read_sample("jp-publisher-web-manga-html", "rssfly__newtype.fuzoroi.html")
    records = crawlers.parse("html", body, options={
        "embedded": "ld+json", "source_name": "nt", "items": "[].itemListElement[].item",
        "fields": {"title": "name", "code": '"@id"'}})
    assert [r.title for r in records] == ["コミックNewtype", "配信作品一覧", "不揃いの連理"]
    assert records[2].id == "nt:https://comic.webnewtype.com/contents/fuzoroi/"


def test_embedded_json_missing_is_a_shape_change():
    with pytest.raises(crawlers.ParseError, match="__NEXT_DATA__"):
        crawlers.parse("html", b"<html><body>moved</body></html>", options={"embedded": "next_data", "items": "x"})


# --- table ---------------------------------------------------------------------------------------

COLUMNS = {"code": "Item Code", "title": "Title", "release_date": "Release Date", "price": "MSRP",
           "publisher": "Publisher", "jan": "UPC"}


def test_csv_and_tsv_with_a_column_mapping():
    # Hand-written: no distributor product file is in the samples.
    csv_body = (b"Item Code,Title,Release Date,MSRP,Publisher,UPC\n"
                b"1025DC0001,Batman #160,10/29/2025,$4.99,DC Comics,76194138461916011\n"
                b"1025IM0002,Saga #70,2025-10-29,3.99,Image Comics,\n\n")
    tsv_body = csv_body.replace(b",", b"\t")
    for body in (csv_body, tsv_body):
        records = crawlers.parse("table", body, options={"source_name": "lunar", "columns": COLUMNS, "currency": "USD"})
        assert [(r.id, r.series, r.volume, r.release_date, r.price, r.currency, r.publisher) for r in records] == [
            ("lunar:1025DC0001", "Batman", "160", "2025-10-29", "4.99", "USD", "DC Comics"),
            ("lunar:1025IM0002", "Saga", "70", "2025-10-29", "3.99", "USD", "Image Comics"),
        ]


def _xlsx(rows: list[list[object]]) -> bytes:
    """A minimal XLSX written here (hand-made: shared strings, an inline string, numbers)."""
    strings: list[str] = []
    cells = []
    for r, row in enumerate(rows, start=1):
        out = []
        for c, value in enumerate(row):
            ref = f"{chr(65 + c)}{r}"
            if isinstance(value, str) and value.startswith("inline:"):
                out.append(f'<c r="{ref}" t="inlineStr"><is><t>{value[7:]}</t></is></c>')
            elif isinstance(value, str):
                strings.append(value)
                out.append(f'<c r="{ref}" t="s"><v>{len(strings) - 1}</v></c>')
            elif value is not None:
                out.append(f'<c r="{ref}"><v>{value}</v></c>')
        cells.append(f'<row r="{r}">{"".join(out)}</row>')
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("xl/workbook.xml", f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
                                      f'<sheet name="Products" sheetId="1" r:id="rId7"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels",
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId7" Type="x" Target="worksheets/products.xml"/></Relationships>')
        z.writestr("xl/sharedStrings.xml", f'<sst xmlns="{main}">' + "".join(f"<si><t>{s}</t></si>" for s in strings)
                   + "</sst>")
        z.writestr("xl/worksheets/products.xml", f'<worksheet xmlns="{main}"><sheetData>{"".join(cells)}'
                                                 "</sheetData></worksheet>")
    return buffer.getvalue()


def test_xlsx_without_a_spreadsheet_library():
    body = _xlsx([
        ["Item Code", "Title", "Release Date", "MSRP", "Publisher", "UPC"],
        ["1025DC0001", "Batman #160", 45959, 4.99, "DC Comics", None],  # 45959 = 2025-10-29 (Excel serial)
        ["1025IM0002", "inline:Saga #70", "2025-10-29", 3.99, "Image Comics", None],
    ])
    records = crawlers.parse("table", body, options={"source_name": "lunar", "columns": COLUMNS, "currency": "USD"})
    assert [(r.id, r.title, r.release_date, r.price) for r in records] == [
        ("lunar:1025DC0001", "Batman #160", "2025-10-29", "4.99"),
        ("lunar:1025IM0002", "Saga #70", "2025-10-29", "3.99"),
    ]


def test_table_header_changed_is_a_shape_change():
    with pytest.raises(crawlers.ParseError, match="header row lacks"):
        crawlers.parse("table", b"Code,Name\n1,x\n", options={"columns": COLUMNS})
    with pytest.raises(crawlers.ParseError, match="not a readable XLSX"):
        crawlers.parse("table", b"PK\x03\x04garbage", options={"columns": COLUMNS, "format": "xlsx"})


def test_real_csv_without_header_by_position_and_code_pattern():
    import re

    body = read_sample("previewsworld-newreleases-csv", "vokurka_comics__raw_Export_csv_releaseDate_2017-02-22.csv")
    records = crawlers.parse("table", body, options={
        "source_name": "pw", "header": False, "columns": {"code": 1, "title": 2, "price": 3},
        "code_pattern": r"^[A-Z]{3}\d{6}$", "currency": "USD"})
    codes = set(re.findall(rb"^([A-Z]{3}\d{6}),", body, re.M))
    assert len(records) == len(codes) > 100
    first = next(r for r in records if r.id == "pw:DEC160107")
    assert (first.title, first.series, first.volume, first.price, first.currency) == (
        "ALIENS VS PREDATOR LIFE AND DEATH #3", "ALIENS VS PREDATOR LIFE AND DEATH", "3", "3.99", "USD")


def test_xlsx_zip_bomb_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:  # hand-made: 60 MB of zeros
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * 60_000_000)
    with pytest.raises(crawlers.ParseError, match="unpacks to more than"):
        crawlers.parse("table", buffer.getvalue(), options={"columns": COLUMNS})


def test_html_next_link_hint():
    from crawlers.sources import declarative

    page = b'<html><body><ul class="pager"><li><a rel="next" href="?page=3">next</a></li></ul></body></html>'  # hand-written
    assert declarative.next_page(page, url="https://pub.example/list?page=2") == {
        "next": "https://pub.example/list?page=3"}
    assert declarative.next_page(b"<html><body>last</body></html>", url="https://pub.example/list") == {}
    custom = declarative.next_page(b'<a class="more" href="/p/2">more</a>', url="https://pub.example/",
                                   options={"next": "a.more@href"})
    assert custom == {"next": "https://pub.example/p/2"}
