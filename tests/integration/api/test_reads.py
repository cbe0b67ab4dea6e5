"""Public reads: /healthz, /openapi.json, /releases, /releases/{id}, /sources, /status,
/status/{target} — happy paths, every 4xx as problem JSON naming the parameter, ETag/304."""
from __future__ import annotations

import base64
import json

import pytest

from tests.integration.api.api_testkit import RELEASES, assert_problem, assert_schema, body_of, hdr


def test_healthz(client):
    response = client.http.get("/healthz")
    assert response.status_code == 200 and body_of(response) == {"ok": True}
    assert_schema(body_of(response), "Health")


def test_openapi_document_is_3_1_and_every_ref_resolves(client):
    response = client.http.get("/openapi.json")
    assert response.status_code == 200
    doc = body_of(response)
    assert doc["openapi"] == "3.1.0"
    text = json.dumps(doc)
    for name in ("Release", "ReleasePage", "Source", "TargetStatus", "StatusSummary", "Subscription", "Problem", "DlqMessage"):
        assert name in doc["components"]["schemas"]
    for ref in {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert ref in doc["components"]["schemas"], ref
    from app import app

    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    served = {(path, method) for path, methods in app.routes.items() for method in methods
              if not path.startswith(("/slack", "/feeds", "/pages", "/badges", "/favicon.ico"))}
    assert served == documented


def test_list_releases_newest_first_seen_with_schema_and_cache_headers(client):
    response = client.http.get("/releases")
    assert response.status_code == 200
    page = body_of(response)
    assert_schema(page, "ReleasePage")
    assert {r["id"] for r in page["releases"]} == {r["id"] for r in RELEASES}
    seen = [r["first_seen"] for r in page["releases"]]
    assert seen == sorted(seen, reverse=True)
    assert page["next_cursor"] is None
    assert hdr(response, "etag").startswith('"') and "max-age" in hdr(response, "cache-control")


@pytest.mark.parametrize("query, expected", [
    ("q=space%20cats", {r["id"] for r in RELEASES if "Space" in r["title"]}),
    ("q=%EF%BC%B3%EF%BC%B0%EF%BC%A1%EF%BC%A3%EF%BC%A5", {r["id"] for r in RELEASES if "Space" in r["title"]}),  # full-width
    ("publisher=%E9%9B%86%E8%8B%B1%E7%A4%BE", {r["id"] for r in RELEASES if r["publisher"] == "集英社"}),
    ("source=openbd", {r["id"] for r in RELEASES if r["source"] == "openbd"}),
    ("series=Space%20Cats", {r["id"] for r in RELEASES if r["series"] == "Space Cats"}),
    ("from=2026-01&to=2026-01", {r["id"] for r in RELEASES if r["release_date"].startswith("2026-01")}),
    ("from=2026-02-01&to=2026-03-31&source=previewsworld",
     {r["id"] for r in RELEASES if r["release_date"] >= "2026-02" and r["source"] == "previewsworld"}),
])
def test_list_releases_filters(client, query, expected):
    response = client.http.get("/releases?" + query)
    assert response.status_code == 200, response.body
    assert {r["id"] for r in body_of(response)["releases"]} == expected
    assert expected  # each case selects something


def test_date_range_is_sorted_by_release_date(client):
    rows = body_of(client.http.get("/releases?from=2026-01&to=2026-03"))["releases"]
    assert len(rows) == len(RELEASES)
    keys = [(r["release_date"], r["id"]) for r in rows]
    assert keys == sorted(keys)


@pytest.mark.parametrize("base", ["/releases?", "/releases?from=2026-01&to=2026-03&"])
def test_cursor_pagination_visits_every_release_once_in_a_stable_order(client, base):
    full = [r["id"] for r in body_of(client.http.get(base + "limit=200"))["releases"]]
    got, cursor, pages = [], None, 0
    while True:
        url = base + "limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = body_of(client.http.get(url))
        assert len(page["releases"]) <= 3
        got += [r["id"] for r in page["releases"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 30
    assert got == full and len(set(got)) == len(RELEASES)
    assert pages >= 4


def _cursor(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize("query, param", [
    ("limit=0", "limit"),
    ("limit=201", "limit"),
    ("limit=abc", "limit"),
    ("limit=-1", "limit"),
    ("from=2026-13-01", "from"),
    ("from=2026-02-30", "from"),
    ("to=yesterday", "to"),
    ("from=2026-05&to=2026-01", "to"),
    ("from=2020-01&to=2026-01", "to"),
    ("q=" + "x" * 201, "q"),
    ("series=%E2%80%94", "series"),  # normalizes to nothing
    ("publisher=a%00b", "publisher"),
    ("cursor=not-a-cursor!", "cursor"),
    ("cursor=" + _cursor({"p": 0, "k": {"pk": {"S": "x"}}}), "cursor"),
    ("cursor=" + _cursor({"p": 0, "k": {"evil": "x"}}), "cursor"),
    ("cursor=" + _cursor({"p": -3, "k": None}), "cursor"),
    ("cursor=" + _cursor({"p": 99, "k": None}), "cursor"),
    ("colour=red", "colour"),
    ("category=toys", "category"),
    ("category=comic,,plush", "category"),
])
def test_list_releases_bad_parameters_are_400_problems_naming_them(client, query, param):
    assert_problem(client.http.get("/releases?" + query), 400, param)


def test_get_release_with_source_refs(client):
    response = client.http.get("/releases/" + RELEASES[0]["id"])
    assert response.status_code == 200
    found = body_of(response)
    assert_schema(found, "Release")
    assert found["title"] == RELEASES[0]["title"]
    assert "previewsworld:JAN261234" in found["source_refs"] and "previewsworld:ITEM1" in found["source_refs"]


def test_get_release_unknown_is_404_and_over_long_is_400(client):
    assert_problem(client.http.get("/releases/isbn:0000000000000"), 404, "release_id")
    assert_problem(client.http.get("/releases/" + "x" * 301), 400, "release_id")


def test_sources_health(client):
    response = client.http.get("/sources")
    assert response.status_code == 200
    body = body_of(response)
    assert_schema(body, "SourceList")
    rows = {s["name"]: s for s in body["sources"]}
    assert rows["previewsworld"]["status"] == "ok" and rows["previewsworld"]["items"] == 5
    assert all(s["status"] == "never crawled" for name, s in rows.items() if name != "previewsworld")


def test_status_summary_lists_down_first(client):
    body = body_of(client.http.get("/status"))
    assert_schema(body, "StatusSummary")
    assert [(t["name"], t["state"]) for t in body["targets"]] == [("web-down", "DOWN"), ("web-up", "UP")]
    assert all(t["last_check"] and t["latency_ms"] is not None for t in body["targets"])


def test_target_status_windows_latency_and_incidents(client):
    up = body_of(client.http.get("/status/web-up"))
    assert_schema(up, "TargetStatus")
    assert up["state"] == "UP" and up["uptime"]["1h"] == 1.0 and up["uptime"]["30d"] == 1.0
    assert up["latency_ms"]["1h"]["p50"] is not None and up["latency_ms"]["1h"]["p95"] >= up["latency_ms"]["1h"]["p50"]
    assert len(up["last_checks"]) == 4 and all(c["ok"] for c in up["last_checks"])
    down = body_of(client.http.get("/status/web-down"))
    assert_schema(down, "TargetStatus")
    assert down["state"] == "DOWN" and down["uptime"]["1h"] == 0.0
    assert len(down["incidents"]) == 1 and down["incidents"][0]["end"] is None


@pytest.mark.parametrize("name", ["nope", "bad%20name", "-x"])
def test_target_status_unknown_is_404_naming_target(client, name):
    assert_problem(client.http.get("/status/" + name), 404, "target")


@pytest.mark.parametrize("path", [
    "/releases", "/releases?q=space", "/releases/isbn:9784000000001", "/sources", "/status", "/status/web-up", "/openapi.json",
])
def test_reads_carry_etag_and_answer_304_on_a_match(client, path):
    first = client.http.get(path)
    assert first.status_code == 200
    etag = hdr(first, "etag")
    assert hdr(first, "cache-control").startswith("public, max-age=")
    again = client.http.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.body in (b"", "") and hdr(again, "etag") == etag
    assert client.http.get(path, headers={"If-None-Match": f'"other", W/{etag.removeprefix("W/")}'}).status_code == 304
    assert client.http.get(path, headers={"If-None-Match": '"0000"'}).status_code == 200


def test_if_none_match_star_is_304(client):
    assert client.http.get("/sources", headers={"If-None-Match": "*"}).status_code == 304


def test_errors_are_not_cacheable(client):
    response = client.http.get("/releases?limit=0")
    assert hdr(response, "cache-control") == "no-store"


@pytest.mark.parametrize("path", ["/feeds/nowhere/releases.atom", "/feeds/pager:1/upcoming.ics"])
def test_feeds_answer_a_bad_destination_with_the_apis_problem_by_its_type(client, path, monkeypatch):
    """A feed's BadDestination goes through the same kind table as the API (issue 15): 400 naming
    `destination`, whatever the message says."""
    from chalicelib.errors import DomainError

    assert_problem(client.http.get(path), 400, "destination")
    real_init = DomainError.__init__
    monkeypatch.setattr(DomainError, "__init__", lambda self, param, message: real_init(self, param, "already exists"))
    assert assert_problem(client.http.get(path), 400, "destination")["detail"] == "already exists"
