"""Pure decisions of the crawl pipeline: which failures are permanent, how long a failing source
waits, when it is dead, and when a scheduled source is due."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib.configfile import ConfigError
from chalicelib.crawl import health
from chalicelib.crawl.schedule import is_due, latest_slot, parse_schedule


@pytest.mark.parametrize("kind, status, transient, permanent", [
    ("http_status", 404, False, True), ("http_status", 410, False, True), ("http_status", 403, False, True),
    ("http_status", 429, False, False), ("http_status", 408, False, False), ("retries_exhausted", 503, False, False),
    ("robots", None, False, True), ("robots", None, True, False), ("bad_url", None, False, True),
    ("refused", None, False, True), ("dns", None, False, False), ("connect", None, False, False),
    ("timeout", None, False, False), ("network", None, False, False),
])
def test_permanent_or_transient(kind, status, transient, permanent):
    assert health.classify(kind, status, "x", transient=transient).permanent is permanent


def test_backoff_doubles_to_a_day_and_permanent_waits_a_day():
    transient = health.classify("connect", None, "refused")
    waits = [health.retry_at(transient, n, "2026-12-01T10:00Z") for n in (1, 2, 3, 5, 6, 20)]
    assert waits == ["2026-12-01T11:00Z", "2026-12-01T12:00Z", "2026-12-01T14:00Z", "2026-12-02T02:00Z",
                     "2026-12-02T10:00Z", "2026-12-02T10:00Z"]
    assert health.retry_at(health.classify("http_status", 404, "gone"), 1, "2026-12-01T10:00Z") == "2026-12-02T10:00Z"


def test_dead_after_exactly_n_days():
    assert health.failing_status("2026-12-01T10:00Z", "2026-12-08T09:00Z", 7) == health.DEGRADED
    assert health.failing_status("2026-12-01T10:00Z", "2026-12-08T10:00Z", 7) == health.DEAD


def test_one_event_per_transition():
    ev = health.transition_event
    assert ev("s", None, "degraded", "t1", reason="r").type == "source.degraded"  # no state item yet
    assert ev("s", "degraded", "degraded", "t2", reason="r") is None
    assert ev("s", "degraded", "dead", "t3", reason="r", since="t1").id == "source.dead:s:t1"
    assert ev("s", "dead", "dead", "t4", reason="r", since="t1") is None
    assert ev("s", None, "dead", "t5", reason="r", since="t0").type == "source.degraded"  # first news is degraded
    assert ev("s", "dead", "ok", "t6", reason=None).type == "source.recovered"
    assert ev("s", "ok", "ok", "t7", reason=None) is None


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def test_schedule_slots_in_their_zone():
    daily = parse_schedule("daily 06:00 Asia/Tokyo")
    assert latest_slot(daily, _t("2026-12-01T21:30")) == _t("2026-12-01T21:00")  # 06:30 JST
    assert latest_slot(daily, _t("2026-12-01T20:59")) == _t("2026-11-30T21:00")
    weekly = parse_schedule("weekly wed 12:00 America/New_York")
    assert latest_slot(weekly, _t("2026-12-02T17:00")) == _t("2026-12-02T17:00")  # Wed 12:00 EST
    assert latest_slot(weekly, _t("2026-12-02T16:59")) == _t("2026-11-25T17:00")
    assert is_due(weekly, "2026-11-25T17:00Z", "2026-12-02T17:00Z")
    assert not is_due(weekly, "2026-12-02T17:00Z", "2026-12-02T18:00Z")
    assert is_due(parse_schedule("hourly"), "2026-12-02T17:00Z", "2026-12-02T17:00Z")


@pytest.mark.parametrize("text", ["daily 25:00", "weekly someday 09:00", "daily 06:00 Mars/Olympus", "every day"])
def test_bad_schedule_is_a_config_error(text):
    with pytest.raises(ConfigError):
        parse_schedule(text, where="sources[0]")
