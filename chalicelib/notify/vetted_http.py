"""An httpx client that connects only to addresses the SSRF policy allows.

`webhook:<url>` destinations come from API callers, so a URL may name the cloud metadata
endpoint or a private address. The host is resolved here and every answer checked with
`chalicelib.uptime.ssrf.AddressPolicy` (the rules the uptime checker uses); the socket then
connects to the vetted address itself, so a DNS answer that changes between check and connect
(rebinding) cannot reach a refused address. TLS still verifies the URL's host name (httpcore
takes SNI and the certificate name from the request's origin, not from the connected address).
"""
from __future__ import annotations

import socket
from typing import Any

import httpcore
import httpx

from chalicelib.uptime.ssrf import AddressPolicy, RefusedAddress


class _VettingBackend(httpcore.SyncBackend):
    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve the host: {exc.strerror or exc}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        refusals = [self.policy.refusal(a) for a in addresses]
        if not addresses or any(refusals):
            raise RefusedAddress(next(r for r in refusals if r) if any(refusals) else "no address")
        return super().connect_tcp(addresses[0], port, timeout, local_address, socket_options)


class _VettedTransport(httpx.HTTPTransport):
    def __init__(self, policy: AddressPolicy) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(), network_backend=_VettingBackend(policy))


def client(policy: AddressPolicy, timeout_s: float) -> httpx.Client:
    """A client for URLs from users: no redirects followed (a 3xx could point anywhere), no proxy
    settings from the environment, addresses vetted."""
    return httpx.Client(transport=_VettedTransport(policy), timeout=timeout_s, follow_redirects=False, trust_env=False)
