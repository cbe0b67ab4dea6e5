"""Incidents as Slack threads: one message per incident, its history in the thread.

A `target.down` (or `targets.grouped_down`) posted through the Web API becomes the incident's
parent message; the deliverer remembers where it is. A later `target.reminder` or
`target.recovered` for that target in the same destination is posted as a reply in the thread
(`thread_ts`), and the parent is rewritten with `chat.update` to show the current state and
duration (https://docs.slack.dev/reference/methods/chat.update/, read 2026-12-03). A grouped
parent lists which of its targets are still down.

STATE table items:

    pk=THREAD#<destination>  sk=target#<name>    channel, ts, event_id (the down alert), since,
                                                 condition, group (ts of a grouped parent or "")
    pk=THREAD#<destination>  sk=group#<ts>       targets (list), recovered (string set)

Incoming webhooks (`slack-webhook:`) can neither thread nor update: they post each event as
before. A reminder or recovery that finds no parent (the down alert went elsewhere, was muted or
arrives late and out of order) is posted as a message of its own. Updating the parent is
best effort: the thread reply is the delivery that counts (ledger, reconciliation); a failed
`chat.update` leaves the parent one state behind until the next event of the incident.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib import events as ev

KEEP_S = 30 * 86400


@dataclass(frozen=True)
class Parent:
    channel: str
    ts: str
    event_id: str
    target: str
    since: str = ""
    condition: str = ""
    group: str = ""  # ts of the grouped parent this target belongs to


class IncidentThreads:
    def __init__(self, table: Any, clock: Callable[[], float] = time.time) -> None:
        self.table = table
        self.clock = clock

    def remember(self, destination: str, event: ev.Event, channel: str, ts: str) -> None:
        expires = int(self.clock()) + KEEP_S
        data = event.data
        if event.type == ev.TARGETS_GROUPED_DOWN:
            targets = [str(t) for t in data.get("targets") or []]
            self.table.put_item(Item={"pk": f"THREAD#{destination}", "sk": f"group#{ts}", "targets": targets,
                                      "channel": channel, "event_id": event.id, "expires_at": expires})
        else:
            targets = [str(data.get("target") or event.subject)]
        for name in targets:  # one PutItem each (a grouped alert names a handful of targets)
            self.table.put_item(Item={
                "pk": f"THREAD#{destination}", "sk": f"target#{name}", "channel": channel, "ts": ts,
                "event_id": event.id, "target": name, "since": str(data.get("since") or event.occurred_at),
                "condition": str(data.get("condition") or data.get("error") or ""),
                "group": ts if event.type == ev.TARGETS_GROUPED_DOWN else "", "expires_at": expires,
            })

    def find(self, destination: str, target: str) -> Parent | None:
        item = self.table.get_item(Key={"pk": f"THREAD#{destination}", "sk": f"target#{target}"}).get("Item")
        if not item:
            return None
        return Parent(str(item["channel"]), str(item["ts"]), str(item["event_id"]), str(item.get("target") or target),
                      str(item.get("since") or ""), str(item.get("condition") or ""), str(item.get("group") or ""))

    def group_state(self, destination: str, parent: Parent, recovered: str | None) -> tuple[list[str], list[str]]:
        """(targets, recovered so far) of a grouped parent; records `recovered` first."""
        key = {"pk": f"THREAD#{destination}", "sk": f"group#{parent.group}"}
        if recovered:
            item = self.table.update_item(Key=key, UpdateExpression="ADD recovered :r",
                                          ExpressionAttributeValues={":r": {recovered}}, ReturnValues="ALL_NEW")["Attributes"]
        else:
            item = self.table.get_item(Key=key).get("Item") or {}
        return [str(t) for t in item.get("targets") or []], sorted(str(t) for t in item.get("recovered") or ())

    def acknowledged_by(self, target: str, event_id: str) -> str | None:
        item = self.table.get_item(Key={"pk": f"ACK#{target}", "sk": event_id}).get("Item")
        return str(item["by"]) if item else None


THREADED = frozenset({ev.TARGET_REMINDER, ev.TARGET_RECOVERED})
PARENTS = frozenset({ev.TARGET_DOWN, ev.TARGETS_GROUPED_DOWN})
