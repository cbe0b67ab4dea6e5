"""robots.txt policy: pure decisions, no I/O.

The fetcher downloads robots.txt through its own httpx client (same timeouts, same
User-Agent) and hands the status and body here; this module only decides what that means.
Parsing is delegated to protego (Scrapy's maintained parser), which follows RFC 9309: ``*`` and
``$`` wildcards, longest match wins, Allow wins a tie. ``urllib.robotparser`` does neither
(``Disallow: /*.json$`` allowed ``/a.json``). protego is imported on first use only.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ROBOTS_MAX_BYTES",
    "RobotsPolicy",
    "RobotsUnavailable",
    "origin_of",
    "policy_from_response",
    "product_token",
    "robots_url",
]

# RFC 9309 §2.5: crawlers must parse at least 500 KiB; anything beyond may be ignored.
ROBOTS_MAX_BYTES = 500 * 1024


class RobotsUnavailable(Exception):
    """robots.txt could not be obtained (5xx, timeout): the host is off limits for this run."""


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` — robots.txt applies per origin (RFC 9309 §2.3)."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def robots_url(url: str) -> str:
    return origin_of(url) + "/robots.txt"


def product_token(user_agent: str) -> str:
    """``newbooks/1.0 (+https://...)`` -> ``newbooks``: the token robots.txt groups name."""
    return user_agent.split("/", 1)[0].split(" ", 1)[0].strip().lower() or "*"


@dataclass(frozen=True)
class RobotsPolicy:
    """What one origin's robots.txt allows for one user-agent token."""

    _parser: Any  # protego.Protego, or None for a blanket answer
    reason: str = "parsed"
    _blanket: bool | None = None  # allow_all / disallow_all without rules

    @classmethod
    def allow_all(cls, reason: str = "allow_all") -> RobotsPolicy:
        return cls(None, reason, True)

    @classmethod
    def disallow_all(cls, reason: str = "disallow_all") -> RobotsPolicy:
        return cls(None, reason, False)

    @classmethod
    def from_text(cls, text: str) -> RobotsPolicy:
        from protego import Protego

        return cls(Protego.parse(text), "parsed")

    def can_fetch(self, user_agent: str, url: str) -> bool:
        if self._parser is None:
            return bool(self._blanket)
        return bool(self._parser.can_fetch(url, product_token(user_agent)))

    def delay_s(self, user_agent: str) -> float | None:
        """Seconds to leave between requests, from Crawl-delay or Request-rate (larger wins)."""
        if self._parser is None:
            return None
        token = product_token(user_agent)
        delays: list[float] = []
        crawl_delay = self._parser.crawl_delay(token)
        if crawl_delay is not None:
            delays.append(float(crawl_delay))
        rate = self._parser.request_rate(token)
        if rate is not None and rate.requests > 0:
            delays.append(float(rate.seconds) / rate.requests)
        return max(delays) if delays else None


def policy_from_response(status: int, body: bytes) -> RobotsPolicy:
    """Map the robots.txt response to a policy (the caller has already followed redirects).

    2xx -> parse; 401/403 -> disallow all (the site is telling us to stay out); other 4xx ->
    allow all (no robots.txt); 429, 5xx or anything else -> RobotsUnavailable, so the caller treats
    the whole host as disallowed for this run instead of guessing.
    """
    if 200 <= status < 300:
        # Undecodable bytes must not crash the crawl; rules are ASCII paths in practice.
        return RobotsPolicy.from_text(body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace"))
    if status == 429:
        # Rate limited is a server-side condition, not "no robots.txt" (as Google treats it).
        raise RobotsUnavailable("robots.txt status 429")
    if status in (401, 403):
        return RobotsPolicy.disallow_all(f"robots.txt status {status}")
    if 400 <= status < 500:
        return RobotsPolicy.allow_all(f"robots.txt status {status}")
    raise RobotsUnavailable(f"robots.txt status {status}")
