"""The address policy for checks (SSRF), pure: odd spellings, mapped IPv6, metadata always refused."""
from __future__ import annotations

import ipaddress

import pytest

from chalicelib.uptime.ssrf import AddressPolicy, RefusedAddress, category, parse_literal

STRICT = AddressPolicy(allow_private=False)  # deployed stages
LOCAL = AddressPolicy(allow_private=True)  # local stack / tests


@pytest.mark.parametrize("spelling, address", [
    ("169.254.169.254", "169.254.169.254"),
    ("[::1]", "::1"),
    ("0x7f000001", "127.0.0.1"),
    ("127.1", "127.0.0.1"),
    ("2130706433", "127.0.0.1"),
    ("0177.0.0.1", "127.0.0.1"),
    ("0x7f.0.0.1", "127.0.0.1"),
    ("10.0.0.1", "10.0.0.1"),
    ("::ffff:169.254.169.254", "169.254.169.254"),  # IPv4-mapped IPv6 is unwrapped
    ("[::ffff:7f00:1]", "127.0.0.1"),
    ("fe80::1%eth0", "fe80::1"),
])
def test_literal_spellings_are_read_like_the_resolver_reads_them(spelling, address):
    assert parse_literal(spelling) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["example.com", "0x7g000001", "localhost", "1.2.3.4.5", ""])
def test_names_are_not_literals(host):
    assert parse_literal(host) is None


@pytest.mark.parametrize("spelling, kind", [
    ("169.254.169.254", "metadata"),
    ("169.254.170.2", "metadata"),  # ECS task metadata
    ("fd00:ec2::254", "metadata"),
    ("::ffff:169.254.169.254", "metadata"),
    ("169.254.1.1", "link-local"),
    ("fe80::1", "link-local"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "unspecified"),
    ("::", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("[::1]", "loopback"),
    ("0x7f000001", "loopback"),
    ("127.1", "loopback"),
    ("::ffff:127.0.0.1", "loopback"),
    ("10.0.0.1", "private"),
    ("192.168.1.10", "private"),
    ("172.16.5.5", "private"),
    ("100.64.0.1", "private"),  # CGNAT
    ("fd12:3456::1", "private"),  # ULA
    ("::ffff:10.0.0.1", "private"),
])
def test_strict_policy_refuses_special_addresses_and_names_the_kind(spelling, kind):
    reason = STRICT.refusal(spelling)
    assert reason is not None and reason.startswith(f"{kind} address")
    with pytest.raises(RefusedAddress):
        STRICT.check(spelling)


@pytest.mark.parametrize("spelling", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_are_allowed(spelling):
    assert STRICT.refusal(spelling) is None and LOCAL.refusal(spelling) is None
    assert category(parse_literal(spelling)) is None


@pytest.mark.parametrize("spelling", ["[::1]", "0x7f000001", "127.1", "10.0.0.1", "::ffff:127.0.0.1", "192.168.0.1"])
def test_local_stage_allows_loopback_and_private(spelling):
    assert LOCAL.refusal(spelling) is None


@pytest.mark.parametrize("spelling", ["169.254.169.254", "::ffff:169.254.169.254", "fd00:ec2::254", "169.254.170.2",
                                      "169.254.0.1", "0.0.0.0", "0.1.2.3", "224.0.0.1", "240.0.0.1"])
def test_metadata_and_link_local_refused_even_when_private_is_allowed(spelling):
    assert LOCAL.refusal(spelling) is not None


def test_refusal_for_host_decides_literals_and_localhost_without_dns():
    assert "loopback" in STRICT.refusal_for_host("localhost")
    assert "loopback" in STRICT.refusal_for_host("api.localhost.")
    assert "loopback" in STRICT.refusal_for_host("0x7f000001")
    assert "metadata" in LOCAL.refusal_for_host("169.254.169.254")
    assert STRICT.refusal_for_host("example.com") is None  # a name: vetted after resolving, at connect
    assert LOCAL.refusal_for_host("localhost") is None


def test_non_addresses_are_refused_by_refusal():
    assert "not an IP address" in STRICT.refusal("example.com")
