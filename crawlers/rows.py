"""Row-by-row reading shared by the list parsers: one bad row is skipped and counted, not fatal.

A list whose share of unreadable rows is above `max_bad_row_share` (source option, default
DEFAULT_MAX_BAD_ROW_SHARE) is a page that changed shape: that raises ParseError, so the worker
marks the source degraded. Below it, the good rows are returned as a `ParsedList` that carries the
count (`skipped_rows`, first `bad_rows` examples) for the worker's log and state.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from .contract import Options
from .errors import ParseError
from .model import Release

DEFAULT_MAX_BAD_ROW_SHARE = 0.2
EXAMPLES = 3  # bad rows kept (cut to 120 chars) to say what went wrong
_log = logging.getLogger("crawlers.rows")
T = TypeVar("T")


class ParsedList(list[Release]):
    """A plain list of releases plus what was skipped on the way (still a `list` for every caller)."""

    skipped_rows: int = 0
    read_rows: int = 0
    bad_rows: tuple[str, ...] = ()


def max_bad_row_share(options: Options | None) -> float:
    raw = (options or {}).get("max_bad_row_share", DEFAULT_MAX_BAD_ROW_SHARE)
    try:
        share = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"max_bad_row_share must be a number between 0 and 1, got {raw!r}") from None
    if not 0 <= share <= 1:
        raise ValueError(f"max_bad_row_share must be between 0 and 1, got {share}")
    return share


class RowTally:
    """Counts rows read and skipped while a parser walks a list."""

    def __init__(self, source: str, options: Options | None = None) -> None:
        self.source = source
        self.limit = max_bad_row_share(options)
        self.read = 0
        self.skipped = 0
        self.examples: list[str] = []

    def ok(self) -> None:
        self.read += 1

    def bad(self, row: Any, reason: str) -> None:
        self.skipped += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(f"{reason}: {str(row)[:120]!r}")

    def finish(self, releases: list[Release]) -> ParsedList:
        """The releases as a ParsedList; ParseError when too many rows were unreadable."""
        total = self.read + self.skipped
        if self.skipped and self.skipped / total > self.limit:
            raise ParseError(self.source, f"{self.skipped} of {total} rows unreadable (more than "
                                          f"{self.limit:.0%}); first: {'; '.join(self.examples)}")
        if self.skipped:
            _log.warning("%s: skipped %d of %d unreadable rows: %s", self.source, self.skipped, total,
                         "; ".join(self.examples))
        out = ParsedList(releases)
        out.skipped_rows, out.read_rows, out.bad_rows = self.skipped, self.read, tuple(self.examples)
        return out


def read_each(source: str, items: Iterable[T], read: Callable[[T], Release | None],
              options: Options | None = None) -> tuple[list[Release], RowTally]:
    """Apply `read` to each item; a ParseError/ValueError from one item skips that item only.
    `read` returning None means "not a release" (a news card), neither read nor bad."""
    tally = RowTally(source, options)
    out: list[Release] = []
    for item in items:
        try:
            record = read(item)
        except ValueError as exc:  # ParseError is a ValueError; release_id raises ValueError
            tally.bad(item, str(exc))
            continue
        if record is not None:
            tally.ok()
            out.append(record)
    return out, tally


# Tab rows with irregular whitespace around the tabs: "CODE \tTITLE\t$PRICE", "CODE\t\tTITLE  \t$PRICE".
_TAB_SPLIT = re.compile(r"[ \u00a0]*\t[\t \u00a0]*")


def split_tab_row(line: str) -> list[str]:
    """Fields of a tab-separated row, tolerating spaces (and doubled tabs) around each tab."""
    return _TAB_SPLIT.split(line.strip())
