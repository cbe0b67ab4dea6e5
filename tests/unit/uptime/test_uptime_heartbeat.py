"""Heartbeat monitors (heartbeat.py), pure: rules, signals, verdicts incl. cron in a time zone."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib.uptime.heartbeat import InvalidHeartbeat, Rule, parse_rule, signal_of, token_hash, verdict
from chalicelib.uptime.targets import InvalidTarget, _seconds, parse_target

TOKEN = "t0ken-abcdefghijklmnop"
seconds = lambda value, what: _seconds(value, what, "hb")  # noqa: E731


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def test_period_rule_late_only_after_period_plus_grace():
    rule = parse_rule({"token": TOKEN, "period": "1h", "grace": "10m"}, seconds)
    beat = {"last_success": "2026-12-03T10:00:00Z"}
    assert verdict(rule, beat, at("2026-12-03T11:09:59")).code == "o"
    late = verdict(rule, beat, at("2026-12-03T11:10:30"))
    assert late is not None and late.code == "f" and late.error == "late" and "expected by 2026-12-03T11:00:00Z" in (late.detail or "")


def test_cron_rule_uses_its_time_zone_across_dst():
    rule = parse_rule({"token": TOKEN, "cron": "0 3 * * *", "timezone": "Europe/Berlin", "grace": "30m"}, seconds)
    # the run of 2026-10-25 (CET after the change): due 03:00 CET = 02:00 UTC
    beat = {"last_success": "2026-10-24T01:00:05Z"}  # 03:00:05 CEST
    assert verdict(rule, beat, at("2026-10-25T02:29:00")).code == "o"
    assert verdict(rule, beat, at("2026-10-25T02:31:00")).code == "f"


def test_fail_and_exit_codes_fail_until_the_next_success():
    rule = Rule(token_hash(TOKEN), period_s=3600, grace_s=300)
    failed = {"last_success": "2026-12-03T10:00:00Z", "last_fail": "2026-12-03T10:30:00Z", "exit_code": 3}
    row = verdict(rule, failed, at("2026-12-03T10:31"))
    assert row is not None and row.code == "f" and row.error == "fail" and "exit code 3" in (row.detail or "")
    again = {**failed, "last_success": "2026-12-03T10:40:00Z", "last_runtime_ms": 1234}
    assert verdict(rule, again, at("2026-12-03T10:41")).to_stored() == ["o", 1234, None, None, None, None]


def test_never_pinged_has_no_verdict():
    assert verdict(Rule(token_hash(TOKEN), period_s=60, grace_s=60), None, at("2026-12-03T10:00")) is None


@pytest.mark.parametrize("action, signal", [(None, ("success", None)), ("start", ("start", None)), ("fail", ("fail", None)),
                                            ("0", ("success", 0)), ("1", ("fail", 1)), ("255", ("fail", 255))])
def test_signals(action, signal):
    assert signal_of(action) == signal


@pytest.mark.parametrize("action", ["256", "-1", "stop", "²"])
def test_bad_actions(action):
    with pytest.raises(InvalidHeartbeat):
        signal_of(action)


@pytest.mark.parametrize("block, problem", [
    ({"period": "1h"}, "needs a token"),
    ({"token": "short", "period": "1h"}, "16-128"),
    ({"token": TOKEN}, "exactly one of period"),
    ({"token": TOKEN, "period": "1h", "cron": "* * * * *"}, "exactly one of period"),
    ({"token": TOKEN, "cron": "61 * * * *"}, "not a cron expression"),
    ({"token": TOKEN, "cron": "0 3 * * *", "timezone": "Mars/Base"}, "unknown"),
    ({"token": TOKEN, "period": "1h", "grace": "10s"}, "grace"),
])
def test_rules_are_validated_at_load(block, problem):
    with pytest.raises(InvalidTarget) as caught:
        parse_target({"name": "hb", "heartbeat": block})
    assert problem in str(caught.value) and "'hb'" in str(caught.value)


def test_a_heartbeat_target_keeps_only_the_token_hash_and_alerts_at_once():
    target = parse_target({"name": "backup", "heartbeat": {"token": TOKEN, "period": "1d", "grace": "1h"}})
    assert target.heartbeat.token_sha256 == token_hash(TOKEN) and TOKEN not in repr(target) and TOKEN not in str(target.raw)
    assert target.failure_threshold == 1 and target.success_threshold == 1 and target.scheme == "heartbeat"
    assert TOKEN not in str(target.describe())
    with pytest.raises(InvalidTarget, match="no url or conditions"):
        parse_target({"name": "x", "url": "http://a.test/", "heartbeat": {"token": TOKEN, "period": "1h"}})
    with pytest.raises(InvalidTarget, match="heartbeat block"):
        parse_target({"name": "x", "url": "heartbeat://x"})
