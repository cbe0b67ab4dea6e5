"""Which sources to crawl: `chalicelib/config/sources.yaml` (or $NEWBOOKS_SOURCES_FILE).

    sources:
      - name: previewsworld          # unique; the crawl state and snapshots are keyed by it
        kind: previewsworld          # a crawlers.SOURCES name
        url: https://.../newreleases.txt   # optional: else the crawler's plan(options) gives URLs
        options: {}                  # passed to plan() and parse() (e.g. NDL query, selectors)
        enabled: true
        disabled_reason: ...         # required with enabled: false (why, and what would re-enable it)
        dead_after_days: 7           # optional: degraded this long -> dead (NEWBOOKS_SOURCE_DEAD_AFTER_DAYS)
        schedule: daily 06:00 Asia/Tokyo   # hourly (default) | daily HH:MM [Zone] | weekly DAY HH:MM [Zone]
        rate_per_minute: 20          # requests per minute to this source's host (default: 1 per second)
        budget_per_day: 200          # requests per UTC day, across crawls
        request: {...}               # method, params, headers, auth, form/json, window, prefetch
        paging: {...}                # page | offset | next | cursor  (crawlers/session.py)
        stop: {max_pages: 10, older_than_days: 30}
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chalicelib.configfile import ConfigError, load_yaml


@dataclass(frozen=True)
class SourceConfig:
    name: str
    kind: str
    urls: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    dead_after_days: int | None = None  # DEGRADED this long -> DEAD (default: settings)
    schedule: str = "hourly"
    rate_per_minute: float | None = None
    budget_per_day: int | None = None
    request: dict[str, Any] = field(default_factory=dict)
    paging: dict[str, Any] = field(default_factory=dict)
    stop: dict[str, Any] = field(default_factory=dict)
    disabled_reason: str | None = None

    @property
    def crawl_options(self) -> dict[str, Any]:
        """What crawlers.session needs: the parser's options plus request/paging/stop."""
        return {**self.options, **{k: v for k, v in (("request", self.request), ("paging", self.paging),
                                                         ("stop", self.stop)) if v}}


def parse_sources(raw: Any, *, origin: str = "sources") -> list[SourceConfig]:
    from crawlers import SOURCES

    items = (raw or {}).get("sources") if isinstance(raw, dict) else None
    if not isinstance(items, list):
        raise ConfigError(f"{origin}: expected a top-level 'sources' list")
    seen: set[str] = set()
    out = []
    for position, item in enumerate(items):
        where = f"{origin}: sources[{position}]"
        if not isinstance(item, dict) or not item.get("name"):
            raise ConfigError(f"{where}: each source needs a 'name'")
        name = str(item["name"])
        kind = str(item.get("kind") or name)
        if kind not in SOURCES:
            raise ConfigError(f"{where} ({name}): unknown kind {kind!r}; known: {', '.join(sorted(SOURCES))}")
        if name in seen:
            raise ConfigError(f"{where}: duplicate source name {name!r}")
        seen.add(name)
        urls = item.get("urls") or ([item["url"]] if item.get("url") else [])
        options = item.get("options") or {}
        if not isinstance(options, dict):
            raise ConfigError(f"{where} ({name}): 'options' must be a mapping")
        dead_after = item.get("dead_after_days")
        if dead_after is not None and (not isinstance(dead_after, int) or dead_after < 1):
            raise ConfigError(f"{where} ({name}): 'dead_after_days' must be a whole number of days >= 1")
        from chalicelib.crawl.schedule import parse_schedule

        schedule = str(item.get("schedule") or "hourly")
        parse_schedule(schedule, where=f"{where} ({name})")
        enabled = bool(item.get("enabled", True))
        if not enabled and not item.get("disabled_reason"):
            raise ConfigError(f"{where} ({name}): a disabled source needs a 'disabled_reason'")
        for key in ("request", "paging", "stop"):
            if not isinstance(item.get(key) or {}, dict):
                raise ConfigError(f"{where} ({name}): '{key}' must be a mapping")
        out.append(SourceConfig(name, kind, tuple(str(u) for u in urls), options, enabled,
                                dead_after_days=dead_after, schedule=schedule,
                                rate_per_minute=float(item["rate_per_minute"]) if item.get("rate_per_minute") else None,
                                budget_per_day=int(item["budget_per_day"]) if item.get("budget_per_day") else None,
                                request=dict(item.get("request") or {}), paging=dict(item.get("paging") or {}),
                                stop=dict(item.get("stop") or {}), disabled_reason=item.get("disabled_reason")))
    return out


def load_sources(path: Path) -> list[SourceConfig]:
    return parse_sources(load_yaml(path), origin=str(path))
