"""The per-target state machine: PENDING / UP / DOWN (and DEGRADED for slow-but-passing), pure.

A new target is PENDING until its first threshold decision: DOWN after `failure_threshold`
failures (alerted, like any DOWN), or UP (DEGRADED when slow) after `success_threshold` passes
(recorded as `target.decided`, never alerted). Mixed results keep it PENDING.

Input: one check outcome per (target, tick minute); codes `o` ok, `s` slow but passing,
`f` failed, `F` failed in a tick where more than the grouping share failed.

Thresholds: UP -> DOWN after `failure_threshold` failures at consecutive due minutes;
DOWN -> UP after `success_threshold` consecutive passes; UP -> DEGRADED after
`failure_threshold` consecutive slow passes, DEGRADED -> UP after `success_threshold` fast ones.
A missing minute (a monitoring gap) breaks a run: it is no evidence either way.

Out-of-order and duplicate ticks. The state keeps a small *window* of recent outcomes keyed by
minute plus a folded *base* (the replay cursor as of `checkpoint`). Every new outcome is put in
the window and the whole window is replayed from the base in minute order, so the result only
depends on which outcomes are known, not on the order they arrived in. A duplicate minute is a
no-op. Outcomes older than `max(window) - REORDER_MINUTES` are folded into the base; an outcome
arriving after its minute was folded (later than REORDER_MINUTES) is too late: it still lands in
the tick record and rollups but does not move the state. Transitions found by a replay get
deterministic ids (`target.down:<name>:<minute of the transition>`); an id already emitted is
never emitted again, and a transition older than the last emitted one is recorded silently
(a late tick that only moves the start of an outage back does not alert twice).

Holes: the service tells `apply` which tick minutes are still missing but young (ticks of the
same shard seen around this one, `young_holes`); the replay stops before any outcome that lies
after such a hole, so nothing is decided until the late tick arrives or HOLE_WAIT_MINUTES pass
(then the hole is a monitoring gap). A tick that exists but has no outcome recorded for a clean
target was a pass (clean passes are not stored), so it is not a hole.

Cheap writes: a clean target (UP, no pending failures) that passes again changes nothing, so
`apply` reports `changed=False` and the service writes nothing for it. Everything else is
recorded (failures always; passes while not clean), which is what the replay needs. One step
further, `TargetState.quiet` (clean, and only passes in the window) lets the service skip even
the read: a pass of a quiet target is neither read nor written (the store's dirty set lists the
targets that are not quiet). Skipping it leaves that minute out of the window, which the replay
treats as a gap; after only passes that resets nothing a pass would not have reset.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

UP, DOWN, DEGRADED, PENDING = "UP", "DOWN", "DEGRADED", "PENDING"
REORDER_MINUTES = 5
HOLE_WAIT_MINUTES = 3
MAX_EMITTED = 16
MAX_INCIDENTS = 10
DOWN_EVENT, RECOVERED_EVENT, REMINDER_EVENT = "target.down", "target.recovered", "target.reminder"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def to_minute(value: str | datetime) -> int:
    """Epoch minute of an ISO time (truncated to the minute)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int((value - _EPOCH).total_seconds() // 60)


def minute_iso(minute: int) -> str:
    return (_EPOCH + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class Rules:
    failure_threshold: int = 3
    success_threshold: int = 2
    interval_min: int = 1
    reminder_min: int = 60


@dataclass
class Cursor:
    status: str = PENDING  # a new target: no threshold decision yet (Uptime Kuma's "Pending")
    since: int | None = None
    fail_run: int = 0
    pass_run: int = 0
    ok_run: int = 0
    slow_run: int = 0
    last_minute: int | None = None
    down_since: int | None = None  # first failed minute of the current outage
    notified_at: int | None = None  # minute of the last down alert / reminder

    @property
    def clean(self) -> bool:
        return self.status == UP and self.fail_run == 0 and self.slow_run == 0


@dataclass(frozen=True)
class Transition:
    type: str  # target.down | target.recovered | target.reminder | target.degraded | target.restored
    minute: int
    previous: str
    state: str
    duration_s: int | None = None
    grouped: bool = False  # a DOWN in a tick where more than the grouping share failed

    def event_id(self, name: str) -> str:
        return f"{self.type}:{name}:{minute_iso(self.minute)}"

    @property
    def alerts(self) -> bool:
        return self.type in (DOWN_EVENT, RECOVERED_EVENT, REMINDER_EVENT)


@dataclass
class TargetState:
    version: int = 0
    base: Cursor = field(default_factory=Cursor)
    checkpoint: int | None = None
    window: dict[int, str] = field(default_factory=dict)
    current: Cursor = field(default_factory=Cursor)
    emitted: list[str] = field(default_factory=list)
    last_emitted_minute: int | None = None
    incidents: list[dict[str, Any]] = field(default_factory=list)

    @property
    def quiet(self) -> bool:
        """UP with no runs, and only passes waiting in the window: another pass cannot change
        anything observable (no transition, no alert), so the service neither reads nor writes
        a quiet target's state for a pass (the store's dirty set lists the non-quiet ones)."""
        return self.current.clean and all(code == "o" for code in self.window.values())

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["window"] = {str(k): v for k, v in sorted(self.window.items())}
        return data

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> TargetState:
        if not raw:
            return cls()

        def cursor(value: Any) -> Cursor:
            value = dict(value or {})
            return Cursor(**{k: _plain(v) for k, v in value.items() if k in Cursor.__dataclass_fields__})

        return cls(
            version=int(raw.get("version", 0)),
            base=cursor(raw.get("base")),
            checkpoint=None if raw.get("checkpoint") is None else int(raw["checkpoint"]),
            window={int(k): str(v) for k, v in (raw.get("window") or {}).items()},
            current=cursor(raw.get("current")),
            emitted=[str(x) for x in raw.get("emitted") or []],
            last_emitted_minute=None if raw.get("last_emitted_minute") is None else int(raw["last_emitted_minute"]),
            incidents=[dict(i) for i in raw.get("incidents") or []],
        )


@dataclass(frozen=True)
class Decision:
    state: TargetState
    changed: bool
    new: tuple[Transition, ...] = ()  # transitions to announce, in minute order
    late: bool = False
    duplicate: bool = False


def _plain(value: Any) -> Any:
    """DynamoDB gives numbers back as Decimal."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    return int(value)


def _step(cursor: Cursor, minute: int, code: str, rules: Rules, out: list[Transition]) -> None:
    if cursor.last_minute is not None and minute != cursor.last_minute + rules.interval_min:
        cursor.fail_run = cursor.pass_run = cursor.ok_run = cursor.slow_run = 0  # gap: no evidence
    cursor.last_minute = minute
    previous = cursor.status
    if code in ("f", "F"):
        cursor.fail_run += 1
        cursor.pass_run = cursor.ok_run = cursor.slow_run = 0
        if previous != DOWN and cursor.fail_run >= rules.failure_threshold:
            cursor.status, cursor.since, cursor.notified_at = DOWN, minute, minute
            cursor.down_since = minute - (rules.failure_threshold - 1) * rules.interval_min
            out.append(Transition(DOWN_EVENT, minute, previous, DOWN, grouped=code == "F"))
            return
    else:
        cursor.fail_run = 0
        cursor.pass_run += 1
        if code == "s":
            cursor.slow_run += 1
            cursor.ok_run = 0
        else:
            cursor.ok_run += 1
            cursor.slow_run = 0
        if previous == PENDING and cursor.pass_run >= rules.success_threshold:
            cursor.status = DEGRADED if cursor.slow_run >= rules.success_threshold else UP
            cursor.since = minute
            out.append(Transition("target.decided", minute, previous, cursor.status))  # recorded, never alerts
            return
        if previous == DOWN and cursor.pass_run >= rules.success_threshold:
            recovered_at = minute - (rules.success_threshold - 1) * rules.interval_min
            duration = (recovered_at - (cursor.down_since if cursor.down_since is not None else minute)) * 60
            cursor.status = DEGRADED if code == "s" else UP
            cursor.since, cursor.down_since, cursor.notified_at = minute, None, None
            out.append(Transition(RECOVERED_EVENT, minute, previous, cursor.status, duration_s=max(0, duration)))
            return
        if previous == UP and cursor.slow_run >= rules.failure_threshold:
            cursor.status, cursor.since = DEGRADED, minute
            out.append(Transition("target.degraded", minute, previous, DEGRADED))
            return
        if previous == DEGRADED and cursor.ok_run >= rules.success_threshold:
            cursor.status, cursor.since = UP, minute
            out.append(Transition("target.restored", minute, previous, UP))
            return
    if cursor.status == DOWN and cursor.notified_at is not None and minute - cursor.notified_at >= rules.reminder_min:
        cursor.notified_at = minute
        out.append(Transition(REMINDER_EVENT, minute, DOWN, DOWN))


def young_holes(present: set[int] | frozenset[int], wait: int = HOLE_WAIT_MINUTES) -> frozenset[int]:
    """Tick minutes missing between the oldest and the newest tick seen, and still young
    enough (within `wait` minutes of the newest) that the tick may yet arrive."""
    if not present:
        return frozenset()
    newest, oldest = max(present), min(present)
    return frozenset(m for m in range(max(oldest + 1, newest - wait), newest) if m not in present)


def replay(
    base: Cursor, window: dict[int, str], rules: Rules, holes: frozenset[int] = frozenset()
) -> tuple[Cursor, list[Transition]]:
    """Replay `window` from `base` in minute order. Stops before the first outcome that lies
    after a young hole (a tick that may still arrive): deciding past it could announce a
    transition that the late tick would undo."""
    cursor, out = replace(base), list[Transition]()
    floor = base.last_minute if base.last_minute is not None else -(2**62)
    waiting = sorted(h for h in holes if h > floor)
    for minute in sorted(window):
        if waiting and minute > waiting[0]:
            break
        _step(cursor, minute, window[minute], rules, out)
    return cursor, out


def apply(
    state: TargetState, name: str, minute: int, code: str, rules: Rules, holes: frozenset[int] = frozenset()
) -> Decision:
    """Fold one outcome into `state` (never mutated); see the module docstring. `holes`: young
    missing tick minutes (see `young_holes`) for this target's shard."""
    if state.checkpoint is not None and minute <= state.checkpoint:
        return Decision(state, changed=False, late=True)
    if minute in state.window:
        return Decision(state, changed=False, duplicate=True)
    pending_problem = any(c != "o" for c in state.window.values())
    newest = max(state.window) if state.window else None
    if code == "o" and state.current.clean and not pending_problem and (newest is None or minute > newest):
        return Decision(state, changed=False)

    window = {**state.window, minute: code}
    current, transitions = replay(state.base, window, rules, holes)
    # fold what can no longer be reordered into the base
    horizon = max(window) - REORDER_MINUTES
    folded = {m: c for m, c in window.items() if m <= horizon}
    base, checkpoint = state.base, state.checkpoint
    if folded:
        base, _ = replay(state.base, folded, rules)
        window = {m: c for m, c in window.items() if m > horizon}
        checkpoint = horizon
    if not window and base.clean:
        base = Cursor(status=UP, since=base.since)  # forget run details once clean and settled

    emitted, last_minute, new = list(state.emitted), state.last_emitted_minute, []
    incidents = [dict(i) for i in state.incidents]
    for transition in transitions:
        event_id = transition.event_id(name)
        if event_id in emitted:
            continue
        emitted.append(event_id)
        if transition.type in (DOWN_EVENT, RECOVERED_EVENT):
            _record_incident(incidents, transition, rules)
        if last_minute is not None and transition.minute < last_minute:
            continue  # older than something already announced: record silently
        if transition.alerts:
            last_minute = transition.minute
        new.append(transition)
    new_state = TargetState(
        version=state.version,
        base=base,
        checkpoint=checkpoint,
        window=window,
        current=current,
        emitted=emitted[-MAX_EMITTED:],
        last_emitted_minute=last_minute,
        incidents=incidents[-MAX_INCIDENTS:],
    )
    return Decision(new_state, changed=True, new=tuple(new))


def _record_incident(incidents: list[dict[str, Any]], transition: Transition, rules: Rules) -> None:
    if transition.type == DOWN_EVENT:
        start = transition.minute - (rules.failure_threshold - 1) * rules.interval_min
        if incidents and incidents[-1].get("end") is None:
            incidents[-1]["start"] = min(incidents[-1]["start"], minute_iso(start))
            return
        incidents.append({"start": minute_iso(start), "end": None, "duration_s": None})
    elif incidents and incidents[-1].get("end") is None:
        incidents[-1]["end"] = minute_iso(transition.minute - (rules.success_threshold - 1) * rules.interval_min)
        incidents[-1]["duration_s"] = transition.duration_s
