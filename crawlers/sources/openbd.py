"""openBD `/v1/get?isbn=...` responses: a JSON array (null for unknown ISBNs), or the
`{isbn: record|null}` cache object some crawlers store. Both are accepted.

`summary.volume` is often the imprint's running number (バガボンド 1 has volume "619"), so the
volume comes from the title; `summary.volume` is used only when the title has none.
"""
from __future__ import annotations

from datetime import date
from typing import Any, TypedDict, cast

from .._text import load_json, opt
from ..contract import Options
from ..errors import ParseError
from ..model import Release, dedupe
from ..normalize import (
    extract_volume,
    normalize_isbn,
    parse_date,
    parse_price,
    strip_parallel_title,
    text_or_none,
)
from ..rows import read_each
from ._build import build_release

NAME = "openbd"
DESCRIPTION = "openBD book metadata by ISBN (JSON; cover, price, publisher, date)"
ENDPOINT = "https://api.openbd.jp/v1/get"
BATCH = 100  # ISBNs per GET: keeps URLs short; openBD accepts comma-separated lists


def parse(body: bytes, *, url: str | None = None, crawl_date: date | None = None,
          options: Options | None = None) -> list[Release]:
    data = load_json(body, NAME)
    if isinstance(data, dict) and data and all(normalize_isbn(k) for k in data):
        entries = list(data.values())
    elif isinstance(data, list):
        entries = data
    else:
        raise ParseError(NAME, "expected a JSON array of records (or an {isbn: record} object)")
    # None is openBD's answer for an ISBN it does not know; a bad record is skipped and counted.
    out, tally = read_each(NAME, (e for e in entries if e is not None), _entry, options)
    return tally.finish(dedupe(out))


class Summary(TypedDict, total=False):
    """openBD's flat `summary` (the fields read here, as in the shared openbd samples)."""
    isbn: str
    title: str
    volume: str
    publisher: str
    pubdate: str
    cover: str


class Record(TypedDict, total=False):
    summary: Summary
    onix: dict[str, Any]  # ONIX for Books as JSON: deep and often partial, read defensively below


def _entry(entry: object) -> Release:
    if not isinstance(entry, dict) or not isinstance(entry.get("summary"), dict):
        raise ParseError(NAME, "record without a 'summary' object")
    return _record(cast(Record, entry))  # the JSON boundary: checked just above


def _price(entry: Record) -> tuple[str | None, str | None]:
    try:
        supply = entry["onix"]["ProductSupply"]["SupplyDetail"]
        prices = supply.get("Price") or []
    except (KeyError, TypeError, AttributeError):
        return None, None
    for p in prices if isinstance(prices, list) else [prices]:
        amount, _ = parse_price(str(p.get("PriceAmount") or ""))
        if amount:
            return amount, p.get("CurrencyCode") or "JPY"
    return None, None


def _onix_date(entry: Record) -> str | None:
    try:
        dates = entry["onix"]["PublishingDetail"]["PublishingDate"]
    except (KeyError, TypeError):
        return None
    for d in dates if isinstance(dates, list) else [dates]:
        if isinstance(d, dict) and (iso := parse_date(str(d.get("Date") or ""))):
            return iso
    return None


def _record(entry: Record) -> Release:
    s = entry["summary"]
    isbn = normalize_isbn(s.get("isbn"))
    if isbn is None:
        raise ParseError(NAME, f"record with an invalid ISBN: {s.get('isbn')!r}")
    title = text_or_none(s.get("title"))
    found, volume = extract_volume(title or "")
    series = strip_parallel_title(found) if found else None
    if volume is None:
        volume = text_or_none(s.get("volume"))
    price, currency = _price(entry)
    return build_release(
        NAME, title=title, isbn=isbn, series=series, volume=volume, ref=isbn,
        publisher=text_or_none(s.get("publisher")),
        release_date=parse_date(s.get("pubdate")) or _onix_date(entry),
        price=price, currency=currency,
        url=f"https://openbd.jp/?isbn={isbn}",
        cover_url=text_or_none(s.get("cover")),
    )


def plan(options: Options) -> list[str]:
    """`{"isbns": [...]}` -> one or more `/v1/get?isbn=a,b` URLs (invalid ISBNs dropped)."""
    if opt(options, "url"):
        return [options["url"]]
    isbns = [i for raw in opt(options, "isbns", []) if (i := normalize_isbn(str(raw)))]
    isbns = list(dict.fromkeys(isbns))
    return [f"{ENDPOINT}?isbn={','.join(isbns[i:i + BATCH])}" for i in range(0, len(isbns), BATCH)]
