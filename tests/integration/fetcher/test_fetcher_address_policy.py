"""The crawler's fetcher goes through the uptime checker's address policy (the same object, from
chalicelib.uptime.ssrf): after DNS, before any connection, for the page, robots.txt and every
redirect hop. "Never connected" is checked against the peer's hit log and against every socket
connect the process makes."""
from __future__ import annotations

import pytest

from chalicelib.uptime.ssrf import AddressPolicy
from crawlers.fetcher import FetchError

pytestmark = pytest.mark.timeout(20)

PROD = AddressPolicy(allow_private=False)
LOCAL = AddressPolicy(allow_private=True)  # the dev stack: loopback peers allowed, metadata never


def test_prod_policy_refuses_loopback_before_connecting(server, make_fetcher, connects):
    server.reply("/list", body=b"secret")
    for host in ("127.0.0.1", "localhost"):  # a literal, and a name that resolves there
        with pytest.raises(FetchError) as err:
            make_fetcher(address_policy=PROD).fetch(server.url("/list", host=host))
        assert err.value.kind == "refused" and "loopback" in str(err.value)
    assert server.paths() == [] and connects == []


def test_redirect_to_metadata_is_refused_and_never_connected(server, make_fetcher, connects):
    server.reply("/list", status=302, Location="http://169.254.169.254/latest/meta-data/")
    with pytest.raises(FetchError) as err:
        make_fetcher(address_policy=LOCAL).fetch(server.url("/list"))
    assert err.value.kind == "refused" and "metadata" in str(err.value)
    assert server.paths() == ["/robots.txt", "/list"]
    assert all(address[0] == "127.0.0.1" for address in connects)


def test_redirect_to_a_name_resolving_to_loopback_is_refused_in_prod_policy_of_the_hop(server, make_fetcher):
    # The first hop is allowed (local policy); the hop to `localhost` is vetted again after DNS.
    class FirstHopOnly:
        def __init__(self):
            self.asked: list[str] = []

        def refusal(self, address):
            self.asked.append(str(address))
            return None if len(self.asked) <= 2 else "loopback address is not allowed"

    policy = FirstHopOnly()
    server.reply("/list", status=301, Location=server.url("/moved", host="localhost"))
    server.reply("/moved", body=b"ok")
    with pytest.raises(FetchError) as err:
        make_fetcher(address_policy=policy, min_host_delay_s=0).fetch(server.url("/list"))
    assert err.value.kind == "refused"
    assert "/moved" not in server.paths()


def test_allowed_address_is_fetched_through_the_guard(server, make_fetcher):
    server.reply("/list", body=b"fine")
    assert make_fetcher(address_policy=LOCAL).fetch(server.url("/list")).body == b"fine"
    assert server.paths() == ["/robots.txt", "/list"]


def test_refusal_is_a_permanent_source_failure():
    from chalicelib.crawl.service import fetch_failure

    failure = fetch_failure(FetchError("refused", "metadata address 169.254.169.254 is not allowed"))
    assert failure.permanent and failure.kind == "refused" and "169.254.169.254" in failure.reason
