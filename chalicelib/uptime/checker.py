"""Checks targets concurrently (asyncio + httpx), each with its own deadline and a byte cap.

One `httpx.AsyncClient` per batch; its transport uses `PinnedBackend`, which connects only to
addresses vetted by the SSRF policy (`ssrf.py`) for the host being requested: DNS is resolved
once per host per batch, checked, and the connection goes to that exact address (TLS still
verifies and sends SNI for the host name). No proxies from the environment (trust_env=False).

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

import httpcore
import httpx

from chalicelib.uptime import conditions as cond
from chalicelib.uptime.ssrf import AddressPolicy, is_localhost_name, parse_literal
from chalicelib.uptime.targets import Target

POOL_SIZE = 25
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


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects to the vetted address for (host, port); refuses any host it was not told about."""

    def __init__(self, pins: dict[str, str]):
        self.pins = pins
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        address = self.pins.get(host.lower())
        if address is None:
            raise httpcore.ConnectError(f"host {host!r} was not vetted by the address policy")
        return await self.inner.connect_tcp(address, port, timeout, local_address, socket_options)

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):  # pragma: no cover
        raise httpcore.ConnectError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, pins: dict[str, str], ssl_context: ssl.SSLContext, max_connections: int):
        super().__init__(verify=ssl_context, retries=0)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=5.0,
            http1=True,
            http2=False,
            retries=0,
            network_backend=PinnedBackend(pins),
        )


def default_ssl_context() -> ssl.SSLContext:
    try:
        import certifi

        return ssl.create_default_context(cafile=certifi.where())
    except ImportError:  # pragma: no cover
        return ssl.create_default_context()


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
        if not targets:
            return []
        pins: dict[str, str] = {}
        resolutions: dict[str, asyncio.Task] = {}
        semaphore = asyncio.Semaphore(self.max_concurrency)
        # httpcore's pool scans all its connections for every request (quadratic in pool size),
        # so the batch is spread over several small clients instead of one pool of 1000.
        size = max(1, min(self.max_concurrency, POOL_SIZE))
        chunks = [targets[i : i + size] for i in range(0, len(targets), size)]

        async def run_chunk(chunk: list[Target]) -> list[CheckResult]:
            transport = PinnedTransport(pins, self.ssl_context, size)
            limits = httpx.Limits(max_connections=size)
            async with httpx.AsyncClient(transport=transport, trust_env=False, follow_redirects=False, limits=limits) as client:

                async def one(target: Target) -> CheckResult:
                    async with semaphore:
                        return await self.check(target, client, pins, resolutions)

                return list(await asyncio.gather(*(one(t) for t in chunk)))

        out: list[CheckResult] = []
        for part in await asyncio.gather(*(run_chunk(c) for c in chunks)):
            out.extend(part)
        return out

    async def _vetted_address(self, host: str, port: int, resolutions: dict[str, asyncio.Task]) -> str:
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

    async def check(self, target: Target, client: httpx.AsyncClient, pins: dict[str, str], resolutions: dict) -> CheckResult:
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
                        pins[target.host.lower()] = address
                        await self._http(target, client, ctx, result)
        except DNSFailure as exc:
            result.error, result.detail = "dns", str(exc)
        except Refused as exc:
            result.error, result.detail = "policy", str(exc)
        except (TimeoutError, httpx.TimeoutException):
            result.error, result.detail = "timeout", f"no answer within {target.timeout_s:g}s"
        except (httpx.TransportError, OSError, ssl.SSLError) as exc:
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

    async def _http(self, target: Target, client: httpx.AsyncClient, ctx: dict, result: CheckResult) -> None:
        headers = {"User-Agent": self.user_agent, "Accept-Encoding": "identity", **dict(target.headers)}
        request = client.build_request(
            target.method, target.url, headers=headers, content=target.body, timeout=httpx.Timeout(target.timeout_s)
        )
        response = await client.send(request, stream=True)
        try:
            result.status = ctx["STATUS"] = response.status_code
            if target.scheme == "https":
                expiry = _peer_expiry(response)
                if expiry is not None:
                    result.tls_expiry = expiry.isoformat()
                    ctx["CERTIFICATE_EXPIRATION"] = (expiry - datetime.now(timezone.utc)).total_seconds() * 1000
            needs_body = any("BODY" in c.placeholders for c in target.conditions)
            if needs_body and target.method != "HEAD":
                body, truncated = await _read_capped(response, target.max_body_bytes)
                result.bytes_read, result.truncated = len(body), truncated
                ctx["BODY"] = body
        finally:
            await response.aclose()

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


async def _read_capped(response: httpx.Response, cap: int) -> tuple[bytes, bool]:
    chunks, size, truncated = [], 0, False
    encoding = response.headers.get("content-encoding", "").lower()
    inflater = zlib.decompressobj(47) if encoding in ("gzip", "deflate") else None
    async for chunk in response.aiter_raw():
        if inflater is not None:
            chunk = inflater.decompress(chunk, cap - size + 1)
        chunks.append(chunk)
        size += len(chunk)
        if size > cap:
            truncated = True
            break
    body = b"".join(chunks)
    return body[:cap], truncated


def _peer_expiry(response: httpx.Response) -> datetime | None:
    stream = response.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
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
