"""Pure aggregation of tick rows into hourly rollups, uptime ratios and latency percentiles.

Rollups are built once per hour from that hour's tick items (see service.py: minute 5, with a
rewrite at minute 20 only if late ticks arrived), never incremented per tick. Percentiles come
from a fixed latency histogram (BOUNDS_MS), interpolated linearly inside the bucket and capped
by the largest latency seen, so they are approximate to a bucket's width; merging hours adds
histograms, which keeps p50/p95 over 24 h / 7 d / 30 d exact to the same approximation.

A tick row (one per target per tick) is a `tickrow.TickRow`: a passing (`o`, `s`), failing
(`f`, `F`) or maintenance (`m`) code and the check's latency. Uptime = passes / (passes +
fails): maintenance and monitoring gaps (expected checks with no tick) count as neither uptime
nor downtime.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.uptime.tickrow import TickRow, TickRows

BOUNDS_MS = (50, 100, 200, 300, 500, 750, 1000, 2000, 5000, 10000)  # + one overflow bucket


@dataclass
class Rollup:
    checks: int = 0
    passes: int = 0
    fails: int = 0
    maintenance: int = 0
    latency_sum_ms: int = 0
    latency_max_ms: int = 0
    hist: list[int] = field(default_factory=lambda: [0] * (len(BOUNDS_MS) + 1))
    expected: int = 0

    @property
    def gaps(self) -> int:
        return max(0, self.expected - self.checks)

    def add(self, row: TickRow) -> None:
        latency = row.latency_ms
        self.checks += 1
        if row.in_maintenance:
            self.maintenance += 1
            return
        if row.passed:
            self.passes += 1
        else:
            self.fails += 1
        self.latency_sum_ms += latency
        self.latency_max_ms = max(self.latency_max_ms, latency)
        self.hist[bucket(latency)] += 1

    def merge(self, other: Rollup) -> Rollup:
        return Rollup(
            checks=self.checks + other.checks,
            passes=self.passes + other.passes,
            fails=self.fails + other.fails,
            maintenance=self.maintenance + other.maintenance,
            latency_sum_ms=self.latency_sum_ms + other.latency_sum_ms,
            latency_max_ms=max(self.latency_max_ms, other.latency_max_ms),
            hist=[a + b for a, b in zip(self.hist, other.hist, strict=False)],
            expected=self.expected + other.expected,
        )

    def to_item(self) -> dict[str, Any]:
        return {
            "checks": self.checks, "passes": self.passes, "fails": self.fails, "maint": self.maintenance,
            "lat_sum": self.latency_sum_ms, "lat_max": self.latency_max_ms, "hist": list(self.hist),
            "expected": self.expected,
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Rollup:
        hist = [int(x) for x in item.get("hist") or []]
        hist += [0] * (len(BOUNDS_MS) + 1 - len(hist))
        return cls(
            checks=int(item.get("checks", 0)), passes=int(item.get("passes", 0)), fails=int(item.get("fails", 0)),
            maintenance=int(item.get("maint", 0)), latency_sum_ms=int(item.get("lat_sum", 0)),
            latency_max_ms=int(item.get("lat_max", 0)), hist=hist, expected=int(item.get("expected", 0)),
        )


def bucket(latency_ms: int) -> int:
    for index, bound in enumerate(BOUNDS_MS):
        if latency_ms <= bound:
            return index
    return len(BOUNDS_MS)


def aggregate(ticks: Iterable[tuple[int, TickRows]], names: Iterable[str] | None = None) -> dict[str, Rollup]:
    """Rollups per target from (minute, rows-by-target) pairs."""
    wanted = set(names) if names is not None else None
    out: dict[str, Rollup] = {}
    for _minute, rows in ticks:
        for name, row in rows.items():
            if wanted is not None and name not in wanted:
                continue
            out.setdefault(name, Rollup()).add(row)
    return out


def uptime(rollup: Rollup | None) -> float | None:
    if rollup is None or rollup.passes + rollup.fails == 0:
        return None
    return round(rollup.passes / (rollup.passes + rollup.fails), 6)


def percentile(rollup: Rollup | None, q: float) -> float | None:
    """Approximate percentile (0 < q <= 1) from the histogram, linear within a bucket."""
    if rollup is None:
        return None
    total = sum(rollup.hist)
    if total == 0:
        return None
    rank, seen = q * total, 0
    for index, count in enumerate(rollup.hist):
        if count and seen + count >= rank:
            low = BOUNDS_MS[index - 1] if index else 0
            high = BOUNDS_MS[index] if index < len(BOUNDS_MS) else max(rollup.latency_max_ms, low)
            high = min(high, max(rollup.latency_max_ms, low))
            return round(low + (high - low) * ((rank - seen) / count), 1)
        seen += count
    return float(rollup.latency_max_ms)


def merge_all(rollups: Iterable[Rollup]) -> Rollup:
    total = Rollup()
    for rollup in rollups:
        total = total.merge(rollup)
    return total


# --- the one uptime figure (issue 17 point 2) --------------------------------------------------
WINDOWS_H = {"24h": 24, "7d": 24 * 7, "30d": 24 * 30, "90d": 24 * 90}


def day_hours(item: dict[str, Any]) -> dict[str, Rollup]:
    """A daily summary item (`DAY#<target>/<YYYY-MM-DD>`, `h00`..`h23` = [passes, fails,
    maintenance, checks]) as hourly Rollups keyed `YYYY-MM-DDTHH` (counts only, no latencies)."""
    day = str(item.get("sk", ""))[:10]
    out = {}
    for key, values in item.items():
        if len(key) == 3 and key[0] == "h" and key[1:].isdigit() and isinstance(values, (list, tuple)):
            passes, fails, maint, checks = (int(v) for v in [*values, 0, 0, 0, 0][:4])
            out[f"{day}T{key[1:]}"] = Rollup(checks=checks, passes=passes, fails=fails, maintenance=maint)
    return out


def day_value(rollup: Rollup) -> list[int]:
    return [rollup.passes, rollup.fails, rollup.maintenance, rollup.checks]


def hourly_history(day_items: Iterable[dict[str, Any]], live: Iterable[tuple[str, TickRow]]) -> dict[str, Rollup]:
    """Hour -> Rollup from daily summary items, plus raw tick rows (`(YYYY-MM-DDTHH:MM, row)`)
    for every hour no summary covers yet (the current hour, and any hour not rolled up)."""
    hours: dict[str, Rollup] = {}
    for item in day_items:
        hours.update(day_hours(item))
    pending: dict[str, Rollup] = {}
    for minute, row in live:
        hour = minute[:13]
        if hour not in hours or hours[hour].checks == 0:
            pending.setdefault(hour, Rollup()).add(row)
    hours.update(pending)
    return hours


def uptime_figures(hours: dict[str, Rollup], now: Any) -> dict[str, float | None]:
    """THE uptime figures (24h, 7d, 30d, 90d) of one target: every caller (/status,
    /status/{target}, the status page, badges, Slack) gets them from here, so they agree.
    `hours` from `hourly_history`; a window counts the hours whose start lies within it (the
    first hour of the window is counted whole)."""
    from datetime import timedelta

    out = {}
    for window, count in WINDOWS_H.items():
        start = (now - timedelta(hours=count - 1)).strftime("%Y-%m-%dT%H")
        out[window] = uptime(merge_all(r for hour, r in hours.items() if hour >= start))
    return out
