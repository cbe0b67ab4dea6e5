"""How a send can fail. Deliverers translate these into ledger and queue actions."""
from __future__ import annotations


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


def header(headers: dict | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            if isinstance(value, (list, tuple)):
                value = value[0] if value else None
            return None if value is None else str(value)
    return None


def retry_after(headers: dict | None, default: float = 1.0) -> float:
    raw = header(headers, "retry-after")
    try:
        return max(0.0, float(raw)) if raw is not None else default
    except ValueError:
        return default
