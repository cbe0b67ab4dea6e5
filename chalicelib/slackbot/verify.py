"""Request verification for Slack: signature, 5-minute window, replay.

Slack signs `v0:<X-Slack-Request-Timestamp>:<raw body>` with HMAC-SHA256 under the app's
signing secret and sends `X-Slack-Signature: v0=<hex>`. A request is accepted when

1. both headers are present and the timestamp is an integer;
2. the timestamp is within `WINDOW_S` (5 minutes) of now, either way;
3. the signature matches (constant-time compare; computed like slack-sdk's SignatureVerifier);
4. this (timestamp, signature) pair was not accepted before: a conditional PutItem in the
   STATE table (`pk=SLACKREQ#<signature>`, `sk=<timestamp>`, `attribute_not_exists(pk)`), with an
   `expires_at` attribute past the window. A replay inside the window loses the conditional put;
   a replay after it fails step 2, so the item is never needed past `expires_at`.

Each step's failure is a `Rejected` with a short reason for the logs; the caller answers 401.
"""
from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Mapping
from typing import Any

WINDOW_S = 5 * 60
REPLAY_KEEP_S = WINDOW_S + 60  # a little past the window: clocks on both sides drift


class Rejected(Exception):
    """The request is not from Slack (or is a replay); `reason` is for logs, never for the reply."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _lower(headers: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (headers or {}).items()}


def check_signature(
    secret: str | None, headers: Mapping[str, Any] | None, raw_body: bytes, now: float
) -> tuple[int, str]:
    """Steps 1-3 (pure apart from hashing). Returns (timestamp, signature) of a good request."""
    import hashlib

    if not secret:
        raise Rejected("no signing secret configured")
    h = _lower(headers)
    timestamp, signature = h.get("x-slack-request-timestamp"), h.get("x-slack-signature")
    if not timestamp or not signature:
        raise Rejected("missing signature headers")
    if not timestamp.strip().isdigit():
        raise Rejected("timestamp is not an integer")
    ts = int(timestamp)
    if abs(now - ts) > WINDOW_S:
        raise Rejected("timestamp outside the 5-minute window")
    try:
        raw_body.decode("utf-8")  # Slack sends UTF-8 form bodies; anything else is not from Slack
    except UnicodeDecodeError:
        raise Rejected("body is not UTF-8") from None
    # v0=hex(HMAC-SHA256(secret, "v0:<timestamp>:<body>")), as slack-sdk's SignatureVerifier computes
    # it (https://docs.slack.dev/authentication/verifying-requests-from-slack, read 2026-12-03);
    # stdlib only: importing slack_sdk would load its whole Web API client on the ack path.
    expected = "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + raw_body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise Rejected("signature mismatch")
    return ts, signature


class ReplayGuard:
    """Remembers accepted (timestamp, signature) pairs in the STATE table."""

    def __init__(self, table: Any, clock: Callable[[], float] = time.time) -> None:
        """`table`: a (DynamoDB client, table name) pair, or a boto3 Table."""
        self._table = table
        self.clock = clock

    @property
    def table(self) -> tuple[Any, str]:
        if isinstance(self._table, tuple):
            return self._table
        if hasattr(self._table, "meta"):
            return self._table.meta.client, self._table.name
        return self._table, ""

    def remember(self, timestamp: int, signature: str) -> None:
        """One conditional PutItem; raises Rejected when the pair was seen (a replay). Through
        the low-level client (a table name, typed values): a boto3 resource would load its
        resource model on the cold acknowledgement path."""
        from chalicelib import aws

        now = int(self.clock())
        client, name = self.table
        with aws.conditional() as write:
            client.put_item(
                TableName=name,
                Item={"pk": {"S": f"SLACKREQ#{signature}"}, "sk": {"S": str(timestamp)},
                      "expires_at": {"N": str(timestamp + REPLAY_KEEP_S)}},
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        if not write.held:
            raise Rejected("replayed request")


class Verifier:
    """Steps 1-4. `secret` is a callable so the secret is read on first use (env, then SSM)."""

    def __init__(self, secret: Callable[[], str | None], replay: ReplayGuard | None,
                 clock: Callable[[], float] = time.time) -> None:
        self.secret = secret
        self.replay = replay
        self.clock = clock

    def verify(self, headers: Mapping[str, Any] | None, raw_body: bytes) -> None:
        ts, signature = check_signature(self.secret(), headers, raw_body, self.clock())
        if self.replay is not None:
            self.replay.remember(ts, signature)
