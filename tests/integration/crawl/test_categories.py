"""Categories (issue 12, point 4) through the crawl worker and the release queries every list uses
(API, pages, feeds, Slack): a real Diamond week is stored whole, merchandise included, and listed
without merchandise unless `category` asks for it."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from devstack.samples import read_sample
from tests.integration.crawl.test_crawl_pipeline import WEEK1, message, release_count


def _all(queries, params):
    rows, cursor = [], None
    while True:
        page = queries.list({**params, **({"cursor": cursor} if cursor else {})})
        rows += page["releases"]
        cursor = page["next_cursor"]
        if not cursor:
            return rows


def _ids(rows):
    """Every stored release a list names: a work's editions, or the release itself."""
    return [e["id"] for r in rows for e in (r.get("editions") or [r])]


def test_merchandise_is_stored_but_listed_only_when_asked(service, site):
    import crawlers
    from chalicelib.bootstrap import release_queries
    from chalicelib.queries import BadQuery

    body = read_sample(*WEEK1)
    parsed = crawlers.parse("previewsworld", body)
    by_category = Counter(r.category for r in parsed)
    assert by_category["merchandise"] > 100 and by_category["comic"] > 200  # the week the issue counted
    site.body = body
    assert service.crawl(message())["new"] == len(parsed) == release_count()  # merchandise is kept

    queries = release_queries()
    week = {"from": "2020-02-19", "to": "2020-02-19", "limit": "200"}
    default = _all(queries, week)
    assert len(_ids(default)) == len(set(_ids(default))) == len(parsed) - by_category["merchandise"]
    assert {r["category"] for r in default} == {"comic", "collected", "magazine"}
    merch = _all(queries, {**week, "category": "merchandise"})
    assert len(_ids(merch)) == by_category["merchandise"] and all(r["category"] == "merchandise" for r in merch)
    assert any("T/S" in r["title"] or " AF" in r["title"] for r in merch)
    assert len(_ids(_all(queries, {**week, "category": "all"}))) == len(parsed)
    both = _ids(_all(queries, {**week, "category": "comic,merchandise"}))
    assert len(both) == by_category["comic"] + by_category["merchandise"]
    with pytest.raises(BadQuery) as exc:
        queries.list({**week, "category": "plush"})
    assert exc.value.param == "category"


def test_items_stored_before_categories_are_classified_on_read():
    from chalicelib.queries import matches

    old_toy = {"title": "BATWOMAN SYMBOL T/S LG", "source": "previewsworld"}  # no category attribute
    old_comic = {"title": "NAILBITER #17", "source": "imagecomics"}
    assert not matches(old_toy, {}) and matches(old_toy, {"category": "merchandise"})
    assert matches(old_comic, {}) and not matches(old_comic, {"category": "merchandise"})


def test_a_release_lists_the_editions_of_its_work(service, site):
    from chalicelib.bootstrap import release_queries

    site.body = read_sample(*WEEK1)
    service.crawl(message())
    one = release_queries().get("previewsworld:AUG191469")  # AMALGAMA SPACE ZOMBIE #3 CVR B
    editions = {e["id"]: e["edition"] for e in one["editions"]}
    assert len(editions) == 6 and editions["previewsworld:AUG191468"] == "CVR A YOUNG"
    assert one["work"] == "amalgamaspacezombie|3|comic"
    sonja = release_queries().get("previewsworld:DEC198313")  # RED SONJA AGE OF CHAOS #2 ratio variant
    assert len(sonja["editions"]) > 10 and sonja["work"] == "redsonjaageofchaos|2|comic"


def test_feeds_leave_merchandise_out_collapse_variants_and_take_a_category(service, site, monkeypatch):
    """Issue 12 points 1 and 4 for the feeds, through the routes: the newest 50 of a real Diamond
    week hold no merchandise and one entry per work; `?category=merchandise` asks for it."""
    import xml.etree.ElementTree as ET

    from chalice.test import Client

    from app import app
    from chalicelib.bootstrap import release_queries

    atom = "{http://www.w3.org/2005/Atom}"
    from datetime import datetime, timezone

    site.body = read_sample(*WEEK1)
    service.crawl(message(datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:00Z")))  # first seen today: the feeds' window
    by_id = {e["id"]: r for r in _all(release_queries(), {"category": "all", "limit": "200"}) for e in r.get("editions") or [r]}

    def entries(path):
        response = client.http.get(path)
        assert response.status_code == 200, response.body[:300]
        feed = ET.fromstring(response.body)
        return feed, [e.findtext(f"{atom}id").removeprefix("urn:newbooks:release:") for e in feed.iter(f"{atom}entry")]

    with Client(app) as client:
        _, default = entries("/feeds/releases.atom")
        assert len(default) == 50 and {by_id[i]["category"] for i in default} <= {"comic", "collected", "magazine"}
        works = [by_id[i].get("work") for i in default if by_id[i].get("work")]
        assert len(works) == len(set(works))  # CVR A/B/C of one issue are one entry
        feed, merch = entries("/feeds/releases.atom?category=merchandise&utm_source=x")
        assert merch and {by_id[i]["category"] for i in merch} == {"merchandise"}
        assert feed.find(f"{atom}link[@rel='self']").get("href").endswith("/feeds/releases.atom?category=merchandise")
        bad = client.http.get("/feeds/releases.rss?category=plush")
        assert bad.status_code == 400 and json.loads(bad.body)["param"] == "category"
        assert client.http.get("/feeds/slack:C1/upcoming.ics?category=plush").status_code == 400
