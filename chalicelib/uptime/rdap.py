"""[DOMAIN_EXPIRATION]: when a target's domain registration expires, from RDAP over HTTPS.

Followed (read 2026-12-03): RFC 9224 "Finding the Authoritative RDAP Service" (the IANA
bootstrap file https://data.iana.org/rdap/dns.json: `services` = [[TLDs], [base URLs]]) and
RFC 9083 "JSON Responses for RDAP" §4.5 (a domain's `events`, `eventAction: "expiration"`).
`NEWBOOKS_RDAP_BOOTSTRAP_URL` overrides the bootstrap (tests serve one on 127.0.0.1).

Cached a day: the bootstrap per container, each domain's answer in DynamoDB
(`RDAP#<domain>/EXP`, TTL one day, also failures for an hour so a dead RDAP server is not
asked every minute). Lookups run before the tick's checks, concurrently, each within
LOOKUP_TIMEOUT_S; a domain without an answer leaves [DOMAIN_EXPIRATION] missing, so its
condition fails with "got missing" rather than guessing.

The domain of a host is its last two labels (three under a two-letter country TLD whose second
label is one of SECOND_LEVEL, e.g. example.co.uk). Gatus asks WHOIS for the host's domain; we
use no public-suffix list (deliberate, documented in the README).
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

BOOTSTRAP_URL = "https://data.iana.org/rdap/dns.json"
LOOKUP_TIMEOUT_S = 5.0
SECOND_LEVEL = frozenset({"co", "com", "net", "org", "ac", "gov", "edu", "ne", "or", "go", "gr", "ad", "ed", "lg"})


def domain_of(host: str) -> str | None:
    labels = [label for label in host.lower().rstrip(".").split(".") if label]
    if len(labels) < 2 or all(label.isdigit() for label in labels):
        return None
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def base_urls(bootstrap: dict[str, Any], domain: str) -> list[str]:
    """RFC 9224 §4: the longest matching label suffix wins (for domains: the TLD entries)."""
    labels = domain.split(".")
    best: tuple[int, list[str]] = (0, [])
    for service in bootstrap.get("services") or []:
        if not isinstance(service, list) or len(service) < 2:
            continue
        for entry in service[0]:
            suffix = str(entry).lower().split(".")
            if labels[-len(suffix):] == suffix and len(suffix) > best[0]:
                best = (len(suffix), [str(u) for u in service[1]])
    urls = best[1]
    return sorted(urls, key=lambda u: not u.startswith("https://"))  # HTTPS first


def expiration(document: dict[str, Any]) -> datetime | None:
    for event in document.get("events") or []:
        if isinstance(event, dict) and event.get("eventAction") == "expiration" and event.get("eventDate"):
            try:
                when = datetime.fromisoformat(str(event["eventDate"]).replace("Z", "+00:00"))
            except ValueError:
                return None
            return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    return None


class RdapClient:
    def __init__(self, bootstrap_url: str = BOOTSTRAP_URL, user_agent: str = "newbooks-uptime/1.0"):
        self.bootstrap_url = bootstrap_url
        self.user_agent = user_agent
        self._bootstrap: tuple[float, dict[str, Any]] | None = None

    async def expirations(self, domains: Iterable[str]) -> dict[str, datetime | None]:
        import httpx

        domains = sorted(set(domains))
        if not domains:
            return {}
        headers = {"Accept": "application/rdap+json, application/json", "User-Agent": self.user_agent}
        async with httpx.AsyncClient(timeout=LOOKUP_TIMEOUT_S, headers=headers, follow_redirects=True) as client:
            bootstrap = await self._load_bootstrap(client)

            async def one(domain: str) -> datetime | None:
                for base in base_urls(bootstrap, domain):
                    try:
                        response = await client.get(base.rstrip("/") + f"/domain/{domain}")
                        if response.status_code == 200:
                            return expiration(json.loads(response.content))
                    except (httpx.HTTPError, ValueError):
                        continue
                return None

            found = await asyncio.gather(*(asyncio.wait_for(one(d), LOOKUP_TIMEOUT_S) for d in domains), return_exceptions=True)
        return {d: (f if isinstance(f, datetime) else None) for d, f in zip(domains, found, strict=True)}

    async def _load_bootstrap(self, client: Any) -> dict[str, Any]:
        import time

        if self._bootstrap is not None and time.monotonic() - self._bootstrap[0] < 86400:
            return self._bootstrap[1]
        try:
            response = await client.get(self.bootstrap_url)
            data = json.loads(response.content) if response.status_code == 200 else {}
        except Exception:  # no bootstrap: every lookup is missing this tick
            return {}
        self._bootstrap = (time.monotonic(), data)
        return data
