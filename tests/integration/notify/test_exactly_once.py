"""Exactly once, nothing lost: duplicates, redeliveries, crashes, partial batches, DLQ redrive."""
from __future__ import annotations

import collections

from chalicelib.notify.delivery import Senders
from chalicelib.notify.dlq import DlqAdmin
from chalicelib.notify.slack import SlackWebApi
from chalicelib.notify.subscriptions import Subscription, SubscriptionStore
from tests.integration.notify.notify_testkit import Crash, Reply, release_event


def slack_senders(peer):
    return Senders("https://n.example", slack_api=SlackWebApi("xoxb-t", peer.url + "/api/", timeout_s=2, sleep=lambda s: None))


def channels_posted(peer):
    """Posts per channel (a stale-claim retry also asks conversations.history first)."""
    posts = [r for r in peer.posts() if r.path.endswith("chat.postMessage")]
    return collections.Counter(r.json["channel"] for r in posts if r.json.get("channel"))


def test_duplicated_sqs_message_posts_once(stack, slack_peer):
    service = stack.delivery(slack_senders(slack_peer))
    for _ in range(3):
        stack.enqueue(release_event(), "slack:C0123")
    results = stack.runner("slack", service).drain()
    assert all(r["batchItemFailures"] == [] for r in results)
    assert channels_posted(slack_peer) == {"C0123": 1}


def test_duplicated_stream_record_posts_once(stack, slack_peer):
    SubscriptionStore(stack.state_table).put(Subscription.create("slack:C0123", "series", "ONE PIECE"))
    fanout = stack.fanout()
    record = stream_insert({"id": "isbn:9784088820000", "title": "ONE PIECE 108", "series": "ONE PIECE", "source": "openbd"})
    fanout.handle_record(record)
    fanout.handle_record(record)  # Lambda retried the shard batch
    stack.runner("slack", stack.delivery(slack_senders(slack_peer))).drain()
    assert channels_posted(slack_peer) == {"C0123": 1}


def test_crash_between_claim_and_send_posts_once_after_the_claim_goes_stale(stack, slack_peer):
    crashes = [True]

    def after_claim(key):
        if crashes.pop(0) if crashes else False:
            raise Crash(key)

    service = stack.delivery(slack_senders(slack_peer), after_claim=after_claim, stale_after_s=120)
    stack.enqueue(release_event(), "slack:C0123")
    runner = stack.runner("slack", service)
    assert runner.drain(rounds=1)[0].get("crashed")
    assert slack_peer.posts() == []
    # redelivered while the claim is fresh: not sent, still pending
    result = runner.drain(rounds=1)[0]
    assert len(result["batchItemFailures"]) == 1 and slack_peer.posts() == []
    stack.clock.advance(121)
    runner.drain()
    assert channels_posted(slack_peer) == {"C0123": 1}
    stack.enqueue(release_event(), "slack:C0123")  # and a late duplicate changes nothing
    runner.drain()
    assert channels_posted(slack_peer) == {"C0123": 1}
    item = stack.ledger_table.get_item(Key={"pk": "release.new:isbn:9784088820000#slack:C0123"})["Item"]
    assert item["status"] == "sent"


def test_partial_batch_failure_retries_only_the_failed_record(stack, slack_peer):
    failing = {"CFAIL": 1}

    def responder(request):
        channel = request.json.get("channel")
        if failing.get(channel):
            failing[channel] -= 1
            return Reply(500, "<html>Server Error</html>")
        return None

    slack_peer.responder = responder
    service = stack.delivery(slack_senders(slack_peer))
    for channel in ("C1", "CFAIL", "C3"):
        stack.enqueue(release_event(), f"slack:{channel}")
    runner = stack.runner("slack", service)
    messages = runner.receive()
    assert len(messages) == 3
    result = runner.run_batch(messages)
    failed_ids = [f["itemIdentifier"] for f in result["batchItemFailures"]]
    failed_bodies = [m["Body"] for m in messages if m["MessageId"] in failed_ids]
    assert len(failed_ids) == 1 and "slack:CFAIL" in failed_bodies[0]
    runner.drain()
    # C1 and C3 were posted once and never retried; CFAIL got its 500 and then its one post
    assert channels_posted(slack_peer) == {"C1": 1, "CFAIL": 2, "C3": 1}


def test_dlq_lists_reasons_and_redrive_delivers_once(stack, slack_peer):
    slack_peer.default = Reply(200, {"ok": False, "error": "not_in_channel"})
    service = stack.delivery(slack_senders(slack_peer))
    stack.enqueue(release_event(), "slack:C0123")
    stack.enqueue(release_event(), "slack:C0123")  # a duplicate that also fails
    runner = stack.runner("slack", service)
    runner.drain()
    admin = DlqAdmin(stack.sqs, stack.queue_urls, stack.dlq_urls, peek_visibility_s=0)
    listed = admin.list_messages("slack")
    assert len(listed) == 2
    assert {m["reason"] for m in listed} == {"slack: not_in_channel"}
    assert listed[0]["destination"] == "slack:C0123" and listed[0]["event_type"] == "release.new"
    # the bot is invited, the operator redrives: one post, DLQ empty
    slack_peer.default = Reply(200, {"ok": True, "ts": "1.2"})
    assert admin.redrive("slack") == 2
    runner.drain()
    assert channels_posted(slack_peer)["C0123"] == 3  # two failed attempts + one post
    assert [r for r in slack_peer.posts() if r.json.get("channel")][-1].json["channel"] == "C0123"
    assert admin.list_messages("slack") == []
    assert stack.ledger_table.get_item(Key={"pk": "release.new:isbn:9784088820000#slack:C0123"})["Item"]["status"] == "sent"


def test_messages_exhausting_retries_are_listed_without_reason(stack):
    stack.sqs.send_message(QueueUrl=stack.dlq_urls["x"], MessageBody='{"event": {"id": "e1", "type": "release.new"}}')
    admin = DlqAdmin(stack.sqs, stack.queue_urls, stack.dlq_urls, peek_visibility_s=0)
    (listed,) = admin.list_messages("x")
    assert listed["reason"].startswith("retries exhausted") and listed["event_id"] == "e1"


def test_malformed_message_goes_to_dlq(stack):
    service = stack.delivery(Senders("https://n.example"))
    stack.sqs.send_message(QueueUrl=stack.queue_urls["console"], MessageBody='{"destination": "pigeon:x", "event": {}}')
    stack.runner("console", service).drain()
    (dead,) = stack.queue_bodies(stack.dlq_urls["console"])
    assert dead["attributes"]["reason"]["StringValue"].startswith("malformed message")
    assert stack.alerts == []


def stream_insert(release: dict) -> dict:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    item = {"pk": f"REL#{release['id']}", "sk": "META", "first_seen": "2026-11-22T10:00:00Z", **release}
    image = {k: serializer.serialize(v) for k, v in item.items()}
    return {
        "eventID": "1",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {"Keys": {"pk": image["pk"], "sk": image["sk"]}, "NewImage": image, "SequenceNumber": "100"},
    }



class DiesAfterPosting(Senders):
    """The peer accepted the post, then the process died before the ledger said so."""

    def __init__(self, inner: Senders, die: list[bool]):
        self.__dict__.update(inner.__dict__)
        self.die = die

    def send(self, destination, event):
        info = super().send(destination, event)
        if self.die and self.die.pop(0):
            raise Crash("after the peer accepted")  # a BaseException: no except-clause runs
        return info


def history_responder(peer):
    """conversations.history answers from what chat.postMessage really received (metadata)."""

    def respond(request):
        if not request.path.endswith("conversations.history"):
            return None
        # the peer calls responders under its own lock: read its request log directly
        posted = [r.json for r in peer.requests if r.path.endswith("chat.postMessage")]
        return Reply(200, {"ok": True, "messages": [{"ts": "1.0", "metadata": p.get("metadata")} for p in posted]})

    return respond


def test_killed_after_the_peer_accepted_is_reconciled_not_reposted(stack, slack_peer):
    slack_peer.responder = history_responder(slack_peer)
    service = stack.delivery(DiesAfterPosting(slack_senders(slack_peer), [True]), stale_after_s=120)
    stack.enqueue(release_event(), "slack:C0123")
    runner = stack.runner("slack", service)
    assert runner.drain(rounds=1)[0].get("crashed")
    assert channels_posted(slack_peer) == {"C0123": 1}
    stack.clock.advance(121)  # the dead attempt's claim goes stale; the message comes back
    runner.drain()
    assert channels_posted(slack_peer) == {"C0123": 1}  # found at the peer: not posted again
    item = stack.ledger_table.get_item(Key={"pk": "release.new:isbn:9784088820000#slack:C0123"})["Item"]
    assert item["status"] == "sent" and item["info"].startswith("reconciled")


def test_timeout_after_posting_is_uncertain_and_reconciled(stack, slack_peer):
    slack_peer.responder = history_responder(slack_peer)
    slack_peer.script = [Reply(200, {"ok": True, "channel": "C0123", "ts": "1.1"}, delay_s=3)]  # > 2 s timeout
    service = stack.delivery(slack_senders(slack_peer))
    stack.enqueue(release_event(), "slack:C0123")
    runner = stack.runner("slack", service)
    runner.drain()
    assert channels_posted(slack_peer) == {"C0123": 1}
    item = stack.ledger_table.get_item(Key={"pk": "release.new:isbn:9784088820000#slack:C0123"})["Item"]
    assert item["status"] == "sent" and item["info"].startswith("reconciled")
