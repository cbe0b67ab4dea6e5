"""Maintenance windows, pure: one-off and recurring, in their own time zones, across DST."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib.uptime.maintenance import WindowError, in_maintenance, parse_window


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def active(raw: dict, at: str) -> bool:
    return in_maintenance((parse_window(raw),), utc(at))


ONE_OFF = {"start": "2026-11-22T02:00", "end": "2026-11-22T04:00", "timezone": "Europe/Berlin"}  # 01:00-03:00Z


@pytest.mark.parametrize("at, expected", [
    ("2026-11-22T00:59", False), ("2026-11-22T01:00", True), ("2026-11-22T02:59", True),
    ("2026-11-22T03:00", False),  # the end is exclusive
    ("2026-11-23T01:30", False),  # one-off: not the next day
])
def test_one_off_window_in_its_time_zone(at, expected):
    assert active(ONE_OFF, at) is expected


def test_one_off_with_explicit_offset_and_naive_check_time():
    window = parse_window({"start": "2026-11-22T10:00Z", "end": "2026-11-22T11:00+00:00"})
    assert window.active(datetime(2026, 11, 22, 10, 30)) and not window.active(datetime(2026, 11, 22, 11, 0))


TOKYO_NIGHTLY = {"start": "23:00", "duration": "2h", "timezone": "Asia/Tokyo"}  # 14:00-16:00Z daily


@pytest.mark.parametrize("at, expected", [
    ("2026-11-22T13:59", False), ("2026-11-22T14:00", True),
    ("2026-11-22T15:30", True),  # 00:30 next day in Tokyo: the window crosses local midnight
    ("2026-11-22T16:00", False), ("2026-11-25T14:10", True),
])
def test_recurring_daily_window_crossing_local_midnight(at, expected):
    assert active(TOKYO_NIGHTLY, at) is expected


WEEKENDS = {"every": ["saturday", "sunday"], "start": "23:00", "duration": "2h", "timezone": "Asia/Tokyo"}


@pytest.mark.parametrize("at, expected", [
    ("2026-11-21T14:30", True),   # Sat 23:30 JST
    ("2026-11-22T14:30", True),   # Sun 23:30 JST
    ("2026-11-22T15:30", True),   # Mon 00:30 JST: the Sunday window is still open
    ("2026-11-23T14:30", False),  # Mon 23:30 JST
    ("2026-11-20T14:30", False),  # Fri 23:30 JST
])
def test_recurring_on_weekdays(at, expected):
    assert active(WEEKENDS, at) is expected


def test_multi_day_window_is_found_days_after_its_start():
    window = {"every": "friday", "start": "18:00", "duration": "3d", "timezone": "UTC"}
    assert active(window, "2026-11-20T18:00") and active(window, "2026-11-23T17:59")  # Fri .. Mon
    assert not active(window, "2026-11-23T18:00")


NY_0130 = {"start": "01:30", "duration": "1h", "timezone": "America/New_York"}


def test_dst_fall_back_start_is_the_first_occurrence_and_lasts_real_time():
    # 2026-11-01: 02:00 EDT -> 01:00 EST, so 01:30 happens twice (05:30Z EDT, 06:30Z EST)
    assert not active(NY_0130, "2026-11-01T05:29")
    assert active(NY_0130, "2026-11-01T05:30") and active(NY_0130, "2026-11-01T06:29")
    assert not active(NY_0130, "2026-11-01T06:30")  # exactly one real hour, not 01:30-02:30 EST too
    assert not active(NY_0130, "2026-11-01T07:00")
    assert active(NY_0130, "2026-11-02T06:30")  # the next day, EST: 01:30 EST = 06:30Z


def test_dst_spring_forward_nonexistent_start_uses_the_offset_before_the_change():
    window = {"start": "02:30", "duration": "1h", "timezone": "America/New_York"}
    # 2026-03-08: 02:00 EST -> 03:00 EDT; 02:30 EST = 07:30Z = 03:30 EDT
    assert not active(window, "2026-03-08T07:15")
    assert active(window, "2026-03-08T07:30") and active(window, "2026-03-08T08:29")
    assert not active(window, "2026-03-08T08:30")
    assert active(window, "2026-03-07T07:30") and active(window, "2026-03-09T06:30")  # EST day, EDT day


def test_dst_window_in_europe_keeps_local_wall_clock_start():
    window = {"start": "03:00", "duration": "30m", "timezone": "Europe/Berlin"}
    assert active(window, "2026-03-28T02:10")  # CET: 03:00 = 02:00Z
    assert active(window, "2026-03-29T01:10") and not active(window, "2026-03-29T02:10")  # CEST from 29 March


def test_outside_every_window_and_no_windows():
    assert not in_maintenance((), utc("2026-11-22T01:30"))
    assert in_maintenance((parse_window(TOKYO_NIGHTLY), parse_window(ONE_OFF)), utc("2026-11-22T01:30"))


@pytest.mark.parametrize("raw, problem", [
    ("nightly", "must be a mapping"),
    ({"start": "02:00", "duration": "1h", "timezone": "Nowhere/City"}, "unknown timezone"),
    ({"duration": "1h"}, "needs a start"),
    ({"start": "2026-11-22T04:00", "end": "2026-11-22T02:00"}, "before it starts"),
    ({"start": "2026-11-22T04:00", "end": "tomorrow"}, "bad date-time"),
    ({"start": "25:00", "duration": "1h"}, "is not HH:MM"),
    ({"start": "02:00", "duration": "forever"}, "duration"),
    ({"start": "02:00", "duration": "8d"}, "at most 7d"),
    ({"start": "02:00", "duration": "1h", "every": ["funday"]}, "must name weekdays"),
])
def test_bad_windows_are_rejected(raw, problem):
    with pytest.raises(WindowError, match=problem):
        parse_window(raw)


def test_describe_round_trip():
    window = parse_window(WEEKENDS)
    assert window.describe() == {"every": ["saturday", "sunday"], "start": "23:00", "duration_s": 7200, "timezone": "Asia/Tokyo"}
    assert parse_window(ONE_OFF).describe()["start"] == "2026-11-22T02:00:00+01:00"
