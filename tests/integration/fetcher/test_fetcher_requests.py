"""Per-source headers through the fetcher: sent on every hop of their origin, never after a
redirect to another origin (a credential must not follow a redirect). POST bodies and 303 are
tested through the crawl worker in tests/integration/crawl/test_crawl_requests.py."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.timeout(10)


def test_own_headers_stay_on_their_origin(server, make_fetcher):
    server.reply("/start", status=302, Location=server.url("/same"))
    server.reply("/same", status=302, Location=server.url("/other", host="localhost"))
    server.reply("/other", body=b"ok")
    fetcher = make_fetcher(min_host_delay_s=0)
    result = fetcher.fetch(server.url("/start"), headers={"Authorization": "Bearer secret-token", "X-Key": "k"})
    assert result.body == b"ok"
    same, other = server.hits("/same")[0], server.hits("/other")[0]
    assert same.headers["authorization"] == "Bearer secret-token" and same.headers["x-key"] == "k"
    assert "authorization" not in other.headers and "x-key" not in other.headers
