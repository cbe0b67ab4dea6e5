"""PagesService with in-memory collaborators: which reads it makes and what it hands the
renderers (weeks split, followed series, badges, 90-day rows), no AWS."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from bs4 import BeautifulSoup

from chalicelib.pages.service import PagesService
from chalicelib.queries import BadQuery

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
        return [("2026-11-25T11:59", {"api": ["f", 20], "web": ["o", 10]})]

    def rollups(self, name, start_hour):
        self.rollup_calls.append((name, start_hour))
        return [{"sk": "2026-11-24T10", "checks": 60, "passes": 60, "fails": 0}]


@dataclass
class T:
    name: str


class FakeUptime:
    def __init__(self):
        self.store = FakeStore()

    def status_summary(self):
        return {"targets": [{"name": "api", "group": "g", "state": "DOWN", "latency_ms": 20, "last_check": "x", "uptime_24h": 0.5},
                            {"name": "web", "group": "g", "state": "UP", "latency_ms": 10, "last_check": "x", "uptime_24h": 1.0}]}

    def targets(self):
        return [T("api"), T("web")]

    def shards(self, targets):
        return [targets]

    def target_status(self, name):
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
    with pytest.raises(BadQuery):
        svc.releases_html({"week": "soon"})
    with pytest.raises(BadQuery):
        svc.releases_html({"page": "2"})


def test_feeds_carry_one_entry_per_work():
    covers = [rel(f"pw:{c}", "2026-11-25", title=f"AMALGAMA SPACE ZOMBIE #3 CVR {c}", work="amalgamaspacezombie|3|comic")
              for c in "ABCD"]
    svc = service(covers + [rel("other", "2026-11-25")])
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
    assert rows[0].select(".bar")[-2]["class"] == ["bar", "up"]  # yesterday from the hourly rollup
    assert rows[0].select_one(".incident.ongoing") is not None
    assert svc.uptime.store.rollup_calls == [("api", "2026-08-28T00"), ("web", "2026-08-28T00")]
    assert page.content_type.startswith("text/html")


def test_badges():
    svc = service()
    assert svc.status_badge("web").status == 200 and "up" in svc.status_badge("web").body
    assert "99.95%" in svc.uptime_badge("web", {}).body
    assert "no data" in svc.uptime_badge("web", {"window": "24h"}).body
    assert svc.status_badge("nope").status == 404
    with pytest.raises(BadQuery):
        svc.uptime_badge("web", {"window": "1y"})
