"""Sources that are configuration: the crawl worker (moto) against the shared peer on 127.0.0.1,
which records every request. Secret headers, Basic/Bearer auth, POST bodies, a two-step flow, paging with
its stop rules, a rate per host, a request budget per day, schedules, and an API's error answer
turned into a clear degraded reason.

The peer's JSON pages are hand-written (no real multi-page answer of a paged API is in the samples
with a reachable next link: Metron's point at metron.cloud); they mimic Rakuten's `pageCount`."""
from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs

import pytest

from devstack.samples import read_sample
from tests.integration.peer_testkit import ALLOW_ALL, Reply, Request
from tests.integration.peer_testkit import Peer as SharedPeer


class Peer:
    """The shared peer scripted by `handler(req) -> (status, body)`; `requests` holds what the
    crawler sent (robots.txt left out) as dicts of method, path, query, headers and body."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.handler = lambda req: (404, b"{}")
        self.peer = SharedPeer(responder=self._answer).start()
        self.base = self.peer.url

    def _answer(self, request: Request) -> Reply:
        json_type = {"Content-Type": "application/json"}
        if request.route == "/robots.txt":
            return Reply(200, ALLOW_ALL, json_type)
        req = {"method": request.method, "path": request.route, "query": request.query, "headers": request.headers,
               "body": request.body}
        self.requests.append(req)
        status, body = self.handler(req)
        return Reply(status, body, {**json_type, "Location": "/results"} if status == 303 else json_type)


@pytest.fixture
def peer():
    p = Peer()
    yield p
    p.peer.close()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def service(aws, sleeps, monkeypatch):
    from chalicelib import secrets
    from chalicelib.crawl.service import build
    from chalicelib.settings import get_settings
    from chalicelib.uptime.ssrf import AddressPolicy
    from crawlers.fetcher import Fetcher

    secrets._cache.clear()
    monkeypatch.setenv("TEST_USER", "reader")
    monkeypatch.setenv("TEST_PASSWORD", "s3cret")
    monkeypatch.setenv("TEST_TOKEN", "tok-123")
    clock = [0.0]

    def sleep(seconds: float) -> None:
        sleeps.append(round(seconds, 3))
        clock[0] += seconds

    svc = build(get_settings())
    svc.fetcher_factory = lambda: Fetcher(user_agent="newbooks-test", min_host_delay_s=0, max_retries=0, sleep=sleep,
                                          clock=lambda: clock[0], address_policy=AddressPolicy(allow_private=True))
    yield svc
    secrets._cache.clear()


def configure(service, item: dict) -> None:
    from chalicelib.crawl.sources_config import parse_sources

    service.sources = parse_sources({"sources": [item]})


def crawl(service, name: str, hour: str = "2026-12-03T10:00Z") -> dict:
    return service.crawl({"schema_version": 1, "source": name, "scheduled_at": hour})


def state(name: str) -> dict:
    from chalicelib import aws
    from chalicelib.settings import get_settings

    return aws.table(get_settings().state_table).get_item(Key={"pk": f"SOURCE#{name}", "sk": "STATE"}).get("Item") or {}


RAKUTEN_2026 = ("rakuten-books-api",
                "aoton0029_intrahub-mediavault__search_by_author_oda-eiichiro__ca92c20_2026-07.TRANSCRIBED.json")

JSON_OPTIONS = {"source_name": "api", "items": "Items[].Item || Items", "last_page": "pageCount",
                "fields": {"title": "title", "isbn": "isbn", "release_date": "salesDate",
                           "price": "to_string(itemPrice)"}, "currency": "JPY"}


def test_basic_auth_secret_headers_params_and_window_reach_the_api(service, peer):
    body = read_sample(*RAKUTEN_2026)
    peer.handler = lambda req: (200, body)
    configure(service, {
        "name": "api", "kind": "json", "url": peer.base + "/api/books",
        "request": {"auth": {"basic": {"user": "${secret:test_user}", "password": "${secret:test_password}"}},
                    "headers": {"accessKey": "${secret:test_token}", "Origin": "https://newbooks.example"},
                    "params": {"booksGenreId": "001001", "from": "{window_start}", "to": "{window_end}"},
                    "window": {"back_days": 7, "ahead_days": 28}},
        "options": JSON_OPTIONS})
    outcome = crawl(service, "api")
    assert outcome["new"] == 5  # every item of the body (no genre filter in this config)
    sent = peer.requests[0]
    assert sent["headers"]["authorization"] == "Basic " + base64.b64encode(b"reader:s3cret").decode()
    assert sent["headers"]["accesskey"] == "tok-123" and sent["headers"]["origin"] == "https://newbooks.example"
    assert sent["query"] == {"booksGenreId": "001001", "from": "2026-11-26", "to": "2026-12-31"}
    # The secret never lands in the stored state (fetch state is keyed by a hash of the request).
    assert "tok-123" not in json.dumps(state("api"), default=str) and "s3cret" not in json.dumps(state("api"), default=str)


def test_missing_secret_degrades_with_a_clear_reason_and_sends_nothing(service, peer):
    configure(service, {"name": "api", "kind": "json", "url": peer.base + "/api/books",
                        "request": {"auth": {"bearer": "${secret:not_configured_anywhere}"}}, "options": JSON_OPTIONS})
    outcome = crawl(service, "api")
    assert outcome["failure"] == "config" and outcome["permanent"] is True
    assert "secret not_configured_anywhere is not configured" in state("api")["reason"]
    assert peer.requests == []


def test_two_step_post_json_with_bearer(service, peer):
    body = read_sample(*RAKUTEN_2026)

    def handler(req):
        if req["path"] == "/start":
            return 200, b'<form><input type="hidden" name="nonce" value="n-42"></form>'
        return 200, body

    peer.handler = handler
    configure(service, {
        "name": "api", "kind": "json", "url": peer.base + "/search",
        "request": {"method": "POST", "auth": {"bearer": "${secret:test_token}"},
                    "json": {"nonce": "{nonce}", "genre": "001001"},
                    "prefetch": {"url": peer.base + "/start",
                                 "extract": {"nonce": {"regex": 'name="nonce" value="([^"]+)"'}}}},
        "options": JSON_OPTIONS})
    assert crawl(service, "api")["new"] == 5
    first, second = peer.requests
    assert (first["method"], first["path"]) == ("GET", "/start")
    assert (second["method"], second["path"]) == ("POST", "/search")
    assert json.loads(second["body"]) == {"nonce": "n-42", "genre": "001001"}
    assert second["headers"]["content-type"] == "application/json"
    assert second["headers"]["authorization"] == "Bearer tok-123"

    # Next run: a new nonce, the same answer: recognised as unchanged (no parse, no writes).
    counter = [43]

    def next_run(req):
        if req["path"] == "/start":
            counter[0] += 1
            return 200, f'<form><input type="hidden" name="nonce" value="n-{counter[0]}"></form>'.encode()
        return 200, body

    peer.handler = next_run
    again = crawl(service, "api", "2026-12-03T11:00Z")
    assert again == {"source": "api", "unchanged": True, "new": 0}
    assert json.loads(peer.requests[-1]["body"])["nonce"] == "n-44"


def test_post_form_answered_303_is_followed_with_a_get(service, peer):
    body = read_sample(*RAKUTEN_2026)

    def handler(req):
        if req["method"] == "POST":
            return 303, b""
        return 200, body

    peer.handler = handler
    configure(service, {"name": "api", "kind": "json", "url": peer.base + "/search",
                        "request": {"form": {"q": "ワンピース", "genre": "001001"}}, "options": JSON_OPTIONS})
    assert crawl(service, "api")["new"] == 5
    post, get = peer.requests
    assert (post["method"], post["headers"]["content-type"]) == ("POST", "application/x-www-form-urlencoded")
    assert parse_qs(post["body"].decode()) == {"q": ["ワンピース"], "genre": ["001001"]}
    assert (get["method"], get["body"]) == ("GET", b"")


def test_two_step_first_answer_changed_shape_degrades(service, peer):
    peer.handler = lambda req: (200, b"<html>new login page</html>")
    configure(service, {
        "name": "api", "kind": "json", "url": peer.base + "/search",
        "request": {"form": {"nonce": "{nonce}"},
                    "prefetch": {"url": peer.base + "/start", "extract": {"nonce": {"regex": 'nonce" value="([^"]+)"'}}}},
        "options": JSON_OPTIONS})
    outcome = crawl(service, "api")
    assert outcome["failure"] == "parse" and "no 'nonce'" in state("api")["reason"]
    assert state("api")["last_event"]["type"] == "source.degraded"


def _page(number: int, dates: list[str], page_count: int = 9) -> bytes:
    items = [{"Item": {"title": f"Book {number}-{i}", "isbn": None, "salesDate": d, "itemPrice": 500,
                       "itemUrl": f"https://books.example/{number}/{i}"}} for i, d in enumerate(dates)]
    for item in items:
        item["Item"]["title"] = f"Series{number} {len(item['Item']['title'])}-{item['Item']['salesDate']}"
    return json.dumps({"page": number, "pageCount": page_count, "Items": items}).encode()


def test_page_number_paging_stops_at_the_date_window(service, peer):
    newest_first = {1: ["2026-12-20", "2026-12-10"], 2: ["2026-12-01", "2026-11-20"], 3: ["2026-10-01", "2026-09-01"],
                    4: ["2026-08-01"]}
    peer.handler = lambda req: (200, _page(int(req["query"]["page"]), newest_first[int(req["query"]["page"])]))
    configure(service, {"name": "api", "kind": "json", "url": peer.base + "/api",
                        "paging": {"type": "page", "param": "page", "start": 1},
                        "stop": {"older_than_days": 31, "max_pages": 10}, "options": JSON_OPTIONS})
    outcome = crawl(service, "api")
    # Page 3 is all older than 31 days before 2026-12-03: read (its items are kept), then stop.
    assert [r["query"]["page"] for r in peer.requests] == ["1", "2", "3"]
    assert outcome["items"] == 6


def test_page_number_paging_stops_at_max_pages_and_last_page(service, peer):
    peer.handler = lambda req: (200, _page(int(req["query"]["page"]), ["2026-12-20"], page_count=2))
    configure(service, {"name": "api", "kind": "json", "url": peer.base + "/api",
                        "paging": {"type": "page", "param": "page"}, "options": JSON_OPTIONS})
    crawl(service, "api")
    assert [r["query"]["page"] for r in peer.requests] == ["1", "2"]  # pageCount 2

    peer.requests.clear()
    peer.handler = lambda req: (200, _page(int(req["query"]["page"]), ["2026-12-20"], page_count=50))
    configure(service, {"name": "api2", "kind": "json", "url": peer.base + "/api",
                        "paging": {"type": "page", "param": "page"}, "stop": {"max_pages": 3}, "options": JSON_OPTIONS})
    crawl(service, "api2")
    assert [r["query"]["page"] for r in peer.requests] == ["1", "2", "3"]


def test_next_link_and_cursor_paging(service, peer):
    def by_next(req):
        n = int(req["query"].get("p", "1"))
        return 200, json.dumps({"results": [{"id": n, "title": f"Issue #{n}"}],
                                "next": f"/api?p={n + 1}" if n < 3 else None}).encode()

    peer.handler = by_next
    options = {"source_name": "api", "items": "results", "next": "next", "cursor": "cursor",
               "fields": {"title": "title", "code": "to_string(id)"}}
    configure(service, {"name": "n", "kind": "json", "url": peer.base + "/api", "paging": {"type": "next"},
                        "options": options})
    assert crawl(service, "n")["items"] == 3
    assert [r["query"].get("p") for r in peer.requests] == [None, "2", "3"]

    peer.requests.clear()

    def by_cursor(req):
        at = req["query"].get("cursor", "a")
        following = {"a": "b", "b": "c"}.get(at)
        return 200, json.dumps({"results": [{"id": at, "title": f"Item {at}"}], "cursor": following}).encode()

    peer.handler = by_cursor
    configure(service, {"name": "c", "kind": "json", "url": peer.base + "/api",
                        "paging": {"type": "cursor", "param": "cursor"}, "options": options})
    assert crawl(service, "c")["items"] == 3
    assert [r["query"].get("cursor") for r in peer.requests] == [None, "b", "c"]


def test_next_link_to_another_origin_is_not_followed(service, peer):
    port = peer.base.rsplit(":", 1)[1]

    def handler(req):  # page 1 names a next page on "localhost": the same server, another origin
        return 200, json.dumps({"results": [{"id": len(peer.requests), "title": "Issue"}],
                                "next": f"http://localhost:{port}/api?p=2"}).encode()

    peer.handler = handler
    configure(service, {"name": "n", "kind": "json", "url": peer.base + "/api", "paging": {"type": "next"},
                        "request": {"auth": {"bearer": "${secret:test_token}"}},
                        "options": {"source_name": "api", "items": "results", "next": "next",
                                    "fields": {"title": "title", "code": "to_string(id)"}}})
    assert crawl(service, "n")["items"] == 1
    assert len(peer.requests) == 1  # the bearer token never went to the other origin


def test_unchanged_first_page_asks_for_nothing_more_and_writes_nothing(service, peer):
    peer.handler = lambda req: (200, _page(int(req["query"]["page"]), ["2026-12-20"], page_count=3))
    configure(service, {"name": "api", "kind": "json", "url": peer.base + "/api",
                        "paging": {"type": "page", "param": "page"}, "options": JSON_OPTIONS})
    crawl(service, "api")
    peer.requests.clear()
    again = crawl(service, "api", "2026-12-03T11:00Z")
    assert again["unchanged"] is True and [r["query"]["page"] for r in peer.requests] == ["1"]


def test_rate_per_host_and_daily_budget(service, peer, sleeps):
    peer.handler = lambda req: (200, _page(int(req["query"]["page"]), ["2026-12-20"], page_count=9))
    configure(service, {"name": "api", "kind": "json", "url": peer.base + "/api", "rate_per_minute": 20,
                        "budget_per_day": 5, "paging": {"type": "page", "param": "page"},
                        "stop": {"max_pages": 3}, "options": JSON_OPTIONS})
    crawl(service, "api")
    assert len(peer.requests) == 3 and sleeps == [3.0, 3.0]  # 20 per minute: 3 s between requests
    assert state("api")["budget"] == {"day": "2026-12-03", "used": 3}
    peer.handler = lambda req: (200, _page(int(req["query"]["page"]), ["2026-12-21"], page_count=9))
    second = crawl(service, "api", "2026-12-03T11:00Z")  # 2 left today: the third request is refused
    assert second == {"source": "api", "unchanged": True, "new": 0, "skipped": "budget"}
    assert len(peer.requests) == 5 and state("api")["budget"]["used"] == 5
    assert state("api").get("status") == "ok"  # our own limit is not the source's failure
    crawl(service, "api", "2026-12-04T10:00Z")  # a new day, a new budget
    assert len(peer.requests) == 8


def test_a_secret_echoed_in_an_error_answer_is_redacted_from_the_reason(service, peer):
    peer.handler = lambda req: (401, b'{"error":"invalid_token","error_description":"token tok-123 is revoked"}')
    configure(service, {"name": "api", "kind": "json", "url": peer.base + "/api",
                        "request": {"auth": {"bearer": "${secret:test_token}"}}, "options": JSON_OPTIONS})
    crawl(service, "api")
    item = state("api")
    assert "invalid_token" in item["reason"] and "tok-123" not in json.dumps(item, default=str)


@pytest.mark.parametrize("status, body, reason", [
    (403, b'{"errors":{"errorCode":403,"errorMessage":"CLIENT_IP_NOT_ALLOWED"}}', "HTTP 403: 403 CLIENT_IP_NOT_ALLOWED"),
    (400, b'{"error":"wrong_parameter","error_description":"specify valid applicationId"}',
     "HTTP 400: wrong_parameter: specify valid applicationId"),
    (200, b'{"error":"wrong_parameter","error_description":"specify valid applicationId"}',
     "API error: wrong_parameter: specify valid applicationId"),
])
def test_rakuten_error_answers_are_a_clear_degraded_reason(service, peer, status, body, reason):
    """The shapes quoted in the rakuten-books-api samples README, hand-written (no file exists)."""
    peer.handler = lambda req: (status, body)
    configure(service, {"name": "rakuten", "kind": "json", "url": peer.base + "/services/api/BooksBook/Search/20170404",
                        "options": JSON_OPTIONS})
    crawl(service, "rakuten")
    item = state("rakuten")
    assert item["status"] == "degraded" and reason in item["reason"]
    assert item["last_event"]["data"]["reason"] == item["reason"]


def test_schedules_decide_which_sources_are_dispatched(service):
    from chalicelib.crawl.sources_config import parse_sources

    service.sources = parse_sources({"sources": [
        {"name": "hourly", "kind": "feed", "url": "http://127.0.0.1:9/feed"},
        {"name": "tokyo", "kind": "feed", "url": "http://127.0.0.1:9/feed", "schedule": "daily 06:00 Asia/Tokyo"},
        {"name": "weekly", "kind": "feed", "url": "http://127.0.0.1:9/feed",
         "schedule": "weekly wed 12:00 America/New_York"},
    ]})
    sent: list[dict] = []
    service.send_message = sent.append

    def dispatched(hour: str, crawled: bool = True) -> list[str]:
        sent.clear()
        service.dispatch({"time": hour})
        names = [m["source"] for m in sent]
        if crawled:  # the worker records the crawl: what the next dispatch decides on
            for name in names:
                service.states.save({"pk": f"SOURCE#{name}", "sk": "STATE", **{k: v for k, v in state(name).items()
                                                                             if k not in ("pk", "sk")},
                                     "status": "ok", "last_crawl": sent[0]["scheduled_at"]})
        return names

    assert dispatched("2026-12-01T20:00:00Z") == ["hourly", "tokyo", "weekly"]  # never crawled: all due
    assert dispatched("2026-12-01T21:00:00Z") == ["hourly", "tokyo"]  # 06:00 JST on Dec 2
    assert dispatched("2026-12-01T22:00:00Z") == ["hourly"]
    assert dispatched("2026-12-02T16:00:00Z") == ["hourly"]
    assert dispatched("2026-12-02T17:00:00Z") == ["hourly", "weekly"]  # Wed 12:00 EST
    assert dispatched("2026-12-02T18:00:00Z") == ["hourly"]
    # A skipped 06:00 JST dispatch is caught up by the next one.
    assert dispatched("2026-12-02T22:00:00Z") == ["hourly", "tokyo"]
