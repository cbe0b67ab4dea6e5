"""PagesService with in-memory collaborators: which reads it makes and what it hands the
renderers (weeks split, followed series, badges, 90-day rows), no AWS."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import pytest
from bs4 import BeautifulSoup

from chalicelib.pages.service import PagesService
from chalicelib.uptime.rollup import hourly_history
from chalicelib.uptime.service import StatusBoard, TargetSummary
from chalicelib.uptime.tickrow import TickRow

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)  # a Wednesday
A = "{http://www.w3.org/2005/Atom}"


def rel(id_, date_, series="Nailbiter", seen="2026-11-20T10:00Z", **extra):
    return {"id": id_, "title": f"{series} {id_}", "series": series, "release_date": date_, "first_seen": seen,
            "source": "s", **extra}


class FakeQueries:
    def __init__(self, rows):
        self.rows, self.calls = rows, []

    def list(self, params):
        self.calls.append(dict(params))
        rows = self.rows
        if "series" in params:
            rows = [r for r in rows if r["series"].lower() == params["series"]]
        if "from" in params:
            rows = [r for r in rows if r["release_date"] >= params["from"]]
        if "to" in params:
            rows = [r for r in rows if r["release_date"] <= params["to"] + "~"]
        return {"releases": rows[: int(params.get("limit", 50))], "next_cursor": None}


@dataclass
class Sub:
    kind: str
    key: str


class FakeStore:
    def __init__(self):
        self.rollup_calls = []

    def get_states(self, names):
        return {"api": {"incidents": [{"start": "2026-11-25T11:00", "end": None}]}}

    def ticks(self, shard, start, end):
        return [("2026-11-25T11:59", {"api": TickRow("f", 20), "web": TickRow("o", 10)})]

    def day_items(self, name, start_day):
        self.rollup_calls.append((name, start_day))
        return [{"sk": "2026-11-24", "h10": [60, 0, 0, 60]}]


@dataclass
class T:
    name: str


class FakeUptime:
    def __init__(self):
        self.store = FakeStore()

    def status_board(self):
        """Shaped like UptimeService.status_board: each target with its hourly history, built
        from its daily summary items (one Query each) and the live tick rows."""
        states = self.store.get_states(["api", "web"])
        live = self.store.ticks(0, "", "")
        rows = [TargetSummary("api", "g", "DOWN", "x", 20, {"24h": 0.5, "90d": 0.75}, [], {}),
                TargetSummary("web", "g", "UP", "x", 10, {"24h": 1.0, "90d": 1.0}, [], {})]
        targets = [replace(t, incidents=list((states.get(t.name) or {}).get("incidents") or []),
                           hours=hourly_history(self.store.day_items(t.name, "2026-08-28"),
                                                [(m, r[t.name]) for m, r in live]))
                   for t in rows]
        return StatusBoard(targets, NOW)

    def targets(self):
        return [T("api"), T("web")]

    def shards(self, targets):
        return [targets]

    def target_uptime(self, name):
        return {"state": "UP", "uptime": {"30d": 0.9995, "24h": None}} if name == "web" else None


def service(rows=(), follows=None):
    return PagesService(FakeQueries(list(rows)), FakeUptime(), follows or (lambda d: []), "http://h",
                        clock=lambda: NOW, series_key=lambda s: s.lower())


def test_releases_page_splits_this_and_next_week():
    svc = service([rel("a", "2026-11-23"), rel("b", "2026-11-29"), rel("c", "2026-11-30"), rel("d", "2026-12-06")])
    soup = BeautifulSoup(svc.releases_html({}).body, "html.parser")
    assert [c["data-id"] for c in soup.select("#this-week article")] == ["a", "b"]
    assert [c["data-id"] for c in soup.select("#next-week article")] == ["c", "d"]
    assert svc.queries.calls[0] == {"from": "2026-11-23", "to": "2026-12-06", "limit": "200"}


@pytest.mark.parametrize("week", ["soon", "2026-13-01", "9999-12-31", "0001-01-01", "1899-12-31", "2200-01-01"])
def test_releases_page_bad_or_out_of_range_week_is_a_400_html_page(week):
    svc = service([rel("a", "2026-11-23")])
    page = svc.releases_html({"week": week})
    assert page.status == 400 and page.content_type.startswith("text/html")
    soup = BeautifulSoup(page.body, "html.parser")
    assert soup.select_one("h1").get_text() == "Bad week"
    assert "'week'" in soup.select_one("main p").get_text()
    assert svc.queries.calls == []  # nothing read for a week that cannot be shown


@pytest.mark.parametrize("value", ["0", "-1", "x", "1.5", "２", "99999", "3"])
def test_releases_page_bad_page_is_a_400_html_page(value):
    svc = service([rel(f"r{n}", "2026-11-23") for n in range(100)])  # two pages this week
    page = svc.releases_html({"page": value})
    assert page.status == 400 and page.content_type.startswith("text/html")
    soup = BeautifulSoup(page.body, "html.parser")
    assert soup.select_one("h1").get_text() == "Bad page"
    assert "'page'" in soup.select_one("main p").get_text()


def test_releases_page_second_page_holds_the_rest():
    svc = service([rel(f"r{n:03d}", "2026-11-23") for n in range(100)])
    soup = BeautifulSoup(svc.releases_html({"page": "2"}).body, "html.parser")
    assert len(soup.select("#this-week article.card")) == 4
    assert svc.releases_html({"page": "1"}).body == svc.releases_html({}).body


def test_releases_page_edge_weeks_render():
    svc = service()
    for week in ("1900-01-01", "2199-12-31"):
        page = svc.releases_html({"week": week})
        assert page.status == 200, week
        hrefs = [a["href"] for a in BeautifulSoup(page.body, "html.parser").select("nav.weeknav a")]
        assert len(hrefs) >= 2


def test_pages_and_badges_ignore_parameters_they_do_not_use():
    svc = service([rel("a", "2026-11-23")])
    tagged = {"utm_source": "x", "fbclid": "IwAR0", "v": "2"}
    assert svc.releases_html(tagged).body == svc.releases_html({}).body
    assert svc.releases_html({**tagged, "week": "2026-11-25"}).status == 200
    badge = svc.uptime_badge("web", tagged)
    assert badge.status == 200 and badge.body == svc.uptime_badge("web", {}).body


def test_feeds_carry_one_entry_per_work():
    covers = [rel(f"pw:{c}", "2026-11-25", title=f"AMALGAMA SPACE ZOMBIE #3 CVR {c}", work="amalgamaspacezombie|3|comic")
              for c in "ABCD"]
    svc = service([*covers, rel("other", "2026-11-25")])
    feed = ET.fromstring(svc.releases_feed("atom").body)
    ids = [e.find(A + "id").text for e in feed.findall(A + "entry")]
    assert ids == ["urn:newbooks:release:pw:A", "urn:newbooks:release:other"]


def test_destination_feeds_read_only_followed_series():
    rows = [rel("old", "2020-01-01", seen="2026-11-24T00:00Z"), rel("new", "2026-12-02"),
            rel("other", "2026-12-03", series="Saga")]
    svc = service(rows, follows=lambda d: [Sub("series", "nailbiter"), Sub("keyword", "saga")])
    feed = ET.fromstring(svc.destination_feed("console%3A").body)
    ids = [e.find(A + "id").text for e in feed.findall(A + "entry")]
    assert ids == ["urn:newbooks:release:old", "urn:newbooks:release:new"]  # newest sighting first, no Saga
    ics = svc.upcoming_ics("console:").body
    assert "UID:new@newbooks" in ics and "old@newbooks" not in ics and "other@" not in ics


def test_status_rows_use_one_rollup_query_per_target_and_live_ticks_for_today():
    svc = service()
    page = svc.status_html()
    soup = BeautifulSoup(page.body, "html.parser")
    rows = soup.select("section.target")
    assert [r["data-state"] for r in rows] == ["DOWN", "UP"]
    assert [len(r.select(".bar")) for r in rows] == [90, 90]
    assert rows[0].select(".bar")[-1]["class"] == ["bar", "down"] and rows[1].select(".bar")[-1]["class"] == ["bar", "up"]
    assert rows[0].select(".bar")[-2]["class"] == ["bar", "up"]  # yesterday from the daily summary item
    assert rows[0].select_one(".incident.ongoing") is not None
    assert svc.uptime.store.rollup_calls == [("api", "2026-08-28"), ("web", "2026-08-28")]
    assert rows[0].select_one(".uptime-90d b").text == "75.00%"  # the one figure, not recomputed from bars
    assert page.content_type.startswith("text/html")


def test_badges():
    svc = service()
    assert svc.status_badge("web").status == 200 and "up" in svc.status_badge("web").body
    assert "99.95%" in svc.uptime_badge("web", {}).body
    assert "no data" in svc.uptime_badge("web", {"window": "24h"}).body
    assert svc.status_badge("nope").status == 404
    bad = svc.uptime_badge("web", {"window": "1y"})
    assert bad.status == 400 and bad.content_type.startswith("image/svg+xml")
    root = ET.fromstring(bad.body)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "window" in root.get("aria-label") and "30d" in root.get("aria-label")


def test_links_use_the_request_host_only_where_no_public_url_is_configured(monkeypatch):
    from chalicelib.pages import service as pages_service
    from chalicelib.settings import get_settings

    context = {"domainName": "abc123.execute-api.eu-west-1.amazonaws.com", "stage": "api"}
    assert pages_service.request_base_url(context) == "https://abc123.execute-api.eu-west-1.amazonaws.com/api"
    assert pages_service.request_base_url({"stage": "api"}) is None  # chalice local, tests: no domain
    assert pages_service.request_base_url(None) is None

    monkeypatch.setattr("chalicelib.bootstrap.release_queries", lambda: FakeQueries([]))
    monkeypatch.setattr("chalicelib.bootstrap.uptime_service", lambda: None)
    monkeypatch.delenv("NEWBOOKS_PUBLIC_URL", raising=False)
    get_settings.cache_clear()
    assert pages_service.pages(context).base_url == "https://abc123.execute-api.eu-west-1.amazonaws.com/api"
    monkeypatch.setenv("NEWBOOKS_PUBLIC_URL", "https://comics.example/")
    get_settings.cache_clear()
    assert pages_service.pages(context).base_url == "https://comics.example"
    get_settings.cache_clear()
