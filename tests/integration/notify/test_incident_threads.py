"""Incidents as threads: one DOWN message, reminders and the recovery in its thread, the parent
rewritten with chat.update; grouped incidents likewise. Through the real deliverer (ledger,
moto queues) against a local Slack Web API peer that records every call."""
from __future__ import annotations

import json
import threading

import pytest

from chalicelib.events import Event
from chalicelib.notify.delivery import Senders
from chalicelib.notify.slack import SlackWebApi
from chalicelib.notify.threads import IncidentThreads
from tests.integration.notify.notify_testkit import Reply


class Workspace:
    """Answers chat.postMessage (a new ts each), chat.update, conversations.history (top-level
    messages) and conversations.replies (a thread) from what it really received."""

    def __init__(self, peer):
        self.peer = peer
        self.messages: dict[str, dict] = {}  # ts -> message as stored
        self.updates: list[dict] = []
        self.n = 0
        self.lock = threading.Lock()
        peer.responder = self.respond

    def respond(self, request):
        method = request.path.rsplit("/", 1)[-1]
        args = request.json if request.body.startswith(b"{") else {k: v[0] for k, v in request.form.items()}
        if method == "chat.postMessage":
            self.n += 1
            ts = f"1763850000.{self.n:06d}"
            self.messages[ts] = {**args, "ts": ts}
            return Reply(200, {"ok": True, "channel": args["channel"], "ts": ts})
        if method == "chat.update":
            self.updates.append(args)
            self.messages[args["ts"]] = {**self.messages.get(args["ts"], {}), **args}
            return Reply(200, {"ok": True, "channel": args["channel"], "ts": args["ts"]})
        if method == "conversations.history":
            found = [m for m in self.messages.values() if m["channel"] == args["channel"] and not m.get("thread_ts")]
            return Reply(200, {"ok": True, "messages": found})
        if method == "conversations.replies":
            found = [m for m in self.messages.values() if m.get("thread_ts") == args["ts"]]
            return Reply(200, {"ok": True, "messages": found})
        return None

    def top_level(self):
        return [m for m in self.messages.values() if not m.get("thread_ts")]

    def thread(self, ts):
        return [m for m in self.messages.values() if m.get("thread_ts") == ts]


def validate(message):
    from slack_sdk.models.blocks import Block

    for block in message["blocks"] if isinstance(message["blocks"], list) else json.loads(message["blocks"]):
        Block.parse(block).validate_json()


@pytest.fixture
def ws(slack_peer):
    return Workspace(slack_peer)


@pytest.fixture
def service(stack, slack_peer):
    api = SlackWebApi("xoxb-t", slack_peer.url + "/api/", timeout_s=1, sleep=lambda s: None)
    senders = Senders("https://n.example", slack_api=api, threads=IncidentThreads(stack.state_table))
    return stack.delivery(senders)


def down(target="api", minute="10:05", **data):
    return Event(id=f"target.down:{target}:2026-11-22T{minute}", type="target.down", occurred_at=f"2026-11-22T{minute}:00Z",
                 subject=target, data={"target": target, "state": "down", "condition": "[STATUS] == 200",
                                       "since": f"2026-11-22T{minute}:00Z", **data})


def reminder(target="api", minute="10:35"):
    return Event(id=f"target.reminder:{target}:2026-11-22T{minute}", type="target.reminder",
                 occurred_at=f"2026-11-22T{minute}:00Z", subject=target,
                 data={"target": target, "state": "down", "condition": "[STATUS] == 200"})


def recovered(target="api", minute="11:10", duration_s=3900):
    return Event(id=f"target.recovered:{target}:2026-11-22T{minute}", type="target.recovered",
                 occurred_at=f"2026-11-22T{minute}:00Z", subject=target,
                 data={"target": target, "state": "up", "duration_s": duration_s})


def deliver(stack, service, *events, destination="slack:C0123", twice=True):
    for event in events:
        for _ in range(2 if twice else 1):  # every event may arrive twice
            stack.enqueue(event, destination)
        stack.runner("slack", service).drain()


def test_down_reminder_recovery_is_one_message_with_a_thread(stack, service, ws):
    deliver(stack, service, down())
    (parent,) = ws.top_level()
    validate(parent)
    deliver(stack, service, reminder(), recovered())
    assert len(ws.top_level()) == 1  # still one message for the incident
    replies = ws.thread(parent["ts"])
    assert [r["text"] for r in replies] == ["red_circle api is still down · [STATUS] == 200",
                                            "large_green_circle api recovered after 1h 5m"]
    for r in replies:
        validate(r)
        assert r["channel"] == "C0123"
    assert [u["ts"] for u in ws.updates] == [parent["ts"], parent["ts"]]
    first, last = ws.updates
    validate(first), validate(last)
    assert "is *down* for 30m" in json.dumps(first["blocks"])
    assert "recovered after 1h 5m" in json.dumps(last["blocks"])
    last_buttons = [e["action_id"] for b in last["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert last_buttons == ["open_status"]  # nothing to acknowledge or mute once it is over


def test_acknowledgement_survives_parent_updates(stack, service, ws):
    from chalicelib.notify.mutes import Mutes

    deliver(stack, service, down())
    Mutes(stack.state_table).acknowledge("api", down().id, "U42")
    deliver(stack, service, reminder())
    (update,) = ws.updates
    text = json.dumps(update["blocks"])
    assert "Acknowledged by <@U42>" in text and "ack_alert" not in text and "mute_alert" in text


def test_grouped_incident_threads_each_recovery_and_counts_down(stack, service, ws):
    grouped = Event(id="targets.grouped_down:0:2026-11-22T10:05", type="targets.grouped_down",
                    occurred_at="2026-11-22T10:05:00Z", subject="uptime", data={"targets": ["a", "b", "c"]})
    deliver(stack, service, grouped)
    (parent,) = ws.top_level()
    deliver(stack, service, recovered("a"))
    assert "2 of 3 still down: b, c" in json.dumps(ws.updates[-1]["blocks"])
    deliver(stack, service, reminder("b"), recovered("b"), recovered("c"))
    assert len(ws.top_level()) == 1
    assert len(ws.thread(parent["ts"])) == 4
    final = ws.updates[-1]
    validate(final)
    assert "All recovered" in json.dumps(final["blocks"]) and final["ts"] == parent["ts"]


def test_timeout_after_a_thread_reply_is_reconciled_in_the_thread(stack, service, ws, slack_peer):
    deliver(stack, service, down())
    (parent,) = ws.top_level()
    slow = ws.respond

    def respond(request):
        reply = slow(request)
        if request.path.endswith("chat.postMessage") and request.json.get("thread_ts") and len(ws.thread(parent["ts"])) == 1:
            return Reply(reply.status, reply.body, delay_s=2)  # Slack stored it; the answer is late
        return reply

    slack_peer.responder = respond
    deliver(stack, service, reminder(), twice=False)
    assert len(ws.thread(parent["ts"])) == 1
    assert any(r.path.endswith("conversations.replies") for r in slack_peer.posts())
    item = stack.ledger_table.get_item(Key={"pk": f"{reminder().id}#slack:C0123"})["Item"]
    assert item["status"] == "sent" and item["info"].startswith("reconciled")


def test_recovery_without_a_parent_is_a_message_of_its_own(stack, service, ws):
    deliver(stack, service, recovered("lonely"))
    (message,) = ws.top_level()
    assert "Target recovered" in json.dumps(message["blocks"]) and ws.updates == []


def test_each_destination_has_its_own_thread(stack, service, ws):
    deliver(stack, service, down(), destination="slack:C0123")
    deliver(stack, service, down(), destination="slack:C0456")
    deliver(stack, service, recovered(), destination="slack:C0456")
    parents = {m["channel"]: m["ts"] for m in ws.top_level()}
    assert set(parents) == {"C0123", "C0456"}
    assert ws.thread(parents["C0123"]) == [] and len(ws.thread(parents["C0456"])) == 1


def test_incoming_webhooks_post_each_event_as_before(stack, peer):
    from chalicelib.notify.slack import SlackWebhookSender

    peer.default = Reply(200, "ok")
    hook = SlackWebhookSender(peer.url + "/services/T/B/X", timeout_s=2, sleep=lambda s: None)
    service = stack.delivery(Senders("https://n.example", slack_webhook=lambda name: hook,
                                     threads=IncidentThreads(stack.state_table)))
    deliver(stack, service, down(), reminder(), recovered(), destination="slack-webhook:team")
    assert len(peer.posts()) == 3 and all("thread_ts" not in p.json for p in peer.posts())
