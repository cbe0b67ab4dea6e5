"""Ledger protocol on moto: claim -> send -> mark sent, stale claims, token ownership."""
from __future__ import annotations

import boto3
import pytest

from chalicelib.notify.ledger import AlreadySent, InFlight, Ledger


class Clock:
    now = 1_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def ledger(aws):
    clock = Clock()
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(aws["LEDGER_TABLE"])
    return Ledger(table, clock=clock, stale_after_s=120), clock


def test_claim_send_then_duplicates_are_already_sent(ledger):
    led, _ = ledger
    claim = led.claim("e1#slack:C1")
    assert led.mark_sent(claim, "ts=1")
    with pytest.raises(AlreadySent):
        led.claim("e1#slack:C1")
    item = led.get("e1#slack:C1")
    assert item["status"] == "sent" and item["expires_at"] > item["sent_at"]


def test_fresh_claim_is_in_flight_and_stale_claim_is_taken_over(ledger):
    led, clock = ledger
    first = led.claim("e2#x:default")
    clock.now += 60
    with pytest.raises(InFlight) as caught:
        led.claim("e2#x:default")
    assert 60 <= caught.value.retry_in_s <= 62
    clock.now += 61
    second = led.claim("e2#x:default")  # the first worker crashed
    assert not led.mark_sent(first)  # a zombie cannot finish a claim it no longer owns
    assert led.mark_sent(second)
    assert led.get("e2#x:default")["token"] == second.token


def test_released_and_failed_claims_can_be_claimed_again(ledger):
    led, _ = ledger
    claim = led.claim("e3#webhook:a")
    led.release(claim, "503")
    claim = led.claim("e3#webhook:a")  # immediate retry after a transient error
    led.mark_failed(claim, "410")
    claim = led.claim("e3#webhook:a")  # DLQ redrive
    assert led.mark_sent(claim)
