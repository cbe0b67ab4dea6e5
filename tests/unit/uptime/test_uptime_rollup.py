"""Hourly rollups, uptime ratio and p50/p95 from the latency histogram, pure."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.uptime.rollup import BOUNDS_MS, Rollup, aggregate, bucket, merge_all, percentile, uptime
from chalicelib.uptime.tickrow import TickRow


def rollup_of(rows) -> Rollup:
    rollup = Rollup()
    for row in rows:
        rollup.add(row)
    return rollup


def row(code: str, latency: int = 100) -> TickRow:
    return TickRow.from_stored([code, latency, 200 if code in "os" else 500, None, None, None])


def test_counts_and_uptime_exclude_maintenance_and_gaps():
    rollup = rollup_of([row("o")] * 50 + [row("s")] * 4 + [row("f")] * 3 + [row("F")] + [row("m", 0)] * 2)
    rollup.expected = 60
    assert (rollup.checks, rollup.passes, rollup.fails, rollup.maintenance) == (60, 54, 4, 2)
    assert uptime(rollup) == round(54 / 58, 6)
    assert rollup.gaps == 0
    short = rollup_of([row("o")] * 57)
    short.expected = 60  # three expected checks never ran (missed ticks): neither up nor down
    assert short.gaps == 3 and uptime(short) == 1.0


def test_uptime_of_nothing_is_unknown_not_zero():
    assert uptime(None) is None
    assert uptime(rollup_of([row("m", 0)] * 5)) is None


def test_latency_sum_max_and_histogram():
    rollup = rollup_of([row("o", 40), row("o", 120), row("f", 12_000), row("m", 999)])
    assert rollup.latency_sum_ms == 12_160 and rollup.latency_max_ms == 12_000
    assert rollup.hist[bucket(40)] == 1 and rollup.hist[bucket(120)] == 1 and rollup.hist[-1] == 1
    assert sum(rollup.hist) == 3  # maintenance rows are not latency samples


@pytest.mark.parametrize("latency, index", [(0, 0), (50, 0), (51, 1), (100, 1), (200, 2), (750, 5), (751, 6), (10_000, 9), (10_001, 10)])
def test_bucket_bounds_are_inclusive_upper_bounds(latency, index):
    assert bucket(latency) == index and len(BOUNDS_MS) == 10


def test_p50_p95_interpolate_within_the_bucket():
    same = rollup_of([row("o", 120)] * 100)  # all in (100, 200], capped at the max seen (120)
    assert percentile(same, 0.5) == 110.0 and percentile(same, 0.95) == 119.0
    mixed = rollup_of([row("o", 40)] * 90 + [row("o", 900)] * 10)
    assert percentile(mixed, 0.5) == round(50 * 50 / 90, 1)  # 27.8, in the (0, 50] bucket
    assert percentile(mixed, 0.95) == 825.0  # halfway through (750, 900]
    assert percentile(mixed, 1.0) == 900.0


def test_percentile_in_the_overflow_bucket_uses_the_max():
    rollup = rollup_of([row("f", 30_000)] * 4)
    assert percentile(rollup, 0.5) == 20_000.0 and percentile(rollup, 1.0) == 30_000.0


def test_percentile_of_nothing_is_none():
    assert percentile(None, 0.5) is None and percentile(Rollup(), 0.95) is None


def test_merge_and_item_round_trip():
    a = rollup_of([row("o", 80)] * 3)
    a.expected = 3
    b = rollup_of([row("f", 900), row("m", 0)])
    b.expected = 2
    merged = merge_all([a, b])
    assert (merged.checks, merged.passes, merged.fails, merged.maintenance, merged.expected) == (5, 3, 1, 1, 5)
    assert merged.latency_max_ms == 900 and merged.latency_sum_ms == 1140 and sum(merged.hist) == 4
    assert Rollup.from_item(merged.to_item()) == merged
    assert Rollup.from_item({"hist": [1, 2]}).hist == [1, 2] + [0] * 9  # an older, shorter histogram


def test_aggregate_groups_tick_rows_by_target():
    ticks = [(m, {"a": row("o", 100), "b": row("f" if m % 2 else "o", 300)}) for m in range(10)]
    rollups = aggregate(ticks)
    assert rollups["a"].passes == 10 and (rollups["b"].passes, rollups["b"].fails) == (5, 5)
    assert set(aggregate(ticks, ["b"])) == {"b"}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 20_000), min_size=1, max_size=200))
def test_percentiles_are_ordered_and_bounded(latencies):
    rollup = rollup_of([row("o", x) for x in latencies])
    p50, p95 = percentile(rollup, 0.5), percentile(rollup, 0.95)
    assert 0 <= p50 <= p95 <= max(latencies)
    # the true p95 lies in the same histogram bucket as the estimate (or the estimate is capped)
    true95 = sorted(latencies)[max(0, -(-95 * len(latencies) // 100) - 1)]
    assert bucket(int(p95)) <= bucket(true95) + 1


# --- the one uptime figure (issue 17 point 2) ----------------------------------------------------
def test_uptime_figures_include_minutes_not_rolled_up_and_agree_across_windows():
    from datetime import datetime, timezone

    from chalicelib.uptime.rollup import day_hours, hourly_history, uptime_figures

    now = datetime(2026, 11, 22, 10, 30, tzinfo=timezone.utc)
    days = [{"sk": "2026-11-21", "h09": [60, 0, 0, 60]},  # 25 h ago: in 7d, not in 24h
            {"sk": "2026-11-22", "h09": [50, 10, 0, 60]}, {"sk": "2026-09-01", "h00": [0, 60, 0, 60]}]
    live = [(f"2026-11-22T10:{m:02d}", TickRow("f" if m < 15 else "o", 10)) for m in range(30)]
    live += [("2026-11-22T09:59", TickRow("f", 10))]  # hour 09 is covered by its summary: not counted twice
    figures = uptime_figures(hourly_history(days, live), now)
    assert figures["24h"] == round((50 + 15) / (60 + 30), 6)
    assert figures["7d"] == round((60 + 50 + 15) / (60 + 60 + 30), 6)
    assert figures["90d"] == round((60 + 50 + 15) / (60 + 60 + 60 + 30), 6)
    assert day_hours({"sk": "2026-11-22", "h09": [1, 2, 3, 6], "other": 5})["2026-11-22T09"].maintenance == 3


def test_uptime_figures_are_none_without_judged_checks():
    from datetime import datetime, timezone

    from chalicelib.uptime.rollup import hourly_history, uptime_figures

    now = datetime(2026, 11, 22, 10, 5, tzinfo=timezone.utc)
    figures = uptime_figures(hourly_history([], [("2026-11-22T10:00", TickRow("m", 0))]), now)
    assert figures == {"24h": None, "7d": None, "30d": None, "90d": None}
