"""Address policy at connect time for the crawler's HTTP client.

The fetcher's transport resolves each host itself, asks the policy about every address the name
resolves to, and connects the socket to the vetted address (never to the name), so a DNS answer
that changes between the check and the connect (rebinding) cannot reach a refused address. Every
request goes through it: pages, robots.txt and each redirect hop, since the fetcher follows
redirects itself through the same client.

The policy is the uptime checker's (`chalicelib.uptime.ssrf.AddressPolicy`: metadata, link-local,
reserved always refused; loopback and private ranges unless the stage allows them); this module
only needs its `refusal(address) -> str | None`, so `crawlers` does not import `chalicelib`.
TLS still verifies the certificate against the URL's host name (httpcore passes the origin's
host as server_hostname), so connecting to the address loses nothing.
"""
from __future__ import annotations

import socket
from typing import Any, Iterable, Protocol

import httpcore
import httpx


class AddressPolicyLike(Protocol):
    def refusal(self, address: Any) -> str | None: ...


class AddressRefused(Exception):
    """The host resolves to an address the policy refuses; nothing was sent."""


class _PolicyBackend(httpcore.SyncBackend):
    def __init__(self, policy: AddressPolicyLike) -> None:
        self._policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"{exc}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        # Every answer must pass: a name that also resolves to the metadata address is refused.
        for address in addresses:
            reason = self._policy.refusal(address)
            if reason:
                raise AddressRefused(f"{host}: {reason}")
        last: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(f"{host}: no address")


def guarded_transport(policy: AddressPolicyLike) -> httpx.HTTPTransport:
    """An httpx transport whose every connection is vetted by `policy`."""
    transport = httpx.HTTPTransport(trust_env=False)
    # httpx has no public hook for the network backend: rebuild its pool with ours, same TLS context.
    pool = transport._pool
    transport._pool = httpcore.ConnectionPool(ssl_context=pool._ssl_context, network_backend=_PolicyBackend(policy))
    return transport
