"""DynamoDB/S3 adapter for uptime. Items and access patterns (see chalicelib/resources.py):

STATE table
  TARGET#<name> / STATE   status, since, version (conditional), counters, last_event (set only
                          on a transition/reminder), last_failure, machine (decide.TargetState)
  GROUP#uptime / STATE    last_event of type targets.grouped_*; `incident#<shard>`: the open group
                          incident (members, still down, since, last reminder)
  TARGETS / <name>        runtime-added target config (JSON; a heartbeat's token only as SHA-256)
  BEAT#<name> / LAST      heartbeat pings: last_start, last_success, last_fail, exit_code,
                          last_runtime_ms (UpdateItem per ping; BatchGet per tick)
  UPTIME / DIRTY          the dirty set: `T#<name> = version` for targets whose state is not
                          quiet, and `known` (string set) of targets past PENDING; ping reads
                          it once per tick (GetItem, consistent) and reads states only for
                          dirty targets, new ones and those that did not pass
CHECKS table
  TICK#<shard> / <YYYY-MM-DDTHH:MM>   one item per tick: zlib(JSON rows) in `r` (tickrow.py), TTL 48 h
  ROLLUP#<target> / <YYYY-MM-DDTHH>   hourly rollup, written once per hour, TTL 90 days
  ROLLUPDONE#<shard> / <YYYY-MM-DDTHH> how many tick items that hour's rollups were built from
  RDAP#<domain> / EXP                 [DOMAIN_EXPIRATION] cache: expires_on, TTL 1 day (1 h if none)
  DAY#<target> / <YYYY-MM-DD>         daily summary: h00..h23 = [passes, fails, maint, checks],
                                      SET per hour when the hour is rolled up, TTL 90 days; a
                                      status view reads <= 91 of these per target (was 2,160
                                      hourly rollups)
"""
from __future__ import annotations

import json
from typing import Any

from boto3.dynamodb.conditions import Key

from chalicelib import aws
from chalicelib.uptime.tickrow import TickRows, decode_rows, encode_rows

__all__ = ["Conflict", "UptimeStore", "decode_rows", "encode_rows"]

TICK_TTL_S = 48 * 3600
ROLLUP_TTL_S = 90 * 86400
DIRTY_KEY = {"pk": "UPTIME", "sk": "DIRTY"}


class Conflict(Exception):
    """A conditional write lost: someone else wrote first."""


class UptimeStore:
    def __init__(self, state_table: str, checks_table: str, bucket: str):
        self.state_name, self.checks_name, self.bucket = state_table, checks_table, bucket

    @property
    def state(self) -> Any:
        return aws.table(self.state_name)

    @property
    def checks(self) -> Any:
        return aws.table(self.checks_name)

    # --- ticks -------------------------------------------------------------------------------
    def get_tick(self, shard: int, minute: str) -> TickRows | None:
        item = self.checks.get_item(Key={"pk": f"TICK#{shard}", "sk": minute}, ConsistentRead=True).get("Item")
        return None if item is None else decode_rows(item.get("r"))

    def put_tick(self, shard: int, minute: str, rows: TickRows, epoch_s: int) -> bool:
        with aws.conditional() as write:
            self.checks.put_item(
                Item={"pk": f"TICK#{shard}", "sk": minute, "r": encode_rows(rows), "n": len(rows),
                      "expires_at": epoch_s + TICK_TTL_S, "v": 1},
                ConditionExpression="attribute_not_exists(pk)",
            )
        return write.held

    def tick_minutes(self, shard: int, start: str, end: str) -> set[str]:
        out: set[str] = set()
        for item in self._query(self.checks, Key("pk").eq(f"TICK#{shard}") & Key("sk").between(start, end),
                                ProjectionExpression="sk", ConsistentRead=True):
            out.add(item["sk"])
        return out

    def ticks(self, shard: int, start: str, end: str) -> list[tuple[str, TickRows]]:
        items = self._query(self.checks, Key("pk").eq(f"TICK#{shard}") & Key("sk").between(start, end))
        return [(item["sk"], decode_rows(item.get("r"))) for item in items]

    def latest_tick(self, shard: int) -> tuple[str, TickRows] | None:
        items = self.checks.query(KeyConditionExpression=Key("pk").eq(f"TICK#{shard}"), ScanIndexForward=False, Limit=1)["Items"]
        return (items[0]["sk"], decode_rows(items[0].get("r"))) if items else None

    # --- rollups -----------------------------------------------------------------------------
    def put_rollups(self, rollups: dict[str, tuple[str, dict[str, Any]]], epoch_s: int) -> None:
        with self.checks.batch_writer() as batch:
            for name, (hour, fields) in rollups.items():
                batch.put_item(Item={"pk": f"ROLLUP#{name}", "sk": hour, **fields, "expires_at": epoch_s + ROLLUP_TTL_S})

    def rollup_marker(self, shard: int, hour: str) -> int | None:
        """How many tick items the stored rollups of (shard, hour) were built from, if any."""
        item = self.checks.get_item(Key={"pk": f"ROLLUPDONE#{shard}", "sk": hour}).get("Item")
        return None if item is None else int(item.get("ticks", -1))

    def put_rollup_marker(self, shard: int, hour: str, ticks: int, epoch_s: int) -> None:
        self.checks.put_item(Item={"pk": f"ROLLUPDONE#{shard}", "sk": hour, "ticks": ticks,
                                   "expires_at": epoch_s + ROLLUP_TTL_S})

    def rollup_markers(self, shard: int, start_hour: str) -> dict[str, int]:
        """hour -> tick items its rollups were built from, for hours >= start_hour (one Query)."""
        items = self._query(self.checks, Key("pk").eq(f"ROLLUPDONE#{shard}") & Key("sk").gte(start_hour))
        return {str(i["sk"]): int(i.get("ticks", -1)) for i in items}

    def first_tick_minute(self, shard: int, start: str) -> str | None:
        items = self.checks.query(KeyConditionExpression=Key("pk").eq(f"TICK#{shard}") & Key("sk").gte(start),
                                  Limit=1, ProjectionExpression="sk")["Items"]
        return str(items[0]["sk"]) if items else None

    def put_day_hours(self, hour: str, values: dict[str, list[int]], epoch_s: int) -> None:
        """The daily summary: SET h<HH> on DAY#<target>/<YYYY-MM-DD> (idempotent: a rewrite of
        the hour sets the same numbers)."""
        day, hh = hour[:10], hour[11:13]
        for name, value in values.items():
            self.checks.update_item(Key={"pk": f"DAY#{name}", "sk": day}, UpdateExpression="SET #h = :v, expires_at = :e",
                                    ExpressionAttributeNames={"#h": f"h{hh}"},
                                    ExpressionAttributeValues={":v": value, ":e": epoch_s + ROLLUP_TTL_S})

    def day_items(self, name: str, start_day: str) -> list[dict[str, Any]]:
        return self._query(self.checks, Key("pk").eq(f"DAY#{name}") & Key("sk").gte(start_day))

    def rollups(self, name: str, start_hour: str) -> list[dict[str, Any]]:
        return self._query(self.checks, Key("pk").eq(f"ROLLUP#{name}") & Key("sk").gte(start_hour))

    # --- state -------------------------------------------------------------------------------
    def get_states(self, names: list[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        client = aws.resource("dynamodb")
        for start in range(0, len(names), 100):
            keys = [{"pk": f"TARGET#{n}", "sk": "STATE"} for n in names[start : start + 100]]
            # eventually consistent: a stale state loses its version check and is read again
            request: dict[str, Any] | None = {self.state_name: {"Keys": keys, "ConsistentRead": False}}
            while request:
                response = client.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self.state_name, []):
                    out[item["pk"][len("TARGET#"):]] = item
                request = response.get("UnprocessedKeys") or None
        return out

    # The dirty set: one item holding `T#<name> = version` for every target whose state may not
    # be quiet (decide.TargetState.quiet). Invariant: a non-quiet state at version v is only
    # written after T#<name> >= v is set (mark_dirty, values only grow); a mark is removed only
    # by a writer of a quiet state at version c, and only if T#<name> <= c. A concurrent writer
    # of a later non-quiet state has raised the mark above c first, so the removal fails; a mark
    # left by a crash only costs a read per tick until the target's next state write.
    def dirty_targets(self) -> dict[str, int]:
        return self.dirty_and_known()[0]

    def dirty_and_known(self) -> tuple[dict[str, int], set[str]]:
        """One consistent GetItem: the dirty set, and `known` (a string set of the targets that
        have had a threshold decision; a target not in it is new and PENDING, so even its
        passes are applied until it is decided)."""
        item = self.state.get_item(Key=DIRTY_KEY, ConsistentRead=True).get("Item") or {}
        return {k[2:]: int(v) for k, v in item.items() if k.startswith("T#")}, {str(n) for n in item.get("known") or ()}

    def add_known(self, names: list[str]) -> None:
        if names:
            self.state.update_item(Key=DIRTY_KEY, UpdateExpression="ADD known :n",
                                   ExpressionAttributeValues={":n": set(names)})

    def forget_target(self, name: str) -> None:
        """A deleted target: out of `known` and the dirty set, its state gone (a new target of
        the same name starts PENDING, not with the old one's history)."""
        self.state.update_item(Key=DIRTY_KEY, UpdateExpression="DELETE known :n REMOVE #t",
                               ExpressionAttributeNames={"#t": f"T#{name}"}, ExpressionAttributeValues={":n": {name}})
        self.state.delete_item(Key={"pk": f"TARGET#{name}", "sk": "STATE"})

    def mark_dirty(self, name: str, version: int) -> None:
        self._dirty_update("SET #t = :v", "attribute_not_exists(#t) OR #t < :v", name, version)

    def clear_dirty(self, name: str, version: int) -> None:
        self._dirty_update("REMOVE #t", "#t <= :v", name, version)

    def _dirty_update(self, expression: str, condition: str, name: str, version: int) -> None:
        with aws.conditional():  # condition failed: a newer mark stands (or none to clear), nothing to do
            self.state.update_item(Key=DIRTY_KEY, UpdateExpression=expression, ConditionExpression=condition,
                                   ExpressionAttributeNames={"#t": f"T#{name}"},
                                   ExpressionAttributeValues={":v": version})

    def group_incident(self, shard: int) -> dict[str, Any] | None:
        """The open group incident of `shard` (on GROUP#uptime/STATE, attribute `incident#<shard>`)."""
        item = self.state.get_item(Key={"pk": "GROUP#uptime", "sk": "STATE"}, ConsistentRead=True,
                                   ProjectionExpression="#i", ExpressionAttributeNames={"#i": f"incident#{shard}"}).get("Item") or {}
        raw = item.get(f"incident#{shard}")
        if not raw:
            return None
        return {"id": str(raw["id"]), "since": int(raw["since"]), "reminded": int(raw.get("reminded", raw["since"])),
                "members": [str(m) for m in raw.get("members") or []], "down": [str(m) for m in raw.get("down") or []]}

    def put_group_incident(self, shard: int, incident: dict[str, Any] | None) -> None:
        names = {"#i": f"incident#{shard}"}
        if incident is None:
            self.state.update_item(Key={"pk": "GROUP#uptime", "sk": "STATE"}, UpdateExpression="REMOVE #i",
                                   ExpressionAttributeNames=names)
        else:
            self.state.update_item(Key={"pk": "GROUP#uptime", "sk": "STATE"}, UpdateExpression="SET #i = :v",
                                   ExpressionAttributeNames=names, ExpressionAttributeValues={":v": incident})

    def get_state(self, name: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self.state.get_item(Key={"pk": f"TARGET#{name}", "sk": "STATE"},
                                                          ConsistentRead=True).get("Item")
        return item

    def put_state(self, name: str, item: dict[str, Any], expected_version: int) -> None:
        condition = "attribute_not_exists(pk)" if expected_version == 0 else "version = :v"
        kwargs: dict[str, Any] = {"ConditionExpression": condition}
        if expected_version:
            kwargs["ExpressionAttributeValues"] = {":v": expected_version}
        with aws.conditional() as write:
            self.state.put_item(Item={"pk": f"TARGET#{name}", "sk": "STATE", **item}, **kwargs)
        if not write.held:
            raise Conflict(name)

    def set_event(self, pk: str, event: dict[str, Any], expected_version: int | None = None) -> bool:
        """Set last_event (+1 version). For the group item: conditional on a different id."""
        if expected_version is None:
            condition, values = "attribute_not_exists(last_event) OR last_event.id <> :id", {":id": event["id"], ":e": event, ":one": 1}
        else:
            condition, values = "version = :v", {":v": expected_version, ":e": event, ":one": 1}
        with aws.conditional() as write:
            self.state.update_item(
                Key={"pk": pk, "sk": "STATE"},
                UpdateExpression="SET last_event = :e ADD version :one",
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        if not write.held and expected_version is not None:
            raise Conflict(pk)
        return write.held

    # --- [DOMAIN_EXPIRATION] cache --------------------------------------------------------------
    def domain_expirations(self, domains: list[str], now_s: int) -> dict[str, str | None]:
        """domain -> ISO expiry ("" = looked up, none found) for unexpired cache items."""
        out: dict[str, str | None] = {}
        client = aws.resource("dynamodb")
        for start in range(0, len(domains), 100):
            keys = [{"pk": f"RDAP#{d}", "sk": "EXP"} for d in domains[start : start + 100]]
            request: dict[str, Any] | None = {self.checks_name: {"Keys": keys}}
            while request:
                response = client.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self.checks_name, []):
                    if int(item.get("expires_at", 0)) > now_s:
                        out[item["pk"][len("RDAP#"):]] = str(item.get("expires_on") or "")
                request = response.get("UnprocessedKeys") or None
        return out

    def put_domain_expiration(self, domain: str, expires_on: str | None, now_s: int) -> None:
        ttl = 86400 if expires_on else 3600  # an answer for a day, a failure for an hour
        self.checks.put_item(Item={"pk": f"RDAP#{domain}", "sk": "EXP", "expires_on": expires_on or "",
                                   "expires_at": now_s + ttl})

    # --- heartbeats ---------------------------------------------------------------------------
    def record_ping(self, name: str, signal: str, at: str, exit_code: int | None) -> dict[str, Any]:
        """BEAT#<name>/LAST: last_start / last_success / last_fail (+ exit_code) and, on a success
        after a start, last_runtime_ms (returned as run_time_ms). GetItem + UpdateItem."""
        key = {"pk": f"BEAT#{name}", "sk": "LAST"}
        old = self.state.get_item(Key=key, ConsistentRead=True).get("Item") or {}
        values: dict[str, Any] = {":t": at}
        sets = [f"last_{signal} = :t"]
        if signal == "fail":
            sets.append("exit_code = :c")
            values[":c"] = exit_code
        if signal == "success":
            start = old.get("last_start")
            if start and start <= at and (not old.get("last_success") or start > old["last_success"]):
                from datetime import datetime

                began = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
                ended = datetime.fromisoformat(at.replace("Z", "+00:00"))
                sets.append("last_runtime_ms = :r")
                values[":r"] = int((ended - began).total_seconds() * 1000)
        self.state.update_item(Key=key, UpdateExpression="SET " + ", ".join(sets), ExpressionAttributeValues=values)
        return {"run_time_ms": values[":r"]} if ":r" in values else {}

    def beats(self, names: list[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        client = aws.resource("dynamodb")
        for start in range(0, len(names), 100):
            keys = [{"pk": f"BEAT#{n}", "sk": "LAST"} for n in names[start : start + 100]]
            request: dict[str, Any] | None = {self.state_name: {"Keys": keys, "ConsistentRead": True}}
            while request:
                response = client.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self.state_name, []):
                    out[item["pk"][len("BEAT#"):]] = item
                request = response.get("UnprocessedKeys") or None
        return out

    # --- runtime targets ---------------------------------------------------------------------
    def runtime_targets(self) -> list[dict[str, Any]]:
        return [json.loads(i["config"]) for i in self._query(self.state, Key("pk").eq("TARGETS"))]

    def put_runtime_target(self, name: str, config: dict[str, Any]) -> bool:
        with aws.conditional() as write:
            self.state.put_item(Item={"pk": "TARGETS", "sk": name, "config": json.dumps(config)},
                                ConditionExpression="attribute_not_exists(pk)")
        return write.held

    def delete_runtime_target(self, name: str) -> bool:
        old = self.state.delete_item(Key={"pk": "TARGETS", "sk": name}, ReturnValues="ALL_OLD").get("Attributes")
        return old is not None

    # --- archive -----------------------------------------------------------------------------
    def put_object(self, key: str, body: bytes) -> None:
        aws.client("s3").put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/x-ndjson")

    @staticmethod
    def _query(table: Any, condition: Any, **kwargs: Any) -> list[dict[str, Any]]:
        return list(aws.all_items(table.query, KeyConditionExpression=condition, **kwargs))
