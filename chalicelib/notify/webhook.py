"""Outgoing webhooks: a signed JSON POST per notification.

Request::

    POST <url from config>
    Content-Type: application/json
    X-Newbooks-Timestamp: 1763852400                    (Unix seconds when sent)
    X-Newbooks-Signature: v1=<hex HMAC-SHA256>
    X-Newbooks-Delivery: <event id>#<destination>       (same on every retry: dedupe on it)

    {"delivery_id": "...", "event": {"id", "type", "occurred_at", "subject", "data",
                                      "schema_version"}}

Signature: `hex(HMAC-SHA256(key=signing secret, msg=timestamp + "." + raw body bytes))`.
To verify, recompute it over the raw body exactly as received, compare in constant time, and
reject timestamps more than 5 minutes from your clock (replays). `verify()` below does that.

Responses: 2xx = delivered; 429 (honouring `Retry-After`), 408 and 5xx and network errors are
retried; any other 4xx is permanent (the message goes to the DLQ with the status as reason).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any, Callable

from chalicelib.notify.errors import PermanentError, TransientError, retry_after

TIMESTAMP_HEADER = "X-Newbooks-Timestamp"
SIGNATURE_HEADER = "X-Newbooks-Signature"
DELIVERY_HEADER = "X-Newbooks-Delivery"
TOLERANCE_S = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, now: float | None = None) -> bool:
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - ts) > TOLERANCE_S:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


class WebhookSender:
    def __init__(
        self,
        url: str,
        secret: str,
        timeout_s: float = 10,
        clock: Callable[[], float] = time.time,
        max_inline_wait_s: float = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url
        self.secret = secret
        self.timeout_s = timeout_s
        self.clock = clock
        self.max_inline_wait_s = max_inline_wait_s
        self.sleep = sleep

    def post(self, payload: dict[str, Any]) -> str:
        for attempt in range(2):
            try:
                return self._post_once(payload)
            except TransientError as exc:
                if attempt or exc.retry_after_s is None or exc.retry_after_s > self.max_inline_wait_s:
                    raise
                self.sleep(exc.retry_after_s)
        raise AssertionError("unreachable")

    def _post_once(self, payload: dict[str, Any]) -> str:
        import httpx

        body = encode(payload)
        timestamp = str(int(self.clock()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.secret, timestamp, body),
            DELIVERY_HEADER: str(payload.get("delivery_id", "")),
        }
        try:
            response = httpx.post(self.url, content=body, headers=headers, timeout=self.timeout_s)
        except httpx.HTTPError as exc:
            raise TransientError(f"webhook: {type(exc).__name__}: {exc}") from None
        if 200 <= response.status_code < 300:
            return str(response.status_code)
        if response.status_code == 429:
            raise TransientError("webhook: 429", retry_after(dict(response.headers)))
        if response.status_code >= 500 or response.status_code == 408:
            raise TransientError(f"webhook: HTTP {response.status_code}")
        raise PermanentError(f"webhook: HTTP {response.status_code} {response.text[:200]}")
