"""UptimeService end to end on moto (`aws` fixture) with real HTTP peers on 127.0.0.1."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from chalicelib.uptime.targets import InvalidTarget
from tests.integration.uptime.uptime_testkit import Handler

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)


def tick(minute: int, second: int = 0) -> dict:
    at = T0 + timedelta(minutes=minute, seconds=second)
    return {"id": f"ev-{minute}-{second}", "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "detail": {}}


@pytest.fixture
def make_service(aws, peer, tmp_path, monkeypatch):
    def make(endpoints: str, grouping: str = "") -> object:
        path = tmp_path / "targets.yaml"
        path.write_text(f"defaults:\n  timeout: 2s\n{grouping}endpoints:\n{endpoints}".replace("PEER", peer))
        monkeypatch.setenv("NEWBOOKS_TARGETS_FILE", str(path))
        monkeypatch.setenv("NEWBOOKS_ALLOW_PRIVATE_TARGETS", "1")
        monkeypatch.setenv("NEWBOOKS_PUBLIC_URL", "https://status.example")
        from chalicelib.settings import get_settings
        from chalicelib.uptime.service import build

        get_settings.cache_clear()
        service = build(get_settings(), clock=lambda: T0 + timedelta(minutes=70))
        service.events = []
        original = service.store.set_event

        def spy(pk, event, expected_version=None):
            done = original(pk, event, expected_version)
            if done:
                service.events.append(event)
            return done

        service.store.set_event = spy
        return service

    return make


FLAKY = """  - name: flaky
    group: web
    url: PEER/flaky
    alerts: [slack, console]
  - name: healthy
    url: PEER/healthy
    conditions: ["[BODY].status == up"]
"""


def deliver(service, script: dict[int, bool], order: list[int]) -> list[tuple]:
    """Deliver tick events in `order`; before the first delivery of a minute the peer is set to
    that minute's scripted outcome (a duplicate reuses the stored tick and checks nothing)."""
    done = set()
    for minute in order:
        if minute not in done:
            (Handler.flaky_fail.clear if script[minute] else Handler.flaky_fail.set)()
            done.add(minute)
        service.run_tick(tick(minute, second=random.choice([0, 1, 59 - 59])))
    Handler.flaky_fail.clear()
    return [(e["type"], e["subject"], e["occurred_at"], e["data"].get("duration_s")) for e in service.events]


def test_one_failure_then_success_no_alert(make_service):
    service = make_service(FLAKY)
    assert deliver(service, {0: True, 1: False, 2: True, 3: True}, [0, 1, 2, 3]) == []
    state = service.store.get_state("flaky")
    assert state["status"] == "UP"


def test_three_failures_one_down_two_successes_one_recovered(make_service):
    service = make_service(FLAKY)
    script = {0: True, 1: False, 2: False, 3: False, 4: False, 5: True, 6: True, 7: True}
    events = deliver(service, script, sorted(script))
    assert events == [
        ("target.down", "flaky", "2026-11-22T10:03:00Z", None),
        ("target.recovered", "flaky", "2026-11-22T10:06:00Z", 240),
    ]
    down = service.events[0]
    assert down["id"] == "target.down:flaky:2026-11-22T10:03"
    assert down["data"]["error"] == "status"
    assert down["data"]["condition"] == "failing: [STATUS] == 200 (got 500)"
    recovered = service.events[1]
    assert recovered["data"]["condition"] == "passing again: [STATUS] == 200 (was 500)"
    assert down["data"]["status_page"] == "https://status.example/status/flaky"
    # a new target (one pass, below the success threshold) goes PENDING -> DOWN
    assert down["data"]["channels"] == ["slack", "console"] and down["data"]["previous_state"] == "PENDING"
    state = service.store.get_state("flaky")
    assert state["status"] == "UP" and state["last_event"]["type"] == "target.recovered"
    assert state["incidents"][-1]["duration_s"] == 240


@pytest.mark.parametrize("seed", [1, 2])
def test_duplicated_and_shuffled_ticks_give_the_same_alerts(make_service, seed):
    script = {0: True, 1: False, 2: True, 3: False, 4: False, 5: False, 6: False, 7: True, 8: True, 9: True}
    ordered = deliver(make_service(FLAKY), script, sorted(script))
    assert [e[0] for e in ordered] == ["target.down", "target.recovered"]
    rng = random.Random(seed)
    order = sorted(list(script) * 2, key=lambda m: m + rng.uniform(0, 2.0))
    assert order != sorted(list(script) * 2)
    shuffled_service = make_service(FLAKY.replace("flaky\n", "flaky\n", 1))
    # fresh tables per service are not needed: use a different target set by clearing ticks
    for table in (shuffled_service.store.checks, shuffled_service.store.state):
        for item in table.scan()["Items"]:
            table.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
    assert deliver(shuffled_service, script, order) == ordered


def test_duplicate_tick_is_reported_and_checks_nothing(make_service):
    service = make_service(FLAKY)
    first = service.run_tick(tick(0))
    hits = Handler.hits.get("/flaky", 0)
    second = service.run_tick(tick(0, second=30))
    assert first["duplicate"] is False and first["checked"] == 2 and first["tick"] == "2026-11-22T10:00"
    assert second["duplicate"] is True and Handler.hits.get("/flaky", 0) == hits


def test_grouped_alert_instead_of_one_per_target(make_service):
    endpoints = "".join(f"  - name: d{i}\n    url: PEER/down\n" for i in range(4)) + "  - name: ok\n    url: PEER/healthy\n"
    service = make_service(endpoints, grouping="grouping:\n  share: 0.5\n  min-targets: 4\n")
    for minute in range(3):
        service.run_tick(tick(minute))
    assert [e["type"] for e in service.events] == ["targets.grouped_down"]
    assert service.events[0]["data"]["targets"] == ["d0", "d1", "d2", "d3"]
    assert service.store.get_state("d0")["status"] == "DOWN"
    summary = service.status_summary()["targets"]
    assert [t["state"] for t in summary][:4] == ["DOWN"] * 4 and summary[-1]["name"] == "ok"


def test_maintenance_suppresses_alerts_and_shows_maintenance(make_service):
    endpoints = """  - name: m
    url: PEER/down
    maintenance:
      - start: "2026-11-22T11:00"
        end: "2026-11-22T13:00"
        timezone: Europe/Berlin
"""
    service = make_service(endpoints)
    for minute in range(5):
        service.run_tick(tick(minute))
    assert service.events == []
    assert service.status_summary()["targets"][0]["state"] == "MAINTENANCE"
    detail = service.target_status("m")
    assert detail["last_checks"][0]["code"] == "m" and detail["uptime"]["1h"] is None


def test_status_rollups_uptime_and_percentiles(make_service):
    service = make_service(FLAKY)
    for minute in [*range(8), 65]:  # 10:00-10:07, then 11:05 rolls up hour 10
        Handler.flaky_fail.set() if minute in (1, 2, 3, 4) else Handler.flaky_fail.clear()
        service.run_tick(tick(minute))
    Handler.flaky_fail.clear()
    rollup = service.store.rollups("flaky", "2026-11-22T10")
    assert len(rollup) == 1 and int(rollup[0]["checks"]) == 8 and int(rollup[0]["passes"]) == 4
    assert int(rollup[0]["expected"]) == 60  # 52 missed ticks are gaps, not downtime
    detail = service.target_status("flaky")
    assert detail["uptime"]["24h"] == pytest.approx(5 / 9, abs=1e-3)
    assert detail["uptime"]["1h"] == 1.0
    p = detail["latency_ms"]["24h"]
    assert p["p50"] is not None and p["p50"] <= p["p95"]
    assert detail["incidents"][0]["duration_s"] == 240 and detail["state"] == "UP"
    assert len(detail["last_checks"]) == 9 and detail["last_checks"][0]["tick"] == "2026-11-22T11:05"
    assert service.target_status("nope") is None
    summary = service.status_summary()["targets"]
    assert {t["name"] for t in summary} == {"flaky", "healthy"}
    # one figure everywhere (issue 17): the minute 11:05, not rolled up yet, counts in both
    assert summary[0]["uptime_24h"] == detail["uptime"]["24h"] == pytest.approx(5 / 9, abs=1e-3)
    assert summary[0]["uptime"] == {k: v for k, v in detail["uptime"].items() if k != "1h"}
    assert service.target_uptime("flaky")["uptime"] == detail["uptime"]


def test_archive_expired_writes_ndjson_per_day_idempotently(make_service):
    service = make_service(FLAKY)
    service.run_tick(tick(0))
    service.run_tick(tick(1))
    raw = boto3.client("dynamodb").scan(TableName=service.store.checks_name)["Items"]
    records = [
        {"eventID": str(i), "eventName": "REMOVE", "userIdentity": {"type": "Service"},
         "dynamodb": {"OldImage": item, "SequenceNumber": str(100 + i)}}
        for i, item in enumerate(sorted(raw, key=lambda x: x["sk"]["S"])) if item["pk"]["S"].startswith("TICK#")
    ]
    assert service.archive_expired({"Records": records}) == {"batchItemFailures": []}
    assert service.archive_expired({"Records": records}) == {"batchItemFailures": []}
    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=service.store.bucket)["Contents"]]
    assert keys == ["archive/ticks/2026-11-22/0-1000.ndjson"]
    lines = s3.get_object(Bucket=service.store.bucket, Key=keys[0])["Body"].read().decode().splitlines()
    assert len(lines) == 4 and '"target":"flaky"' in lines[0]


def test_runtime_targets_validated_added_listed_deleted(make_service, monkeypatch):
    service = make_service(FLAKY)
    with pytest.raises(InvalidTarget, match=r"target 'bad'.*unknown placeholder \[STAUS\]"):
        service.add_target({"name": "bad", "url": "http://127.0.0.1/", "conditions": ["[STAUS] == 200"]})
    with pytest.raises(InvalidTarget, match=r"target 'nourl'.*must start with http"):
        service.add_target({"name": "nourl", "url": "ftp://example.com/"})
    with pytest.raises(InvalidTarget, match="already defined"):
        service.add_target({"name": "flaky", "url": "http://127.0.0.1/"})
    added = service.add_target({"name": "api", "url": "http://127.0.0.1:9/x", "alerts": ["webhook"]})
    assert added["name"] == "api" and added["source"] == "api"
    assert "api" in [t["name"] for t in service.list_targets()]
    assert service.delete_target("api") is True and service.delete_target("api") is False
    service.policy = type(service.policy)(allow_private=False)
    with pytest.raises(InvalidTarget, match=r"target 'meta'.*metadata"):
        service.add_target({"name": "meta", "url": "http://169.254.169.254/"})


def test_quiet_targets_cost_no_state_reads_and_the_dirty_set_follows_outages(make_service):
    service = make_service(FLAKY)
    reads: list[list[str]] = []
    original = service.store.get_states
    service.store.get_states = lambda names: reads.append(list(names)) or original(names)
    for minute in range(2):  # new targets are PENDING: their passes are applied until decided
        service.run_tick(tick(minute))
    assert reads == [["flaky", "healthy"], ["flaky", "healthy"]]
    assert service.store.get_state("healthy")["status"] == "UP"
    assert service.store.dirty_and_known() == ({}, {"flaky", "healthy"})
    reads.clear()
    service.run_tick(tick(2))
    assert reads == [] and service.store.dirty_targets() == {}  # decided and passing: no state read at all
    Handler.flaky_fail.set()
    for minute in range(3, 6):
        service.run_tick(tick(minute))
    Handler.flaky_fail.clear()
    assert reads and all(names == ["flaky"] for names in reads)  # only the failing target
    state = service.store.get_state("flaky")
    assert state["status"] == "DOWN" and service.store.dirty_targets()["flaky"] <= int(state["version"])
    for minute in range(6, 16):  # recovers at 10:07, failures leave the window 5 minutes later
        service.run_tick(tick(minute))
    assert service.store.get_state("flaky")["status"] == "UP"
    assert service.store.dirty_targets() == {}
    reads.clear()
    service.run_tick(tick(16))
    assert reads == []
    assert [e["type"] for e in service.events] == ["target.down", "target.recovered"]


def test_dirty_mark_only_grows_and_clears_only_at_or_below_the_written_version(make_service):
    store = make_service(FLAKY).store
    store.mark_dirty("a", 3)
    store.mark_dirty("a", 2)  # a stale writer cannot lower it
    assert store.dirty_targets() == {"a": 3}
    store.clear_dirty("a", 2)  # a writer of an older quiet state cannot clear a newer mark
    assert store.dirty_targets() == {"a": 3}
    store.clear_dirty("a", 3)
    assert store.dirty_targets() == {}


def test_rollup_is_written_once_per_hour_and_rewritten_only_for_late_ticks(make_service):
    service = make_service(FLAKY)
    for minute in (0, 1, 2, 4):  # 10:03 is late
        service.run_tick(tick(minute))
    writes: list[int] = []
    original = service.store.put_rollups
    service.store.put_rollups = lambda rollups, epoch_s: writes.append(len(rollups)) or original(rollups, epoch_s)
    service.run_tick(tick(65))  # 11:05: hour 10 rolled up
    service.run_tick(tick(65, second=30))  # duplicate delivery: nothing rewritten
    assert writes == [2]
    assert int(service.store.rollups("healthy", "2026-11-22T10")[0]["checks"]) == 4
    service.run_tick(tick(80))  # 11:20: same ticks, nothing to do
    assert writes == [2]
    service.run_tick(tick(3))  # the late tick of 10:03 arrives
    service.run_tick(tick(140))  # 12:20 checks hour 11 (new) ...
    assert writes == [2, 2]
    service.run_tick({**tick(80, second=1), "id": "again"})  # ... a second 11:20 sees hour 10 changed
    assert writes == [2, 2, 2]
    assert int(service.store.rollups("healthy", "2026-11-22T10")[0]["checks"]) == 5


def test_a_new_target_is_pending_in_the_api_until_decided_and_deleting_forgets_it(make_service):
    service = make_service(FLAKY)
    assert {t["name"]: t["state"] for t in service.status_summary()["targets"]} == {"flaky": "PENDING", "healthy": "PENDING"}
    Handler.flaky_fail.set()
    service.run_tick(tick(0))
    service.run_tick(tick(1))
    Handler.flaky_fail.clear()
    states = {t["name"]: t["state"] for t in service.status_summary()["targets"]}
    assert states == {"flaky": "PENDING", "healthy": "UP"}  # 2 failures: below the threshold, not UP
    assert service.target_status("flaky")["state"] == "PENDING"
    added = service.add_target({"name": "api", "url": "http://127.0.0.1:9/x"})
    assert added["name"] == "api"
    service.store.add_known(["api"])
    assert service.delete_target("api")
    assert "api" not in service.store.dirty_and_known()[1] and service.store.get_state("api") is None


def test_storm_one_grouped_down_grouped_reminders_one_grouped_recovery_even_with_duplicate_ticks(make_service):
    """Issue 13 point 4: while a group incident is open, its members' reminders and recoveries
    are grouped: one reminder per interval for the group, one grouped recovery."""
    endpoints = "".join(f"  - name: s{i}\n    url: PEER/flaky\n    reminder-interval: 2m\n" for i in range(6))
    endpoints += "  - name: ok\n    url: PEER/healthy\n"
    service = make_service(endpoints, grouping="grouping:\n  share: 0.5\n  min-targets: 4\n")
    script = {m: m < 2 or m >= 10 for m in range(13)}  # up, down from 10:02 to 10:09, up again
    deliver(service, script, [m for m in sorted(script) for _ in range(2)])  # every tick twice
    types = [(e["type"], e["occurred_at"][11:16]) for e in service.events]
    assert types == [
        ("targets.grouped_down", "10:04"),
        ("targets.grouped_reminder", "10:06"),
        ("targets.grouped_reminder", "10:08"),
        ("targets.grouped_reminder", "10:10"),
        ("targets.grouped_recovered", "10:11"),
    ]
    assert service.events[0]["data"]["targets"] == [f"s{i}" for i in range(6)]
    assert service.events[-1]["data"]["targets"] == [f"s{i}" for i in range(6)]
    assert service.events[-1]["data"]["duration_s"] == 7 * 60
    assert service.store.group_incident(0) is None
    assert all(service.store.get_state(f"s{i}")["status"] == "UP" for i in range(6))


def test_state_fanout_filter_passes_insert_and_modify_of_state_items():
    """The first grouped alert creates GROUP#uptime/STATE with an UpdateItem: its stream record
    is an INSERT, which the filter must pass (it passed MODIFY only)."""
    import json as _json

    from chalicelib import resources as r
    from devstack.lambda_runtime import matches as _matches  # Lambda filter semantics (dev runner)

    mapping = next(m for m in r.MAPPINGS if m.function == "state_fanout")
    patterns = [_json.loads(p) for p in mapping.filter_patterns]
    keys = {"pk": {"S": "GROUP#uptime"}, "sk": {"S": "STATE"}}
    for name in ("INSERT", "MODIFY"):
        record = {"eventName": name, "dynamodb": {"Keys": keys}}
        assert any(_matches(p, record) for p in patterns), name
    assert not any(_matches(p, {"eventName": "REMOVE", "dynamodb": {"Keys": keys}}) for p in patterns)


def test_insert_then_modify_of_the_group_item_give_the_grouped_alert_exactly_once():
    from boto3.dynamodb.types import TypeSerializer

    from chalicelib.notify.fanout import event_from_record

    ser = TypeSerializer()
    image = lambda item: {k: ser.serialize(v) for k, v in item.items()}  # noqa: E731
    keys = {"pk": {"S": "GROUP#uptime"}, "sk": {"S": "STATE"}}
    event = {"id": "targets.grouped_down:0:2026-11-22T10:04", "type": "targets.grouped_down", "v": 1,
             "occurred_at": "2026-11-22T10:04:00Z", "subject": "uptime", "data": {"targets": ["a", "b"]}}
    created = {"pk": "GROUP#uptime", "sk": "STATE", "last_event": event, "version": 1}
    widened = {**created, "incident#0": {"id": event["id"], "members": ["a", "b"]}}
    insert = {"eventName": "INSERT", "dynamodb": {"Keys": keys, "NewImage": image(created)}}
    modify = {"eventName": "MODIFY", "dynamodb": {"Keys": keys, "NewImage": image(widened), "OldImage": image(created)}}
    got = [event_from_record(r) for r in (insert, modify, insert)]
    assert got[0] is not None and got[0].id == event["id"] and got[1] is None
    assert got[2].id == got[0].id  # a redelivered INSERT carries the same id: the ledger dedupes it


def test_missed_hours_are_rolled_up_on_a_later_tick_idempotently_with_daily_summaries(make_service):
    service = make_service(FLAKY)
    for minute in range(8):
        Handler.flaky_fail.set() if minute in (1, 2, 3, 4) else Handler.flaky_fail.clear()
        service.run_tick(tick(minute))
    Handler.flaky_fail.clear()
    assert service.store.rollup_markers(0, "2026-11-22") == {}  # hour 10 is not over yet
    service.run_tick(tick(4 * 60 + 30))  # 14:30: the ping missed 10:08 .. 14:29 (both :05 and :20 of 11:00)
    markers = service.store.rollup_markers(0, "2026-11-22")
    assert markers == {"2026-11-22T10": 8, "2026-11-22T11": 0, "2026-11-22T12": 0, "2026-11-22T13": 0}
    day = service.store.day_items("flaky", "2026-11-22")
    assert len(day) == 1 and [int(v) for v in day[0]["h10"]] == [4, 4, 0, 8] and "h11" not in day[0]
    writes = []
    original = service.store.put_rollups
    service.store.put_rollups = lambda *a: writes.append(a) or original(*a)
    service.run_tick(tick(4 * 60 + 30, second=20))  # duplicate delivery
    service.run_tick(tick(4 * 60 + 31))
    assert writes == []  # nothing left to roll up: no rewrite


def test_a_long_gap_is_caught_up_a_few_hours_per_tick():
    from chalicelib.uptime.service import MAX_CATCHUP_HOURS

    assert 1 <= MAX_CATCHUP_HOURS <= 12


def test_an_outage_counts_at_once_in_every_figure_before_any_rollup(make_service):
    """A 30-minute outage used to show 24 h uptime 1.0 until its hour was rolled up."""
    service = make_service(FLAKY)
    service.clock = lambda: T0 + timedelta(minutes=30)
    Handler.flaky_fail.set()
    for minute in range(30):
        service.run_tick(tick(minute))
    Handler.flaky_fail.clear()
    summary = {t["name"]: t for t in service.status_summary()["targets"]}
    assert summary["flaky"]["uptime"] == {"24h": 0.0, "7d": 0.0, "30d": 0.0, "90d": 0.0}
    assert summary["healthy"]["uptime"]["24h"] == 1.0
    assert service.target_status("flaky")["uptime"]["24h"] == 0.0
    assert service.target_uptime("flaky")["uptime"]["90d"] == 0.0


def test_status_page_reads_the_board_once_and_shows_the_same_figures(make_service):
    """Pages get the status board from UptimeService: one BatchGet of states, one tick Query per
    shard and one daily summary Query per target for a render; bars and figures from that read."""
    from bs4 import BeautifulSoup

    from chalicelib.pages.service import PagesService

    service = make_service(FLAKY)
    for minute in range(6):
        Handler.flaky_fail.set() if minute in (1, 2, 3) else Handler.flaky_fail.clear()
        service.run_tick(tick(minute))
    Handler.flaky_fail.clear()
    calls: list[str] = []
    for method in ("get_states", "ticks", "day_items", "rollups", "get_state"):
        original = getattr(service.store, method)
        setattr(service.store, method, lambda *a, _m=method, _o=original, **k: (calls.append(_m), _o(*a, **k))[1])
    pages = PagesService(None, service, lambda d: [], "https://status.example", clock=service.clock)
    soup = BeautifulSoup(pages.status_html().body, "html.parser")
    assert sorted(calls) == ["day_items", "day_items", "get_states", "ticks"]
    summary = {t["name"]: t for t in service.status_summary()["targets"]}
    for section in soup.select("section.target"):
        name = section["data-target"]
        assert section["data-state"] == summary[name]["state"]
        assert len(section.select(".bar")) == 90
        today = section.select(".bar")[-1]
        assert today["data-day"] == "2026-11-22" and float(today["data-uptime"]) == pytest.approx(
            summary[name]["uptime"]["24h"], abs=1e-4)  # today is the whole 24 h window here
    assert {s["data-target"] for s in soup.select("section.target")} == {"flaky", "healthy"}
