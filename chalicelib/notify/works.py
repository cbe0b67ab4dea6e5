"""One announcement per work and destination (issue 12, point 1): the editions of one issue
(cover A-F, ratio variants, printings, the same issue from another source) are stored apart but
told once.

STATE table item per (work, destination), written by the fan-out before it enqueues:
    pk=WORK#<work key>  sk=<destination>  release_id, release_date, publisher, source, title,
    merged: {release id: why it was folded into this work}
The first edition claims it (conditional put); the same release again is allowed through (the
delivery ledger keeps that exactly-once); another release is folded in when `crawlers.identity.
same_work` says so (same key, dates within the window, compatible publishers), and the reason is
recorded. Release ids in NEWBOOKS_UNMERGED_RELEASES are never folded (a wrong merge undone by
configuration). Access: 1 PutItem per (new release, destination), plus 1 GetItem + 1 UpdateItem for
a second edition.
"""
from __future__ import annotations

from typing import Any

from chalicelib.log import get_logger

log = get_logger("notify.works")


class WorkClaims:
    def __init__(self, table: Any, window_days: int | None = None) -> None:
        from chalicelib.settings import work_window_days

        self.table = table
        self.window_days = window_days if window_days is not None else work_window_days()

    def announce(self, release: dict[str, Any], destination: str) -> bool:
        """True when this release is to be told to the destination; False when it is another
        edition of a work that destination was already told about."""
        from chalicelib import aws
        from crawlers.identity import same_work, unmerged

        work, rid = release.get("work"), str(release.get("id") or "")
        if not work or rid in unmerged():
            return True
        key = {"pk": f"WORK#{work}", "sk": destination}
        claim = {**key, "release_id": rid, "merged": {}, **{k: release[k] for k in ("release_date", "publisher", "source", "title", "work")
                                             if release.get(k) not in (None, "")}}
        try:
            self.table.put_item(Item=claim, ConditionExpression="attribute_not_exists(pk)")
            return True
        except Exception as exc:
            if not aws.is_conditional_failure(exc):
                raise
        first = self.table.get_item(Key=key, ConsistentRead=True).get("Item") or {}
        if first.get("release_id") == rid:
            return True  # the same event again: the delivery ledger decides
        fold, reason = same_work({**first, "id": first.get("release_id")}, release, self.window_days)
        if not fold:
            log.info("same work key, not merged", extra={"work": work, "release": rid, "reason": reason})
            return True
        self.table.update_item(Key=key, UpdateExpression="SET merged.#r = :why",
                               ExpressionAttributeNames={"#r": rid}, ExpressionAttributeValues={":why": reason})
        log.info("edition merged into work", extra={"work": work, "release": rid, "destination": destination,
                                                    "reason": reason})
        return False
