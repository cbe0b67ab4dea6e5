"""robots.txt is fetched once per origin, through the same client, and obeyed."""

from __future__ import annotations

import time

import pytest

from crawlers.fetcher import FetchError
from tests.integration.fetcher.fetcher_testkit import EXPECTED_UA

pytestmark = pytest.mark.timeout(10)


def test_disallowed_page_is_never_requested(server, make_fetcher):
    server.reply("/robots.txt", body=b"User-agent: newbooks\nDisallow: /private\n")
    server.reply("/private/list", body=b"secret")

    with pytest.raises(FetchError) as err:
        make_fetcher().fetch(server.url("/private/list"))

    assert err.value.kind == "robots"
    assert server.paths() == ["/robots.txt"]


def test_allowed_page_is_fetched_and_robots_is_cached_per_origin(server, make_fetcher):
    # A group for another bot must not apply to us; the "*" group does.
    server.reply(
        "/robots.txt",
        body=b"User-agent: otherbot\nDisallow: /\n\nUser-agent: *\nDisallow: /admin\n",
    )
    server.reply("/releases", body=b"ok")
    fetcher = make_fetcher(min_host_delay_s=0)

    assert fetcher.fetch(server.url("/releases")).body == b"ok"
    assert fetcher.fetch(server.url("/releases")).body == b"ok"
    with pytest.raises(FetchError) as err:
        fetcher.fetch(server.url("/admin/x"))

    assert err.value.kind == "robots"
    assert server.paths() == ["/robots.txt", "/releases", "/releases"]
    # robots.txt is requested as the bot, so site owners can see who asks.
    assert server.hits("/robots.txt")[0].headers["user-agent"] == EXPECTED_UA


def test_missing_robots_allows_everything(server, make_fetcher):
    server.reply("/page", body=b"hello")  # /robots.txt is unrouted -> 404

    result = make_fetcher().fetch(server.url("/page"))

    assert result.status == 200
    assert server.paths() == ["/robots.txt", "/page"]


@pytest.mark.parametrize("status", [401, 403])
def test_forbidden_robots_disallows_everything(server, make_fetcher, status):
    server.reply("/robots.txt", status=status)
    server.reply("/page", body=b"hello")

    with pytest.raises(FetchError) as err:
        make_fetcher().fetch(server.url("/page"))

    assert err.value.kind == "robots"
    assert server.paths() == ["/robots.txt"]


def test_robots_server_error_blocks_the_host_for_the_whole_run(server, make_fetcher):
    server.reply("/robots.txt", status=503)
    server.reply("/page", body=b"hello")
    fetcher = make_fetcher()

    for _ in range(2):
        with pytest.raises(FetchError) as err:
            fetcher.fetch(server.url("/page"))
        assert err.value.kind == "robots"

    # Cached verdict: the second fetch did not even ask for robots.txt again.
    assert server.paths() == ["/robots.txt"]


def test_robots_timeout_is_a_robots_error(hanging_server, make_fetcher):
    fetcher = make_fetcher(timeout_s=0.5)

    started = time.monotonic()
    with pytest.raises(FetchError) as err:
        fetcher.fetch(hanging_server.url("/page"))

    assert err.value.kind == "robots"
    assert time.monotonic() - started < 2.0
    assert len(hanging_server.accepted) == 1  # one robots probe, no page request


def test_robots_can_be_switched_off(server, make_fetcher):
    server.reply("/robots.txt", body=b"User-agent: *\nDisallow: /\n")
    server.reply("/page", body=b"hello")

    result = make_fetcher(respect_robots=False).fetch(server.url("/page"))

    assert result.body == b"hello"
    assert server.paths() == ["/page"]


def test_rfc9309_wildcards_and_longest_match(server, make_fetcher):
    """`$` anchors and `*` wildcards are honoured, the longest matching rule wins and Allow wins a
    tie (RFC 9309 2.2.2); urllib.robotparser allowed /a.json and denied /list/new here."""
    server.reply(
        "/robots.txt",
        body=b"User-agent: *\nDisallow: /*.json$\nDisallow: /list\nAllow: /list/new\n",
    )
    server.reply("/a.json", body=b"{}")
    server.reply("/a.jsonl", body=b"ok")
    server.reply("/list/new", body=b"ok")
    fetcher = make_fetcher(min_host_delay_s=0)

    for path in ("/a.json", "/list/old"):
        with pytest.raises(FetchError) as err:
            fetcher.fetch(server.url(path))
        assert err.value.kind == "robots"
    assert fetcher.fetch(server.url("/a.jsonl")).body == b"ok"
    assert fetcher.fetch(server.url("/list/new")).body == b"ok"
    assert server.paths() == ["/robots.txt", "/a.jsonl", "/list/new"]
