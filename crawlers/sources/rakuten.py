"""Rakuten Books API (BooksBook/Search, BooksTotal/Search) JSON.

Both response shapes are accepted: formatVersion 1 `Items: [{"Item": {...}}]` and
formatVersion 2 `Items: [{...}]`. `seriesName` is the label (コロコロコミックス), not the work,
so the series comes from the title.
"""
from __future__ import annotations

from datetime import date
from typing import TypedDict, cast
from urllib.parse import urlencode

from .._text import load_json, opt
from ..contract import Options
from ..errors import ParseError
from ..model import Release, dedupe
from ..normalize import (
    extract_numbering,
    normalize_isbn,
    normalize_jan,
    parse_date,
    parse_price,
    text_or_none,
)
from ..rows import read_each
from ._build import build_release

NAME = "rakuten"
DESCRIPTION = "Rakuten Books API search results (JSON; needs application_id)"
# Since 2026-05 only the openapi host answers (rakuten-ws/rws-ruby-sdk PR #150, 2026-03-04); it also
# wants an access key and Origin/Referer, which only the configured `rakuten` source (kind json,
# chalicelib/config/sources.yaml) sends. This module's parser stays for archived bodies and tests.
ENDPOINTS = {
    "book": "https://openapi.rakuten.co.jp/services/api/BooksBook/Search/20170404",
    "total": "https://openapi.rakuten.co.jp/services/api/BooksTotal/Search/20170404",
}
COMICS_GENRE = "001001"


def parse(body: bytes, *, url: str | None = None, crawl_date: date | None = None,
          options: Options | None = None) -> list[Release]:
    data = load_json(body, NAME)
    if not isinstance(data, dict) or not isinstance(data.get("Items"), list):
        if isinstance(data, dict) and "error" in data:
            raise ParseError(NAME, f"API error: {data.get('error')}: {data.get('error_description')}")
        raise ParseError(NAME, "expected an object with an 'Items' array")
    out, tally = read_each(NAME, data["Items"], _item, options)  # a bad item is skipped and counted
    return tally.finish(dedupe(out))


class Item(TypedDict, total=False):
    """One search result (the fields read here, as in the shared rakuten-books-api samples)."""
    title: str
    isbn: str
    jan: str
    itemPrice: int
    itemUrl: str
    publisherName: str
    label: str
    salesDate: str
    largeImageUrl: str
    mediumImageUrl: str


def _item(wrapped: object) -> Release:
    item = wrapped.get("Item", wrapped) if isinstance(wrapped, dict) else None
    if not isinstance(item, dict) or "title" not in item:
        raise ParseError(NAME, "item without a title")
    return _record(cast(Item, item))  # the JSON boundary: checked just above


def _record(item: Item) -> Release:
    isbn = normalize_isbn(item.get("isbn"))
    # Bargain books carry a non-ISBN EAN (4528...) in the "isbn" field: keep it as the JAN.
    jan = normalize_jan(item.get("jan")) or (None if isbn else normalize_jan(item.get("isbn")))
    title = text_or_none(item.get("title"))
    series, volume, issue = extract_numbering(title or "")
    price, currency = parse_price(item.get("itemPrice"), default_currency="JPY")
    url = text_or_none(item.get("itemUrl"))
    code = url.rstrip("/").rsplit("/", 1)[-1] if url else None
    if not (isbn or jan or code or series):
        raise ParseError(NAME, "item has no ISBN, JAN, itemUrl or title")
    return build_release(
        NAME, title=title, isbn=isbn, jan=jan, code=code, series=series, volume=volume, issue=issue,
        ref=isbn or jan or code,  # none for a title-only item (it was "rakuten:None")
        publisher=text_or_none(item.get("publisherName")) or text_or_none(item.get("label")),
        release_date=parse_date(item.get("salesDate")),
        price=price, currency=currency, url=url,
        cover_url=text_or_none(item.get("largeImageUrl")) or text_or_none(item.get("mediumImageUrl")),
    )


def plan(options: Options) -> list[str]:
    """Search newest first (`sort=-releaseDate`), comics genre by default.

    Options: application_id (required), title / author / publisher / keyword / isbn, booksGenreId,
    api ("book" | "total"), hits (<=30), pages (how many result pages to fetch, default 1).
    """
    app_id = opt(options, "application_id") or opt(options, "applicationId")
    if not app_id:
        raise ValueError("rakuten needs options.application_id")
    api = opt(options, "api", "book")
    params = {"applicationId": str(app_id), "format": "json", "formatVersion": "2", "sort": "-releaseDate",
              "hits": str(opt(options, "hits", 30))}
    for key, param in (("title", "title"), ("author", "author"), ("publisher", "publisherName"),
                       ("keyword", "keyword"), ("isbn", "isbn")):
        if opt(options, key):
            params[param] = str(options[key])
    params["booksGenreId"] = str(opt(options, "booksGenreId", COMICS_GENRE))
    pages = int(opt(options, "pages", 1))
    return [f"{ENDPOINTS[api]}?{urlencode({**params, 'page': str(p)})}" for p in range(1, pages + 1)]
