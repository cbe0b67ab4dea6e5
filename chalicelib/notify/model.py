"""Notification messages: what the fan-out enqueues and the deliverers consume.

An SQS message body is `{"v": 1, "event": <Event.to_dict()>, "destination": "<dest>"}`.
Destinations are strings `<scheme>:<target>`:

    slack:C0123            chat.postMessage to a channel (bot token)
    slack-user:U0123       chat.postMessage to a user (the bot's DM with them)
    slack-webhook:<name>   a Slack incoming webhook (URL from config, see delivery)
    x:<account>            a tweet from the configured account (OAuth 1.0a user context)
    webhook:<name>         a signed JSON POST (URL from config, see webhook.py)
    console:               one line on stdout (local stack, no credentials)

Besides the producer events of `chalicelib.events`, the notify package makes two internal
event types: `release.digest` (many releases in one message) and `notify.failed` (operator
alert about a permanently failed delivery).
"""
from __future__ import annotations

from typing import Any

from chalicelib import events as ev

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
}
CHANNELS = ("slack", "x", "webhook", "console")


class BadDestination(ValueError):
    pass


def split_destination(destination: str) -> tuple[str, str]:
    scheme, sep, target = destination.partition(":")
    if not sep or scheme not in CHANNEL_OF_SCHEME:
        raise BadDestination(f"unknown destination {destination!r}")
    if scheme != "console" and not target:
        raise BadDestination(f"destination {destination!r} has no target")
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


def ledger_key(event_id: str, destination: str) -> str:
    return f"{event_id}#{destination}"
