"""Maintenance windows, one-off or recurring, each in its own time zone.

    maintenance:
      - start: "2026-11-22T02:00"        # one-off (local time in `timezone`)
        end: "2026-11-22T04:00"
        timezone: Europe/Berlin
      - every: [saturday, sunday]         # recurring; omit `every` for daily
        start: "23:00"
        duration: 2h
        timezone: Asia/Tokyo

A check inside a window still runs and is stored (flagged `maintenance`), but it never moves
the state machine, never alerts, and counts neither as uptime nor as downtime.

Time zones and DST. A recurring window starts at its local wall-clock time on each matching day
and lasts `duration` of real (elapsed) time; instants are compared in UTC. On the autumn
fall-back day a start time that occurs twice means its first occurrence; on the spring-forward
day a start time that does not exist is read with the offset before the change (PEP 495,
fold=0: 02:30 in a 02:00->03:00 gap starts at 03:30 local). A one-off window's local start and
end are read the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.uptime.conditions import duration_ms

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class WindowError(ValueError):
    pass


@dataclass(frozen=True)
class Window:
    tz: str
    start: datetime | None = None  # one-off (aware)
    end: datetime | None = None
    at: time | None = None  # recurring start (local wall clock)
    duration: timedelta | None = None
    days: frozenset[int] = frozenset(range(7))

    def active(self, when: datetime) -> bool:
        when = (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
        if self.start is not None and self.end is not None:
            return self.start.astimezone(timezone.utc) <= when < self.end.astimezone(timezone.utc)
        at, duration = self._recurring()
        zone = ZoneInfo(self.tz)
        local_day = when.astimezone(zone).date()
        for back in range(duration.days + 2):  # windows that began on an earlier day
            day = local_day - timedelta(days=back)
            if day.weekday() not in self.days:
                continue
            begin = datetime.combine(day, at, zone).astimezone(timezone.utc)
            if begin <= when < begin + duration:
                return True
        return False

    def _recurring(self) -> tuple[time, timedelta]:
        """A window is one-off (start and end) or recurring (at and duration): parse_window makes one of them."""
        if self.at is None or self.duration is None:
            raise WindowError("maintenance window has neither start/end nor at/duration")
        return self.at, self.duration

    def describe(self) -> dict[str, Any]:
        if self.start is not None and self.end is not None:
            return {"start": self.start.isoformat(), "end": self.end.isoformat(), "timezone": self.tz}
        at, duration = self._recurring()
        return {
            "every": [DAYS[d] for d in sorted(self.days)],
            "start": at.strftime("%H:%M"),
            "duration_s": int(duration.total_seconds()),
            "timezone": self.tz,
        }


def parse_window(raw: Any) -> Window:
    if not isinstance(raw, dict):
        raise WindowError(f"maintenance window must be a mapping, got {raw!r}")
    tz = str(raw.get("timezone") or "UTC")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise WindowError(f"maintenance window: unknown timezone {tz!r}") from None
    start = str(raw.get("start") or "").strip()
    if not start:
        raise WindowError("maintenance window needs a start")
    if "end" in raw:  # one-off
        try:
            begin = _local(start, zone)
            end = _local(str(raw["end"]), zone)
        except ValueError as exc:
            raise WindowError(f"maintenance window: bad date-time ({exc})") from None
        if end <= begin:
            raise WindowError(f"maintenance window ends ({raw['end']}) before it starts ({start})")
        return Window(tz=tz, start=begin, end=end)
    try:
        at = time.fromisoformat(start)
    except ValueError:
        raise WindowError(f"maintenance window: start {start!r} is not HH:MM (or give an end for a one-off window)") from None
    ms = duration_ms(str(raw.get("duration", "")))
    if not ms or ms <= 0 or ms > 7 * 86_400_000:
        raise WindowError(f"maintenance window: duration {raw.get('duration')!r} must be like 30m or 2h (at most 7d)")
    every = raw.get("every")
    days = frozenset(range(7))
    if every is not None:
        names = [every] if isinstance(every, str) else list(every)
        try:
            days = frozenset(DAYS.index(str(n).strip().lower()) for n in names)
        except ValueError:
            raise WindowError(f"maintenance window: every {every!r} must name weekdays (monday..sunday)") from None
    return Window(tz=tz, at=at, duration=timedelta(milliseconds=ms), days=days)


def _local(text: str, zone: ZoneInfo) -> datetime:
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=zone)


def in_maintenance(windows: tuple[Window, ...], when: datetime) -> bool:
    when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    return any(w.active(when) for w in windows)
