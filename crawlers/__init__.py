"""newbooks crawlers: pure parsers from fetched bodies to normalized `Release` records.

Registry: `SOURCES` maps each source name to its module (each has NAME, DESCRIPTION, parse, plan).
Source modules import only the stdlib at top level; bs4/defusedxml load inside the parse functions,
so `import crawlers` stays cheap for every Lambda that only needs the model.
"""
from __future__ import annotations

from datetime import date
from types import ModuleType
from typing import Any

from .errors import ParseError
from .model import Release, merge
from .sources import (
    comicwalker, declarative, feed, imagecomics, jsonapi, ndl, newtype, openbd, previewsworld, rakuten, sundaywebry, table,
)

__all__ = ["SOURCES", "ParseError", "Release", "get_source", "merge", "parse"]

SOURCES: dict[str, ModuleType] = {
    m.NAME: m
    for m in (previewsworld, imagecomics, ndl, openbd, rakuten, comicwalker, newtype, sundaywebry, feed, declarative,
              jsonapi, table)
}


def get_source(name: str) -> ModuleType:
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(sorted(SOURCES))}") from None


def parse(name: str, body: bytes, *, url: str | None = None, crawl_date: date | None = None,
          options: dict[str, Any] | None = None) -> list[Release]:
    releases: list[Release] = get_source(name).parse(body, url=url, crawl_date=crawl_date, options=options)
    return releases
