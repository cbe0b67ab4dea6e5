"""The one polite HTTP fetcher every crawler goes through.

Politeness lives here, not in spiders (Scrapy's model): robots.txt, a per-host delay,
a bot User-Agent with a contact URL, conditional GETs, bounded bodies, bounded retries.

The decisions (headers to send, what a response means for the stored state, how long to
wait before a retry) are pure functions at the top of the module; ``Fetcher`` only does I/O
and bookkeeping around them. Time is injected (``sleep``/``clock``) so tests never sleep.

Bodies are returned as raw bytes (content-encoding such as gzip is undone by httpx, charset
decoding is not): parsers decide how to decode.

A ``Fetcher`` is not thread-safe; use one per thread / per Lambda invocation.
"""

from __future__ import annotations

import email.utils
import hashlib
import random
import socket
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

import httpx

from crawlers import settings
from crawlers.guard import AddressRefused
from crawlers.robots import (
    ROBOTS_MAX_BYTES,
    RobotsPolicy,
    RobotsUnavailable,
    origin_of,
    policy_from_response,
    robots_url,
)

__all__ = [
    "DEFAULT_USER_AGENT",
    "MAX_REDIRECTS",
    "FetchError",
    "FetchResult",
    "FetchState",
    "Fetcher",
    "backoff_s",
    "conditional_headers",
    "fetch",
    "format_user_agent",
    "is_retryable_status",
    "next_state",
    "parse_retry_after",
]

DEFAULT_USER_AGENT = "newbooks/1.0"
MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_ERROR_BODY_BYTES = 4096


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class FetchState:
    """Validators of the last successful fetch of one source; stored by the caller."""

    etag: str | None = None
    last_modified: str | None = None
    body_sha256: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> FetchState:
        # Tolerate missing/extra keys so the stored item can evolve without a migration.
        if not d:
            return cls()
        return cls(
            etag=d.get("etag") or None,
            last_modified=d.get("last_modified") or None,
            body_sha256=d.get("body_sha256") or None,
        )


@dataclass(frozen=True)
class FetchResult:
    url: str  # final URL after redirects
    status: int  # 304 when not modified
    body: bytes  # b"" on 304
    headers: dict[str, str]  # lower-cased names
    changed: bool  # False on 304 or when the body hash equals state.body_sha256
    state: FetchState  # what the caller should store for next time
    elapsed_ms: float  # wall time of the whole fetch() call (robots, waits and retries included)


class FetchError(Exception):
    """A fetch that produced no usable body.

    ``kind`` is one of: "robots" (disallowed or robots.txt unavailable), "timeout", "connect",
    "network" (other transport failure), "too_large", "http_status" (non-retryable status,
    see ``status``), "retries_exhausted" (429/5xx on every attempt, see ``status``),
    "too_many_redirects", "bad_url", "dns" (the host name does not resolve), "refused" (the
    address policy refused where the host resolves), "budget" (the request budget is used up).
    Transport kinds keep their name after retries run out; ``attempts`` tells how many requests
    were made.
    """

    def __init__(
        self,
        kind: str,
        message: str = "",
        *,
        url: str | None = None,
        status: int | None = None,
        attempts: int = 0,
        transient: bool = False,
    ) -> None:
        super().__init__(f"{kind}: {message}" if message else kind)
        self.kind = kind
        self.url = url
        self.status = status
        self.attempts = attempts
        self.body = b""  # an error response's first bytes (http_status)
        # Set where the kind alone would read as permanent but a later try may work
        # (robots.txt answered 5xx/429 or timed out: the host is off limits for this run only).
        self.transient = transient


# --------------------------------------------------------------------------- pure decisions


def format_user_agent(user_agent: str, contact_url: str | None) -> str:
    """``newbooks/1.0 (+https://example.org/bot)``: site owners can see who we are and reach us."""
    if contact_url and "(+" not in user_agent:
        return f"{user_agent} (+{contact_url})"
    return user_agent


def conditional_headers(state: FetchState | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if state is None:
        return headers
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


def next_state(
    previous: FetchState | None, status: int, headers: Mapping[str, str], body: bytes
) -> tuple[bool, FetchState]:
    """(changed, state to store) for a final response; ``headers`` has lower-cased names."""
    previous = previous or FetchState()
    if status == 304:
        # Keep the body hash; a 304 may legitimately refresh the validators.
        return False, FetchState(
            etag=headers.get("etag") or previous.etag,
            last_modified=headers.get("last-modified") or previous.last_modified,
            body_sha256=previous.body_sha256,
        )
    digest = hashlib.sha256(body).hexdigest()
    return digest != previous.body_sha256, FetchState(
        etag=headers.get("etag") or None,
        last_modified=headers.get("last-modified") or None,
        body_sha256=digest,
    )


def is_retryable_status(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


def parse_retry_after(
    value: str | None, *, date_header: str | None = None, now: datetime | None = None
) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP-date), or None.

    An HTTP-date is measured against the response's own ``Date`` header when present, so our
    clock skew against the server does not matter; otherwise against ``now``.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        target = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    reference: datetime | None = None
    if date_header:
        try:
            reference = email.utils.parsedate_to_datetime(date_header)
        except (TypeError, ValueError, IndexError):
            reference = None
    if reference is None:
        reference = now or datetime.now(timezone.utc)
    if target.tzinfo is None:
        target = target.replace(tzinfo=timezone.utc)
    if reference.tzinfo is None:
        reference = reference.replace(tzinfo=timezone.utc)
    return max(0.0, (target - reference).total_seconds())


def backoff_s(attempt: int, *, base_s: float, cap_s: float, rng: random.Random) -> float:
    """Full jitter (AWS Architecture Blog): uniform(0, min(cap, base * 2**attempt)).

    Jitter spreads retries from many Lambda workers so they do not hit a host in lockstep.
    """
    return rng.uniform(0.0, min(cap_s, base_s * (2**attempt)))


# --------------------------------------------------------------------------- I/O


@dataclass
class _Response:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class _HostSlot:
    delay_s: float
    next_allowed: float | None = None  # clock() value before which we must not send


class Fetcher:
    """Polite HTTP client shared by all crawlers (GET, or a configured POST)."""

    def __init__(
        self,
        *,
        user_agent: str,
        contact_url: str | None = None,
        timeout_s: float = 20.0,
        max_body_bytes: int = 10_000_000,
        min_host_delay_s: float = 1.0,
        max_retries: int = 3,
        backoff_base_s: float = 1.0,
        max_retry_after_s: float = 60.0,
        respect_robots: bool = True,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        max_crawl_delay_s: float = 60.0,
        address_policy: Any | None = None,
        max_requests: int | None = None,
    ) -> None:
        self.user_agent = format_user_agent(user_agent, contact_url)
        self.timeout_s = timeout_s
        self.max_body_bytes = max_body_bytes
        self.min_host_delay_s = min_host_delay_s
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.max_retry_after_s = max_retry_after_s
        self.respect_robots = respect_robots
        # A hostile Crawl-delay must not stall a Lambda past its timeout; the cap is config.
        self.max_crawl_delay_s = max_crawl_delay_s
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        # Prod passes the uptime checker's AddressPolicy: every connection (pages, robots.txt,
        # each redirect hop) is vetted after DNS, before connecting (crawlers/guard.py).
        if transport is None and address_policy is not None:
            from crawlers.guard import guarded_transport

            transport = guarded_transport(address_policy)
        # A request budget (per source per day, kept by the caller): requests beyond it are refused.
        self.max_requests = max_requests
        self.requests_made = 0
        self._client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout_s),
            # Redirects are followed by hand so each hop is robots-checked and throttled.
            follow_redirects=False,
            headers={"User-Agent": self.user_agent},
        )
        self._robots: dict[str, RobotsPolicy | FetchError] = {}
        self._hosts: dict[str, _HostSlot] = {}

    # -- lifecycle

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- public

    def fetch(
        self,
        url: str,
        state: FetchState | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> FetchResult:
        """One request (GET by default; POST with `content` and its Content-Type in `headers`).

        `headers` are the source's own (auth, API keys, Origin/Referer): they go to every hop on
        the same origin and are dropped when a redirect leaves it, so a credential never follows
        a redirect to another host.
        """
        started = time.perf_counter()
        if params:
            url = str(httpx.URL(url, params=dict(params)))
        _check_scheme(url)
        method = method.upper()
        own = dict(headers or {})
        origin = origin_of(url)
        for _hop in range(MAX_REDIRECTS + 1):
            if self.respect_robots:
                self._check_robots(url)
            # Validators go to every hop: the stored ETag belongs to the final URL of last run.
            sent = {**(own if origin_of(url) == origin else {}), **conditional_headers(state)}
            response = self._get_with_retries(url, sent, method=method, content=content)
            location = response.headers.get("location")
            if response.status in _REDIRECT_STATUSES and location:
                url = urllib.parse.urljoin(url, location)
                _check_scheme(url)
                if response.status in (301, 302, 303) and method != "GET":
                    method, content = "GET", None  # what browsers and RFC 9110 15.4 do
                    own = {k: v for k, v in own.items() if k.lower() != "content-type"}
                continue
            break
        else:
            raise FetchError(
                "too_many_redirects", f"more than {MAX_REDIRECTS} redirects", url=url
            )

        status = response.status
        if not (200 <= status < 300 or status == 304):
            error = FetchError("http_status", f"HTTP {status}", url=url, status=status)
            error.body = response.body  # the first bytes: an API's error JSON names the cause
            raise error
        body = b"" if status == 304 else response.body
        changed, new_state = next_state(state, status, response.headers, body)
        return FetchResult(
            url=response.url,
            status=status,
            body=body,
            headers=response.headers,
            changed=changed,
            state=new_state,
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
        )

    # -- robots

    def _check_robots(self, url: str) -> None:
        policy = self._policy_for(url)
        if not policy.can_fetch(self.user_agent, url):
            raise FetchError("robots", f"disallowed by robots.txt ({policy.reason})", url=url)

    def _policy_for(self, url: str) -> RobotsPolicy:
        origin = origin_of(url)
        cached = self._robots.get(origin)
        if isinstance(cached, FetchError):
            raise FetchError("robots", str(cached), url=url, transient=cached.transient)
        if cached is not None:
            return cached
        try:
            policy = self._load_robots(robots_url(url))
        except FetchError as exc:
            if exc.kind in ("connect", "network", "dns", "refused"):
                # The host is unreachable, not forbidding us: report that, and do not cache,
                # so a later fetch in the same run tries again.
                raise FetchError(exc.kind, f"robots.txt: {exc}", url=url, attempts=1) from exc
            # Timeout, oversized answer, redirect loop: the host stays off limits this run.
            unavailable = FetchError("robots", f"robots.txt unavailable ({exc})", url=url, transient=True)
            self._robots[origin] = unavailable
            raise unavailable from exc
        except RobotsUnavailable as exc:
            unavailable = FetchError("robots", f"robots.txt unavailable ({exc})", url=url, transient=True)
            self._robots[origin] = unavailable
            raise unavailable from exc
        self._robots[origin] = policy
        delay = policy.delay_s(self.user_agent)
        if delay is not None:
            slot = self._slot(url)
            slot.delay_s = max(slot.delay_s, min(delay, self.max_crawl_delay_s))
        return policy

    def _load_robots(self, url: str) -> RobotsPolicy:
        # One attempt, not throttled: a robots.txt probe right before the first page is normal
        # crawler behaviour, and retrying it would only delay the "host is down" verdict.
        for _hop in range(MAX_REDIRECTS + 1):
            response = self._get_once(url, {}, max_bytes=ROBOTS_MAX_BYTES, truncate=True)
            location = response.headers.get("location")
            if response.status in _REDIRECT_STATUSES and location:
                url = urllib.parse.urljoin(url, location)
                _check_scheme(url)
                continue
            return policy_from_response(response.status, response.body)
        raise FetchError("too_many_redirects", "robots.txt redirect loop", url=url)

    # -- throttling

    def _slot(self, url: str) -> _HostSlot:
        # Per host name, not per port or scheme: it is the same machine we must be gentle with.
        host = httpx.URL(url).host.lower()
        slot = self._hosts.get(host)
        if slot is None:
            slot = self._hosts[host] = _HostSlot(delay_s=self.min_host_delay_s)
        return slot

    def _wait_turn(self, slot: _HostSlot) -> None:
        if slot.next_allowed is None:
            return
        wait = slot.next_allowed - self._clock()
        if wait > 0:
            self._sleep(wait)

    def _defer(self, slot: _HostSlot, wait_s: float) -> None:
        # A retry wait and the host delay overlap rather than add up: one sleep, the longer.
        not_before = self._clock() + wait_s
        if slot.next_allowed is None or not_before > slot.next_allowed:
            slot.next_allowed = not_before

    # -- requests

    def _get_with_retries(self, url: str, headers: Mapping[str, str], *, method: str = "GET",
                          content: bytes | None = None) -> _Response:
        slot = self._slot(url)
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            self._wait_turn(slot)
            if self.max_requests is not None and self.requests_made >= self.max_requests:
                raise FetchError("budget", f"request budget of {self.max_requests} used up", url=url)
            self.requests_made += 1
            try:
                response = self._get_once(url, headers, max_bytes=self.max_body_bytes, method=method,
                                          content=content)
            except FetchError as exc:
                slot.next_allowed = self._clock() + slot.delay_s
                if exc.kind not in ("timeout", "connect", "network", "dns") or attempt + 1 == attempts:
                    exc.attempts = attempt + 1
                    raise
                self._defer(slot, self._backoff(attempt))
                continue
            slot.next_allowed = self._clock() + slot.delay_s
            if not is_retryable_status(response.status):
                return response
            if attempt + 1 == attempts:
                raise FetchError(
                    "retries_exhausted",
                    f"HTTP {response.status} on all {attempts} attempts",
                    url=url,
                    status=response.status,
                    attempts=attempts,
                )
            retry_after = parse_retry_after(
                response.headers.get("retry-after"), date_header=response.headers.get("date")
            )
            if retry_after is not None:
                wait = min(retry_after, self.max_retry_after_s)
            else:
                wait = self._backoff(attempt)
            self._defer(slot, wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        return backoff_s(
            attempt, base_s=self.backoff_base_s, cap_s=self.max_retry_after_s, rng=self._rng
        )

    def _get_once(
        self,
        url: str,
        headers: Mapping[str, str],
        *,
        max_bytes: int,
        truncate: bool = False,
        method: str = "GET",
        content: bytes | None = None,
    ) -> _Response:
        """One request. Reads the body for 2xx, and the first 4 KiB of an error (an API's error
        JSON says why); stops reading past ``max_bytes``."""
        # httpx timeouts are per operation; a server trickling one byte per second would
        # never trip them, so the whole exchange also gets a deadline.
        deadline = time.monotonic() + self.timeout_s
        try:
            with self._client.stream(method, url, headers=dict(headers), content=content) as response:
                out_headers = {k.lower(): v for k, v in response.headers.items()}
                body = b""
                if 200 <= response.status_code < 300:
                    body = self._read_body(response, url, max_bytes, truncate, deadline)
                elif response.status_code >= 400:
                    body = self._read_body(response, url, _ERROR_BODY_BYTES, True, deadline)
                # Leaving the block early closes the connection: the rest is never downloaded.
                return _Response(str(response.url), response.status_code, out_headers, body)
        except httpx.TimeoutException as exc:
            raise FetchError("timeout", f"{type(exc).__name__}: {exc}", url=url) from exc
        except httpx.ConnectError as exc:
            raise FetchError("dns" if _is_dns_failure(exc) else "connect", str(exc), url=url) from exc
        except httpx.TransportError as exc:
            raise FetchError("network", f"{type(exc).__name__}: {exc}", url=url) from exc
        except httpx.InvalidURL as exc:
            raise FetchError("bad_url", str(exc), url=url) from exc
        except AddressRefused as exc:
            raise FetchError("refused", str(exc), url=url) from exc

    def _read_body(
        self,
        response: httpx.Response,
        url: str,
        max_bytes: int,
        truncate: bool,
        deadline: float,
    ) -> bytes:
        declared = response.headers.get("content-length")
        if not truncate and declared and declared.isdigit() and int(declared) > max_bytes:
            raise FetchError(
                "too_large", f"Content-Length {declared} > {max_bytes}", url=url
            )
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                if truncate:
                    chunks.append(chunk[: len(chunk) - (size - max_bytes)])
                    break
                raise FetchError("too_large", f"body exceeds {max_bytes} bytes", url=url)
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise FetchError("timeout", f"body not complete after {self.timeout_s}s", url=url)
        return b"".join(chunks)


def _is_dns_failure(exc: BaseException) -> bool:
    """httpx reports a name that does not resolve as a ConnectError; the cause says which."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _check_scheme(url: str) -> None:
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError("bad_url", f"unsupported scheme {scheme!r}", url=url)


def fetch(
    url: str,
    *,
    user_agent: str = DEFAULT_USER_AGENT,
    state: FetchState | None = None,
    contact_url: str | None = None,
) -> FetchResult:
    """One-shot fetch with default politeness (used by ``python -m crawlers --url``).

    The contact URL comes from ``NEWBOOKS_CONTACT_URL`` when not given.
    """
    contact = contact_url or settings.contact_url()
    with Fetcher(user_agent=user_agent, contact_url=contact) as fetcher:
        return fetcher.fetch(url, state)
