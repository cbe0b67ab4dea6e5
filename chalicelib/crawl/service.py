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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from chalicelib import events
from chalicelib.crawl import health
from chalicelib.crawl.schedule import is_due, parse_schedule
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
    dead_after_days: int = health.DEFAULT_DEAD_AFTER_DAYS

    # --- dispatcher -----------------------------------------------------------------------

    def dispatch(self, event: dict[str, Any]) -> dict[str, Any]:
        scheduled_at = scheduled_hour(event.get("time"))
        rows = {row["sk"]: row for row in self.states.list_health()}  # one Query, not one read per source
        names = [s.name for s in self.sources if s.enabled and health.due(rows.get(s.name), scheduled_at)
                 and is_due(parse_schedule(s.schedule), (rows.get(s.name) or {}).get("last_crawl"), scheduled_at)]
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
        budget = _budget_left(config, state, crawl_day)
        fetcher = self.fetcher_factory()
        observed_at = datetime.now(timezone.utc).isoformat()  # before the fetch: what the pages say is as of then
        try:
            pages = self._crawl_pages(fetcher, config, state, crawl_day, budget)
        except Exception as exc:
            failure = fetch_failure(exc)
            if failure is None:
                raise  # our own fault (AWS, a bug): SQS retries it
            if failure.kind == "budget":  # our own limit, not the site's fault: wait for tomorrow
                self._spend(config, state, crawl_day, fetcher.requests_made)
                return {"source": config.name, "unchanged": True, "new": 0, "skipped": "budget"}
            return self._record_failure(self._spent(config, state, crawl_day, fetcher.requests_made), config,
                                        failure, scheduled_at)
        finally:
            fetcher.close()
        state = self._spent(config, state, crawl_day, fetcher.requests_made)
        if not any(page.result.changed for page in pages):
            if state.get("problem") == "fetch":
                return self._recover_unchanged(config, state, scheduled_at)
            if config.budget_per_day:
                self._save(_dynamo_safe(state))  # the requests spent count against the budget
            log.info("source unchanged", extra={"source": config.name})
            return {"source": config.name, "unchanged": True, "new": 0}

        parsed: list[Any] = []
        parse_error = None
        for page in pages:
            if page.result.changed:
                self.blobs.put_raw(page.result.body, page.result.headers.get("content-type"))
            parsed += page.releases
            if page.error and parse_error is None:  # a parser must never take the worker down: degrade
                from chalicelib.log import redact

                parse_error = redact(page.error)  # shown on /sources: an API may echo a credential
                log.warning("parse failed", extra={"source": config.name, "error": parse_error})
        releases = _dedupe(parsed)
        verdict = health.judge(
            config.name,
            previous_status=state.get("status"),
            previous_count=int(state.get("item_count", 0)),
            item_count=len(releases),
            parse_error=parse_error,
            scheduled_at=scheduled_at,
        )
        status, event, health_fields = health.after_parse(config.name, state, verdict, scheduled_at,
                                                          self._dead_after(config))
        new_count = 0
        if verdict.write_releases:
            new_count = self._store_releases(config, releases, scheduled_at, observed_at)
            self.blobs.put_snapshot(config.name, crawl_day, [r.to_dict() for r in releases])
        next_state = {
            **state,
            **health_fields,
            "fetch": {url_key(page.request.key): page.result.state.to_dict() for page in pages},
            "raw_keys": {url_key(page.request.key): f"raw/{page.result.state.body_sha256}" for page in pages
                         if page.result.state.body_sha256},
            "status": status,
            "reason": verdict.reason,
            # What the stored body itself says: an unchanged body after a fetch failure returns here.
            "body_status": verdict.status,
            "body_reason": verdict.reason,
            "item_count": verdict.baseline_count,
            # rows the parsers skipped as unreadable this crawl (crawlers.rows.ParsedList), shown on /sources
            "skipped_rows": sum(int(getattr(page.releases, "skipped_rows", 0) or 0) for page in pages),
            "last_crawl": scheduled_at,
        }
        if event is not None:
            next_state["last_event"] = event.to_dict()
        saved = self._save(_dynamo_safe(next_state))
        log.info(
            "source crawled",
            extra={"source": config.name, "items": len(releases), "new": new_count, "status": status, "saved": saved},
        )
        return {"source": config.name, "unchanged": False, "items": len(releases), "new": new_count, "status": status}

    def _record_failure(self, state: dict[str, Any], config: SourceConfig, failure: health.Failure,
                        scheduled_at: str) -> dict[str, Any]:
        """A fetch failure is a state, not an exception: the message is acked (no SQS retry), the
        source shows the reason, and the dispatcher backs off. Stored releases are not touched."""
        from dataclasses import replace

        from chalicelib.log import redact

        # The reason is shown on /sources and in alerts: no secret may ride along in an error text.
        failure = replace(failure, reason=redact(failure.reason))
        next_state = health.after_failure(config.name, state, failure, scheduled_at, self._dead_after(config))
        saved = self._save(_dynamo_safe(next_state))
        log.warning("source fetch failed", extra={"source": config.name, "kind": failure.kind,
                                                  "permanent": failure.permanent, "status": next_state["status"],
                                                  "saved": saved})
        return {"source": config.name, "unchanged": False, "new": 0, "status": next_state["status"],
                "failure": failure.kind, "permanent": failure.permanent, "retry_at": next_state["retry_at"]}

    def _recover_unchanged(self, config: SourceConfig, state: dict[str, Any], scheduled_at: str) -> dict[str, Any]:
        """The site answers again with the body already stored: health is that body's verdict."""
        body_status = state.get("body_status") or health.OK
        verdict = health.Verdict(body_status, state.get("body_reason"), False, int(state.get("item_count", 0)), None)
        status, event, fields = health.after_parse(config.name, state, verdict, scheduled_at, self._dead_after(config))
        next_state = {**state, **fields, "status": status, "reason": verdict.reason, "last_crawl": scheduled_at}
        if event is not None:
            next_state["last_event"] = event.to_dict()
        self._save(_dynamo_safe(next_state))
        return {"source": config.name, "unchanged": True, "new": 0, "status": status}

    def _save(self, state: dict[str, Any]) -> bool:
        """Save the next state so an event is always carried by a stream MODIFY: a source whose
        first crawl fails has no item yet, and a new item is an INSERT, which not every stream
        filter passes. The item is created bare first, then the event is written onto it. (A
        consumer that does see INSERTs finds no event on it, so the event still arrives once.)"""
        if int(state.get("version", 0)) == 0 and state.get("last_event"):
            if not self.states.save({k: v for k, v in state.items() if k != "last_event"}):
                return False  # another worker created it first: its result stands
            state = {**state, "version": 1}
        return self.states.save(state)

    def _dead_after(self, config: SourceConfig) -> int:
        return int(config.dead_after_days or self.dead_after_days)

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
                "skipped_rows": int(rows.get(name, {}).get("skipped_rows", 0)),
                "last_crawl": rows.get(name, {}).get("last_crawl"),
                "reason": rows.get(name, {}).get("reason"),
                "degraded_since": rows.get(name, {}).get("degraded_since"),
                "retry_at": rows.get(name, {}).get("retry_at"),
            }
            for name in sorted(set(known) | set(rows))
        ]

    # --- helpers --------------------------------------------------------------------------

    def _source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        raise UnknownSource(f"no configured source named {name!r}")

    def _crawl_pages(self, fetcher: Any, config: SourceConfig, state: dict[str, Any], crawl_day: str,
                     budget: int | None) -> list[Any]:
        import crawlers
        from chalicelib.secrets import get_secret
        from crawlers.fetcher import FetchState
        from crawlers.session import crawl_pages

        module = crawlers.get_source(config.kind)
        urls = list(config.urls) or list(module.plan(config.options))
        if config.rate_per_minute:  # the provider's documented limit, e.g. Metron's 20 per minute
            fetcher.min_host_delay_s = max(fetcher.min_host_delay_s, 60.0 / config.rate_per_minute)
        fetcher.max_requests = budget
        stored = state.get("fetch") or {}
        return crawl_pages(
            fetcher, module, urls, config.crawl_options, crawl_date=date.fromisoformat(crawl_day),
            state_of=lambda key: FetchState.from_dict(stored.get(url_key(key)) or stored.get(key)),
            stored_body=lambda key: self._raw_body(state, key),
            secret=get_secret,
        )

    def _spent(self, config: SourceConfig, state: dict[str, Any], crawl_day: str, requests: int) -> dict[str, Any]:
        if not config.budget_per_day:
            return state
        used = int((state.get("budget") or {}).get("used", 0)) if (state.get("budget") or {}).get("day") == crawl_day else 0
        return {**state, "budget": {"day": crawl_day, "used": used + requests}}

    def _spend(self, config: SourceConfig, state: dict[str, Any], crawl_day: str, requests: int) -> None:
        if requests:
            self._save(_dynamo_safe(self._spent(config, state, crawl_day, requests)))

    def _raw_body(self, state: dict[str, Any], url: str) -> bytes:
        """Unchanged URL of a multi-URL source: its last body, from the content-addressed store."""
        keys = state.get("raw_keys") or {}
        key = keys.get(url_key(url)) or keys.get(url)
        return self.blobs.get_raw(key) if key else b""

    def _store_releases(self, config: SourceConfig, releases: list[Any], scheduled_at: str,
                        observed_at: str | None = None) -> int:
        from crawlers.normalize import series_key

        previous = self.blobs.get_latest_snapshot(config.name) or []
        known = {(r["id"], tuple(r.get("source_refs") or ()), r.get("release_date")) for r in previous}
        from chalicelib.notify.works import editions_in_list

        listed = editions_in_list([r.to_dict() for r in releases])  # the covers listed together: named in the post
        new = 0
        for release in releases:
            record = release.to_dict()
            if record["id"] in listed:
                record["editions_listed"] = listed[record["id"]]
            if (record["id"], tuple(record["source_refs"]), record.get("release_date")) in known:
                continue  # in the last snapshot with the same date: already stored, skip the write
            key = series_key(record.get("series") or record.get("title") or "")
            # issue 12: a changed release date moves the stored release in place (store.save)
            if self.releases.save(_dynamo_safe(release_item(record, series_key=key, first_seen=scheduled_at)),
                                  scheduled_at, observed_at) == "new":
                new += 1
            for ref in record["source_refs"] or [f"{config.name}:{record['id']}"]:
                self.releases.add_source_ref(record["id"], ref, scheduled_at)
        for gone in vanished(previous, [r.to_dict() for r in releases], scheduled_at):  # kept, never deleted
            self.releases.mark_unlisted(gone, scheduled_at)
        return new


def _budget_left(config: SourceConfig, state: dict[str, Any], crawl_day: str) -> int | None:
    if not config.budget_per_day:
        return None
    spent = state.get("budget") or {}
    used = int(spent.get("used", 0)) if spent.get("day") == crawl_day else 0
    return max(0, config.budget_per_day - used)


def fetch_failure(exc: BaseException) -> health.Failure | None:
    """The health reason for an exception raised while fetching, or None when it is not the
    site's doing (AWS errors, bugs) and should go back to SQS."""
    from crawlers.errors import ParseError
    from crawlers.fetcher import FetchError

    if isinstance(exc, FetchError):
        from crawlers.sources.jsonapi import error_message

        message = str(exc).split(": ", 1)[-1]
        said = error_message(exc.body) if exc.body else None  # the API's own words: why it refused
        return health.classify(exc.kind, exc.status, f"{message}: {said}" if said else message,
                               transient=exc.transient)
    if isinstance(exc, ParseError):  # a two-step source whose first answer changed shape
        return health.Failure("parse", f"parse failed: {exc}"[:300], False)
    from crawlers.session import ConfigProblem

    if isinstance(exc, ConfigProblem):  # a secret not set, an unknown option: fix the config
        return health.Failure("config", f"configuration: {exc}"[:300], True)
    return None


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

    def plain(v: Any) -> Any:  # numbers read back from DynamoDB stay numbers, not strings
        if isinstance(v, Decimal):
            return int(v) if v == v.to_integral_value() else float(v)
        return str(v)

    return json.loads(json.dumps(value, default=plain), parse_float=Decimal)


def build(settings: Settings) -> CrawlService:
    from chalicelib import aws

    def send(message: dict[str, Any]) -> None:
        aws.client("sqs").send_message(QueueUrl=settings.crawl_queue_url, MessageBody=json.dumps(message))

    def fetcher() -> Any:
        from chalicelib.uptime.ssrf import AddressPolicy
        from crawlers.fetcher import Fetcher

        # The uptime checker's policy: in prod no loopback, private or metadata address is
        # fetched, whether named by the config or reached by a redirect.
        return Fetcher(user_agent=settings.user_agent,
                       address_policy=AddressPolicy(allow_private=bool(settings.allow_private_targets)))

    return CrawlService(
        sources=load_sources(settings.sources_file),
        releases=ReleaseStore(settings.releases_table),
        states=SourceStateStore(settings.state_table),
        blobs=BlobStore(settings.data_bucket),
        send_message=send,
        fetcher_factory=fetcher,
        dead_after_days=settings.source_dead_after_days,
    )


__all__ = ["CrawlService", "UnknownSource", "build", "scheduled_hour"]
