"""Conditional GET and body hashing: unchanged sources are cheap for them and for us."""

from __future__ import annotations

import hashlib
import json

import pytest

from crawlers.fetcher import FetchState
from tests.integration.fetcher.fetcher_testkit import Reply, send

pytestmark = pytest.mark.timeout(10)

LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"


def test_etag_round_trip_gives_304_and_keeps_state(server, make_fetcher):
    def route(handler):
        if handler.headers.get("If-None-Match") == '"v1"':
            send(handler, 304, headers={"ETag": '"v1"'})
        else:
            send(handler, 200, b"release list", {"ETag": '"v1"'})

    server.route("/feed", route)
    fetcher = make_fetcher(min_host_delay_s=0)

    first = fetcher.fetch(server.url("/feed"))
    assert (first.status, first.changed, first.body) == (200, True, b"release list")
    assert first.state == FetchState(
        etag='"v1"', body_sha256=hashlib.sha256(b"release list").hexdigest()
    )

    second = fetcher.fetch(server.url("/feed"), first.state)

    assert server.hits("/feed")[1].headers["if-none-match"] == '"v1"'
    assert "if-none-match" not in server.hits("/feed")[0].headers
    assert (second.status, second.changed, second.body) == (304, False, b"")
    assert second.state == first.state


def test_last_modified_round_trip_gives_304(server, make_fetcher):
    def route(handler):
        if handler.headers.get("If-Modified-Since") == LAST_MODIFIED:
            send(handler, 304)
        else:
            send(handler, 200, b"v1", {"Last-Modified": LAST_MODIFIED})

    server.route("/feed", route)
    fetcher = make_fetcher(min_host_delay_s=0)

    first = fetcher.fetch(server.url("/feed"))
    assert first.state.last_modified == LAST_MODIFIED
    second = fetcher.fetch(server.url("/feed"), first.state)

    assert server.hits("/feed")[1].headers["if-modified-since"] == LAST_MODIFIED
    assert (second.status, second.changed, second.body) == (304, False, b"")
    assert second.state == first.state


def test_same_body_without_validators_is_unchanged_but_new_body_is_changed(
    server, make_fetcher
):
    server.replies("/page", [Reply(body=b"same"), Reply(body=b"same"), Reply(body=b"new")])
    fetcher = make_fetcher(min_host_delay_s=0)

    first = fetcher.fetch(server.url("/page"))
    second = fetcher.fetch(server.url("/page"), first.state)
    third = fetcher.fetch(server.url("/page"), second.state)

    assert first.changed is True
    assert (second.status, second.changed, second.body) == (200, False, b"same")
    assert (third.changed, third.body) == (True, b"new")
    assert third.state.body_sha256 == hashlib.sha256(b"new").hexdigest()
    # No validators were ever offered, so none were sent.
    assert all("if-none-match" not in r.headers for r in server.hits("/page"))


def test_state_survives_a_json_round_trip():
    state = FetchState(etag='W/"abc"', last_modified=LAST_MODIFIED, body_sha256="00" * 32)

    stored = json.loads(json.dumps(state.to_dict()))

    assert FetchState.from_dict(stored) == state
    assert FetchState.from_dict(None) == FetchState()
    assert FetchState.from_dict({"etag": "x", "unknown_future_field": 1}) == FetchState(etag="x")
