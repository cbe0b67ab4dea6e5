"""Mutes and acknowledgements set from Slack buttons, read by the deliverers.

STATE table items (access patterns listed in chalicelib.resources):

    pk=MUTE#<destination>  sk=series#<series key> | target#<target name>
        until (epoch s), by (Slack user id), expires_at (TTL, a day after `until`)
    pk=ACK#<target>        sk=<event id of the alert that was acknowledged>
        by, at (epoch s), expires_at (TTL, 30 days)

A mute or an acknowledgement is one conditional PutItem: a second click (or a repeated action
payload) while the first still holds changes nothing and reports who set it. A deliverer asks
`silenced(destination, event)` (at most one GetItem, only for release and target events) and
records a silenced delivery as done, so un-muting never replays old notifications.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib import aws
from chalicelib import events as ev

SERIES_MUTE_S = 30 * 86400  # "Mute series" from a release post
ALERT_MUTE_S = 3600  # "Mute 1 h" from an alert post
ACK_KEEP_S = 30 * 86400


@dataclass(frozen=True)
class Outcome:
    changed: bool  # False: an earlier click already did it
    by: str
    until: int | None = None


class Mutes:
    def __init__(self, table: Any, clock: Callable[[], float] = time.time,
                 series_key: Callable[[str], str] | None = None) -> None:
        self.table = table
        self.clock = clock
        self.series_key = series_key

    # --- writes (Slack actions) -------------------------------------------------------------------

    def mute(self, destination: str, scope: str, key: str, seconds: int, by: str) -> Outcome:
        now = int(self.clock())
        until = now + seconds
        with aws.conditional() as write:
            self.table.put_item(
                Item={"pk": f"MUTE#{destination}", "sk": f"{scope}#{key}", "until": until, "by": by,
                      "expires_at": until + 86400},
                ConditionExpression="attribute_not_exists(pk) OR #u < :now",
                ExpressionAttributeNames={"#u": "until"},
                ExpressionAttributeValues={":now": now},
            )
        if not write.held:
            item = self.table.get_item(Key={"pk": f"MUTE#{destination}", "sk": f"{scope}#{key}"}).get("Item") or {}
            return Outcome(False, str(item.get("by", "")), int(item.get("until", until)))
        return Outcome(True, by, until)

    def unmute(self, destination: str, scope: str, key: str) -> None:
        self.table.delete_item(Key={"pk": f"MUTE#{destination}", "sk": f"{scope}#{key}"})

    def list(self, destination: str) -> list[dict[str, Any]]:
        now = int(self.clock())
        items = self.table.query(
            KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": f"MUTE#{destination}"}, Limit=100
        ).get("Items", [])
        return [{"scope": i["sk"].split("#", 1)[0], "key": i["sk"].split("#", 1)[1], "until": int(i["until"]),
                 "by": i.get("by", "")} for i in items if int(i.get("until", 0)) >= now]

    def acknowledge(self, target: str, event_id: str, by: str) -> Outcome:
        now = int(self.clock())
        with aws.conditional() as write:
            self.table.put_item(
                Item={"pk": f"ACK#{target}", "sk": event_id, "by": by, "at": now, "expires_at": now + ACK_KEEP_S},
                ConditionExpression="attribute_not_exists(pk)",
            )
        if not write.held:
            item = self.table.get_item(Key={"pk": f"ACK#{target}", "sk": event_id}).get("Item") or {}
            return Outcome(False, str(item.get("by", "")))
        return Outcome(True, by)

    # --- reads (deliverers) ------------------------------------------------------------------------

    def scope_of(self, event: ev.Event) -> tuple[str, str] | None:
        if event.type == ev.RELEASE_NEW and event.data.get("series") and self.series_key is not None:
            return "series", self.series_key(str(event.data["series"]))
        if event.type in (ev.TARGET_DOWN, ev.TARGET_REMINDER, ev.TARGET_RECOVERED):
            return "target", str(event.data.get("target") or event.subject)
        return None

    def silenced(self, destination: str, event: ev.Event) -> bool:
        scope = self.scope_of(event)
        if scope is None:
            return False
        item = self.table.get_item(Key={"pk": f"MUTE#{destination}", "sk": f"{scope[0]}#{scope[1]}"}).get("Item")
        return bool(item) and int(item.get("until", 0)) >= int(self.clock())
