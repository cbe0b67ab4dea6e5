"""User-Agent, per-host delay and Crawl-delay, asserted on recorded (fake) sleeps."""

from __future__ import annotations

import pytest

from crawlers import fetcher as fetcher_module
from tests.integration.fetcher.fetcher_testkit import EXPECTED_UA

pytestmark = pytest.mark.timeout(10)


def test_user_agent_names_the_bot_and_a_contact_url(server, make_fetcher):
    server.reply("/page", body=b"x")

    make_fetcher().fetch(server.url("/page"))

    assert [r.headers["user-agent"] for r in server.requests] == [EXPECTED_UA] * 2


def test_one_shot_fetch_uses_contact_url_from_environment(server, monkeypatch):
    monkeypatch.setenv("NEWBOOKS_CONTACT_URL", "https://newbooks.example/contact")
    server.reply("/page", body=b"x")

    result = fetcher_module.fetch(server.url("/page"))

    assert result.body == b"x"
    assert server.hits("/page")[0].headers["user-agent"] == (
        "newbooks/1.0 (+https://newbooks.example/contact)"
    )


def test_per_host_delay_applies_within_a_host_not_across_hosts(server, make_fetcher, fake_time):
    server.reply("/a", body=b"a")
    fetcher = make_fetcher(min_host_delay_s=1.0)

    fetcher.fetch(server.url("/a"))
    assert fake_time.sleeps == []  # first request to a host never waits

    fetcher.fetch(server.url("/a"))
    assert fake_time.sleeps == [1.0]

    # Same socket, other host name: its own slot, so no wait.
    fetcher.fetch(server.url("/a", host="localhost"))
    assert fake_time.sleeps == [1.0]
    assert server.hits("/a")[-1].headers["host"] == f"localhost:{server.port}"

    # Time already spent counts towards the delay.
    fake_time.advance(0.25)
    fetcher.fetch(server.url("/a"))
    assert fake_time.sleeps == [1.0, 0.75]


def test_crawl_delay_from_robots_raises_the_host_delay(server, make_fetcher, fake_time):
    server.reply("/robots.txt", body=b"User-agent: *\nCrawl-delay: 3\n")
    server.reply("/a", body=b"a")
    fetcher = make_fetcher(min_host_delay_s=1.0)

    fetcher.fetch(server.url("/a"))
    fetcher.fetch(server.url("/a"))

    assert fake_time.sleeps == [3.0]


def test_crawl_delay_is_capped(server, make_fetcher, fake_time):
    # A hostile Crawl-delay must not stall a Lambda invocation for a day.
    server.reply("/robots.txt", body=b"User-agent: *\nCrawl-delay: 86400\n")
    server.reply("/a", body=b"a")
    fetcher = make_fetcher(min_host_delay_s=1.0, max_crawl_delay_s=10.0)

    fetcher.fetch(server.url("/a"))
    fetcher.fetch(server.url("/a"))

    assert fake_time.sleeps == [10.0]


def test_query_params_are_encoded_into_the_url(server, make_fetcher):
    server.reply("/search", body=b"r")

    result = make_fetcher().fetch(server.url("/search"), params={"q": "one piece", "vol": 3})

    assert server.paths()[-1] == "/search?q=one+piece&vol=3"
    assert result.url == server.url("/search?q=one+piece&vol=3")


def test_body_bytes_are_returned_undecoded(server, make_fetcher):
    # Japanese sources still serve Shift_JIS; the parser, not the fetcher, decodes.
    sjis = "ワンピース 第107巻".encode("shift_jis")
    server.reply("/sjis", body=sjis, Content_Type="text/html; charset=Shift_JIS")

    result = make_fetcher().fetch(server.url("/sjis"))

    assert result.body == sjis
    assert result.headers["content-type"] == "text/html; charset=Shift_JIS"
