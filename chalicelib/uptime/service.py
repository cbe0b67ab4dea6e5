"""UptimeService: the tick, the archive, status queries and runtime targets.

Sharding. Targets (YAML + runtime) sorted by name are cut into shards of
`settings.ping_shard_size`. An event with `detail.shard = i` checks only shard i. The minute's
schedule event (no `detail.shard`) checks its one shard in place; past one shard it fans out:
one `ping-shards` message per shard (chalicelib/uptime/shards.py), each run by its own
`ping_shard` invocation, concurrently. Without a shards queue (tests), every shard runs in this
invocation. Each shard has its own tick item `TICK#<shard>/<minute>`, so duplicates are detected
per shard.

Tick (per shard, keyed by the event's `time` truncated to the minute, never the wall clock):
 1. GetItem the tick: if it exists, this is a duplicate: reuse its stored rows (no checks).
 2. Otherwise check all due targets concurrently and PutItem the tick with
    attribute_not_exists (one write for all results); losing that race also means duplicate.
 3. Apply the rows to the per-target state machines (`decide`). Only targets that did not pass,
    or that are in the dirty set (state not quiet: DOWN, DEGRADED, a pending failure run, or
    recent failures still in the reorder window), have their state read and written; a pass of
    a quiet target changes nothing, so on a healthy minute this step is one consistent GetItem
    of the dirty-set item and nothing else (see store.py for the dirty-set invariant). A
    duplicate re-applies the same rows, which is a no-op for targets already updated (minute
    already in their window), and finishes the job for a run that crashed half-way.
 4. Rollups, once per hour: at minute 5 the previous hour's rollups are built from that hour's
    tick items and written with one PutItem per target (BatchWriteItem), followed by a marker
    item recording how many tick items went in. At minute 20 (and on any duplicate delivery of
    minute 5 or 20) the hour's ticks are read again and the rollups are rewritten only if that
    count changed (a tick that arrived late, or a minute-5 run that never happened); normally
    the second look writes nothing. Rewrites are idempotent: same ticks, same numbers.

Why rollups are not ADDed per tick: 50 targets x 1440 ticks = 72k writes/day ($2.70/month)
against a $0.50 budget; one PutItem per target per hour is 1,200 WRU/day (~$0.045/month). The
current hour is read from the tick items instead (bounded Query, last <= 120 minutes), so a
status page is exact for the last two hours and hourly-granular before that. Measured with
`bench/uptime_cost.py` (capacity units computed from item sizes).

Grouping. When more than `grouping.share` of a tick's non-maintenance checks fail (and at least
`grouping.min_targets` were checked), the failed rows are coded `F`; targets that turn DOWN at
that minute get no per-target down event: one `targets.grouped_down` event on GROUP#uptime lists
them (id `targets.grouped_down:<shard>:<minute>`). A DOWN of such a tick discovered later (out of
order) is announced per target, so nothing is lost. The share is measured per shard.
"""
from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib.events import TARGETS_GROUPED_DOWN, TARGETS_GROUPED_RECOVERED, TARGETS_GROUPED_REMINDER, Event
from chalicelib.log import get_logger
from chalicelib.uptime import decide
from chalicelib.uptime.checker import Checker, CheckResult
from chalicelib.uptime.maintenance import in_maintenance
from chalicelib.uptime.rollup import Rollup, aggregate, day_value, hourly_history, merge_all, percentile, uptime, uptime_figures
from chalicelib.uptime.ssrf import AddressPolicy
from chalicelib.uptime.store import Conflict, UptimeStore
from chalicelib.uptime.targets import InvalidTarget, Target, TargetExists, TargetsConfig, load_file, parse_target
from chalicelib.uptime.tickrow import FAILED, FAILED_GROUPED, MAINTENANCE, OK, SLOW, TickCode, TickRow, TickRows, decode_rows

log = get_logger("uptime")
ROLLUP_MINUTES = (5, 20)  # an hour is rolled up once it is 5 minutes over; re-checked at :20
ROLLUP_LOOKBACK_H = 47  # tick items live 48 h: older hours can no longer be rolled up
MAX_CATCHUP_HOURS = 6  # per tick, so a long gap is caught up over a few ticks
LIVE_MINUTES = 120  # raw ticks read for the minutes not rolled up yet
FIGURE_DAYS = 90
# a target's transitions to announce: (name, its new state item, transitions, its tick row)
Pending = tuple[str, dict[str, Any], list[decide.Transition], TickRow]
_ORDER = {"DOWN": 0, "DEGRADED": 1, "PENDING": 2, "MAINTENANCE": 3, "UNKNOWN": 4, "UP": 5}


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class TargetSummary:
    """One target as the status views show it; `hours` (hour -> Rollup, the last 90 days incl.
    minutes not rolled up yet) is what its uptime figures were computed from."""

    name: str
    group: str
    state: str
    last_check: str | None
    latency_ms: int | None
    uptime: dict[str, float | None]
    incidents: list[dict[str, Any]]
    hours: dict[str, Rollup]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "group": self.group, "state": self.state, "last_check": self.last_check,
                "latency_ms": self.latency_ms, "uptime_24h": self.uptime["24h"], "uptime": self.uptime}


@dataclass(frozen=True)
class StatusBoard:
    targets: list[TargetSummary]
    generated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"targets": [t.to_dict() for t in self.targets], "generated_at": self.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")}


@dataclass
class ShardSummary:
    checked: int = 0
    up: int = 0
    down: int = 0
    duplicate: bool = False
    events: int = 0


class UptimeService:
    def __init__(self, settings: Any, store: UptimeStore, checker: Checker, *, clock: Callable[[], datetime] = _now,
                 fan_out: Callable[[dict[str, Any], int], int] | None = None):
        self.settings = settings
        self.fan_out = fan_out  # (event, shard count) -> messages sent; None or 0: run every shard here
        self.store = store
        self.checker = checker
        self.clock = clock
        self.policy = checker.policy
        self._config: tuple[float, TargetsConfig] | None = None
        self._rdap: Any = None

    # --- targets -----------------------------------------------------------------------------
    def config(self) -> TargetsConfig:
        path = self.settings.targets_file
        mtime = os.path.getmtime(path) if os.path.exists(path) else 0.0
        if self._config is None or self._config[0] != mtime:
            self._config = (mtime, load_file(path, policy=self.policy))
        return self._config[1]

    def targets(self) -> list[Target]:
        config = self.config()
        found = {t.name: t for t in config.targets}
        for raw in self.store.runtime_targets():
            try:
                target = parse_target(raw, config.defaults, source="api", policy=self.policy)
            except InvalidTarget as exc:
                log.warning("skipping invalid runtime target", extra={"problem": str(exc)})
                continue
            found.setdefault(target.name, target)
        return sorted(found.values(), key=lambda t: t.name)

    def shards(self, targets: list[Target]) -> list[list[Target]]:
        size = max(1, int(self.settings.ping_shard_size))
        return [targets[i : i + size] for i in range(0, len(targets), size)] or [[]]

    def _shard_of(self, name: str, targets: list[Target]) -> int:
        names = [t.name for t in targets]
        return names.index(name) // max(1, int(self.settings.ping_shard_size))

    def add_target(self, config: dict[str, Any]) -> dict[str, Any]:
        token = None
        if isinstance(config.get("heartbeat"), dict) and not ({"token", "token-sha256", "token_sha256"} & set(config["heartbeat"])):
            from chalicelib.uptime.heartbeat import new_token

            token = new_token()  # shown once in this answer; only its hash is stored
            config = {**config, "heartbeat": {**config["heartbeat"], "token": token}}
        target = parse_target(config, self.config().defaults, source="api", policy=self.policy)
        if any(t.name == target.name for t in self.config().targets):
            raise TargetExists("name", f"target {target.name!r}: already defined in {self.settings.targets_file.name}")
        if not self.store.put_runtime_target(target.name, target.raw):  # raw: token replaced by its hash
            raise TargetExists("name", f"target {target.name!r}: already exists")
        described = target.describe()
        if token is not None:
            described["heartbeat"] = {**described["heartbeat"], "token": token,
                                      "ping_url": f"{self.settings.public_base_url}/ping/{token}"}
        return described

    def delete_target(self, name: str) -> bool:
        deleted = self.store.delete_runtime_target(name)
        if deleted:
            self.store.forget_target(name)
        return deleted

    def list_targets(self) -> list[dict[str, Any]]:
        return [t.describe() for t in self.targets()]

    # --- tick --------------------------------------------------------------------------------
    def run_tick(self, event: dict[str, Any]) -> dict[str, Any]:
        when = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
        minute = decide.to_minute(when)
        key = decide.minute_iso(minute)
        targets = self.targets()
        shards = self.shards(targets)
        detail = event.get("detail") or {}
        sharded = isinstance(detail, dict) and "shard" in detail
        sent = self.fan_out(event, len(shards)) if not sharded and len(shards) > 1 and self.fan_out else 0
        if sent:
            result = {"tick": key, "shards": len(shards), "fanned_out": sent}
            log.info("tick fanned out", extra=result)
            return result
        wanted = [int(detail["shard"])] if sharded else list(range(len(shards)))
        total = ShardSummary()
        for shard in wanted:
            if shard >= len(shards):
                continue
            summary = self._run_shard(shard, minute, shards[shard])
            total.checked += summary.checked
            total.up += summary.up
            total.down += summary.down
            total.events += summary.events
            total.duplicate = total.duplicate or summary.duplicate
        result = {"tick": key, "shards": wanted, "checked": total.checked, "up": total.up, "down": total.down,
                  "events": total.events, "duplicate": total.duplicate}
        log.info("tick", extra=result)
        return result

    def _run_shard(self, shard: int, minute: int, targets: list[Target]) -> ShardSummary:
        key = decide.minute_iso(minute)
        when = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=minute)
        due = [t for t in targets if t.due(minute)]
        rows = self.store.get_tick(shard, key)
        duplicate = rows is not None
        if rows is None:
            rows = self._check(due, when)
            if not self.store.put_tick(shard, key, rows, int(when.timestamp())):
                duplicate = True
                rows = self.store.get_tick(shard, key) or {}
        summary = ShardSummary(duplicate=duplicate, checked=len(rows))
        summary.up = sum(1 for r in rows.values() if r.passed)
        summary.down = sum(1 for r in rows.values() if r.failed)
        summary.events = self._apply(shard, minute, rows, {t.name: t for t in targets})
        self._rollup(shard, minute, targets)
        return summary

    def _check(self, due: list[Target], when: datetime) -> TickRows:
        active = [t for t in due if not in_maintenance(t.maintenance, when)]
        probes = [t for t in active if t.heartbeat is None]
        extra = self._domain_expirations([t for t in probes if t.needs_domain_expiration])
        results: list[CheckResult] = self.checker.run(probes, extra) if probes else []
        rows: TickRows = {t.name: TickRow(MAINTENANCE) for t in due if t not in active}
        beats = self._heartbeat_rows([t for t in active if t.heartbeat is not None], when)
        checked = len(results) + len(beats)
        failing = sum(1 for r in results if not r.ok) + sum(1 for r in beats.values() if r.code == FAILED)
        grouping = self.config().grouping
        mass = checked >= grouping.min_targets and failing / max(1, checked) > grouping.share
        for r in results:
            code: TickCode = (SLOW if r.slow else OK) if r.ok else (FAILED_GROUPED if mass else FAILED)
            detail = r.condition or r.detail
            rows[r.name] = TickRow(code, r.latency_ms, r.status, r.error, detail[:200] if detail else None, r.tls_expiry)
        for name, row in beats.items():
            rows[name] = row.with_code(FAILED_GROUPED) if mass and row.code == FAILED else row
        return rows

    def _domain_expirations(self, targets: list[Target]) -> dict[str, dict[str, Any]]:
        """Per target name: {"_domain_expiry": datetime} for [DOMAIN_EXPIRATION] (rdap.py):
        cached answers (one BatchGet), the rest looked up concurrently and cached."""
        if not targets:
            return {}
        from chalicelib.uptime.rdap import BOOTSTRAP_URL, RdapClient, domain_of

        now_s = int(time.time())
        domains = {t.name: domain_of(t.host) for t in targets}
        wanted = sorted({d for d in domains.values() if d})
        known = self.store.domain_expirations(wanted, now_s)
        missing = [d for d in wanted if d not in known]
        if missing:
            if self._rdap is None:
                self._rdap = RdapClient(getattr(self.settings, "rdap_bootstrap_url", "") or BOOTSTRAP_URL,
                                        self.settings.user_agent)
            try:
                found = asyncio.run(self._rdap.expirations(missing))
            except Exception:  # no answer: the condition sees "missing"
                log.exception("RDAP lookups failed")
                found = {}
            for domain in missing:
                value = found.get(domain)
                known[domain] = value.isoformat() if value else ""
                self.store.put_domain_expiration(domain, known[domain] or None, now_s)
        out = {}
        for name, name_domain in domains.items():
            expiry = known.get(name_domain) if name_domain else None
            if expiry:
                out[name] = {"_domain_expiry": datetime.fromisoformat(expiry)}
        return out

    def _heartbeat_rows(self, targets: list[Target], when: datetime) -> TickRows:
        """Heartbeats' rows for the tick at `when` (its minute, not the wall clock: a duplicate
        tick gives the same rows); a never-pinged heartbeat has no row (it stays PENDING)."""
        if not targets:
            return {}
        from chalicelib.uptime.heartbeat import verdict

        beats = self.store.beats([t.name for t in targets])
        rows: TickRows = {}
        for target in targets:
            if target.heartbeat is None:
                continue
            row = verdict(target.heartbeat, beats.get(target.name), when + timedelta(seconds=59))
            if row is not None:
                rows[target.name] = row
        return rows

    # --- heartbeats --------------------------------------------------------------------------
    def heartbeat_ping(self, token: str, action: str | None = None) -> dict[str, Any] | None:
        """A job's ping: None when no heartbeat has this token (the route answers 404). The
        token is only ever hashed here; it is not logged, stored or returned."""
        from chalicelib.uptime.heartbeat import same_hash, signal_of, token_hash

        signal, exit_code = signal_of(action)  # InvalidHeartbeat for an unknown action
        digest = token_hash(token)
        target = next((t for t in self.targets() if t.heartbeat is not None
                       and same_hash(t.heartbeat.token_sha256, digest)), None)
        if target is None:
            return None
        at = self.clock().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        beat = self.store.record_ping(target.name, signal, at, exit_code)
        return {"ok": True, "target": target.name, "signal": signal, "at": at, **beat}

    def _apply(self, shard: int, minute: int, rows: TickRows, targets: dict[str, Target]) -> int:
        names = [n for n, r in rows.items() if not r.in_maintenance and n in targets]
        if not names:
            return 0
        # Only targets that did not pass, or whose state is not quiet (the dirty set), need their
        # state: a pass of a quiet target changes nothing (see decide.TargetState.quiet).
        dirty, known = self.store.dirty_and_known()
        names = [n for n in names if rows[n].code != OK or n in dirty or n not in known]
        if not names:
            return 0
        newly_known: list[str] = []
        final_status: dict[str, str] = {}
        lo, hi = decide.minute_iso(minute - 8), decide.minute_iso(minute + 8)
        present = {decide.to_minute(m) for m in self.store.tick_minutes(shard, lo, hi)} | {minute}
        holes = decide.young_holes(present)
        states: dict[str, dict[str, Any] | None] = dict(self.store.get_states(names))
        grouped: list[str] = []
        pending: list[Pending] = []
        for name in names:
            target = targets[name]
            target_holes = frozenset(h for h in holes if target.due(h))
            for _attempt in range(3):
                item = states.get(name)
                version = int(item["version"]) if item else 0
                outcome = self._decide(target, item, minute, rows[name], target_holes)
                final_status[name] = str((item or {}).get("status") or decide.PENDING)
                if outcome is None:
                    quiet_now = item is not None and decide.TargetState.from_dict(item.get("machine")).quiet
                    if name in dirty and quiet_now:
                        self.store.clear_dirty(name, version)  # a stale mark (e.g. after a crash)
                    if quiet_now and name not in known:
                        newly_known.append(name)
                    break
                new_item, transitions, quiet = outcome
                final_status[name] = str(new_item.get("status"))
                if not quiet and dirty.get(name, -1) < version + 1:
                    self.store.mark_dirty(name, version + 1)  # before the state write: never under-marked
                    dirty[name] = version + 1
                try:
                    self.store.put_state(name, new_item, version)
                except Conflict:
                    states[name] = self.store.get_state(name)
                    continue
                if quiet and name in dirty:
                    self.store.clear_dirty(name, version + 1)
                if quiet and name not in known:
                    newly_known.append(name)
                for transition in transitions:
                    if transition.type == decide.DOWN_EVENT and transition.grouped and transition.minute == minute:
                        grouped.append(name)
                    elif transition.alerts:
                        pending.append((name, new_item, [transition], rows[name]))
                break
        self.store.add_known(newly_known)
        return self._announce(shard, minute, rows, targets, grouped, pending, final_status)

    def _announce(self, shard: int, minute: int, rows: TickRows, targets: dict[str, Target],
                  grouped: list[str], pending: list[Pending], final_status: dict[str, str]) -> int:
        """Write the tick's events. A grouped DOWN opens (or widens) the shard's group incident;
        while it is open its members' own reminders and recoveries are not sent: the group sends
        one reminder per interval (the shortest of its members') and one grouped recovery when
        no member is DOWN any more. Who is still down is recomputed every tick from the member
        states (a crash between a state write and the incident write loses nothing)."""
        events = 0
        # read on every tick that reaches here (something failed or is dirty): an open incident's
        # members are DOWN, hence dirty, so a healthy minute never pays this GetItem
        incident = self.store.group_incident(shard)
        if grouped:
            group_id = f"{TARGETS_GROUPED_DOWN}:{shard}:{decide.minute_iso(minute)}"
            if incident is None:
                incident = {"id": group_id, "since": minute, "members": [], "down": [], "reminded": minute}
            incident["members"] = sorted(set(incident["members"]) | set(grouped))
            group_event = self._group_event(TARGETS_GROUPED_DOWN, group_id, minute, sorted(grouped), targets, {
                "shard": shard, "failing": sum(1 for r in rows.values() if r.code == FAILED_GROUPED),
                "checked": sum(1 for r in rows.values() if not r.in_maintenance)})
            events += int(self.store.set_event("GROUP#uptime", group_event))
        members = set(incident["members"]) if incident else set()
        for name, item, transitions, row in pending:
            for transition in transitions:
                if name in members and transition.type in (decide.REMINDER_EVENT, decide.RECOVERED_EVENT, decide.DOWN_EVENT):
                    continue  # the group incident speaks for its members
                event = self._event(targets[name], transition, item, row, minute)
                version = int(item["version"])
                try:
                    self.store.set_event(f"TARGET#{name}", event, expected_version=version)
                    item["version"] = version + 1
                    events += 1
                except Conflict:
                    log.warning("event write lost a race", extra={"target": name, "event_id": event["id"]})
        if incident is not None:
            events += self._advance_incident(shard, minute, rows, targets, incident, final_status)
        return events

    def _advance_incident(self, shard: int, minute: int, rows: TickRows, targets: dict[str, Target],
                          incident: dict[str, Any], final_status: dict[str, str]) -> int:
        members = [m for m in incident["members"] if m in targets]
        down = set()
        for member in members:
            if member in final_status:
                if final_status[member] == decide.DOWN:
                    down.add(member)
            elif member in incident.get("down", []) and (member not in rows or rows[member].code != OK):
                down.add(member)  # not judged this tick (not due, maintenance): as before
        incident["down"] = sorted(down)
        events = 0
        since = int(incident["since"])
        if not down:
            event = self._group_event(TARGETS_GROUPED_RECOVERED, f"{TARGETS_GROUPED_RECOVERED}:{incident['id']}", minute,
                                      members, targets, {"shard": shard, "duration_s": max(0, (minute - since) * 60),
                                                         "since": decide.minute_iso(since) + ":00Z"})
            events += int(self.store.set_event("GROUP#uptime", event))
            self.store.put_group_incident(shard, None)
            return events
        every = min((max(1, targets[m].reminder_interval_s // 60) for m in members), default=60)
        if minute - int(incident.get("reminded", since)) >= every:
            event = self._group_event(TARGETS_GROUPED_REMINDER, f"{TARGETS_GROUPED_REMINDER}:{shard}:{decide.minute_iso(minute)}",
                                      minute, sorted(down), targets, {"shard": shard, "members": members,
                                                                      "since": decide.minute_iso(since) + ":00Z"})
            events += int(self.store.set_event("GROUP#uptime", event))
            incident["reminded"] = minute
        self.store.put_group_incident(shard, incident)
        return events

    def _group_event(self, type_: str, event_id: str, minute: int, names: list[str], targets: dict[str, Target],
                     extra: dict[str, Any]) -> dict[str, Any]:
        return Event(
            id=event_id, type=type_, occurred_at=decide.minute_iso(minute) + ":00Z", subject="uptime",
            data={"targets": names, "channels": sorted({c for n in names if n in targets for c in targets[n].alerts}),
                  "status_page": f"{self.settings.public_base_url}/status", **extra},
        ).to_dict()

    def _decide(self, target: Target, item: dict[str, Any] | None, minute: int, row: TickRow,
                holes: frozenset[int]) -> tuple[dict[str, Any], list[decide.Transition], bool] | None:
        state = decide.TargetState.from_dict((item or {}).get("machine"))
        state.version = int(item["version"]) if item else 0
        rules = decide.Rules(target.failure_threshold, target.success_threshold, target.interval_min,
                             max(1, target.reminder_interval_s // 60))
        decision = decide.apply(state, target.name, minute, row.code, rules, holes)
        if not decision.changed:
            return None
        new = decision.state
        machine = new.to_dict()
        machine.pop("version", None)
        current = new.current
        new_item: dict[str, Any] = {
            "name": target.name, "group": target.group,
            "status": current.status,
            "since": decide.minute_iso(current.since) if current.since is not None else None,
            "version": state.version + 1,
            "counters": {"fail_run": current.fail_run, "pass_run": current.pass_run},
            "machine": machine,
            "incidents": new.incidents,
            "last_event": (item or {}).get("last_event"),
            "last_failure": (item or {}).get("last_failure"),
            "updated_minute": decide.minute_iso(minute),
        }
        if row.failed:
            new_item["last_failure"] = {"minute": decide.minute_iso(minute), "error": row.error, "condition": row.detail,
                                        "status": row.status}
        return {k: v for k, v in new_item.items() if v is not None}, list(decision.new), new.quiet

    def _event(self, target: Target, transition: decide.Transition, item: dict[str, Any], row: TickRow, minute: int) -> dict[str, Any]:
        failure = item.get("last_failure") or {}
        data = {
            "target": target.name, "group": target.group, "url": target.url,
            "state": transition.state, "previous_state": transition.previous,
            "condition": alert_condition(transition.type, failure), "error": failure.get("error"),
            "status_page": f"{self.settings.public_base_url}/status/{target.name}",
            "channels": list(target.alerts), "tick": decide.minute_iso(minute),
        }
        if transition.duration_s is not None:
            data["duration_s"] = transition.duration_s
        return Event(
            id=transition.event_id(target.name), type=transition.type,
            occurred_at=decide.minute_iso(transition.minute) + ":00Z", subject=target.name, data=data,
        ).to_dict()

    # --- rollups -----------------------------------------------------------------------------
    def _rollup(self, shard: int, minute: int, targets: list[Target]) -> None:
        """Roll up every complete hour that has no rollup yet, however many ticks were missed:
        each tick lists the shard's rollup markers of the last TICK_TTL hours (one Query) and
        rolls up the missing hours (at most MAX_CATCHUP_HOURS per tick, oldest first) that are
        over and ROLLUP_MINUTES[0] minutes old, starting at the shard's oldest stored tick. At
        minute ROLLUP_MINUTES[1] the previous hour is read again and rewritten only if late
        ticks arrived (its tick count changed). Rewrites are idempotent: same ticks, same numbers."""
        settled_until = minute - ROLLUP_MINUTES[0] - (minute - ROLLUP_MINUTES[0]) % 60  # start of an unsettled hour
        oldest = minute - minute % 60 - ROLLUP_LOOKBACK_H * 60
        markers = self.store.rollup_markers(shard, decide.minute_iso(oldest)[:13])
        first = self.store.first_tick_minute(shard, decide.minute_iso(oldest))
        if first is None:
            return
        start = max(oldest, decide.to_minute(first + ":00Z" if len(first) == 16 else first) // 60 * 60)
        missing = [h for h in range(start, settled_until, 60) if decide.minute_iso(h)[:13] not in markers]
        for hour_start in missing[:MAX_CATCHUP_HOURS]:
            self._rollup_hour(shard, hour_start, targets, None)
        if minute % 60 == ROLLUP_MINUTES[1]:
            previous = minute - minute % 60 - 60
            hour = decide.minute_iso(previous)[:13]
            if hour in markers:
                self._rollup_hour(shard, previous, targets, markers[hour])

    def _rollup_hour(self, shard: int, hour_start: int, targets: list[Target], known_ticks: int | None) -> None:
        hour = decide.minute_iso(hour_start)[:13]
        ticks = self.store.ticks(shard, decide.minute_iso(hour_start), decide.minute_iso(hour_start + 59))
        if known_ticks is not None and known_ticks == len(ticks):
            return
        rollups = aggregate(((decide.to_minute(m), rows) for m, rows in ticks), [t.name for t in targets])
        for target in targets:
            rollup = rollups.setdefault(target.name, Rollup())
            rollup.expected = sum(1 for m in range(hour_start, hour_start + 60) if target.due(m))
        expires = (hour_start + 60) * 60
        self.store.put_rollups({n: (hour, r.to_item()) for n, r in rollups.items()}, expires)
        self.store.put_day_hours(hour, {n: day_value(r) for n, r in rollups.items() if r.checks}, expires)
        self.store.put_rollup_marker(shard, hour, len(ticks), expires)  # last: a crash rewrites

    # --- archive -----------------------------------------------------------------------------
    def archive_expired(self, event: dict[str, Any]) -> dict[str, Any]:
        import json as _json

        from chalicelib.batch import deserialize_image, stream_batch

        groups: dict[str, list[str]] = {}
        first_index: dict[str, int] = {}
        records = event.get("Records", [])

        def handle(record: dict[str, Any]) -> None:
            if record.get("eventName") != "REMOVE":
                return
            old = deserialize_image(record.get("dynamodb", {}).get("OldImage")) or {}
            pk, sk = str(old.get("pk", "")), str(old.get("sk", ""))
            if not pk.startswith("TICK#"):
                return
            shard = pk[len("TICK#"):]
            day, hhmm = sk[:10], sk[11:16].replace(":", "")
            prefix = f"archive/ticks/{day}/{shard}-"
            key = next((k for k in groups if k.startswith(prefix)), None) or f"{prefix}{hhmm}.ndjson"
            first_index.setdefault(key, records.index(record))
            for name, row in sorted(decode_rows(old.get("r")).items()):
                groups.setdefault(key, []).append(_json.dumps(
                    {"tick": sk, "shard": int(shard) if shard.isdigit() else shard, "target": name, **row.archive_fields()},
                    separators=(",", ":")))
            groups.setdefault(key, [])

        response = stream_batch(event, handle)
        failed_from = len(records) - len(response["batchItemFailures"])
        for key, lines in groups.items():
            try:
                self.store.put_object(key, ("\n".join(sorted(lines)) + "\n").encode() if lines else b"")
            except Exception:
                log.exception("archive put failed", extra={"key": key})
                failed_from = min(failed_from, first_index[key])
        failures = [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in records[failed_from:]]
        return {"batchItemFailures": failures}

    # --- queries -----------------------------------------------------------------------------
    def _display(self, target: Target, item: dict[str, Any] | None, now: datetime) -> str:
        if in_maintenance(target.maintenance, now):
            return "MAINTENANCE"
        return str((item or {}).get("status", "PENDING" if item is None else "UNKNOWN"))  # no decision yet

    def live_ticks(self, targets: list[Target], now: datetime) -> dict[str, list[tuple[str, TickRow]]]:
        """Tick rows of the last LIVE_MINUTES per target (one Query per shard): the minutes not
        rolled up yet, which every uptime figure includes."""
        now_min = decide.to_minute(now)
        start, end = decide.minute_iso(now_min - LIVE_MINUTES), decide.minute_iso(now_min)
        live: dict[str, list[tuple[str, TickRow]]] = {}
        for shard, members in enumerate(self.shards(targets)):
            if not members:
                continue
            for minute, rows in self.store.ticks(shard, start, end):
                for name, row in rows.items():
                    live.setdefault(name, []).append((minute, row))
        return live

    def history(self, name: str, live: list[tuple[str, TickRow]], now: datetime) -> dict[str, Rollup]:
        """Hour -> Rollup of the last 90 days incl. the live minutes: one Query of daily summary items."""
        first_day = (now - timedelta(days=FIGURE_DAYS - 1)).strftime("%Y-%m-%d")
        return hourly_history(self.store.day_items(name, first_day), live)

    def figures(self, name: str, live: list[tuple[str, TickRow]], now: datetime) -> dict[str, float | None]:
        """The one uptime figure function's I/O side: 24h, 7d, 30d, 90d for `name`."""
        return uptime_figures(self.history(name, live, now), now)

    def status_board(self) -> StatusBoard:
        """All targets, down first, each with its uptime figures (rollup.uptime_figures) and the
        hourly history they came from (the status page's bars): BatchGet states + one tick Query
        per shard + one daily summary Query per target."""
        now = self.clock()
        targets = self.targets()
        states = self.store.get_states([t.name for t in targets]) if targets else {}
        live = self.live_ticks(targets, now)
        out = []
        for target in targets:
            item = states.get(target.name)
            mine = live.get(target.name) or []
            last = max(mine, key=lambda pair: pair[0]) if mine else None
            hours = self.history(target.name, mine, now)
            out.append(TargetSummary(
                name=target.name, group=target.group, state=self._display(target, item, now),
                last_check=last[0] if last else None, latency_ms=last[1].latency_ms if last else None,
                uptime=uptime_figures(hours, now), incidents=list((item or {}).get("incidents") or []), hours=hours))
        out.sort(key=lambda t: (_ORDER.get(t.state, 9), t.name))
        return StatusBoard(out, now)

    def status_summary(self) -> dict[str, Any]:
        """/status, Slack: every target's state and uptime figures, down first (`status_board`)."""
        return self.status_board().to_dict()

    def target_uptime(self, name: str) -> dict[str, Any] | None:
        """State and uptime figures of one target (badges): GetItem + 1 tick Query + 1 day Query."""
        now = self.clock()
        targets = self.targets()
        target = next((t for t in targets if t.name == name), None)
        if target is None:
            return None
        shard = self._shard_of(name, targets)
        now_min = decide.to_minute(now)
        ticks = self.store.ticks(shard, decide.minute_iso(now_min - LIVE_MINUTES), decide.minute_iso(now_min))
        mine = [(m, rows[name]) for m, rows in ticks if name in rows]
        last_hour = Rollup()
        for minute, row in mine:
            if decide.to_minute(minute) > now_min - 60:
                last_hour.add(row)
        return {"name": name, "state": self._display(target, self.store.get_state(name), now),
                "uptime": {"1h": uptime(last_hour), **self.figures(name, mine, now)}}

    def target_status(self, name: str) -> dict[str, Any] | None:
        now = self.clock()
        targets = self.targets()
        target = next((t for t in targets if t.name == name), None)
        if target is None:
            return None
        item = self.store.get_state(name)
        shard = self._shard_of(name, targets)
        now_min = decide.to_minute(now)
        ticks = self.store.ticks(shard, decide.minute_iso(now_min - 120), decide.minute_iso(now_min))
        mine = [(decide.to_minute(m), rows[name]) for m, rows in ticks if name in rows]
        hourly = {r["sk"]: Rollup.from_item(r) for r in self.store.rollups(name, (now - timedelta(days=30)).strftime("%Y-%m-%dT%H"))}
        for minute, row in mine:  # hours not rolled up yet come from the raw ticks
            hour = decide.minute_iso(minute)[:13]
            if hour not in hourly or hourly[hour].checks == 0:
                hourly.setdefault(f"~{hour}", Rollup()).add(row)
        last_hour = Rollup()
        for minute, row in mine:
            if minute > now_min - 60:
                last_hour.add(row)

        def window(hours: int) -> Rollup:
            start = (now - timedelta(hours=hours)).strftime("%Y-%m-%dT%H")
            return merge_all(r for k, r in hourly.items() if k.lstrip("~") >= start)

        windows = {"1h": last_hour, "24h": window(24), "7d": window(24 * 7), "30d": window(24 * 30)}
        live = [(decide.minute_iso(m), r) for m, r in mine]
        return {
            "name": name, "group": target.group, "url": target.url,
            "state": self._display(target, item, now),
            "since": (item or {}).get("since"),
            "uptime": {"1h": uptime(last_hour), **self.figures(name, live, now)},
            "latency_ms": {k: {"p50": percentile(v, 0.5), "p95": percentile(v, 0.95)} for k, v in windows.items()},
            "incidents": list((item or {}).get("incidents") or [])[-10:],
            "last_event": (item or {}).get("last_event"),
            # "ok" placed before the row's fields: the answer's key order (and so its ETag) as before
            "last_checks": [{"tick": decide.minute_iso(m), "ok": r.passed, **r.archive_fields()}
                            for m, r in sorted(mine, reverse=True)[:10]],
            "maintenance": [w.describe() for w in target.maintenance],
        }


def alert_condition(event_type: str, failure: dict[str, Any]) -> str | None:
    """What an alert says about the conditions: what fails (down, reminder) or what passes again
    (recovery), so `my-app is UP (3m; ...)` never reads as up with a 500.
        down:      `failing: [STATUS] == 200 (got 500)`, `failing: timeout (no verdict within 10s)`
        recovered: `passing again: [STATUS] == 200 (was 500)`"""
    rendered = failure.get("condition")
    error = failure.get("error")
    if not rendered and not error:
        return None
    if error in ("status", "condition") and rendered:
        what = str(rendered)
    else:
        what = f"{error}" + (f" ({rendered})" if rendered else "")
    if event_type == decide.RECOVERED_EVENT:
        return "passing again: " + what.replace(" (got ", " (was ", 1)
    return "failing: " + what


def build(settings: Any, *, checker: Checker | None = None, clock: Callable[[], datetime] = _now) -> UptimeService:
    policy = AddressPolicy(allow_private=bool(settings.allow_private_targets))
    if checker is None:
        from chalicelib.uptime.checker import default_resolver

        checker = Checker(policy, user_agent=settings.user_agent,
                          resolver=default_resolver(getattr(settings, "dns_servers", "")))
    store = UptimeStore(settings.state_table, settings.checks_table, settings.data_bucket)
    queue_url = getattr(settings, "ping_shards_queue_url", "")

    def send_shards(event: dict[str, Any], shards: int) -> int:
        if not queue_url:
            return 0  # no shards queue: run_tick checks every shard itself
        from chalicelib import aws
        from chalicelib.uptime.shards import fan_out

        return fan_out(aws.client("sqs"), queue_url, event, shards)

    return UptimeService(settings, store, checker, clock=clock, fan_out=send_shards)
