"""Snapshot comparison: what is new since the previous crawl of the same source."""
from __future__ import annotations

from .model import Release


def diff_new(previous: list[Release], current: list[Release]) -> list[Release]:
    """Releases in `current` whose id is not in `previous` (current order, first of duplicate ids).

    Identity is the id only, so a re-download where only titles changed yields nothing.
    """
    seen = {r.id for r in previous}
    out = []
    for r in current:
        if r.id not in seen:
            seen.add(r.id)
            out.append(r)
    return out
