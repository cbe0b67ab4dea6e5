"""newbooks crawlers: pure parsers from fetched bodies to normalized `Release` records.

Registry: `SOURCES` maps each source name to its module (each has NAME, DESCRIPTION, parse, plan).
Source modules import only the stdlib at top level; bs4/defusedxml load inside the parse functions,
so `import crawlers` stays cheap for every Lambda that only needs the model.
"""
from __future__ import annotations

from datetime import date

from .contract import Options, Source
from .errors import ParseError
from .model import Release, merge
from .sources import (
    comicwalker,
    declarative,
    feed,
    imagecomics,
    jsonapi,
    ndl,
    newtype,
    openbd,
    previewsworld,
    rakuten,
    sundaywebry,
    table,
)

__all__ = ["SOURCES", "ParseError", "Release", "get_source", "merge", "parse"]

# Typed as the Source protocol: mypy checks every module's NAME, DESCRIPTION, parse() and plan().
_MODULES: tuple[Source, ...] = (previewsworld, imagecomics, ndl, openbd, rakuten, comicwalker, newtype, sundaywebry,
                                feed, declarative, jsonapi, table)
SOURCES: dict[str, Source] = {m.NAME: m for m in _MODULES}


def get_source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(sorted(SOURCES))}") from None


def parse(name: str, body: bytes, *, url: str | None = None, crawl_date: date | None = None,
          options: Options | None = None) -> list[Release]:
    return get_source(name).parse(body, url=url, crawl_date=crawl_date, options=options)
