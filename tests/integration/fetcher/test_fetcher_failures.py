"""Retries, backoff, Retry-After, fatal statuses, size cap, timeouts, refused connections."""

from __future__ import annotations

import random
import threading
import time
from email.utils import formatdate

import pytest

from crawlers.fetcher import FetchError, backoff_s
from tests.integration.fetcher.fetcher_testkit import Reply, wait_until

pytestmark = pytest.mark.timeout(15)

FIFTY_MB = 50 * 1024 * 1024


def test_429_with_retry_after_seconds_then_success(server, make_fetcher, fake_time):
    server.replies("/page", [Reply(429, headers={"Retry-After": "7"}), Reply(body=b"ok")])

    result = make_fetcher(min_host_delay_s=1.0).fetch(server.url("/page"))

    assert (result.status, result.body) == (200, b"ok")
    assert len(server.hits("/page")) == 2
    assert fake_time.sleeps == [7.0]  # exactly what the server asked, not backoff + delay


def test_retry_after_http_date_is_measured_against_the_server_date(
    server, make_fetcher, fake_time
):
    # Server clock far in the past: only the difference between its two dates matters.
    server_now = 1_000_000_000
    server.replies(
        "/page",
        [
            Reply(
                503,
                headers={
                    "Date": formatdate(server_now, usegmt=True),
                    "Retry-After": formatdate(server_now + 5, usegmt=True),
                },
            ),
            Reply(body=b"ok"),
        ],
    )

    result = make_fetcher().fetch(server.url("/page"))

    assert result.body == b"ok"
    assert fake_time.sleeps == [5.0]


def test_retry_after_is_capped(server, make_fetcher, fake_time):
    server.replies("/page", [Reply(429, headers={"Retry-After": "3600"}), Reply(body=b"ok")])

    make_fetcher(max_retry_after_s=4.0).fetch(server.url("/page"))

    assert fake_time.sleeps == [4.0]


def test_503_on_every_attempt_exhausts_retries_with_jittered_backoff(
    server, make_fetcher, fake_time
):
    server.reply("/page", status=503)

    with pytest.raises(FetchError) as err:
        make_fetcher(max_retries=3, min_host_delay_s=0, backoff_base_s=1.0).fetch(
            server.url("/page")
        )

    assert err.value.kind == "retries_exhausted"
    assert (err.value.status, err.value.attempts) == (503, 4)
    assert len(server.hits("/page")) == 4
    # Full jitter under the seeded Random the fixture injects: reproducible and bounded.
    rng = random.Random(1234)
    expected = [backoff_s(i, base_s=1.0, cap_s=60.0, rng=rng) for i in range(3)]
    assert fake_time.sleeps == pytest.approx(expected)
    assert all(0 <= s <= 2**i for i, s in enumerate(fake_time.sleeps))


def test_404_fails_at_once_with_one_request(server, make_fetcher, fake_time):
    with pytest.raises(FetchError) as err:
        make_fetcher().fetch(server.url("/missing"))

    assert (err.value.kind, err.value.status) == ("http_status", 404)
    assert len(server.hits("/missing")) == 1
    assert fake_time.sleeps == []


def _streaming_route(stats: dict, total: int, declare_length: bool):
    def route(handler):
        handler.send_response(200)
        if declare_length:
            handler.send_header("Content-Length", str(total))
        handler.end_headers()  # HTTP/1.0 without length: the body ends when we close
        chunk = b"x" * 65536
        try:
            while stats["sent"] < total:
                handler.wfile.write(chunk)
                stats["sent"] += len(chunk)
        except OSError:
            stats["cut"] = True  # the client hung up on us
        finally:
            stats["done"].set()

    return route


@pytest.mark.parametrize("declare_length", [False, True], ids=["streamed", "content-length"])
def test_body_over_the_cap_is_cut_off_early(server, make_fetcher, declare_length):
    stats: dict = {"sent": 0, "cut": False, "done": threading.Event()}
    server.route("/huge", _streaming_route(stats, FIFTY_MB, declare_length))
    fetcher = make_fetcher(max_body_bytes=1_000_000, respect_robots=False)

    started = time.monotonic()
    with pytest.raises(FetchError) as err:
        fetcher.fetch(server.url("/huge"))
    elapsed = time.monotonic() - started

    assert err.value.kind == "too_large"
    assert elapsed < 3.0
    assert stats["done"].wait(5), "server kept sending after the client gave up"
    assert stats["cut"] is True
    # Socket buffers let a few MB through at most; never the whole 50 MB.
    assert stats["sent"] < FIFTY_MB // 4
    assert len(server.hits("/huge")) == 1  # too_large is not retried


def test_hanging_server_times_out_within_the_configured_timeout(
    hanging_server, make_fetcher, fake_time
):
    fetcher = make_fetcher(timeout_s=0.5, max_retries=1, respect_robots=False)

    started = time.monotonic()
    with pytest.raises(FetchError) as err:
        fetcher.fetch(hanging_server.url("/page"))
    elapsed = time.monotonic() - started

    assert (err.value.kind, err.value.attempts) == ("timeout", 2)
    assert 0.9 <= elapsed < 2.5  # two attempts of 0.5 s each, backoff faked
    assert wait_until(lambda: len(hanging_server.accepted) == 2)
    assert len(fake_time.sleeps) == 1


def test_trickling_body_hits_the_overall_deadline(server, make_fetcher):
    stop = threading.Event()

    def route(handler):
        handler.send_response(200)
        handler.end_headers()
        try:
            while not stop.wait(0.05):  # one byte every 50 ms: never a read timeout
                handler.wfile.write(b"x")
                handler.wfile.flush()
        except OSError:
            pass

    server.route("/slow", route)
    fetcher = make_fetcher(timeout_s=0.6, max_retries=0, respect_robots=False)

    started = time.monotonic()
    try:
        with pytest.raises(FetchError) as err:
            fetcher.fetch(server.url("/slow"))
    finally:
        stop.set()

    assert err.value.kind == "timeout"
    assert time.monotonic() - started < 2.0


def test_connection_refused_is_a_connect_error(refused_url, make_fetcher, fake_time):
    with pytest.raises(FetchError) as err:
        make_fetcher().fetch(refused_url)

    # The robots probe already fails: reported as the host being down, not as robots.
    assert (err.value.kind, err.value.attempts) == ("connect", 1)


def test_connection_refused_is_retried_then_reported(refused_url, make_fetcher, fake_time):
    with pytest.raises(FetchError) as err:
        make_fetcher(respect_robots=False, max_retries=2, min_host_delay_s=0).fetch(
            refused_url
        )

    assert (err.value.kind, err.value.attempts) == ("connect", 3)
    assert len(fake_time.sleeps) == 2
