"""Delivery ledger: at most one post per (event id, destination).

One item per delivery in the LEDGER table, `pk = "<event id>#<destination>"`:

    status      claimed | sent | released | failed
    token       random id of the claim that owns the item
    claimed_at  epoch seconds of the claim
    expires_at  TTL (epoch seconds), `ttl_days` after the last write

Protocol (claim -> send -> mark sent):

* `claim` is a conditional PutItem that succeeds when no item exists, or the item was released
  (a transient failure), failed (a redriven DLQ message), or claimed longer ago than
  `stale_after_s` (the claimer crashed between claim and send, or mid-send). A `sent` item is
  never claimed again: duplicates and redeliveries raise `AlreadySent` and are acknowledged.
  A fresh claim held by someone else raises `InFlight` (the message is retried later).
* `mark_sent` / `release` / `mark_failed` only touch the item while the caller's token still
  owns it, so a worker whose claim went stale cannot overwrite its successor's outcome.

`stale_after_s` must exceed the longest send (client timeout plus inline 429 waits): a crash
*after* the peer accepted the post but before `mark_sent` is the one window in which a post can
repeat; webhooks carry `X-Newbooks-Delivery` so receivers can close it, X rejects the repeat as
duplicate content (counted as sent).
"""
from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib import aws


class AlreadySent(Exception):
    pass


class InFlight(Exception):
    def __init__(self, retry_in_s: float) -> None:
        super().__init__(f"claimed by another delivery; retry in {retry_in_s:.0f}s")
        self.retry_in_s = retry_in_s


@dataclass(frozen=True)
class Claim:
    key: str
    token: str
    # Set when an earlier attempt may have reached the peer (its claim went stale, or it ended
    # `uncertain`): the claimed_at of that attempt, so the deliverer checks before resending.
    uncertain_since: int | None = None


class Ledger:
    def __init__(
        self,
        table: Any,
        clock: Callable[[], float] = time.time,
        stale_after_s: float = 120,
        ttl_days: int = 30,
    ) -> None:
        self.table = table
        self.clock = clock
        self.stale_after_s = stale_after_s
        self.ttl_s = ttl_days * 86400

    def claim(self, key: str) -> Claim:
        now = self.clock()
        token = secrets.token_hex(8)
        with aws.conditional() as write:
            old = self.table.put_item(
                Item={"pk": key, "status": "claimed", "token": token, "claimed_at": int(now), "expires_at": int(now + self.ttl_s)},
                ConditionExpression="attribute_not_exists(pk) OR #s IN (:released, :failed, :uncertain) "
                "OR (#s = :claimed AND claimed_at < :stale)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":released": "released",
                    ":failed": "failed",
                    ":uncertain": "uncertain",
                    ":claimed": "claimed",
                    ":stale": int(now - self.stale_after_s),
                },
                ReturnValues="ALL_OLD",
            ).get("Attributes") or {}
        if not write.held:
            item = self.get(key) or {}
            if item.get("status") == "sent":
                raise AlreadySent(key)
            age = now - float(item.get("claimed_at", now))
            raise InFlight(max(1.0, self.stale_after_s - age + 1))
        if old.get("status") not in ("claimed", "uncertain"):
            return Claim(key, token, None)
        # The earliest attempt that may have posted: kept across chained uncertain attempts so
        # the reconciliation looks back far enough.
        since = int(old.get("uncertain_since") or old.get("claimed_at", now))
        self._finish(Claim(key, token), "claimed", {"uncertain_since": since})
        return Claim(key, token, since)

    def mark_sent(self, claim: Claim, info: str = "") -> bool:
        return self._finish(claim, "sent", {"sent_at": int(self.clock()), "info": info[:500]})

    def release(self, claim: Claim, reason: str = "") -> bool:
        return self._finish(claim, "released", {"reason": reason[:500]})

    def mark_uncertain(self, claim: Claim, reason: str) -> bool:
        """The send failed in a way that may still have posted (timeout): retry at once, but
        reconcile first. Keeps claimed_at, the earliest moment the message could be there."""
        extra: dict[str, Any] = {"reason": reason[:500]}
        if claim.uncertain_since is not None:
            extra["uncertain_since"] = claim.uncertain_since
        return self._finish(claim, "uncertain", extra)

    def mark_failed(self, claim: Claim, reason: str) -> bool:
        return self._finish(claim, "failed", {"reason": reason[:500]})

    def _finish(self, claim: Claim, status: str, extra: dict[str, Any]) -> bool:
        names = {"#s": "status"}
        values: dict[str, Any] = {":s": status, ":t": claim.token, ":exp": int(self.clock() + self.ttl_s)}
        sets = ["#s = :s", "expires_at = :exp"]
        for i, (key, value) in enumerate(extra.items()):
            names[f"#a{i}"] = key
            values[f":a{i}"] = value
            sets.append(f"#a{i} = :a{i}")
        with aws.conditional() as write:
            self.table.update_item(
                Key={"pk": claim.key},
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression="#tok = :t",
                ExpressionAttributeNames={**names, "#tok": "token"},
                ExpressionAttributeValues=values,
            )
        return write.held  # False: our claim went stale and someone else owns the item now

    def get(self, key: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self.table.get_item(Key={"pk": key}, ConsistentRead=True).get("Item")
        return item
