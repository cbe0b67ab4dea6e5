"""Fan-out against moto: stream records -> events -> subscriptions -> queue messages / digests."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer

from chalicelib.events import UnsupportedEvent
from chalicelib.notify import digest as dg
from chalicelib.notify.fanout import Enqueuer, FanoutService, Router, event_from_record
from chalicelib.notify.subscriptions import StaticSubscriptions, Subscription, SubscriptionStore

_ser = TypeSerializer()


def image(item):
    return {k: _ser.serialize(v) for k, v in item.items()}


def release_record(release_id="isbn:9784088820000", event="INSERT", sk="META", seq="1", **fields):
    item = {"pk": f"REL#{release_id}", "sk": sk, "id": release_id, "source": "openbd", "title": "ONE PIECE 108",
            "series": "ONE PIECE", "volume": "108", "publisher": "集英社", "release_date": "2026-11-04",
            "first_seen": "2026-11-22T10:00:00Z", "flags": [], "gsi1pk": "MONTH#2026-11", **fields}
    return {"eventID": seq, "eventName": event,
            "dynamodb": {"Keys": image({"pk": item["pk"], "sk": sk}), "NewImage": image(item), "SequenceNumber": seq}}


def state_record(pk, new_event, old_event=None, event="MODIFY"):
    new = {"pk": pk, "sk": "STATE", "status": "down", "version": 3}
    if new_event:
        new["last_event"] = new_event
    old = {"pk": pk, "sk": "STATE", "status": "up", "version": 2}
    if old_event:
        old["last_event"] = old_event
    return {"eventID": "s", "eventName": event,
            "dynamodb": {"Keys": image({"pk": pk, "sk": "STATE"}), "NewImage": image(new), "OldImage": image(old),
                         "SequenceNumber": "9"}}


class Env:
    def __init__(self, env):
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        self.state = boto3.resource("dynamodb", region_name="us-east-1").Table(env["STATE_TABLE"])
        self.urls = {c: env[f"NOTIFY_{c.upper()}_QUEUE_URL"] for c in ("slack", "x", "webhook", "console")}
        self.store = SubscriptionStore(self.state)

    def fanout(self, static=(), burst_limit=10, now=datetime(2026, 11, 22, 10, 30, tzinfo=timezone.utc)):
        router = Router([self.store, StaticSubscriptions(list(static))])
        return FanoutService(router, Enqueuer(self.sqs, self.urls), dg.DigestStore(self.state),
                             clock=lambda: now.timestamp(), burst_limit=burst_limit)

    def messages(self, channel):
        out = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.urls[channel], MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return out
            for m in got:
                out.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=self.urls[channel], ReceiptHandle=m["ReceiptHandle"])


@pytest.fixture
def env(aws):
    return Env(aws)


def test_release_insert_goes_to_every_matching_destination_once(env):
    for sub in (
        Subscription.create("slack:CSERIES", "series", "ワンピース"),  # alias of ONE PIECE: same destination
        Subscription.create("slack:CSERIES", "series", "ONE PIECE 107"),  # same key as ONE PIECE
        Subscription.create("slack:CSERIES", "keyword", "piece"),  # same destination: still one message
        Subscription.create("slack-user:U1", "publisher", "株式会社集英社"),
        Subscription.create("webhook:ops", "source", "openbd"),
        Subscription.create("x:default", "keyword", "one piece"),
        Subscription.create("slack:CNO", "series", "NARUTO"),
        Subscription.create("slack:CNO", "source", "ndl"),
    ):
        env.store.put(sub)
    fanout = env.fanout(static=[Subscription.create("console:", "series", "One Piece")])
    fanout.handle_record(release_record())
    slack = env.messages("slack")
    assert sorted(m["destination"] for m in slack) == ["slack-user:U1", "slack:CSERIES"]
    assert [m["destination"] for m in env.messages("webhook")] == ["webhook:ops"]
    assert [m["destination"] for m in env.messages("x")] == ["x:default"]
    (console,) = env.messages("console")
    assert console["v"] == 1 and console["destination"] == "console:"
    event = console["event"]
    assert event["id"] == "release.new:isbn:9784088820000" and event["type"] == "release.new"
    assert event["occurred_at"] == "2026-11-22T10:00:00Z" and event["data"]["title"] == "ONE PIECE 108"
    assert "gsi1pk" not in event["data"] and "pk" not in event["data"]


def test_merchandise_is_never_announced(env):
    env.store.put(Subscription.create("slack:CBAT", "series", "Batwoman"))
    env.store.put(Subscription.create("webhook:all", "source", "previewsworld"))
    fanout = env.fanout()
    # a real row of the 2020-02-19 Diamond list; once with its category, once stored before categories
    toy = {"release_id": "previewsworld:DEC198999", "source": "previewsworld", "title": "BATWOMAN SYMBOL T/S LG",
           "series": "BATWOMAN SYMBOL T/S LG", "volume": None, "publisher": None}
    fanout.handle_record(release_record(**toy, category="merchandise"))
    fanout.handle_record(release_record(**{**toy, "release_id": "previewsworld:DEC198998"}, seq="2"))
    assert env.messages("slack") == [] and env.messages("webhook") == []
    comic = dict(toy, release_id="previewsworld:DEC190001", title="BATWOMAN #1", series="BATWOMAN", volume="1")
    fanout.handle_record(release_record(**comic, category="comic", seq="3"))
    assert [m["destination"] for m in env.messages("slack")] == ["slack:CBAT"]
    assert [m["destination"] for m in env.messages("webhook")] == ["webhook:all"]


def test_records_without_events_are_ignored(env):
    env.store.put(Subscription.create("console:", "series", "ONE PIECE"))
    fanout = env.fanout()
    fanout.handle_record(release_record(event="MODIFY"))
    fanout.handle_record(release_record(sk="REF#ndl:1"))
    fanout.handle_record(state_record("TARGET#api", None))
    fanout.handle_record(state_record("TARGET#api", {"id": "target.down:api:t1", "type": "target.down"},
                                      {"id": "target.down:api:t1", "type": "target.down"}))
    assert env.messages("console") == []


def test_state_change_routes_uptime_and_ops_events(env):
    env.store.put(Subscription.create("slack:CAPI", "target", "api"))
    env.store.put(Subscription.create("slack:CALL", "target", "*"))
    env.store.put(Subscription.create("slack:COPS", "ops", "*"))
    env.store.put(Subscription.create("slack:CWEB", "target", "web"))
    fanout = env.fanout()
    down = {"id": "target.down:api:2026-11-22T10:03", "type": "target.down", "occurred_at": "2026-11-22T10:03:00Z",
            "data": {"target": "api", "condition": "[STATUS] == 200"}, "schema_version": 1}
    fanout.handle_record(state_record("TARGET#api", down, {"id": "target.recovered:api:x", "type": "target.recovered"}))
    got = env.messages("slack")
    assert sorted(m["destination"] for m in got) == ["slack:CALL", "slack:CAPI"]
    assert got[0]["event"]["subject"] == "api" and got[0]["event"]["data"]["condition"] == "[STATUS] == 200"
    fanout.handle_record(state_record("SOURCE#ndl", {"id": "source.degraded:ndl:1", "type": "source.degraded"}))
    assert [m["destination"] for m in env.messages("slack")] == ["slack:COPS"]


def test_unknown_event_type_fails_the_record(env):
    with pytest.raises(UnsupportedEvent):
        event_from_record(state_record("TARGET#api", {"id": "x:1", "type": "target.exploded"}))
    with pytest.raises(UnsupportedEvent):
        event_from_record(state_record("TARGET#api", {"id": "x:1", "type": "target.down", "schema_version": 9}))


def test_a_burst_of_200_releases_becomes_one_digest(env):
    env.store.put(Subscription.create("slack:CDIGEST", "publisher", "Image Comics", digest="daily", tz="+09:00"))
    fanout = env.fanout()
    records = [release_record(f"previews:NOV26{i:04d}", title=f"Nailbiter #{i}", series="Nailbiter",
                              publisher="Image Comics", seq=str(i)) for i in range(200)]
    for record in records:
        fanout.handle_record(record)
    fanout.handle_record(records[7])  # a duplicated stream record
    assert env.messages("slack") == []
    # 10:00Z = 19:00 JST on the 22nd -> due at 09:00 JST on the 23rd = 00:00Z
    assert fanout.flush_digests(datetime(2026, 11, 22, 23, 59, tzinfo=timezone.utc)) == 0
    assert fanout.flush_digests(datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc)) == 1
    (digest,) = env.messages("slack")
    assert digest["destination"] == "slack:CDIGEST" and digest["event"]["type"] == "release.digest"
    assert digest["event"]["data"]["count"] == 200 and digest["event"]["data"]["period"] == "2026-11-22"
    assert fanout.flush_digests(datetime(2026, 11, 24, tzinfo=timezone.utc)) == 0  # nothing left


def test_instant_follows_are_capped_per_hour_and_the_rest_is_digested(env):
    env.store.put(Subscription.create("console:", "series", "Nailbiter"))
    fanout = env.fanout(burst_limit=5)
    records = [release_record(f"previews:X{i:04d}", title=f"Nailbiter #{i}", series="Nailbiter", seq=str(i))
               for i in range(50)]
    for record in records:
        fanout.handle_record(record)
    for record in records[:8]:  # retried records decide the same way
        fanout.handle_record(record)
    instant = env.messages("console")
    assert sorted(m["event"]["subject"] for m in instant) == sorted(
        [f"previews:X{i:04d}" for i in range(5)] + [f"previews:X{i:04d}" for i in range(5)])  # retries re-enqueue
    assert len({m["event"]["id"] for m in instant}) == 5
    assert fanout.flush_digests(datetime(2026, 11, 22, 11, 0, tzinfo=timezone.utc)) == 1
    (digest,) = env.messages("console")
    assert digest["event"]["data"]["count"] == 45


def test_quiet_hours_hold_releases_but_not_alerts(env):
    env.store.put(Subscription.create("console:", "series", "ONE PIECE", quiet_hours="18:00-08:00", tz="Asia/Tokyo"))
    env.store.put(Subscription.create("console:", "target", "api", quiet_hours="00:00-23:59"))
    fanout = env.fanout()
    fanout.handle_record(release_record())  # 10:00Z = 19:00 JST: quiet
    fanout.handle_record(state_record("TARGET#api", {"id": "target.down:api:1", "type": "target.down"}))
    assert [m["event"]["type"] for m in env.messages("console")] == ["target.down"]
    assert fanout.flush_digests(datetime(2026, 11, 22, 22, 59, tzinfo=timezone.utc)) == 0
    assert fanout.flush_digests(datetime(2026, 11, 22, 23, 0, tzinfo=timezone.utc)) == 1  # 08:00 JST
    (held,) = env.messages("console")
    assert held["event"]["id"] == "release.new:isbn:9784088820000"  # a single held event goes as itself


def test_flush_keeps_the_bucket_open_when_events_arrive_meanwhile(env):
    store = dg.DigestStore(env.state)
    sub = Subscription.create("console:", "series", "x", digest="weekly")
    from chalicelib.events import Event

    def ev(i):
        return Event(id=f"release.new:w{i}", type="release.new", occurred_at="2026-11-22T10:00:00Z", subject=f"w{i}",
                     data={"title": f"w{i}"})

    at = datetime(2026, 11, 22, 10, tzinfo=timezone.utc)
    bucket, due = dg.bucket_for(sub, at)
    assert bucket == "weekly-2026-W47" and due == datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
    store.hold("console:", bucket, due, ev(1))
    sent = []

    def enqueue(event, destination):
        sent.append(event)
        store.hold("console:", bucket, due, ev(2))  # the fan-out adds one while we flush

    assert dg.flush(store, enqueue, due + timedelta(minutes=1)) == 1
    assert dg.flush(store, lambda e, d: sent.append(e), due + timedelta(minutes=2)) == 1
    assert [e.data.get("event_ids") for e in sent] == [["release.new:w1"], ["release.new:w2"]]
    assert dg.flush(store, lambda e, d: sent.append(e), due + timedelta(minutes=3)) == 0


def test_uptime_events_also_go_to_the_targets_configured_alert_channels(env):
    router = Router([env.store], alert_routes={"slack": "slack:C0ALERTS"})
    fanout = FanoutService(router, Enqueuer(env.sqs, env.urls), dg.DigestStore(env.state))
    down = {"id": "target.down:api:1", "type": "target.down",
            "data": {"target": "api", "channels": ["slack", "console", "webhook:pager", "pigeon"]}}
    fanout.handle_record(state_record("TARGET#api", down))
    assert [m["destination"] for m in env.messages("slack")] == ["slack:C0ALERTS"]
    assert [m["destination"] for m in env.messages("console")] == ["console:"]  # console + unrouted "pigeon": once
    assert [m["destination"] for m in env.messages("webhook")] == ["webhook:pager"]


def _pw(code, title, **over):
    """A release of a real PREVIEWSworld row as the stream carries it (work computed by the crawlers)."""
    from crawlers.model import Release
    from crawlers.normalize import extract_numbering

    series, volume, issue = extract_numbering(title)
    rel = Release(id=f"previewsworld:{code}", source="previewsworld", title=title, series=series, volume=volume,
                  issue=issue, publisher="IMAGE COMICS", release_date="2020-02-19",
                  flags=("variant",) if " CVR " in title and " CVR A " not in title else ())
    return {k: v for k, v in {**rel.to_dict(), **over}.items() if v not in (None, [])}


def works_env(env):
    from chalicelib.notify.works import WorkClaims

    router = Router([env.store], works=WorkClaims(env.state))
    return FanoutService(router, Enqueuer(env.sqs, env.urls), dg.DigestStore(env.state),
                         clock=lambda: datetime(2026, 11, 22, 10, 30, tzinfo=timezone.utc).timestamp())


def test_variants_of_one_issue_are_announced_once_and_the_merge_says_why(env):
    env.store.put(Subscription.create("slack:CAMAL", "series", "Amalgama Space Zombie"))
    fanout = works_env(env)
    covers = [("AUG191468", "AMALGAMA SPACE ZOMBIE #3 CVR A YOUNG (MR)"),
              ("AUG191469", "AMALGAMA SPACE ZOMBIE #3 CVR B YOUNG RISQUE (MR)"),
              ("AUG191470", "AMALGAMA SPACE ZOMBIE #3 CVR C ESPINOSA (MR)"),
              ("AUG191471", "AMALGAMA SPACE ZOMBIE #3 CVR D ESPINOSA RISQUE (MR)")]
    records = [release_record(**{**_pw(c, t), "release_id": f"previewsworld:{c}"}, seq=str(i)) for i, (c, t) in enumerate(covers)]
    for record in records + records[::-1]:  # every record twice, the second time out of order
        fanout.handle_record(record)
    sent = env.messages("slack")
    assert {m["event"]["id"] for m in sent} == {"release.new:previewsworld:AUG191468"}  # duplicates: the ledger's job
    claim = env.state.get_item(Key={"pk": "WORK#amalgamaspacezombie|3|comic", "sk": "slack:CAMAL"})["Item"]
    assert claim["release_id"] == "previewsworld:AUG191468"
    assert set(claim["merged"]) == {f"previewsworld:{c}" for c, _ in covers[1:]}
    assert "another edition in the same source" in claim["merged"]["previewsworld:AUG191469"]
    # issue #4 is another work
    fanout.handle_record(release_record(**{**_pw("SEP191361", "AMALGAMA SPACE ZOMBIE #4 CVR A YOUNG (MR)"),
                                           "release_id": "previewsworld:SEP191361"}, seq="9"))
    assert [m["event"]["id"] for m in env.messages("slack")] == ["release.new:previewsworld:SEP191361"]


def test_cross_source_merge_window_and_undo_by_configuration(env, monkeypatch):
    env.store.put(Subscription.create("slack:CNAIL", "series", "Nailbiter"))
    fanout = works_env(env)
    diamond = {**_pw("JAN170746", "NAILBITER #30 (MR)", release_date="2017-03-01"), "release_id": "previewsworld:JAN170746"}
    image = {**diamond, "release_id": "imagecomics:nailbiter-30", "id": "imagecomics:nailbiter-30", "source": "imagecomics",
             "title": "Nailbiter #30", "series": "Nailbiter", "publisher": "Image Comics"}
    fanout.handle_record(release_record(**diamond, seq="1"))
    fanout.handle_record(release_record(**image, seq="2"))
    assert len(env.messages("slack")) == 1
    claim = env.state.get_item(Key={"pk": "WORK#nailbiter|30|comic", "sk": "slack:CNAIL"})["Item"]
    assert "previewsworld and imagecomics agree" in claim["merged"]["imagecomics:nailbiter-30"]
    # a reprint a year later under the same key is a new announcement (outside the date window)
    later = {**image, "release_id": "imagecomics:nailbiter-30-2018", "id": "imagecomics:nailbiter-30-2018",
             "release_date": "2018-03-07"}
    fanout.handle_record(release_record(**later, seq="3"))
    assert [m["event"]["id"] for m in env.messages("slack")] == ["release.new:imagecomics:nailbiter-30-2018"]
    # undo: the operator splits a release off; it is announced on its own
    monkeypatch.setenv("NEWBOOKS_UNMERGED_RELEASES", "imagecomics:nailbiter-30-again")
    split = {**image, "release_id": "imagecomics:nailbiter-30-again", "id": "imagecomics:nailbiter-30-again"}
    fanout.handle_record(release_record(**split, seq="4"))
    assert [m["event"]["id"] for m in env.messages("slack")] == ["release.new:imagecomics:nailbiter-30-again"]


def _moved(release, old, new, version):
    """The MODIFY a move makes (crawl/store.py): last_event names both dates (and, from the second
    move on, the version)."""
    suffix = f":v{version}" if version > 2 else ""
    event = {"type": "release.date_changed", "id": f"release.date_changed:{release['id']}:{old}>{new}{suffix}",
             "from": old, "to": new, "at": "2020-02-10T10:00Z"}
    return {**release, "release_date": new, "version": version, "last_event": event}


def test_a_date_move_is_told_once_per_work_and_each_move_of_its_edition_is_told(env):
    env.store.put(Subscription.create("slack:CAMAL", "series", "Amalgama Space Zombie"))
    fanout = works_env(env)
    covers = [_pw(c, t) for c, t in (("AUG191468", "AMALGAMA SPACE ZOMBIE #3 CVR A YOUNG (MR)"),
                                      ("AUG191469", "AMALGAMA SPACE ZOMBIE #3 CVR B YOUNG RISQUE (MR)"),
                                      ("AUG191470", "AMALGAMA SPACE ZOMBIE #3 CVR D ESPINOSA RISQUE (MR)"))]
    for n, cover in enumerate(covers):
        fanout.handle_record(release_record(**{**cover, "release_id": cover["id"]}, seq=str(n)))
    assert len(env.messages("slack")) == 1

    def move(cover, old, new, version, seq):
        fanout.handle_record(release_record(**{**_moved(cover, old, new, version), "release_id": cover["id"]},
                                            event="MODIFY", seq=seq))
        return [m["event"]["id"] for m in env.messages("slack")]

    # every cover moves out a week (the whole issue slipped): one "moved" message, from the first to move
    told = [move(c, "2020-02-19", "2020-02-26", 2, f"m{n}") for n, c in enumerate(covers[::-1])]
    assert told == [[f"release.date_changed:{covers[2]['id']}:2020-02-19>2020-02-26"], [], []]
    claim = env.state.get_item(Key={"pk": "WORK#amalgamaspacezombie|3|comic", "sk": "slack:CAMAL"})["Item"]
    assert claim["release_date"] == "2020-02-19"  # the told edition (CVR A) has not moved yet
    assert move(covers[0], "2020-02-19", "2020-02-26", 2, "r1") == []  # folded, and replays stay folded
    assert move(covers[2], "2020-02-19", "2020-02-26", 2, "r2") == [told[0][0]]  # same event: the ledger dedupes
    # the edition that told it moves back and out again: each move is its own message
    assert move(covers[2], "2020-02-26", "2020-02-19", 3, "b") == [f"release.date_changed:{covers[2]['id']}:2020-02-26>2020-02-19:v3"]
    assert move(covers[2], "2020-02-19", "2020-02-26", 4, "c") == [f"release.date_changed:{covers[2]['id']}:2020-02-19>2020-02-26:v4"]
    # the announced edition's own move keeps the claim's date (its window for later editions) current
    move(covers[0], "2020-02-26", "2020-03-04", 3, "d")
    claim = env.state.get_item(Key={"pk": "WORK#amalgamaspacezombie|3|comic", "sk": "slack:CAMAL"})["Item"]
    assert claim["release_date"] == "2020-03-04"
