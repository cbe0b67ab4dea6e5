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

What a follower sees (decided for issue 12, like Mylar3, which keeps variants inside their issue and
never alerts on them, and Slack apps, which post once per thing):
* one post per work. It lists the editions its source listed together with it (`editions_listed`,
  set by the crawl from the same list: CVR A, CVR B, ... all arrive in one weekly list), so the
  first post already names the covers known when it is sent;
* an edition that arrives later (another crawl, another source) is folded in silently: recorded
  in `merged` with its reason and shown where works are listed (API `editions`, the releases page,
  Slack lists), but not posted again: a new cover of an issue already told is not news, and
  rewriting an old post would only be noticed by scrolling back;
* a date move is told once per work: `MOVE#<destination>#<from>><to>` items (below) let the first
  edition that moves tell it; the other editions making the same move are folded.
"""
from __future__ import annotations

from typing import Any

from chalicelib.log import get_logger

log = get_logger("notify.works")

MAX_LISTED = 12  # edition labels carried on a release item (each cut to LABEL_CHARS): a small item
LABEL_CHARS = 60


def editions_in_list(releases: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Per release id, the labels of its work's editions in one crawled list, main edition first
    ("standard", "CVR B GIENI", ...); only works with more than one edition. Pure."""
    from crawlers.identity import edition_label, group_editions

    out: dict[str, list[str]] = {}
    for group in group_editions(releases):
        if len(group) < 2:
            continue
        labels = [(edition_label(r) or "standard")[:LABEL_CHARS] for r in group][:MAX_LISTED]
        for release in group:
            out[str(release["id"])] = labels
    return out


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
        with aws.conditional() as write:
            self.table.put_item(Item=claim, ConditionExpression="attribute_not_exists(pk)")
        if write.held:
            return True
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

    def tell_move(self, release: dict[str, Any], destination: str) -> bool:
        """True when this date move is to be told to the destination; False when another edition
        of the same work already told it the same move (all covers of an issue move together).
        The same release again (a replayed record, or the same dates again after a move back) is
        told: the delivery ledger dedupes on the event id, which names the move. 1 PutItem, plus
        1 UpdateItem moving the claim's date (its window for later editions) with its release."""
        from chalicelib import aws
        from crawlers.identity import unmerged

        work, rid = release.get("work"), str(release.get("id") or "")
        if not work or rid in unmerged():
            return True
        move = f"{release.get('moved_from') or '-'}>{release.get('moved_to') or '-'}"
        with aws.conditional() as write:
            self.table.put_item(Item={"pk": f"WORK#{work}", "sk": f"MOVE#{destination}#{move}", "release_id": rid},
                                ConditionExpression="attribute_not_exists(pk) OR release_id = :rid",
                                ExpressionAttributeValues={":rid": rid})
        if not write.held:
            log.info("date move told by another edition", extra={"work": work, "release": rid, "move": move,
                                                                 "destination": destination})
            return False
        if release.get("moved_to"):
            # a failed condition: not this destination's told edition (or no claim), nothing to move
            with aws.conditional():
                self.table.update_item(Key={"pk": f"WORK#{work}", "sk": destination}, UpdateExpression="SET release_date = :d",
                                       ConditionExpression="release_id = :rid",
                                       ExpressionAttributeValues={":d": release["moved_to"], ":rid": rid})
        return True
