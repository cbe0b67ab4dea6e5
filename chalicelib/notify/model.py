"""Notification messages: what the fan-out enqueues and the deliverers consume.

An SQS message body is `{"v": 1, "event": <Event.to_dict()>, "destination": "<dest>"}`.
Destinations are strings `<scheme>:<target>`:

    slack:C0123            chat.postMessage to a channel (bot token)
    slack-user:U0123       chat.postMessage to a user (the bot's DM with them)
    slack-webhook:<name>   a Slack incoming webhook (URL from config, see delivery)
    x:<account>            a tweet from the configured account (OAuth 1.0a user context)
    webhook:<name>         a signed JSON POST (URL from config, see webhook.py)
    webhook:<url>          a signed JSON POST to that http(s) URL (given through the API)
    console:               one line on stdout (local stack, no credentials)
    discord:<name>  teams:<name>  telegram:<chat id>  ntfy:<name>  pagerduty:<name>
    email:<address>        see chalicelib.notify.channels

Besides the producer events of `chalicelib.events`, the notify package makes two internal
event types: `release.digest` (many releases in one message) and `notify.failed` (operator
alert about a permanently failed delivery).
"""
from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

from chalicelib import events as ev
from chalicelib.errors import InvalidInput

MESSAGE_VERSION = ev.SCHEMA_VERSION
RELEASE_DIGEST = "release.digest"
NOTIFY_FAILED = "notify.failed"
OPS_ALARM = "ops.alarm"  # a CloudWatch alarm changed state (chalicelib/notify/ops_alarm.py)
INTERNAL_TYPES = frozenset({RELEASE_DIGEST, NOTIFY_FAILED, OPS_ALARM})

UPTIME_TYPES = frozenset({ev.TARGET_DOWN, ev.TARGET_RECOVERED, ev.TARGET_REMINDER, ev.TARGETS_GROUPED_DOWN,
                          ev.TARGETS_GROUPED_REMINDER, ev.TARGETS_GROUPED_RECOVERED})
SOURCE_TYPES = frozenset({ev.SOURCE_DEGRADED, ev.SOURCE_RECOVERED, ev.SOURCE_DEAD})

CHANNEL_OF_SCHEME = {
    "slack": "slack",
    "slack-user": "slack",
    "slack-webhook": "slack",
    "x": "x",
    "webhook": "webhook",
    "console": "console",
    # outgoing HTTP/SMTP channels share the webhook queue and deliverer (chalicelib.notify.channels)
    "discord": "webhook",
    "teams": "webhook",
    "telegram": "webhook",
    "ntfy": "webhook",
    "pagerduty": "webhook",
    "email": "webhook",
}
CHANNELS = ("slack", "x", "webhook", "console")


class BadDestination(InvalidInput):
    """A destination that names no channel we deliver to (`param`: the destination field)."""


def split_destination(destination: str) -> tuple[str, str]:
    scheme, sep, target = destination.partition(":")
    if not sep or scheme not in CHANNEL_OF_SCHEME:
        raise BadDestination("destination", f"unknown destination {destination!r}")
    if scheme != "console" and not target:
        raise BadDestination("destination", f"destination {destination!r} has no target")
    return scheme, target


def channel_of(destination: str) -> str:
    return CHANNEL_OF_SCHEME[split_destination(destination)[0]]


def parse_event(raw: dict[str, Any]) -> ev.Event:
    """`Event.from_dict`, also accepting the notify-internal types."""
    if raw.get("type") in INTERNAL_TYPES:
        return ev.Event(
            id=str(raw["id"]),
            type=str(raw["type"]),
            occurred_at=str(raw.get("occurred_at", "")),
            subject=str(raw.get("subject", "")),
            data=dict(raw.get("data") or {}),
            schema_version=int(raw.get("schema_version", ev.SCHEMA_VERSION)),
        )
    return ev.Event.from_dict(raw)


def message(event: ev.Event, destination: str) -> dict[str, Any]:
    return {"v": MESSAGE_VERSION, "event": event.to_dict(), "destination": destination}


def url_target(destination: str) -> str | None:
    """The URL of a `webhook:<url>` destination, else None."""
    scheme, _sep, target = destination.partition(":")
    if scheme == "webhook" and target.lower().startswith(("http://", "https://")):
        return target
    return None


def safe_destination(destination: str) -> str:
    """The destination as logs, ledger keys, DLQ views and alerts may show it. A receiver URL's
    path and query are its credentials (Slack, Discord and Teams webhook URLs are bearer
    tokens), so `webhook:<url>` becomes `webhook:<host>~<sha256 of the URL, 16 hex>`: stable
    per URL (one ledger item per URL) and useless for posting."""
    url = url_target(destination)
    if url is None:
        return destination
    try:
        host = urlsplit(url).hostname or "invalid"
    except ValueError:
        host = "invalid"
    return f"webhook:{host}~{hashlib.sha256(url.encode()).hexdigest()[:16]}"


def ledger_key(event_id: str, destination: str) -> str:
    return f"{event_id}#{safe_destination(destination)}"
