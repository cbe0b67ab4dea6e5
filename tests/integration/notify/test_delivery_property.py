"""Property: whatever the interleaving of duplicated, reordered, failing and crashing
deliveries (and a DLQ redrive at the end), every (event, destination) is posted exactly once."""
from __future__ import annotations

import collections
import json
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.events import Event
from chalicelib.notify.delivery import DeliveryService
from chalicelib.notify.errors import PermanentError, TransientError
from chalicelib.notify.ledger import Ledger
from chalicelib.notify.model import message
from tests.integration.notify.notify_testkit import Crash

DESTINATIONS = ("slack:C1", "x:default", "webhook:ops", "console:")
OUTCOMES = ("ok", "ok", "ok", "transient", "crash", "permanent")


class FakeSqs:
    """Only what the deliverer calls: DLQ sends and visibility changes."""

    def __init__(self) -> None:
        self.dlq: list[str] = []

    def send_message(self, QueueUrl, MessageBody, MessageAttributes=None):  # noqa: N803
        self.dlq.append(MessageBody)
        return {"MessageId": str(uuid.uuid4())}

    def change_message_visibility(self, **kwargs):
        return {}


class FlakySender:
    def __init__(self) -> None:
        self.mode = "ok"
        self.posts: collections.Counter = collections.Counter()

    def send(self, destination: str, event: Event) -> str:
        if self.mode == "transient":
            raise TransientError("503")
        if self.mode == "permanent":
            raise PermanentError("channel_not_found")
        self.posts[(event.id, destination)] += 1
        return "ok"

    def already_sent(self, destination: str, event: Event, since: float) -> bool:
        return self.posts[(event.id, destination)] > 0  # a peer that can be asked (like Slack's history)


step = st.one_of(
    st.tuples(st.just("deliver"), st.integers(0, 10_000), st.sampled_from(OUTCOMES)),
    st.tuples(st.just("duplicate"), st.integers(0, 10_000), st.just("")),
    st.tuples(st.just("advance"), st.sampled_from([1, 30, 119, 121, 600]), st.just("")),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n_events=st.integers(1, 3),
    destinations=st.lists(st.sampled_from(DESTINATIONS), min_size=1, max_size=3, unique=True),
    steps=st.lists(step, max_size=40),
)
def test_every_event_destination_posted_exactly_once(stack, n_events, destinations, steps):
    run = uuid.uuid4().hex[:8]
    sender = FlakySender()
    sqs = FakeSqs()
    crash = {"armed": False}

    def after_claim(key: str) -> None:
        if crash["armed"]:
            crash["armed"] = False
            raise Crash(key)

    service = DeliveryService(
        ledger=Ledger(stack.ledger_table, clock=stack.clock, stale_after_s=120),
        senders=sender,
        sqs=sqs,
        queue_urls={"slack": "q", "x": "q", "webhook": "q", "console": "q"},
        dlq_urls={"slack": "dlq", "x": "dlq", "webhook": "dlq", "console": "dlq"},
        alert=lambda event: None,
        clock=stack.clock,
        after_claim=after_claim,
    )
    expected = set()
    queue: list[str] = []
    for i in range(n_events):
        event = Event(id=f"release.new:{run}-{i}", type="release.new", occurred_at="2026-11-22T10:00:00Z",
                      subject=f"{run}-{i}", data={"title": f"Book {i}"})
        for destination in destinations:
            expected.add((event.id, destination))
            queue.append(json.dumps(message(event, destination)))

    def attempt(body: str) -> bool:
        """One receive of one message; True when SQS would delete it."""
        record = {"messageId": "m", "receiptHandle": "h", "body": body}
        try:
            service.deliver("slack", json.loads(body), record)
        except Crash:
            return False
        except Exception:
            return False
        return True

    for kind, index, outcome in steps:
        if not queue:
            break
        position = index % len(queue)  # any message, in any order
        if kind == "duplicate":
            queue.append(queue[position])
        elif kind == "advance":
            stack.clock.advance(index)
        else:
            sender.mode = "ok" if outcome == "crash" else outcome
            crash["armed"] = outcome == "crash"
            body = queue.pop(position)
            if not attempt(body):
                queue.append(body)  # visible again after the visibility timeout

    # the operator redrives the DLQ, the peers are healthy again, time passes
    queue.extend(sqs.dlq)
    sqs.dlq.clear()
    sender.mode = "ok"
    crash["armed"] = False
    stack.clock.advance(1000)
    for _ in range(10 * len(queue) + 10):
        if not queue:
            break
        body = queue.pop(0)
        if not attempt(body):
            queue.append(body)
            stack.clock.advance(200)
    assert queue == []
    assert sqs.dlq == []
    assert set(sender.posts) == expected  # none lost
    assert all(count == 1 for count in sender.posts.values())  # none twice
