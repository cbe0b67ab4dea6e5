"""Generic tables: CSV, TSV and XLSX with a column mapping (first row = header names).

    kind: table
    options:
      source_name: lunar
      format: xlsx                 # csv | tsv | xlsx; guessed from the body when absent
      sheet: 1                     # XLSX: which worksheet (1-based), default the first
      columns:                     # release field -> header name (case and spaces ignored)
        code: Item Code
        title: Title
        series: Series
        volume: Issue
        isbn: ISBN
        jan: UPC
        publisher: Publisher
        release_date: Release Date # text any crawlers.dates shape, or an Excel date serial
        price: MSRP
      currency: USD
      header: false                # no header row: columns are 1-based positions {code: 1, title: 2}
      code_pattern: "^[A-Z]{3}\\d{6}$"   # rows whose code does not match are not items (preambles, headings)

XLSX is read with zipfile + defusedxml (no spreadsheet library in the Lambda package): shared
strings, inline strings, numbers; styles are ignored, so a date cell is its serial number and is
converted when the column is `release_date`.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from .._text import decode, opt
from ..contract import Options
from ..errors import ParseError
from ..model import Release, dedupe
from ..normalize import (
    parse_date,
    text_or_none,
)
from ._mapped import mapped_release

NAME = "table"
DESCRIPTION = "CSV/TSV/XLSX with a column mapping (options.columns)"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_MAX_UNZIPPED = 50_000_000
_EXCEL_EPOCH = date(1899, 12, 30)  # the 1900 date system, with Excel's 1900-02-29 folded in


def plan(options: Options | None) -> list[str]:
    raise ValueError("the table kind needs a url in the source config")


def rows(body: bytes, options: Options | None = None) -> list[list[str]]:
    fmt = (opt(options, "format") or ("xlsx" if body[:2] == b"PK" else "")).lower()
    if fmt == "xlsx":
        return _xlsx_rows(body, int(opt(options, "sheet", 1)))
    text = decode(body, NAME)
    if not fmt:
        first = text.split("\n", 1)[0]
        fmt = "tsv" if first.count("\t") > first.count(",") else "csv"
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter="\t" if fmt == "tsv" else ","))
    except csv.Error as exc:
        raise ParseError(NAME, f"not a readable {fmt.upper()}: {exc}") from None


def parse(body: bytes, *, url: str | None = None, crawl_date: date | None = None,
          options: Options | None = None) -> list[Release]:
    table = [r for r in rows(body, options) if any(c.strip() for c in r)]
    if not table:
        raise ParseError(NAME, "empty table")
    columns = opt(options, "columns") or {}
    if not columns:
        raise ParseError(NAME, "options.columns is required (release field -> header name or position)")
    index: dict[str, int] = {}
    if opt(options, "header", True) is False:
        index = {field: int(position) - 1 for field, position in columns.items()}
        data = table
    else:
        header = [_key(h) for h in table[0]]
        for field, name in columns.items():
            if _key(name) in header:
                index[field] = header.index(_key(name))
        missing = [columns[f] for f in ("title", "code", "isbn") if f in columns and f not in index]
        if not index or missing:
            raise ParseError(NAME, f"header row lacks {missing or list(columns.values())} (the file changed shape?)")
        data = table[1:]
    pattern = re.compile(opt(options, "code_pattern")) if opt(options, "code_pattern") else None
    source = str(opt(options, "source_name", NAME))
    out = []
    for row in data:
        cell = _cells(row, index)
        if pattern and not pattern.search(cell("code") or ""):
            continue
        out.append(_record(cell, source, options or {}, crawl_date))
    records = [r for r in out if r is not None]
    if not records:
        raise ParseError(NAME, f"{len(data)} rows but no item (check options.columns / code_pattern)")
    return dedupe(records)


def _cells(row: list[str], index: dict[str, int]) -> Callable[[str], str | None]:
    """`cell(field)`: the row's text in the column mapped to that release field, if any."""
    def cell(field: str) -> str | None:
        i = index.get(field)
        return text_or_none(row[i]) if i is not None and i < len(row) else None

    return cell


def _record(cell: Callable[[str], str | None], source: str, options: Options, crawl_date: date | None) -> Release | None:
    # None: a blank or subtotal line
    return mapped_release(source, cell, release_date=_date(cell("release_date"), crawl_date),
                          default_currency=options.get("currency"))


def _date(text: str | None, crawl_date: date | None) -> str | None:
    if text and re.fullmatch(r"\d{5}(\.0+)?", text):  # an Excel serial (styles are not read)
        return (_EXCEL_EPOCH + timedelta(days=int(float(text)))).isoformat()
    return parse_date(text, today=crawl_date)


def _key(name: Any) -> str:
    return re.sub(r"\s+", " ", str(name or "")).strip().casefold()


def _xlsx_rows(body: bytes, sheet: int) -> list[list[str]]:
    from defusedxml import ElementTree

    try:
        book = zipfile.ZipFile(io.BytesIO(body))
        names = set(book.namelist())
        if sum(info.file_size for info in book.infolist()) > _MAX_UNZIPPED:  # a zip bomb is hostile input
            raise ParseError(NAME, f"XLSX unpacks to more than {_MAX_UNZIPPED} bytes")
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            for si in ElementTree.fromstring(book.read("xl/sharedStrings.xml")).iter(f"{_MAIN}si"):
                shared.append("".join(t.text or "" for t in si.iter(f"{_MAIN}t")))
        path = _sheet_path(book, names, sheet, ElementTree)
        root = ElementTree.fromstring(book.read(path))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError) as exc:
        raise ParseError(NAME, f"not a readable XLSX: {exc}") from None
    out: list[list[str]] = []
    for row in root.iter(f"{_MAIN}row"):
        values: dict[int, str] = {}
        for c in row.iter(f"{_MAIN}c"):
            column = _column(c.get("r") or "") if c.get("r") else len(values)
            kind = c.get("t")
            if kind == "inlineStr":
                text = "".join(t.text or "" for t in c.iter(f"{_MAIN}t"))
            else:
                v = c.find(f"{_MAIN}v")
                text = v.text if v is not None and v.text is not None else ""
                if kind == "s" and text.isdigit() and int(text) < len(shared):
                    text = shared[int(text)]
            values[column] = text
        out.append([values.get(i, "") for i in range(max(values) + 1)] if values else [])
    return out


def _sheet_path(book: zipfile.ZipFile, names: set[str], sheet: int, etree: Any) -> str:
    """The worksheet part of the n-th sheet, through workbook.xml and its relationships."""
    try:
        workbook = etree.fromstring(book.read("xl/workbook.xml"))
        sheets = list(workbook.iter(f"{_MAIN}sheet"))
        rel_id = sheets[sheet - 1].get(f"{_REL}id")
        rels = etree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
        for rel in rels:
            if rel.get("Id") == rel_id:
                target = rel.get("Target", "").lstrip("/")
                return target if target.startswith("xl/") else f"xl/{target}"
    except (KeyError, IndexError):
        pass
    return f"xl/worksheets/sheet{sheet}.xml"


def _column(ref: str) -> int:
    letters = re.match(r"[A-Z]+", ref.upper())
    n = 0
    for ch in letters.group(0) if letters else "A":
        n = n * 26 + (ord(ch) - 64)
    return n - 1
