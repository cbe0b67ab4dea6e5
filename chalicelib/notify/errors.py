"""How a send can fail. Deliverers translate these into ledger and queue actions."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DeliveryError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PermanentError(DeliveryError):
    """Retrying cannot help (bad channel, revoked token, rejected payload): DLQ + operator alert."""


class TransientError(DeliveryError):
    """Try again later (5xx, timeout, rate limit); `retry_after_s` when the peer said when.
    `ambiguous`: the request may have reached the peer (timeout, reset mid-response), so the
    retry must first check whether the message is already there."""

    def __init__(self, reason: str, retry_after_s: float | None = None, ambiguous: bool = False) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s
        self.ambiguous = ambiguous


def header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            if isinstance(value, (list, tuple)):
                value = value[0] if value else None
            return None if value is None else str(value)
    return None


def retry_after(headers: Mapping[str, Any] | None, default: float = 1.0) -> float:
    raw = header(headers, "retry-after")
    try:
        return max(0.0, float(raw)) if raw is not None else default
    except ValueError:
        return default


def scrub(text: str, url: str | None) -> str:
    """`text` (a peer's error body, an exception message) with every part of `url` that can be a
    credential replaced by `***`: the whole URL, its path, query and userinfo, and each path
    segment or query value of 4+ characters, raw and percent-decoded. A hostile receiver that
    echoes its URL back cannot make its token reach the ledger, the DLQ, an alert or a log."""
    if not text or not url:
        return text
    from urllib.parse import parse_qsl, quote, unquote, urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return text.replace(url, "***")
    pieces = {url, parts.path, parts.query, parts.netloc.rpartition("@")[0], parts.fragment}
    pieces.update(s for s in parts.path.split("/"))
    pieces.update(v for pair in parse_qsl(parts.query, keep_blank_values=True) for v in pair)
    variants = set()
    for piece in pieces:
        if piece and len(piece) >= 4:
            variants.update({piece, unquote(piece), quote(unquote(piece), safe=""), piece.replace("/", "\\/")})
    for piece in sorted(variants, key=len, reverse=True):  # longest first: the URL before its segments
        if len(piece) >= 4:
            text = text.replace(piece, "***")
    return text
