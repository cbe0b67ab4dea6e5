"""Checks targets concurrently: plain asyncio streams + h11 (HTTP/1.1), one connection per check.

Why not httpx here: profiling 1,000 concurrent checks (`bench/ping_fanout.py`, cProfile) showed
the time going to httpx/httpcore machinery rather than to the network: httpcore's pool scans
every connection on each request (quadratic in pool size), and its async-library detection
retried a failing `import sniffio` on every request (~3 s of importlib path scans per 1,000
checks). A check needs one request on one fresh connection, so the client is small:
`asyncio.open_connection` to the vetted address, `h11` (already shipped as an httpx dependency)
for framing, the target's own deadline around everything, and a byte cap on the body.

SSRF: the host is resolved once per host per batch, every answer is checked by the address
policy (`ssrf.py`), and the socket connects to that exact vetted address (never to the name), so
a DNS answer that changes between check and connect (rebinding) cannot reach a refused address.
TLS still verifies the certificate for the host name and sends SNI (`server_hostname`). No
proxies, no redirects are followed (a 3xx is the status the conditions see).

Error classes: dns, connect, tls, timeout, status, condition, policy (refused address).
"""
from __future__ import annotations

import asyncio
import socket
import ssl
import time
import zlib
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Iterable
from urllib.parse import urlsplit

import h11

from chalicelib.uptime import conditions as cond
from chalicelib.uptime.ssrf import AddressPolicy, is_localhost_name, parse_literal
from chalicelib.uptime.targets import Target

Resolver = Callable[[str, int], Awaitable[list[str]]]


@dataclass
class CheckResult:
    name: str
    ok: bool
    latency_ms: int
    status: int | None = None
    error: str | None = None  # dns|connect|tls|timeout|status|condition|policy
    condition: str | None = None  # the failing condition, rendered with its value
    detail: str | None = None
    tls_expiry: str | None = None  # ISO date-time of the peer certificate's notAfter
    slow: bool = False  # passing, but slower than the target's degraded threshold
    bytes_read: int = 0
    truncated: bool = False
    ip: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, False) or k in ("ok",)}


async def default_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


class DNSFailure(Exception):
    pass


class Refused(Exception):
    pass


class ProtocolFailure(OSError):
    """The peer broke HTTP/1.1 framing (counted as a connect error)."""


def default_ssl_context() -> ssl.SSLContext:
    try:
        import certifi

        return ssl.create_default_context(cafile=certifi.where())
    except ImportError:  # pragma: no cover
        return ssl.create_default_context()


READ_CHUNK = 65536


class Checker:
    def __init__(
        self,
        policy: AddressPolicy,
        *,
        resolver: Resolver = default_resolver,
        ssl_context: ssl.SSLContext | None = None,
        max_concurrency: int = 1000,
        user_agent: str = "newbooks-uptime/1.0",
    ):
        self.policy = policy
        self.resolver = resolver
        self._ssl_context = ssl_context
        self.max_concurrency = max_concurrency
        self.user_agent = user_agent

    @property
    def ssl_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = default_ssl_context()
        return self._ssl_context

    def run(self, targets: Iterable[Target]) -> list[CheckResult]:
        """Check all targets concurrently from synchronous code (the Lambda handler)."""
        return asyncio.run(self.check_all(list(targets)))

    async def check_all(self, targets: list[Target]) -> list[CheckResult]:
        """All targets at once (at most `max_concurrency` in flight); results in target order."""
        if not targets:
            return []
        resolutions: dict[str, Any] = {}
        if len(targets) <= self.max_concurrency:
            return list(await asyncio.gather(*(self.check(t, resolutions) for t in targets)))
        semaphore = asyncio.Semaphore(max(1, self.max_concurrency))

        async def one(target: Target) -> CheckResult:
            async with semaphore:
                return await self.check(target, resolutions)

        return list(await asyncio.gather(*(one(t) for t in targets)))

    async def _vetted_address(self, host: str, port: int, resolutions: dict[str, Any]) -> str:
        """The address to connect to for `host`, vetted by the policy; memoized per batch (the
        policy verdict for a host, and its DNS answer, are the same for every target on it)."""
        key = f"vetted:{host}"
        verdict = resolutions.get(key)
        if verdict is None:
            try:
                verdict = resolutions[key] = await self._vet(host, port, resolutions)
            except (DNSFailure, Refused) as exc:
                verdict = resolutions[key] = exc
        if isinstance(verdict, Exception):
            raise type(verdict)(*verdict.args)
        return verdict

    async def _vet(self, host: str, port: int, resolutions: dict[str, Any]) -> str:
        literal = parse_literal(host)
        if literal is not None:
            addresses = [str(literal)]
        elif is_localhost_name(host):
            addresses = ["127.0.0.1"]
        else:
            task = resolutions.get(host)
            if task is None:
                task = resolutions[host] = asyncio.ensure_future(self.resolver(host, port))
            try:
                addresses = await asyncio.shield(task)
            except (OSError, UnicodeError) as exc:
                raise DNSFailure(f"cannot resolve {host}: {exc}") from None
            if not addresses:
                raise DNSFailure(f"{host} has no addresses")
        for address in addresses:  # every answer must pass: no mixing a public and a private one
            reason = self.policy.refusal(address)
            if reason:
                raise Refused(f"{host}: {reason}")
        return addresses[0]

    async def check(self, target: Target, resolutions: dict | None = None) -> CheckResult:
        resolutions = {} if resolutions is None else resolutions
        started = time.perf_counter()
        ctx: dict[str, Any] = {}
        result = CheckResult(name=target.name, ok=False, latency_ms=0)
        try:
            async with asyncio.timeout(target.timeout_s):
                if target.scheme == "dns":
                    await self._dns(target, ctx, result)
                else:
                    address = await self._vetted_address(target.host, target.port, resolutions)
                    result.ip = ctx["IP"] = address
                    if target.scheme == "tcp":
                        await self._tcp(target, address, ctx)
                    else:
                        await self._http(target, address, ctx, result)
        except DNSFailure as exc:
            result.error, result.detail = "dns", str(exc)
        except Refused as exc:
            result.error, result.detail = "policy", str(exc)
        except TimeoutError:
            result.error, result.detail = "timeout", f"no answer within {target.timeout_s:g}s"
        except (OSError, ssl.SSLError, h11.ProtocolError, EOFError) as exc:
            result.error = "tls" if _is_tls(exc) else "connect"
            result.detail = f"{type(exc).__name__}: {exc}"[:300]
        result.latency_ms = int((time.perf_counter() - started) * 1000)
        if result.error:
            return result
        ctx["RESPONSE_TIME"] = result.latency_ms
        failed = cond.evaluate_all(target.conditions, ctx)
        if failed is None:
            result.ok = True
            result.slow = target.degraded_ms is not None and result.latency_ms > target.degraded_ms
        else:
            condition, rendered = failed
            result.error, result.condition = condition.error_class, rendered
        return result

    def _request_bytes(self, target: Target, conn: h11.Connection) -> bytes:
        parts = urlsplit(target.url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {"host": ("Host", parts.netloc), "user-agent": ("User-Agent", self.user_agent),
                   "accept-encoding": ("Accept-Encoding", "identity"), "connection": ("Connection", "close")}
        for name, value in target.headers:
            headers[name.lower()] = (name, value)
        body = target.body.encode() if target.body is not None else None
        if body is not None:
            headers["content-length"] = ("Content-Length", str(len(body)))
            headers.pop("transfer-encoding", None)
        data = conn.send(h11.Request(method=target.method, target=path, headers=list(headers.values())))
        if body:
            data += conn.send(h11.Data(data=body))
        return data + conn.send(h11.EndOfMessage())

    async def _http(self, target: Target, address: str, ctx: dict, result: CheckResult) -> None:
        https = target.scheme == "https"
        needs_body = target.needs_body
        loop = asyncio.get_running_loop()
        conn = h11.Connection(h11.CLIENT)
        exchange = _Exchange(conn, loop.create_future(), target.max_body_bytes if needs_body else None)
        transport, _ = await loop.create_connection(
            lambda: exchange, address, target.port,
            ssl=self.ssl_context if https else None,
            server_hostname=target.host if https else None,
        )
        try:
            transport.write(self._request_bytes(target, conn))
            await exchange.done
            result.status = ctx["STATUS"] = exchange.response.status_code
            if https:
                expiry = _peer_expiry(transport.get_extra_info("ssl_object"))
                if expiry is not None:
                    result.tls_expiry = expiry.isoformat()
                    ctx["CERTIFICATE_EXPIRATION"] = (expiry - datetime.now(timezone.utc)).total_seconds() * 1000
            if needs_body:
                body = b"".join(exchange.chunks)
                result.bytes_read, result.truncated = min(len(body), target.max_body_bytes), exchange.truncated
                ctx["BODY"] = body[: target.max_body_bytes]
        finally:
            transport.abort()  # one request per connection; no lingering close handshake

    async def _tcp(self, target: Target, address: str, ctx: dict) -> None:
        _reader, writer = await asyncio.open_connection(address, target.port)
        ctx["CONNECTED"] = True
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass

    async def _dns(self, target: Target, ctx: dict, result: CheckResult) -> None:
        host = target.host
        try:
            if parse_literal(host) is not None:
                addresses = [str(parse_literal(host))]
            elif is_localhost_name(host):
                addresses = ["127.0.0.1"]
            else:
                addresses = await self.resolver(host, 0)
            ctx["DNS_RCODE"] = "NOERROR" if addresses else "NXDOMAIN"
        except socket.gaierror as exc:
            addresses = []
            ctx["DNS_RCODE"] = "NXDOMAIN" if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5)) else "SERVFAIL"
        except OSError:
            addresses = []
            ctx["DNS_RCODE"] = "SERVFAIL"
        if addresses:
            result.ip = ctx["IP"] = ctx["BODY"] = addresses[0]
        else:
            ctx["BODY"] = ""


class _Exchange(asyncio.Protocol):
    """One HTTP/1.1 request/response on one connection, driven by the event loop's callbacks
    (no stream objects, no task per read): feeds received bytes to h11 and resolves `done` when
    the response head (and, if `cap` is set, the body up to `cap` bytes) has arrived."""

    def __init__(self, conn: h11.Connection, done: asyncio.Future, cap: int | None):
        self.conn, self.done, self.cap = conn, done, cap
        self.response: h11.Response | None = None
        self.chunks: list[bytes] = []
        self.size = 0
        self.truncated = False
        self.inflater: Any = None

    def data_received(self, data: bytes) -> None:
        if not self.done.done():
            self._feed(data)

    def eof_received(self) -> bool:
        if not self.done.done():
            self._feed(b"")
        self._fail(ProtocolFailure("connection closed before a complete response"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(exc if exc is not None else ProtocolFailure("connection closed before a complete response"))

    def _fail(self, exc: BaseException) -> None:
        if not self.done.done():
            self.done.set_exception(exc)

    def _feed(self, data: bytes) -> None:
        try:
            self.conn.receive_data(data)
            while not self.done.done():
                event = self.conn.next_event()
                if event is h11.NEED_DATA:
                    return
                if isinstance(event, h11.Response):
                    self.response = event
                    if self.cap is None:
                        self.done.set_result(None)
                    elif dict(event.headers).get(b"content-encoding", b"").lower() in (b"gzip", b"deflate"):
                        self.inflater = zlib.decompressobj(47)  # we ask for identity; undo it if sent anyway
                elif isinstance(event, h11.Data):
                    self._add(bytes(event.data))
                elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                    if self.response is None:
                        raise ProtocolFailure("connection closed before a response")
                    self.done.set_result(None)
        except h11.ProtocolError as exc:
            self._fail(ProtocolFailure(f"HTTP protocol error: {exc}"))
        except (ProtocolFailure, zlib.error) as exc:
            self._fail(ProtocolFailure(str(exc)))

    def _add(self, chunk: bytes) -> None:
        if self.inflater is not None:
            chunk = self.inflater.decompress(chunk, self.cap - self.size + 1)
        self.chunks.append(chunk)
        self.size += len(chunk)
        if self.size > self.cap:
            self.truncated = True
            self.done.set_result(None)


def _peer_expiry(ssl_object: ssl.SSLObject | None) -> datetime | None:
    if ssl_object is None:
        return None
    cert = ssl_object.getpeercert()
    if not cert or "notAfter" not in cert:
        return None
    return datetime.fromtimestamp(ssl.cert_time_to_seconds(cert["notAfter"]), timezone.utc)


def _is_tls(exc: BaseException) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ssl.SSLError) or "SSL" in str(exc)[:60] or "CERTIFICATE" in str(exc).upper():
            return True
        exc = exc.__cause__ or exc.__context__
    return False
