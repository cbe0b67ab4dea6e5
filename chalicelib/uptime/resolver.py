"""Non-blocking, bounded DNS for checks (dnspython's asyncio query functions, no threads).

Why not `loop.getaddrinfo`: it runs the C resolver in the loop's default thread pool
(min(32, cores + 4) = 6 threads on 2 cores). Eight slowly resolving names filled the pool and
every other named target waited behind them until its own deadline (a false mass outage), and
`asyncio.run` then waited for those threads to finish before the tick could return. Here every
query is a UDP socket on the running loop (TCP when the answer is truncated), at most
`max_in_flight` at once, cancelled with the target's deadline like everything else.

Followed: dnspython 2.9 documentation, "DNS Query Support" (dns.asyncquery.udp_with_fallback)
and "The dns.resolver.Resolver class" (reading /etc/resolv.conf), read 2026-12-03.

Name servers: `NEWBOOKS_DNS_SERVERS` (comma list of `ip` or `ip:port`, `[v6]:port`), else the
system's /etc/resolv.conf. Host names are IDNA-encoded at load (targets.py), so queries are
ASCII. /etc/hosts is not read (the address policy vets what the servers answer).
"""
from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

RCODE_NAMES = ("NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED")


class ResolveError(OSError):
    """No usable answer: `rcode` is the DNS response code name, or TIMEOUT / NOSERVER."""

    def __init__(self, message: str, rcode: str):
        super().__init__(message)
        self.rcode = rcode


@dataclass(frozen=True)
class Answer:
    rcode: str
    records: tuple[str, ...]  # text of each record of the asked type (addresses for A/AAAA)


def parse_servers(text: str | Iterable[str]) -> list[tuple[str, int]]:
    """`"127.0.0.1:5353, 10.0.0.2, [::1]:53"` -> [(address, port), ...]; ValueError if unreadable."""
    import ipaddress

    items = [p.strip() for p in (text.split(",") if isinstance(text, str) else text) if p and p.strip()]
    out = []
    for item in items:
        host, port = item, 53
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") else 53
        elif item.count(":") == 1:
            host, port_text = item.split(":")
            port = int(port_text)
        ipaddress.ip_address(host)  # raises ValueError
        if not 0 < port < 65536:
            raise ValueError(f"bad port in {item!r}")
        out.append((host, port))
    return out


def system_servers() -> list[tuple[str, int]]:
    try:
        import dns.resolver

        return [(str(ns), 53) for ns in dns.resolver.Resolver().nameservers if "://" not in str(ns)]
    except Exception:  # no /etc/resolv.conf: named targets then fail with a dns error
        return []


class DnsResolver:
    def __init__(self, servers: list[tuple[str, int]] | None = None, *, max_in_flight: int = 256,
                 attempt_timeout_s: float = 2.0):
        self._servers = servers
        self.max_in_flight = max_in_flight
        self.attempt_timeout_s = attempt_timeout_s
        self._semaphore: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    @property
    def servers(self) -> list[tuple[str, int]]:
        if self._servers is None:
            self._servers = system_servers()
        return self._servers

    @staticmethod
    def prepare() -> None:
        """Import dnspython before the targets' clocks start (a cold import blocked the loop for
        ~0.3 s inside the first tick of a container, counted against every target's deadline)."""
        import dns.asyncquery
        import dns.message
        import dns.rcode
        import dns.rdatatype
        import dns.rrset  # noqa: F401

    def _limit(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._semaphore is None or self._semaphore[0] is not loop:  # one per event loop
            self._semaphore = (loop, asyncio.Semaphore(self.max_in_flight))
        return self._semaphore[1]

    async def query(self, name: str, rdtype: str = "A", server: tuple[str, int] | None = None) -> Answer:
        """One question, to `server` or to each configured server in turn until one answers."""
        import dns.asyncquery
        import dns.exception
        import dns.message
        import dns.rcode
        import dns.rdatatype

        servers = [server] if server else self.servers
        if not servers:
            raise ResolveError("no DNS server configured", "NOSERVER")
        request = dns.message.make_query(name, rdtype)
        last: Exception | None = None
        async with self._limit():
            for address, port in servers:
                try:
                    response, _tcp = await dns.asyncquery.udp_with_fallback(
                        request, address, timeout=self.attempt_timeout_s, port=port)
                except (dns.exception.Timeout, OSError, dns.exception.DNSException) as exc:
                    last = exc
                    continue
                rcode = dns.rcode.to_text(response.rcode())
                wanted = dns.rdatatype.from_text(rdtype)
                records = tuple(r.to_text() for rrset in response.answer if rrset.rdtype == wanted for r in rrset)
                return Answer(rcode, records)
        raise ResolveError(f"no answer from {len(servers)} DNS server(s): {type(last).__name__}", "TIMEOUT")

    async def addresses(self, host: str, port: int = 0) -> list[str]:
        """A and AAAA answers together (IPv4 first); ResolveError when there are none."""
        a, aaaa = await asyncio.gather(self.query(host, "A"), self.query(host, "AAAA"), return_exceptions=True)
        found: list[str] = []
        for answer in (a, aaaa):
            if isinstance(answer, Answer):
                found.extend(answer.records)
        if found:
            return list(dict.fromkeys(found))
        for answer in (a, aaaa):
            if isinstance(answer, Answer) and answer.rcode != "NOERROR":
                raise ResolveError(f"{host}: {answer.rcode}", answer.rcode)
        if isinstance(a, BaseException):
            raise a
        raise ResolveError(f"{host} has no addresses", "NOERROR")

    __call__ = addresses  # a Checker resolver: `await resolver(host, port)`
