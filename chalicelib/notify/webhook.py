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
A redirect is not followed (permanent: fix the URL). An error body is quoted in the reason only
after `errors.scrub` removed every part of the URL from it (a receiver may echo its token).

Uncertain sends (the request went out, the answer did not come: read timeout, reset) are
retried with the same `X-Newbooks-Delivery`: a receiver that dedupes on it sees the event once;
one that does not may see it twice. Nothing can be asked of an arbitrary receiver, and losing
the notification is worse for a machine consumer than a duplicate it can recognise.

`webhook:<url>` destinations (given through the API) are posted to that URL through
`vetted_http` (SSRF rules of the stage), signed with `webhook_signing_secret` when it is set;
without it the request carries no signature headers.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

from chalicelib.notify import http_post
from chalicelib.notify.errors import PermanentError, scrub
from chalicelib.notify.retry import InlineRetry

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
        secret: str | None,
        timeout_s: float = 10,
        clock: Callable[[], float] = time.time,
        max_inline_wait_s: float = 5,
        sleep: Callable[[float], None] = time.sleep,
        policy: Any = None,
    ) -> None:
        """`policy`: an `AddressPolicy` for URLs from users (connect only to vetted addresses);
        None for URLs from our own configuration."""
        self.url = url
        self.secret = secret
        self.timeout_s = timeout_s
        self.clock = clock
        self.retrying = InlineRetry(max_inline_wait_s, 2, sleep)
        self.policy = policy

    def post(self, payload: dict[str, Any]) -> str:
        return self.retrying.run(lambda: self._post_once(payload))

    def _post_once(self, payload: dict[str, Any]) -> str:
        from chalicelib.uptime.ssrf import RefusedAddress

        body = encode(payload)
        timestamp = str(int(self.clock()))
        headers = {"Content-Type": "application/json", DELIVERY_HEADER: str(payload.get("delivery_id", ""))}
        if self.secret:
            headers.update({TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(self.secret, timestamp, body)})
        try:
            if self.policy is not None:
                from chalicelib.notify.vetted_http import client

                with client(self.policy, self.timeout_s) as http:
                    response = http_post.post("webhook", self.url, self.timeout_s, http, content=body, headers=headers)
            else:
                response = http_post.post("webhook", self.url, self.timeout_s, content=body, headers=headers)
        except RefusedAddress as exc:
            raise PermanentError(f"webhook: refused address ({scrub(str(exc), self.url)})") from None
        if 200 <= response.status_code < 300:
            return str(response.status_code)
        raise http_post.status_error("webhook", response.status_code, response.text, dict(response.headers), self.url)
