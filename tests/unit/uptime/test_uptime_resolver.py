"""resolver.py: server list parsing (pure)."""
from __future__ import annotations

import pytest

from chalicelib.uptime.resolver import parse_servers


def test_parse_servers_reads_ports_and_ipv6():
    assert parse_servers("127.0.0.1:5353, 10.0.0.2, [::1]:53") == [("127.0.0.1", 5353), ("10.0.0.2", 53), ("::1", 53)]


@pytest.mark.parametrize("bad", ["dns.example", "127.0.0.1:0", "127.0.0.1:x"])
def test_parse_servers_refuses_names_and_bad_ports(bad):
    with pytest.raises(ValueError):
        parse_servers(bad)
