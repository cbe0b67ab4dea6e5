"""NDL Search OpenSearch (RSS 2.0 + dcndl fields), host ndlsearch.ndl.go.jp.

Every <item> becomes a record: id `isbn:<13>` when an ISBN is catalogued, else `ndl:<NDLBibID>`
(or the NDL Search record id from the link when there is no NDLBibID). `pubDate` is the catalog
record date, so the release date comes from `dcterms:issued` / `dc:date`.
"""
from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlencode
from xml.etree.ElementTree import Element

from .._text import opt
from ..contract import Options, PageHints
from ..errors import ParseError
from ..model import Release, dedupe
from ..normalize import (
    edition_flags,
    extract_volume,
    nfkc,
    normalize_isbn,
    parse_date,
    parse_price,
    strip_parallel_title,
    text_or_none,
)
from ._build import build_release
from ._xml import parse_xml

NAME = "ndl"
DESCRIPTION = "NDL Search OpenSearch RSS (Japanese national library catalog, by title/publisher/date)"
ENDPOINT = "https://ndlsearch.ndl.go.jp/api/opensearch"

NS = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcndl": "http://ndl.go.jp/dcndl/terms/",
    "dcterms": "http://purl.org/dc/terms/",
    "openSearch": "http://a9.com/-/spec/opensearchrss/1.0/",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
_XSI_TYPE = f"{{{NS['xsi']}}}type"
_LINK_ID = re.compile(r"/books/([^/?#]+)")


def _text(item: Element, path: str) -> str | None:
    el = item.find(path, NS)
    return text_or_none(el.text) if el is not None else None


def _identifiers(item: Element) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {}
    for el in item.findall("dc:identifier", NS):
        kind = (el.get(_XSI_TYPE) or "").split(":")[-1]
        if el.text and el.text.strip():
            ids.setdefault(kind, []).append(el.text.strip())
    return ids


def volume_field(v: str | None) -> str | None:
    """dcndl:volume: '5' / 'Volume 17' / '01(2019.4)' -> number; '上巻' -> '上'; '特別編' kept as is."""
    v = nfkc(v)
    if not v:
        return None
    if m := re.match(r"^(?:vol(?:ume)?\.?\s*)?(\d+)(?!\d)", v, re.I):
        return str(int(m[1]))
    return extract_volume(v)[1] or v


def parse(body: bytes, *, url: str | None = None, crawl_date: date | None = None,
          options: Options | None = None) -> list[Release]:
    root = parse_xml(body, NAME)
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise ParseError(NAME, f"expected <rss><channel>, got <{root.tag}>")
    if channel.find("openSearch:totalResults", NS) is None:
        raise ParseError(NAME, "RSS without openSearch:totalResults: not an NDL OpenSearch response")
    return dedupe([_item(it) for it in channel.findall("item")])


def _item(item: Element) -> Release:
    ids = _identifiers(item)
    isbn = next((i for raw in ids.get("ISBN", []) + ids.get("ISBN13", []) if (i := normalize_isbn(raw))), None)
    link = _text(item, "link")
    bib = next(iter(ids.get("NDLBibID") or []), None)
    if bib is None and link and (m := _LINK_ID.search(link)):
        bib = m[1]
    if bib is None and isbn is None:
        raise ParseError(NAME, "item has neither ISBN nor an NDL id")
    title = _text(item, "dc:title") or _text(item, "title")
    vol_text = _text(item, "dcndl:volume")
    if vol_text:
        series, volume = strip_parallel_title(title or ""), volume_field(vol_text)
    else:
        series, volume = extract_volume(strip_parallel_title(title or ""))
    edition = _text(item, "dcndl:edition")
    price, currency = parse_price(_text(item, "dcndl:price"), default_currency="JPY")
    return build_release(
        NAME, title=title if not vol_text else f"{title} {vol_text}", isbn=isbn, code=bib,
        series=series, volume=volume, ref=bib or isbn,
        flags=edition_flags(" ".join(x for x in (title, vol_text, edition) if x)),
        publisher=_text(item, "dc:publisher"),
        release_date=parse_date(_text(item, "dcterms:issued")) or parse_date(_text(item, "dc:date")),
        price=price, currency=currency, url=link,
    )


_PARAMS = ("title", "creator", "publisher", "isbn", "ndc", "from", "until", "cnt", "idx", "mediatype", "dpid", "any")


def plan(options: Options) -> list[str]:
    """OpenSearch URL from `title`/`creator`/`publisher`/`isbn`/`from`/`until` (YYYY[-MM[-DD]]), cnt=200 by default."""
    if opt(options, "url"):
        return [options["url"]]
    params = {k: str(options[k]) for k in _PARAMS if options.get(k) not in (None, "")}
    if not params:
        raise ValueError("ndl plan needs at least one of: " + ", ".join(_PARAMS))
    params.setdefault("cnt", "200")
    return [f"{ENDPOINT}?{urlencode(params)}"]


def next_page(body: bytes, *, url: str | None = None, options: Options | None = None) -> PageHints:
    """Paging by `idx` (crawlers/session.py offset paging): the total tells where the results end."""
    root = parse_xml(body, NAME)
    total = root.find("channel/openSearch:totalResults", NS)
    return {"total": int(total.text or "")} if total is not None and (total.text or "").strip().isdigit() else {}
