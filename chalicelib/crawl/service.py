"""Crawl service: the dispatcher enqueues one message per source; the worker crawls one source.

Worker steps, each safe to repeat (every message may arrive twice, or two workers may take the
same source at once):
1. polite fetch with the stored conditional-GET state (crawlers.fetcher); an unchanged body
   (304 or same hash) stops here: no parse, no writes;
2. raw body to S3, content-addressed;
3. parse (crawlers/), judge health (health.py);
4. releases not in the previous snapshot: conditional put per release (first writer wins: the
   stream INSERT of that put is the one "new release" event) and one per source ref;
5. snapshot JSON (latest + per day), then the source state (versioned conditional write).
Order matters: the snapshot is written after the releases, so a crash in between only means the
next run writes a few releases again as no-ops.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Callable

from chalicelib import events
from chalicelib.crawl import health
from chalicelib.crawl.sources_config import SourceConfig, load_sources
from chalicelib.crawl.store import BlobStore, ReleaseStore, SourceStateStore, release_item, vanished
from chalicelib.log import get_logger
from chalicelib.settings import Settings

log = get_logger("crawl")

MESSAGE_SCHEMA_VERSION = events.SCHEMA_VERSION


class UnknownSource(ValueError):
    pass


def scheduled_hour(event_time: str | None) -> str:
    """The schedule's own time truncated to its period (never the wall clock)."""
    moment = _parse_time(event_time) if event_time else datetime.now(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:00Z")


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


@dataclass
class CrawlService:
    sources: list[SourceConfig]
    releases: ReleaseStore
    states: SourceStateStore
    blobs: BlobStore
    send_message: Callable[[dict[str, Any]], None]
    fetcher_factory: Callable[[], Any]

    # --- dispatcher -----------------------------------------------------------------------

    def dispatch(self, event: dict[str, Any]) -> dict[str, Any]:
        scheduled_at = scheduled_hour(event.get("time"))
        names = [s.name for s in self.sources if s.enabled]
        for name in names:
            self.send_message({"schema_version": MESSAGE_SCHEMA_VERSION, "source": name, "scheduled_at": scheduled_at})
        log.info("crawl dispatched", extra={"sources": len(names), "scheduled_at": scheduled_at})
        return {"dispatched": len(names), "scheduled_at": scheduled_at}

    # --- worker ---------------------------------------------------------------------------

    def crawl(self, message: dict[str, Any]) -> dict[str, Any]:
        version = int(message.get("schema_version", 1))
        if version not in events.ACCEPTED_VERSIONS:
            raise ValueError(f"crawl message schema_version {version} not supported")
        config = self._source(message["source"])
        scheduled_at = message.get("scheduled_at") or scheduled_hour(None)
        crawl_day = scheduled_at[:10]
        state = self.states.get(config.name)
        fetched = self._fetch_all(config, state.get("fetch") or {})
        if not any(result.changed for result in fetched.values()):
            log.info("source unchanged", extra={"source": config.name})
            return {"source": config.name, "unchanged": True, "new": 0}

        import crawlers

        module = crawlers.get_source(config.kind)
        parsed: list[Any] = []
        parse_error = None
        for url, result in fetched.items():
            body = result.body if result.changed else self._raw_body(state, url)
            if result.changed:
                self.blobs.put_raw(result.body, result.headers.get("content-type"))
            try:
                parsed += module.parse(body, url=url, crawl_date=date.fromisoformat(crawl_day), options=config.options)
            except Exception as exc:  # a parser must never take the worker down: degrade instead
                parse_error = f"{type(exc).__name__}: {exc}"[:300]
                log.warning("parse failed", extra={"source": config.name, "url": url, "error": parse_error})
        releases = _dedupe(parsed)
        verdict = health.judge(
            config.name,
            previous_status=state.get("status"),
            previous_count=int(state.get("item_count", 0)),
            item_count=len(releases),
            parse_error=parse_error,
            scheduled_at=scheduled_at,
        )
        new_count = 0
        if verdict.write_releases:
            new_count = self._store_releases(config, releases, scheduled_at)
            self.blobs.put_snapshot(config.name, crawl_day, [r.to_dict() for r in releases])
        next_state = {
            **state,
            "fetch": {url_key(url): result.state.to_dict() for url, result in fetched.items()},
            "raw_keys": {url_key(url): f"raw/{result.state.body_sha256}" for url, result in fetched.items()
                         if result.state.body_sha256},
            "status": verdict.status,
            "reason": verdict.reason,
            "item_count": verdict.baseline_count,
            "last_crawl": scheduled_at,
        }
        if verdict.event is not None:
            next_state["last_event"] = verdict.event.to_dict()
        saved = self.states.save(_dynamo_safe(next_state))
        log.info(
            "source crawled",
            extra={"source": config.name, "items": len(releases), "new": new_count, "status": verdict.status, "saved": saved},
        )
        return {"source": config.name, "unchanged": False, "items": len(releases), "new": new_count, "status": verdict.status}

    def source_health(self) -> list[dict[str, Any]]:
        known = {s.name: s for s in self.sources}
        rows = {row["sk"]: row for row in self.states.list_health()}
        return [
            {
                "name": name,
                "kind": known[name].kind if name in known else None,
                "enabled": known[name].enabled if name in known else False,
                "status": rows.get(name, {}).get("status", "never crawled"),
                "items": int(rows.get(name, {}).get("items", 0)),
                "last_crawl": rows.get(name, {}).get("last_crawl"),
                "reason": rows.get(name, {}).get("reason"),
            }
            for name in sorted(set(known) | set(rows))
        ]

    # --- helpers --------------------------------------------------------------------------

    def _source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        raise UnknownSource(f"no configured source named {name!r}")

    def _fetch_all(self, config: SourceConfig, fetch_state: dict[str, Any]) -> dict[str, Any]:
        import crawlers
        from crawlers.fetcher import FetchState

        urls = list(config.urls) or list(crawlers.get_source(config.kind).plan(config.options))
        fetcher = self.fetcher_factory()
        try:
            return {url: fetcher.fetch(url, FetchState.from_dict(fetch_state.get(url_key(url)) or fetch_state.get(url)))
                    for url in urls}
        finally:
            fetcher.close()

    def _raw_body(self, state: dict[str, Any], url: str) -> bytes:
        """Unchanged URL of a multi-URL source: its last body, from the content-addressed store."""
        keys = state.get("raw_keys") or {}
        key = keys.get(url_key(url)) or keys.get(url)
        return self.blobs.get_raw(key) if key else b""

    def _store_releases(self, config: SourceConfig, releases: list[Any], scheduled_at: str) -> int:
        from crawlers.normalize import series_key

        previous = self.blobs.get_latest_snapshot(config.name) or []
        known = {(r["id"], tuple(r.get("source_refs") or ()), r.get("release_date")) for r in previous}
        new = 0
        for release in releases:
            record = release.to_dict()
            if (record["id"], tuple(record["source_refs"]), record.get("release_date")) in known:
                continue  # in the last snapshot with the same date: already stored, skip the write
            key = series_key(record.get("series") or record.get("title") or "")
            # issue 12: a changed release date moves the stored release in place (store.save)
            if self.releases.save(_dynamo_safe(release_item(record, series_key=key, first_seen=scheduled_at)),
                                  scheduled_at) == "new":
                new += 1
            for ref in record["source_refs"] or [f"{config.name}:{record['id']}"]:
                self.releases.add_source_ref(record["id"], ref, scheduled_at)
        for gone in vanished(previous, [r.to_dict() for r in releases], scheduled_at):  # kept, never deleted
            self.releases.mark_unlisted(gone, scheduled_at)
        return new


def url_key(url: str) -> str:
    """Stored fetch state is keyed by a hash of the URL: a query string may carry a credential
    (Rakuten's applicationId), which must not land in DynamoDB."""
    import hashlib

    return "sha256:" + hashlib.sha256(url.encode()).hexdigest()[:32]


def _dedupe(releases: list[Any]) -> list[Any]:
    from crawlers import merge

    by_id: dict[str, Any] = {}
    for release in releases:
        by_id[release.id] = merge(by_id[release.id], release) if release.id in by_id else release
    return list(by_id.values())


def _dynamo_safe(value: Any) -> Any:
    """DynamoDB rejects floats and empty strings in keys; round-trip through JSON with Decimal."""
    from decimal import Decimal

    return json.loads(json.dumps(value, default=str), parse_float=Decimal)


def build(settings: Settings) -> CrawlService:
    from chalicelib import aws

    def send(message: dict[str, Any]) -> None:
        aws.client("sqs").send_message(QueueUrl=settings.crawl_queue_url, MessageBody=json.dumps(message))

    def fetcher() -> Any:
        from crawlers.fetcher import Fetcher

        return Fetcher(user_agent=settings.user_agent)

    return CrawlService(
        sources=load_sources(settings.sources_file),
        releases=ReleaseStore(settings.releases_table),
        states=SourceStateStore(settings.state_table),
        blobs=BlobStore(settings.data_bucket),
        send_message=send,
        fetcher_factory=fetcher,
    )


__all__ = ["CrawlService", "build", "scheduled_hour", "UnknownSource"]
