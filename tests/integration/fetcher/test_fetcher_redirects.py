"""Redirects are followed by hand (max 5) so every hop is robots-checked."""

from __future__ import annotations

import pytest

from crawlers.fetcher import FetchError, FetchState

pytestmark = pytest.mark.timeout(10)


def test_redirect_chain_is_followed_to_the_final_url(server, make_fetcher):
    server.reply("/a", status=301, Location="/b")
    server.reply("/b", status=302, Location=server.url("/c"))
    server.reply("/c", body=b"final", ETag='"c1"')

    result = make_fetcher(min_host_delay_s=0).fetch(
        server.url("/a"), FetchState(etag='"old"')
    )

    assert (result.url, result.status, result.body) == (server.url("/c"), 200, b"final")
    assert result.state.etag == '"c1"'
    assert server.paths() == ["/robots.txt", "/a", "/b", "/c"]
    # The stored validator belongs to the final resource, so it travels to the last hop.
    assert server.hits("/c")[0].headers["if-none-match"] == '"old"'


def test_redirect_into_a_disallowed_path_stops_before_requesting_it(server, make_fetcher):
    server.reply("/robots.txt", body=b"User-agent: *\nDisallow: /private\n")
    server.reply("/public", status=307, Location="/private/page")
    server.reply("/private/page", body=b"secret")

    with pytest.raises(FetchError) as err:
        make_fetcher(min_host_delay_s=0).fetch(server.url("/public"))

    assert err.value.kind == "robots"
    assert server.paths() == ["/robots.txt", "/public"]


def test_cross_host_redirect_checks_the_new_hosts_robots(server, make_fetcher):
    server.reply("/a", status=302, Location=server.url("/b", host="localhost"))
    server.reply("/b", body=b"there")

    result = make_fetcher(min_host_delay_s=0).fetch(server.url("/a"))

    assert result.body == b"there"
    assert server.paths() == ["/robots.txt", "/a", "/robots.txt", "/b"]
    assert server.hits("/robots.txt")[1].headers["host"] == f"localhost:{server.port}"


def test_redirect_loop_gives_up_after_five_hops(server, make_fetcher):
    server.reply("/loop", status=302, Location="/loop")

    with pytest.raises(FetchError) as err:
        make_fetcher(min_host_delay_s=0).fetch(server.url("/loop"))

    assert err.value.kind == "too_many_redirects"
    assert len(server.hits("/loop")) == 6  # the original request + 5 followed hops


def test_redirect_to_a_non_http_scheme_is_refused(server, make_fetcher):
    server.reply("/a", status=302, Location="file:///etc/passwd")

    with pytest.raises(FetchError) as err:
        make_fetcher(min_host_delay_s=0).fetch(server.url("/a"))

    assert err.value.kind == "bad_url"
