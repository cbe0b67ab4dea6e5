"""Data for the feeds, pages and badges, read through the existing services with bounded calls
(no Scan), handed to the pure renderers. Each method returns a `Page` (body, content type,
status, max-age); `Page.response` adds the ETag/Cache-Control of `chalicelib.http`.

Calls per request:
  /feeds/releases.{atom,rss}            ReleaseQueries.list by_seen (<= 12 Queries)
  /feeds/{destination}/releases.atom    1 Query (the destination's follows) + 1 list per followed
                                        series, at most MAX_SERIES (by_series) + by_seen (<= 12)
  /feeds/{destination}/upcoming.ics     1 Query + 1 by_series list per followed series
  /pages/releases                       by_month for two weeks (<= 3 pages of 200) + by_seen (24)
  /pages/status                         UptimeService.status_board: BatchGet states + 1 tick
                                        Query per shard (last 120 min) + 1 Query per target of
                                        <= 91 daily summary items
  /badges/{target}/*.svg                UptimeService.target_uptime (GetItem + 2 Queries)

People's formats: pages and badges ignore query parameters they do not use (utm_source, fbclid,
cache busters such as v=2) and answer a bad value in their own format, an HTML error page or an
SVG badge that says what is wrong, with a 4xx status; never problem+json, never a 500. Feeds are
for programs and keep the API's problem+json (app.py `_page`).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlencode

from chalicelib.notify.subscriptions import default_series_key, release_keys
from chalicelib.pages import badges, feeds, releases_page, status_page, template
from chalicelib.queries import BadQuery, category_filter, collapse

if TYPE_CHECKING:
    from chalicelib.queries import ReleaseQueries
    from chalicelib.uptime.service import UptimeService

HTML_TYPE = template.HTML_TYPE
# Weeks the releases page accepts: wide enough for any catalogue, far from date's limits (the
# page also links the weeks before and after, and years 1 and 9999 overflowed into a 500).
FIRST_WEEK, LAST_WEEK = date(1900, 1, 1), date(2199, 12, 31)
MAX_SERIES = 20  # followed series read per feed request
WEEK_PAGES = 3  # pages of 200 read for the two weeks of the releases page
UPTIME_WINDOWS = ("1h", "24h", "7d", "30d", "90d")


@dataclass(frozen=True)
class Page:
    body: str
    content_type: str
    status: int = 200
    max_age: int = 60

    def response(self, request: Any = None) -> Any:
        from chalicelib.http import text_response

        return text_response(self.body, self.content_type, request, max_age=self.max_age, status=self.status)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _used(params: dict[str, str] | None, names: set[str]) -> dict[str, str]:
    """The parameters a page or badge reads; anything else (tracking tags, cache busters) is
    ignored rather than refused: people paste links they were given."""
    return {k: v for k, v in (params or {}).items() if k in names}


def _category(params: dict[str, str] | None) -> dict[str, str]:
    """Feeds leave merchandise out like every list; `?category=` asks for it (issue 12.4). The
    value is checked here, so a bad one is the feed's 400 problem rather than an empty feed."""
    value = _used(params, {"category"}).get("category")
    if not value:
        return {}
    category_filter(value)
    return {"category": value}


def _query(asked: dict[str, str]) -> str:
    return f"?{urlencode(asked)}" if asked else ""


def html_error(status: int, title: str, detail: str, back: str = "/pages/status") -> Page:
    return Page(template.error_page(status, title, detail, back=back), HTML_TYPE, status=status, max_age=60)


def _week(value: str | None, today: date) -> date:
    """The `week` parameter (any day of the week, YYYY-MM-DD) or today; BadQuery when unusable."""
    if not value:
        return today
    try:
        chosen = date.fromisoformat(value)
    except ValueError:
        raise BadQuery("week", f"'week' must be a date as YYYY-MM-DD, got {value[:40]!r}") from None
    if not FIRST_WEEK <= chosen <= LAST_WEEK:
        raise BadQuery("week", f"'week' must be between {FIRST_WEEK.isoformat()} and {LAST_WEEK.isoformat()}, "
                               f"got {value!r}")
    return chosen


def _page_number(value: str | None) -> int:
    """The releases page's `page` parameter (1-based, ASCII digits); BadQuery when unusable."""
    if value is None or value == "":
        return 1
    if not (value.isascii() and value.isdigit()) or len(value) > 4 or int(value) < 1:
        raise BadQuery("page", f"'page' must be a page number from 1, got {value[:40]!r}")
    return int(value)


class PagesService:
    def __init__(self, queries: ReleaseQueries, uptime: UptimeService, follows: Callable[[str], list[Any]], base_url: str,
                 clock: Callable[[], datetime] = _now, series_key: Callable[[str], str] = default_series_key,
                 cover_images: bool = True):
        self.series_key = series_key
        self.cover_images = cover_images
        self.queries = queries
        self.uptime = uptime
        self.follows = follows  # destination -> subscriptions (stored + configured)
        self.base_url = base_url.rstrip("/")
        self.clock = clock

    # --- feeds -------------------------------------------------------------------------------
    def releases_feed(self, kind: str, params: dict[str, str] | None = None) -> Page:
        asked = _category(params)
        rows = collapse(self.queries.list({"limit": "50", **asked})["releases"])  # one entry per work
        url = f"{self.base_url}/feeds/releases.{kind}{_query(asked)}"
        if kind == "rss":
            return Page(feeds.rss(rows, title="newbooks: new releases", self_url=url, base_url=self.base_url), feeds.RSS_TYPE, max_age=300)
        return Page(feeds.atom(rows, feed_id=f"urn:newbooks:feed:releases{_query(asked)}", title="newbooks: new releases",
                               self_url=url, base_url=self.base_url), feeds.ATOM_TYPE, max_age=300)

    def destination_feed(self, destination: str, params: dict[str, str] | None = None) -> Page:
        destination, asked = unquote(destination), _category(params)
        keys = self._series_keys(destination)
        since = (self.clock().date() - timedelta(days=365)).isoformat()
        found = {str(r.get("id")): r for r in self._followed(keys, since, asked)}
        for release in self.queries.list({"limit": "200", **asked})["releases"]:  # first seen in the last 7 days
            if release_keys(release, self.series_key).series in keys:
                found.setdefault(str(release.get("id")), release)
        rows = sorted(collapse(list(found.values())),  # one entry per work
                      key=lambda r: (str(r.get("first_seen") or ""), str(r.get("id"))), reverse=True)[:50]
        url = f"{self.base_url}/feeds/{quote(destination, safe=':')}/releases.atom{_query(asked)}"
        body = feeds.atom(rows, feed_id=f"urn:newbooks:feed:{quote(destination, safe=':')}{_query(asked)}",
                          title=f"newbooks: releases followed by {destination}", self_url=url, base_url=self.base_url)
        return Page(body, feeds.ATOM_TYPE, max_age=300)

    def upcoming_ics(self, destination: str, params: dict[str, str] | None = None) -> Page:
        destination = unquote(destination)
        rows = self._followed(self._series_keys(destination), self.clock().date().isoformat(), _category(params))
        return Page(feeds.ical(rows, name=f"newbooks: {destination}", base_url=self.base_url, generated_at=self.clock()),
                    feeds.ICAL_TYPE, max_age=900)

    def _series_keys(self, destination: str) -> set[str]:
        return set(sorted({s.key for s in self.follows(destination) if s.kind == "series"})[:MAX_SERIES])

    def _followed(self, keys: set[str], since: str, asked: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Releases of the followed series dated `since` or later (one by_series list each)."""
        found: dict[str, dict[str, Any]] = {}
        for key in sorted(keys):
            try:
                page = self.queries.list({"series": key, "from": since, "limit": "100", **(asked or {})})
            except BadQuery:
                continue
            for release in page["releases"]:
                found.setdefault(str(release.get("id")), release)
        return list(found.values())

    # --- pages -------------------------------------------------------------------------------
    def releases_html(self, params: dict[str, str] | None = None) -> Page:
        params = _used(params, {"week", "category", "page"})
        asked = {"category": params["category"]} if params.get("category") else {}  # merchandise on request
        try:
            category_filter(params.get("category"))
        except BadQuery as exc:
            return html_error(400, "Bad category", str(exc), back="/pages/releases")
        today = self.clock().date()
        try:
            chosen = _week(params.get("week"), today)
        except BadQuery as exc:
            return html_error(400, "Bad week", str(exc), back="/pages/releases")
        try:
            page = _page_number(params.get("page"))
        except BadQuery as exc:
            return html_error(400, "Bad page", str(exc), back="/pages/releases")
        start = releases_page.week_start(chosen)
        middle, end = start + timedelta(days=7), start + timedelta(days=13)
        rows = self._pages({"from": start.isoformat(), "to": end.isoformat(), "limit": "200", **asked}, WEEK_PAGES)
        this_week = [r for r in rows if str(r.get("release_date") or "") < middle.isoformat()]
        next_week = [r for r in rows if str(r.get("release_date") or "") >= middle.isoformat()]
        last = releases_page.pages_of(len(collapse(this_week)))
        if page > last:
            return html_error(400, "Bad page", f"'page' must be between 1 and {last} for this week, got {page}",
                              back=f"/pages/releases?week={start.isoformat()}")
        recent = self.queries.list({"limit": "24"})["releases"]
        body = releases_page.render(this_week, next_week, recent, start=start, today=today, generated_at=self.clock(),
                                    covers=self.cover_images, page=page, extra=asked)
        return Page(body, HTML_TYPE, max_age=300)

    def _pages(self, params: dict[str, str], pages: int) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for _ in range(pages):
            page = self.queries.list(params)
            rows += page["releases"]
            if not page.get("next_cursor"):
                break
            params = {**params, "cursor": page["next_cursor"]}
        return rows

    def status_html(self) -> Page:
        now = self.clock()
        return Page(status_page.render(self.status_rows(now), now), HTML_TYPE, max_age=60)

    def status_rows(self, now: datetime) -> list[dict[str, Any]]:
        """One status_board read: the uptime figures (rollup.uptime_figures, the same as /status,
        badges and Slack) and the hourly history they came from, summed into the 90 daily bars."""
        return [{**t.to_dict(), "incidents": t.incidents, "days": status_page.daily_bars(t.hours, now.date())}
                for t in self.uptime.status_board().targets]

    # --- badges ------------------------------------------------------------------------------
    def status_badge(self, target: str) -> Page:
        found = self.uptime.target_uptime(target)
        if found is None:
            return Page(badges.not_found_badge(target), badges.SVG_TYPE, status=404, max_age=60)
        return Page(badges.status_badge(target, found["state"]), badges.SVG_TYPE, max_age=60)

    def uptime_badge(self, target: str, params: dict[str, str] | None = None) -> Page:
        window = _used(params, {"window"}).get("window") or "30d"
        if window not in UPTIME_WINDOWS:
            return Page(badges.error_badge(f"{target} uptime", f"window: {'|'.join(UPTIME_WINDOWS)}"), badges.SVG_TYPE,
                        status=400, max_age=60)
        found = self.uptime.target_uptime(target)
        if found is None:
            return Page(badges.not_found_badge(target), badges.SVG_TYPE, status=404, max_age=60)
        return Page(badges.uptime_badge(target, found["uptime"].get(window), window), badges.SVG_TYPE, max_age=300)

    @staticmethod
    def favicon() -> Page:
        return Page(template.FAVICON, template.FAVICON_TYPE, max_age=86400)


def _follows_from(settings: Any) -> Callable[[str], list[Any]]:
    from chalicelib.bootstrap import subscription_service
    from chalicelib.notify.fanout import static_subscriptions
    from chalicelib.notify.subscriptions import resolve_series_key

    def follows(destination: str) -> list[Any]:
        stored = subscription_service().list(destination)  # validates the destination (400)
        configured = static_subscriptions(settings, resolve_series_key()).subs
        return stored + [s for s in configured if s.destination == destination]

    return follows


def request_base_url(context: Mapping[str, Any] | None) -> str | None:
    """`https://<domainName>/<stage>` of an API Gateway request context (REST API event,
    `requestContext.domainName` and `.stage`), or None outside API Gateway."""
    domain, stage = (context or {}).get("domainName"), (context or {}).get("stage")
    if not isinstance(domain, str) or not domain or not isinstance(stage, str):
        return None
    return f"https://{domain}/{stage}".rstrip("/")


def pages(context: Mapping[str, Any] | None = None) -> PagesService:
    """Built per request (cheap) on the composition root's cached services, so
    `bootstrap.reset()` also resets these. Links use NEWBOOKS_PUBLIC_URL; where a stage leaves it
    unset, the host the request came in on (the API handler cannot be given its own API's URL in
    the template: the API's definition already refers to the handler)."""
    from chalicelib.bootstrap import release_queries, uptime_service
    from chalicelib.settings import get_settings

    settings = get_settings()
    from chalicelib.notify.subscriptions import resolve_series_key

    base = settings.public_base_url
    if not settings.public_url_configured:
        base = request_base_url(context) or base
    return PagesService(release_queries(), uptime_service(), _follows_from(settings), base,
                        series_key=resolve_series_key(), cover_images=settings.cover_images)
