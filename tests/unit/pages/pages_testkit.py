"""Test setup shared by the page tests: a target's hourly history as UptimeService.status_board
hands it to the status page (rollup.hourly_history over daily summary items + live tick rows)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chalicelib.uptime.rollup import Rollup, hourly_history
from chalicelib.uptime.tickrow import TickRow


def hours_of(hourly: Iterable[dict[str, Any]], live: Iterable[tuple[str, list[Any]]] = ()) -> dict[str, Rollup]:
    """Hourly counts (`sk` = YYYY-MM-DDTHH, passes/fails/maint) as the daily summary items they are
    stored in, plus live (minute, stored tick row) pairs for hours no summary covers."""
    days = [{"sk": h["sk"][:10], f"h{h['sk'][11:13]}": [h["passes"], h["fails"], h.get("maint", 0), h["checks"]]}
            for h in hourly]
    return hourly_history(days, [(minute, TickRow.from_stored(row)) for minute, row in live])
