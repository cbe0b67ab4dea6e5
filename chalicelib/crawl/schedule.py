"""When a source is due: its `schedule` in sources.yaml, decided against the hourly dispatch.

    schedule: hourly                              # the default
    schedule: daily 06:00 Asia/Tokyo              # once a day, at or after 06:00 in that zone
    schedule: weekly wed 09:00 America/New_York   # once a week

The dispatcher fires every hour (and may fire twice, late, or skip one). A source is due when its
last crawl is older than the latest slot at or before this dispatch, so a skipped hour is caught up
at the next one and a repeated one does not crawl twice. A slot at 06:30 is served by the 06:00
dispatch (the hourly run whose hour holds the slot).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.configfile import ConfigError

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Schedule:
    kind: str  # hourly | daily | weekly
    at: time = time(0, 0)
    weekday: int | None = None  # 0 = Monday
    zone: str = "UTC"


HOURLY = Schedule("hourly")


def parse_schedule(text: str | None, *, where: str = "schedule") -> Schedule:
    words = str(text or "hourly").split()
    kind = words[0].lower() if words else "hourly"
    try:
        if kind == "hourly" and len(words) == 1:
            return HOURLY
        if kind == "daily" and len(words) in (2, 3):
            return Schedule("daily", _clock(words[1]), None, _zone(words[2] if len(words) == 3 else "UTC"))
        if kind == "weekly" and len(words) in (3, 4):
            day = words[1].lower()[:3]
            if day not in _WEEKDAYS:
                raise ValueError(f"unknown weekday {words[1]!r}")
            return Schedule("weekly", _clock(words[2]), _WEEKDAYS.index(day), _zone(words[3] if len(words) == 4 else "UTC"))
    except (ValueError, ZoneInfoNotFoundError) as exc:
        raise ConfigError(f"{where}: {text!r}: {exc}") from None
    raise ConfigError(f"{where}: {text!r}: use 'hourly', 'daily HH:MM [Zone]' or 'weekly DAY HH:MM [Zone]'")


def latest_slot(schedule: Schedule, now: datetime) -> datetime:
    """The latest scheduled moment at or before `now` (UTC)."""
    if schedule.kind == "hourly":
        return now.replace(minute=0, second=0, microsecond=0)
    zone = ZoneInfo(schedule.zone)
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), schedule.at, tzinfo=zone)
    if schedule.kind == "daily":
        if candidate > local:
            candidate -= timedelta(days=1)
    else:
        candidate -= timedelta(days=(local.weekday() - int(schedule.weekday or 0)) % 7)
        if candidate > local:
            candidate -= timedelta(days=7)
    return candidate.astimezone(timezone.utc)


def is_due(schedule: Schedule, last_crawl: str | None, scheduled_at: str) -> bool:
    if schedule.kind == "hourly" or not last_crawl:
        return True
    now = _time(scheduled_at) + timedelta(minutes=59)  # the dispatch stands for its whole hour
    return _time(last_crawl) < latest_slot(schedule, now).replace(minute=0)


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _zone(name: str) -> str:
    ZoneInfo(name)  # raises ZoneInfoNotFoundError for a typo
    return name


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
