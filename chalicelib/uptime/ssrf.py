"""Which addresses a check may connect to.

Every HTTP/TCP check resolves its host first; the resolved addresses are checked here, and the
socket then connects to that vetted address itself, never to the name (`checker.Checker._http`),
so a DNS answer that changes between check and connect (rebinding) cannot reach a refused address.

Refused always: link-local (incl. 169.254.169.254 and the other cloud metadata endpoints),
unspecified (incl. 0.0.0.0/8, which Linux connects to the local host), multicast, reserved
(checked before "private": Python's is_private also covers 240.0.0.0/4). Refused unless the stage allows private targets
(`settings.allow_private_targets`, on for the local stack): loopback, RFC 1918 / ULA private
ranges, CGNAT. Odd IPv4 spellings (`0x7f000001`, `2130706433`, `0177.0.0.1`, `127.1`) are read
the way the C resolver would read them, and IPv4-mapped IPv6 is unwrapped, before deciding.
"""
from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "168.63.129.16")
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")  # Linux connects 0.x.x.x to the local host
_NUMERIC_HOST = re.compile(r"^[0-9a-fA-FxX.]+$")


class RefusedAddress(ValueError):
    pass


def parse_literal(host: str) -> IPAddress | None:
    """The IP address `host` spells, in any form a resolver would accept, else None."""
    host = host.strip().strip("[]")
    if "%" in host:
        host = host.split("%", 1)[0]
    try:
        return _unwrap(ipaddress.ip_address(host))
    except ValueError:
        pass
    if _NUMERIC_HOST.match(host) and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_localhost_name(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host == "localhost" or host.endswith(".localhost")


def _unwrap(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def category(address: IPAddress) -> str | None:
    """Why an address is special ('metadata', 'loopback', ...), or None for a public address."""
    address = _unwrap(address)
    if address in METADATA:
        return "metadata"
    if address.is_unspecified or (isinstance(address, ipaddress.IPv4Address) and address in _THIS_NETWORK):
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_reserved:  # before is_private, which also covers 240.0.0.0/4
        return "reserved"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "private"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "reserved"
    return None


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool = False  # loopback + private ranges (local stack / tests)

    def refusal(self, address: IPAddress | str) -> str | None:
        """None if a check may connect to `address`, else the reason it may not."""
        if isinstance(address, str):
            parsed = parse_literal(address)
            if parsed is None:
                return f"{address!r} is not an IP address"
            address = parsed
        kind = category(address)
        if kind is None:
            return None
        if kind in {"loopback", "private"} and self.allow_private:
            return None
        return f"{kind} address {address} is not allowed"

    def check(self, address: IPAddress | str) -> None:
        reason = self.refusal(address)
        if reason:
            raise RefusedAddress(reason)

    def refusal_for_host(self, host: str) -> str | None:
        """Refusal decidable without DNS: IP literals and localhost names. None otherwise."""
        literal = parse_literal(host)
        if literal is not None:
            return self.refusal(literal)
        if is_localhost_name(host):
            return self.refusal(ipaddress.ip_address("127.0.0.1"))
        return None
