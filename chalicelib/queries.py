"""Read side of releases for the API and feeds: bounded Query calls on the release indexes
(never a Scan), stable order, opaque cursors.

- no dates: releases first seen in the last `SEEN_DAYS` days, newest first (index by_seen)
- from/to: releases by release date, oldest first, over at most `MAX_MONTHS` months (by_month)
- series: one series' releases by date (by_series)
Other filters (q, publisher, source) apply to the rows those Queries return. `source` takes a
source name as `/sources` lists it (e.g. `ndl-conan`) or the kind stored on each release (`ndl`);
a name selects its kind's releases, since a release is stored once whichever source saw it.
A filtered page keeps reading until it fills or the data ends; after a Query page whose rows the
filters dropped, the next reads four times as many (up to `FILTERED_READ` items): a dense filter
reads little, a sparse one gets past thousands of non-matching rows within the budget. If the
budget runs out first, the page says so in `partial` and `next_cursor` continues from there.
Lists hold one item per work (`collapse`, issue 12): `limit` counts works, a page ends before the
first row of the next work, so editions next to each other in the index stay one item; editions
far apart in it (another catalogue month's codes) can start a second item on a later page.
"""
from __future__ import annotations

import base64
import builtins
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from chalicelib.errors import InvalidInput
from chalicelib.settings import Settings

SEEN_DAYS = 7
MAX_MONTHS = 12
MAX_LIMIT = 200
MAX_QUERIES = 12  # DynamoDB calls one request may make; the cursor continues from there
FILTERED_READ = 1000  # largest Query page when in-memory filters drop rows (DynamoDB also caps a page at 1 MB)
_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
PUBLIC_FIELDS = (
    "id", "source", "title", "series", "volume", "flags", "isbn13", "jan", "diamond_code", "publisher",
    "release_date", "price", "currency", "url", "cover_url", "source_refs", "first_seen", "issue", "category",
    "work", "listing", "previous_release_date",
)


class BadQuery(InvalidInput):
    """A release query the API refuses; `param` is the query parameter at fault."""


@dataclass(frozen=True)
class Partition:
    index: str
    key_name: str
    key: str
    sort_name: str
    lower: str | None
    upper: str | None
    forward: bool


def plan(params: dict[str, str], today: date) -> list[Partition]:
    """Which index partitions a listing reads, in output order (pure)."""
    start, end = params.get("from"), params.get("to")
    for name, value in (("from", start), ("to", end)):
        if value is not None and not _DATE.match(value):
            raise BadQuery(name, f"'{name}' must be YYYY-MM-DD or YYYY-MM, got {value!r}")
    if params.get("series"):
        from crawlers.normalize import legacy_series_key, series_key

        key = series_key(params["series"])
        if not key:
            raise BadQuery("series", "'series' is empty after normalization")
        # releases stored before issue 12 sit under the older key: read that partition too
        keys = dict.fromkeys(k for k in (key, legacy_series_key(params["series"])) if k)
        return [Partition("by_series", "gsi2pk", f"SERIES#{k}", "gsi2sk", start, _upper(end), True) for k in keys]
    if start or end:
        first = start or end or ""
        last = end or start or ""
        months = _months(first[:7], last[:7])
        if not months:
            raise BadQuery("to", "'to' is before 'from'")
        if len(months) > MAX_MONTHS:
            raise BadQuery("to", f"date range spans {len(months)} months; at most {MAX_MONTHS}")
        return [Partition("by_month", "gsi1pk", f"MONTH#{m}", "gsi1sk", start, _upper(end), True) for m in months]
    days = [(today - timedelta(days=n)).isoformat() for n in range(SEEN_DAYS)]
    return [Partition("by_seen", "gsi3pk", f"SEEN#{d}", "gsi3sk", None, None, False) for d in days]


def _upper(end: str | None) -> str | None:
    return None if end is None else end + "~"  # "~" sorts after "#<id>" suffixes and "-DD"


def _months(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:7])
    out: list[str] = []
    while (y, m) <= (int(last[:4]), int(last[5:7])) and len(out) <= MAX_MONTHS:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def source_values(value: str, sources: Mapping[str, str] | None) -> frozenset[str]:
    """The stored `source` values a `source` filter selects (pure). `sources` maps each configured
    source name to the value its releases carry; None accepts any value as stored."""
    if sources is None:
        return frozenset({value})
    if value in sources:
        return frozenset({sources[value]})
    if value in set(sources.values()) or value in _kinds():
        return frozenset({value})
    known = ", ".join(sorted(set(sources) | set(sources.values())))
    raise BadQuery("source", f"unknown source {value!r}; use a name from /sources or a kind: {known}")


def _kinds() -> frozenset[str]:
    from crawlers import SOURCES

    return frozenset(SOURCES)


def record_source(kind: str, options: Mapping[str, Any]) -> str:
    """The `source` a configured source's releases carry: its kind, or the feed/declarative
    `source_name` option (crawlers/sources/feed.py and declarative.py)."""
    return str(options.get("source_name") or kind)


def category_of(item: dict[str, Any]) -> str:
    """The stored category; items stored before categories existed are classified by title."""
    from crawlers.categories import classify

    return str(item.get("category") or classify(item.get("title")))


def category_filter(value: str | None) -> frozenset[str]:
    """The categories a `category` parameter lists (crawlers.categories.parse_filter); BadQuery
    naming `category` when it names an unknown one. Every list checks it here."""
    from crawlers.categories import parse_filter

    try:
        return parse_filter(value)
    except ValueError as exc:
        raise BadQuery("category", str(exc)) from None


def matches(item: dict[str, Any], params: dict[str, str], sources: Mapping[str, str] | None = None) -> bool:
    """The in-memory filters (pure). Merchandise is listed only when `category` asks for it."""
    if category_of(item) not in category_filter(params.get("category")):
        return False
    if params.get("source") and item.get("source") not in source_values(params["source"], sources):
        return False
    if params.get("publisher") and params["publisher"].casefold() not in str(item.get("publisher") or "").casefold():
        return False
    if params.get("q"):
        import unicodedata

        needle = unicodedata.normalize("NFKC", params["q"]).casefold()
        hay = " ".join(str(item.get(k) or "") for k in ("title", "series", "isbn13", "jan", "diamond_code"))
        if needle not in unicodedata.normalize("NFKC", hay).casefold():
            return False
    return True


def encode_cursor(position: int, last_key: dict[str, Any] | None) -> str:
    raw = json.dumps({"p": position, "k": last_key}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, dict[str, Any] | None]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return int(raw["p"]), raw.get("k")
    except Exception:
        raise BadQuery("cursor", "'cursor' is not a cursor this API returned") from None


def collapse(releases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per work (crawlers.identity): the main edition, carrying `editions` (every edition's
    id, label and link) when a work has more than one: cover variants are one item, not six. Used by
    GET /releases, the releases page, the feeds and Slack lists."""
    from crawlers.identity import edition_label, group_editions

    out = []
    for group in group_editions(releases):
        main = dict(group[0])
        # idempotent: an item that already lists its editions (an API page) brings them along
        editions = {e["id"]: e for r in group for e in (r.get("editions") or [
            {"id": r.get("id"), "label": edition_label(r) or "standard", "url": r.get("url")}])}
        if len(editions) > 1:
            main["editions"] = list(editions.values())
        out.append(main)
    return out


class _WorkCounter:
    """Distinct works among the rows of a page, as `collapse` will group them (its own
    group_editions, run only on the rows that share a work key, so each check stays small)."""

    def __init__(self) -> None:
        self.count = 0
        self._by_key: dict[str, list[dict[str, Any]]] = {}

    def _groups(self, rows: list[dict[str, Any]]) -> int:
        from crawlers.identity import group_editions

        return len(group_editions(rows)) if rows else 0

    def is_new(self, row: dict[str, Any]) -> bool:
        from crawlers.identity import work_key

        key = work_key(row)
        if key is None:
            return True
        same = self._by_key.get(key, [])
        return self._groups([*same, row]) > self._groups(same)

    def add(self, row: dict[str, Any]) -> None:
        from crawlers.identity import work_key

        if self.is_new(row):
            self.count += 1
        key = work_key(row)
        if key is not None:
            self._by_key.setdefault(key, []).append(row)


class ReleaseQueries:
    def __init__(self, table: Any, today: Callable[[], date] = lambda: datetime.now(timezone.utc).date(),
                 sources: Mapping[str, str] | None = None, *, max_queries: int = MAX_QUERIES,
                 filtered_read: int = FILTERED_READ):
        self._table = table
        self._today = today
        self._sources = sources  # configured name -> stored `source` value (see record_source)
        self._max_queries = max_queries
        self._filtered_read = filtered_read

    def list(self, params: dict[str, str]) -> dict[str, Any]:
        unknown = set(params) - {"from", "to", "q", "series", "publisher", "source", "limit", "cursor", "category"}
        if unknown:
            name = sorted(unknown)[0]
            raise BadQuery(name, f"unknown parameter {name!r}")
        try:
            limit = int(params.get("limit", "50"))
        except ValueError:
            raise BadQuery("limit", "'limit' must be an integer") from None
        if not 1 <= limit <= MAX_LIMIT:
            raise BadQuery("limit", f"'limit' must be between 1 and {MAX_LIMIT}")
        category_filter(params.get("category"))
        partitions = plan(params, self._today())
        if params.get("source"):
            source_values(params["source"], self._sources)  # an unknown source is a 400, not an empty list
        position, last_key = decode_cursor(params["cursor"]) if params.get("cursor") else (0, None)
        if position > len(partitions):
            raise BadQuery("cursor", "'cursor' does not belong to this query")
        # In-memory filters (q, publisher, source, and category: merchandise is hidden by default) drop
        # rows: after a page that dropped some, the next Query reads 4x as many, so a sparse match still
        # fills this page; a page that dropped none reads only what is still missing.
        # `limit` counts works (issue 12): a page ends right before the first row of work limit + 1, so
        # editions that sit next to each other in the index (same date or crawl) stay on one page. Past
        # `limit` works it reads on only while the current partition has more.
        rows: list[dict[str, Any]] = []
        works = _WorkCounter()
        calls = examined = 0
        read = max(limit, 25)
        full = False
        while (position < len(partitions) and calls < self._max_queries and not full
               and (works.count < limit or last_key is not None)):
            part = partitions[position]
            start_key = last_key
            page = self._query(part, read, last_key)
            before = (examined, len(rows))
            calls += 1
            last_key = page.get("LastEvaluatedKey")
            items = page.get("Items", [])
            for n, item in enumerate(items):
                if not matches(item, params, self._sources):
                    examined += 1
                    continue
                row = self._public(item)
                if works.count == limit and works.is_new(row):  # resume at this row
                    last_key = {k: items[n - 1][k] for k in ("pk", "sk", part.key_name, part.sort_name)} if n else start_key
                    full = True
                    break
                examined += 1
                works.add(row)
                rows.append(row)
            dropped = (examined - before[0]) - (len(rows) - before[1])
            read = (min(read * 4, max(self._filtered_read, limit)) if dropped
                    else max(limit - works.count, 25))
            if last_key is None and not full:
                position += 1
        done = position >= len(partitions)
        partial = None
        if not done and works.count < limit:  # budget spent before the page filled: say so
            partial = (f"read budget spent: {calls} queries examined {examined} releases and found {works.count} "
                       f"of {limit}; more may match, continue with next_cursor")
        return {"releases": collapse(rows), "next_cursor": None if done else encode_cursor(position, last_key),
                "partial": partial}

    def get(self, release_id: str) -> dict[str, Any] | None:
        from boto3.dynamodb.conditions import Key

        items = self._table.query(KeyConditionExpression=Key("pk").eq(f"REL#{release_id}")).get("Items", [])
        meta = next((i for i in items if i["sk"] == "META"), None)
        if meta is None:
            return None
        out = self._public(meta)
        out["source_refs"] = sorted({*(out.get("source_refs") or []), *(i["sk"][4:] for i in items if i["sk"].startswith("REF#"))})
        out["editions"] = self._editions(meta)
        return out

    def _editions(self, meta: dict[str, Any]) -> builtins.list[dict[str, Any]]:  # `list` here is the method
        """Every stored edition of this release's work (issue 12): one by_series Query over the
        merge window around its date. [] when the release has no work or series key."""
        from boto3.dynamodb.conditions import Key

        from crawlers.identity import DEFAULT_WINDOW_DAYS, edition_label

        day = str(meta.get("release_date") or "")
        if not meta.get("work") or not meta.get("series_key") or len(day) < 10:
            return []
        try:
            start = date.fromisoformat(day[:10])
        except ValueError:
            return []
        window = timedelta(days=DEFAULT_WINDOW_DAYS)
        condition = Key("gsi2pk").eq(f"SERIES#{meta['series_key']}") & Key("gsi2sk").between(
            (start - window).isoformat(), (start + window).isoformat() + "~")
        items = self._table.query(IndexName="by_series", KeyConditionExpression=condition, Limit=200).get("Items", [])
        return [{"id": i.get("id"), "title": i.get("title"), "edition": edition_label(i) or "standard",
                 "source": i.get("source"), "url": i.get("url")}
                for i in items if i.get("work") == meta["work"]]

    def _query(self, part: Partition, limit: int, start: dict[str, Any] | None) -> dict[str, Any]:
        from boto3.dynamodb.conditions import Key

        condition = Key(part.key_name).eq(part.key)
        if part.lower and part.upper:
            condition &= Key(part.sort_name).between(part.lower, part.upper)
        elif part.lower:
            condition &= Key(part.sort_name).gte(part.lower)
        elif part.upper:
            condition &= Key(part.sort_name).lte(part.upper)
        kwargs: dict[str, Any] = {
            "IndexName": part.index, "KeyConditionExpression": condition, "ScanIndexForward": part.forward,
            "Limit": limit,
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        page: dict[str, Any] = self._table.query(**kwargs)
        return page

    @staticmethod
    def _public(item: dict[str, Any]) -> dict[str, Any]:
        return {k: item.get(k) for k in PUBLIC_FIELDS}


def build(settings: Settings) -> ReleaseQueries:
    from chalicelib import aws
    from chalicelib.crawl.sources_config import load_sources

    sources = {s.name: record_source(s.kind, s.options) for s in load_sources(settings.sources_file)}
    return ReleaseQueries(aws.table(settings.releases_table), sources=sources)
