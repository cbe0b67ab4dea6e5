"""What every source module in crawlers/sources/ exposes (see crawlers/__init__.py's registry):
NAME, DESCRIPTION, parse(body, ...) -> releases, plan(options) -> URLs, and optionally
next_page(body, ...) -> paging hints for crawlers/session.py."""
from __future__ import annotations

from datetime import date
from typing import Any, Protocol, TypedDict

from .model import Release

# A source's `options:` mapping from its YAML config (or the CLI): free-form per kind, read with
# crawlers._text.opt().
Options = dict[str, Any]


class PageHints(TypedDict, total=False):
    """What a page says about the next one; every key optional (crawlers/session.py)."""
    next: str | None  # the next page's URL
    cursor: str | None  # an opaque cursor for the next request
    last_page: Any  # the API's own numbers, as it sends them (JSON)
    total: Any


class Source(Protocol):
    """A source module (mypy checks each one against this where the registry lists it)."""
    NAME: str
    DESCRIPTION: str

    def parse(self, body: bytes, *, url: str | None = None, crawl_date: date | None = None,
              options: Options | None = None) -> list[Release]: ...

    def plan(self, options: Options) -> list[str]: ...
