"""Heartbeat monitors (what healthchecks.io and Uptime Kuma's push monitors do), pure.

A job calls `/ping/<token>` when it succeeds, `/ping/<token>/start` when it starts,
`/ping/<token>/fail` when it fails, or `/ping/<token>/<exit code>` (0 = success). In
targets.yaml a heartbeat is an endpoint with a `heartbeat:` block instead of a url:

    - name: nightly-backup
      heartbeat:
        token: ${BACKUP_HEARTBEAT_TOKEN}   # a secret: from the environment / SSM, never the file
        cron: "0 3 * * *"                  # or: period: 1h
        timezone: Europe/Berlin            # for cron (default UTC)
        grace: 30m                         # how late a ping may be

Verdict every minute (`verdict`): failing when the last signal is a failure (/fail or a non-zero
exit code, until the next success), or when the ping after the last success is late: expected
at last success + period (or the cron schedule's next time after the last success, in its time
zone) and not there within `grace`. Never pinged: no verdict (the target stays PENDING). Those
verdicts are the heartbeat's check rows, so thresholds (default 1 for heartbeats), maintenance
windows, grouping and alerts work as for any target. The run time between the last /start and
the success that followed is kept.

The token is a secret: only its SHA-256 is kept (`token_sha256`); the route hashes what it gets
and looks the hash up, so neither the stored config nor a log line holds a usable token.
Followed: healthchecks.io docs "Pinging API" and "Cron expressions" (read 2026-12-03);
cron expressions are evaluated with cronsim, the library healthchecks.io itself uses.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.uptime.tickrow import FAILED, OK, TickRow

TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
SIGNALS = ("success", "start", "fail")


class InvalidHeartbeat(ValueError):
    pass


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(24)


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)


@dataclass(frozen=True)
class Rule:
    token_sha256: str
    period_s: int | None = None
    cron: str | None = None
    tz: str = "UTC"
    grace_s: int = 300

    def next_expected(self, after: datetime) -> datetime:
        """When the ping after one at `after` is due (before grace)."""
        if self.period_s is not None:
            return after + timedelta(seconds=self.period_s)
        from cronsim import CronSim

        zone = ZoneInfo(self.tz)
        local = after.astimezone(zone)
        return next(CronSim(str(self.cron), local)).astimezone(timezone.utc)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"grace_s": self.grace_s}
        if self.period_s is not None:
            out["period_s"] = self.period_s
        else:
            out.update(cron=self.cron, timezone=self.tz)
        return out


def parse_rule(raw: Any, seconds: Any) -> Rule:
    """`seconds(value, what)` reads durations the way targets.py does."""
    if not isinstance(raw, dict):
        raise InvalidHeartbeat("heartbeat must be a mapping (token, period or cron, grace)")
    raw = {str(k).replace("-", "_"): v for k, v in raw.items()}
    unknown = sorted(set(raw) - {"token", "token_sha256", "period", "cron", "timezone", "grace"})
    if unknown:
        raise InvalidHeartbeat(f"unknown heartbeat field(s) {', '.join(unknown)}")
    token, digest = raw.get("token"), raw.get("token_sha256")
    if token is not None:
        if not isinstance(token, str) or not TOKEN.match(token):
            raise InvalidHeartbeat("heartbeat token must be 16-128 characters of letters, digits, '-' or '_'")
        digest = token_hash(token)
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise InvalidHeartbeat("heartbeat needs a token (from ${VAR}) or token-sha256")
    period, cron = raw.get("period"), raw.get("cron")
    if (period is None) == (cron is None):
        raise InvalidHeartbeat("heartbeat needs exactly one of period (e.g. 1h) or cron (e.g. '0 3 * * *')")
    grace = int(seconds(raw.get("grace", "5m"), "heartbeat grace"))
    if not 60 <= grace <= 7 * 86400:
        raise InvalidHeartbeat("heartbeat grace must be between 1m and 7d")
    tz = str(raw.get("timezone") or "UTC")
    if period is not None:
        period_s = int(seconds(period, "heartbeat period"))
        if not 60 <= period_s <= 366 * 86400:
            raise InvalidHeartbeat("heartbeat period must be between 1m and 366d")
        return Rule(digest, period_s=period_s, grace_s=grace)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidHeartbeat(f"heartbeat timezone {tz!r} is unknown") from None
    from cronsim import CronSim, CronSimError

    try:
        next(CronSim(str(cron), datetime(2026, 1, 1, tzinfo=ZoneInfo(tz))))
    except (CronSimError, StopIteration, ValueError) as exc:
        raise InvalidHeartbeat(f"heartbeat cron {cron!r} is not a cron expression ({exc})") from None
    return Rule(digest, cron=str(cron), tz=tz, grace_s=grace)


def signal_of(action: str | None) -> tuple[str, int | None]:
    """`/ping/<t>` -> success; `/start`, `/fail`; `/<exit code 0-255>` -> success or fail."""
    if action in (None, "", "success"):
        return "success", None
    if action in ("start", "fail"):
        return action, None
    if action.isascii() and action.isdigit() and int(action) <= 255:
        code = int(action)
        return ("success" if code == 0 else "fail"), code
    raise InvalidHeartbeat(f"unknown ping action {action!r} (start, fail or an exit code 0-255)")


def verdict(rule: Rule, beat: dict[str, Any] | None, now: datetime) -> TickRow | None:
    """The heartbeat's check row for the tick at `now` (latency = the last run time) or None
    when it was never pinged (stays PENDING)."""
    beat = beat or {}
    success = _when(beat.get("last_success"))
    failure = _when(beat.get("last_fail"))
    if failure is not None and (success is None or failure > success):
        code = beat.get("exit_code")
        detail = f"the job reported failure at {failure:%Y-%m-%dT%H:%M:%SZ}" + (f" (exit code {code})" if code is not None else "")
        return TickRow(FAILED, error="fail", detail=detail)
    if success is None:
        return None
    due = rule.next_expected(success)
    if now > due + timedelta(seconds=rule.grace_s):
        return TickRow(FAILED, error="late", detail=f"no ping since {success:%Y-%m-%dT%H:%M:%SZ}; expected by "
                       f"{due:%Y-%m-%dT%H:%M:%SZ} (+{rule.grace_s // 60}m grace)")
    runtime = beat.get("last_runtime_ms")
    return TickRow(OK, int(runtime) if runtime is not None else 0)


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
