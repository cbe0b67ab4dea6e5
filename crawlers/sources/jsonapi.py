"""Generic JSON API: an item path and a field mapping, both JMESPath (https://jmespath.org).

    kind: json
    options:
      items: results                   # where the list of items is
      fields:                          # release field -> JMESPath on one item
        title: issue
        series: series.name
        volume: number                 # else taken from the title (crawlers.volumes)
        isbn: isbn
        jan: upc
        code: to_string(id)            # the provider's own id: the release id when no ISBN/JAN
        publisher: publisher.name
        release_date: store_date || cover_date   # any shape crawlers.dates reads, e.g. 2026年07月03日頃
        price: price
        url: site_url
        cover_url: image
      currency: USD                    # for prices without a currency
      keep: "contains(booksGenreId, '001001')"   # optional filter on each item
      next: next                       # paging hints for crawlers/session.py
      cursor: meta.cursor
      last_page: pageCount
      total: count
      error: errors.errorMessage       # optional: where the API's error text is (guessed otherwise)

A body without the item list is a ParseError naming the API's own error text when `error` finds
one (a changed shape or an error answer must degrade the source, never read as "no releases").
"""
from __future__ import annotations

from datetime import date
from typing import Any

from .._text import load_json
from ..contract import Options, PageHints
from ..errors import ParseError
from ..model import Release, dedupe
from ..normalize import (
    parse_date,
    text_or_none,
)
from ._mapped import mapped_release

NAME = "json"
DESCRIPTION = "any JSON API: item path and field mapping in JMESPath (options.items, options.fields)"


def plan(options: Options | None) -> list[str]:
    raise ValueError("the json kind needs a url in the source config")


def _search(expression: str | None, data: Any) -> Any:
    if not expression:
        return None
    import jmespath  # a boto3 dependency already; imported where used

    try:
        return jmespath.search(expression, data)
    except jmespath.exceptions.JMESPathError as exc:
        raise ParseError(NAME, f"bad JMESPath {expression!r}: {exc}") from None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return text_or_none(str(value))


def error_message(body: bytes, options: Options | None = None) -> str | None:
    """The API's own error text from an error body, e.g. Rakuten's openapi gateway
    `{"errors":{"errorCode":403,"errorMessage":"CLIENT_IP_NOT_ALLOWED"}}`, its older
    `{"error":"wrong_parameter","error_description":"specify valid applicationId"}`, or a gateway's
    `{"statusCode":429,"message":"…"}`. `options.error` (JMESPath) overrides the guess."""
    import json

    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if options and options.get("error"):
        found = _text(_search(options["error"], data))
        return found[:200] if found else None
    errors = data.get("errors")
    if isinstance(errors, dict) and (errors.get("errorMessage") or errors.get("errorCode")):
        return " ".join(str(v) for v in (errors.get("errorCode"), errors.get("errorMessage")) if v)[:200]
    if data.get("error"):
        error = data["error"]
        if isinstance(error, dict):
            error = error.get("message") or error.get("code") or json.dumps(error)
        return ": ".join(str(v) for v in (error, data.get("error_description")) if v)[:200]
    for key in ("message", "detail"):
        if isinstance(message := data.get(key), str):
            return message[:200]
    return None


def parse(body: bytes, *, url: str | None = None, crawl_date: date | None = None,
          options: Options | None = None) -> list[Release]:
    options = options or {}
    data = load_json(body, NAME)
    items = _search(options.get("items") or "@", data)
    if not isinstance(items, list):
        problem = error_message(body, options)
        raise ParseError(NAME, f"API error: {problem}" if problem else
                         f"no item list at {options.get('items') or '@'!r} (the API changed shape?)")
    fields = options.get("fields") or {}
    keep = options.get("keep")
    source = str(options.get("source_name") or NAME)
    out = []
    for item in items:
        if keep and not _search(keep, item):
            continue
        out.append(_record(item, fields, source, options, crawl_date))
    return dedupe(out)


def _record(item: Any, fields: dict[str, str], source: str, options: Options, crawl_date: date | None) -> Release:
    def get(name: str) -> Any:
        return _search(fields.get(name), item) if fields.get(name) else None

    def text(name: str) -> str | None:
        return _text(get(name))

    release = mapped_release(source, text, release_date=parse_date(text("release_date"), today=crawl_date),
                             default_currency=options.get("currency"), cover_url=text("cover_url") or None)
    if release is None:
        raise ParseError(NAME, "an item has no ISBN, JAN, code, series or title (check options.fields)")
    return release


def next_page(body: bytes, *, url: str | None = None, options: Options | None = None) -> PageHints:
    """Paging hints for crawlers/session.py: next URL, cursor, last page number, total."""
    options = options or {}
    data = load_json(body, NAME)
    return {
        "next": _text(_search(options.get("next"), data)),
        "cursor": _text(_search(options.get("cursor"), data)),
        "last_page": _search(options.get("last_page"), data),
        "total": _search(options.get("total"), data),
    }
