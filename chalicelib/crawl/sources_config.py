"""Which sources to crawl: `chalicelib/config/sources.yaml` (or $NEWBOOKS_SOURCES_FILE).

    sources:
      - name: previewsworld          # unique; the crawl state and snapshots are keyed by it
        kind: previewsworld          # a crawlers.SOURCES name
        url: https://.../newreleases.txt   # optional: else the crawler's plan(options) gives URLs
        options: {}                  # passed to plan() and parse() (e.g. NDL query, selectors)
        enabled: true
        dead_after_days: 7           # optional: degraded this long -> dead (NEWBOOKS_SOURCE_DEAD_AFTER_DAYS)
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
        out.append(SourceConfig(name, kind, tuple(str(u) for u in urls), options, bool(item.get("enabled", True)),
                                dead_after_days=dead_after))
    return out


def load_sources(path: Path) -> list[SourceConfig]:
    return parse_sources(load_yaml(path), origin=str(path))
