"""PREVIEWSworld / Diamond weekly shipping list: `newreleases.txt` (tab) and the CSV export.

The body is detected, not configured: tab rows -> text form, `CODE,TITLE,$PRICE` rows -> CSV form.
Both share the layout: a header with the ship date, boilerplate, then publisher sections of item rows.
Line endings may be CRLF, LF or bare CR. A Ruby `String#dump` of the body (one quoted line with
literal `\\r\\n`) is also accepted because real captures are stored that way.
"""
from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlencode

from .._text import decode, opt
from ..categories import classify
from ..contract import Options
from ..errors import ParseError
from ..model import Release, dedupe
from ..normalize import nfkc, parse_date, parse_price
from ..rows import read_each, split_tab_row
from ._build import titled_release

NAME = "previewsworld"
DESCRIPTION = "PREVIEWSworld/Diamond weekly new releases (newreleases.txt or CSV export)"

_CODE = r"[A-Z]{3}\d{6}"
# CSV rows are unquoted: split on the first and the last comma only (titles may contain commas).
_CSV_ROW = re.compile(rf"^({_CODE}),(.*),([^,]*)$")
_HEADER = re.compile(r"^(?:New Releases For|Shipping)\s+(\d{1,2}/\d{1,2}/\d{2,4})", re.I)
_TITLE_LINE = re.compile(r"^PREVIEWSworld\.com (?:New|Upcoming) Releases", re.I)
_C_CODE = re.compile(r"\s*\(C(?::[^)]*)?\)?\s*$|\s*\(C:[^)]*\)")
# Sections that are product categories, not publishers.
_CATEGORIES = {
    "PREMIER PUBLISHERS", "COMICS", "COMICS & GRAPHIC NOVELS", "MAGAZINES", "BOOKS", "MERCHANDISE",
}
_RUBY_ESCAPES = {"r": "\r", "n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _undump(text: str) -> str:
    return re.sub(r'\\([rnt"\\])', lambda m: _RUBY_ESCAPES[m[1]], text.strip()[1:-1])


def _lines(text: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", text)


def clean_title(title: str) -> str:
    """Drop Diamond's `(C: 0-1-2)` code, also when the 60-char cut left only `(C: 0-1` or `(C`."""
    t = nfkc(title) or ""
    return _C_CODE.sub("", t).strip()


def parse(body: bytes, *, url: str | None = None, crawl_date: date | None = None,
          options: Options | None = None) -> list[Release]:
    text = decode(body, NAME)
    stripped = text.lstrip()
    if stripped.startswith('"') and "\\r\\n" in stripped[:400]:
        text = _undump(stripped)
    lines = _lines(text)
    head = [ln.strip() for ln in lines[:8] if ln.strip()]
    if not head or not (_HEADER.match(head[0]) or _TITLE_LINE.match(head[0])):
        raise ParseError(NAME, "not a PREVIEWSworld release list (no 'New Releases For'/'Shipping' header)")
    ship = next((parse_date(m[1]) for ln in head[:3] if (m := _HEADER.match(ln))), None)
    if ship is None:
        raise ParseError(NAME, "release list header has no ship date")

    tab_form: bool | None = None
    publisher: str | None = None
    section: str | None = None  # the product-category section a row is in (MERCHANDISE, MAGAZINES...)
    rows: list[tuple[str, str | None, str | None]] = []
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if re.match(_CODE, line):
            tab_form = tab_form or "\t" in line  # CSV titles never hold a tab: any tab row means the tab form
            rows.append((line, publisher, section))
        elif not re.search(r"[a-z]", line) and len(line) <= 60:
            publisher = None if line in _CATEGORIES else line  # section header (all caps)
            section = line if line in _CATEGORIES else section
    if not rows and any(_CODE_ANYWHERE.search(ln) for ln in lines):
        raise ParseError(NAME, "item codes present but no row matched the tab or CSV layout")
    # One unreadable row is skipped and counted; too many of them is a changed page (crawlers.rows).
    out, tally = read_each(NAME, rows, lambda row: _row(*row, ship=ship, tab_form=tab_form), options)
    return tally.finish(dedupe(out))


def _row(line: str, publisher: str | None, section: str | None, *, ship: str, tab_form: bool | None) -> Release:
    if tab_form:
        fields = split_tab_row(line)  # tolerates "CODE \tTITLE\t$PRICE"
        if len(fields) < 3 or not re.fullmatch(_CODE, fields[0]) or not fields[1]:
            raise ParseError(NAME, "unreadable item row")
        code, title, price = fields[0], " ".join(fields[1:-1]), fields[-1]
    elif m := _CSV_ROW.match(line):
        code, title, price = m[1], m[2], m[3]
    else:
        raise ParseError(NAME, "unreadable item row")
    return _record(code, title, price, publisher, ship, section)


_CODE_ANYWHERE = re.compile(rf"\b{_CODE}\b")


def _record(code: str, raw_title: str, raw_price: str, publisher: str | None, ship: str,
            section: str | None = None) -> Release:
    title = clean_title(raw_title)
    price, currency = parse_price(raw_price)
    return titled_release(
        NAME, title=title, code=code, ref=code, diamond_code=code, publisher=publisher, release_date=ship,
        price=price, currency=currency, url=f"https://www.previewsworld.com/Catalog/{code}",
        category=classify(title, section=section),  # the list's section knows merchandise from comics
    )


def plan(options: Options) -> list[str]:
    """`{"format": "txt"|"csv", "release_date": "YYYY-MM-DD"}`; `url`/`urls` override."""
    if opt(options, "urls"):
        return list(options["urls"])
    if opt(options, "url"):
        return [options["url"]]
    params = {"format": opt(options, "format", "txt")}
    if rd := opt(options, "release_date"):
        d = date.fromisoformat(str(rd))
        params["releaseDate"] = f"{d.month:02d}/{d.day:02d}/{d.year}"
    return ["https://www.previewsworld.com/NewReleases/Export?" + urlencode(params)]
