"""Heartbeat monitors end to end on moto: pings through the real API routes (chalice test
client), ticks through UptimeService, alerts on late, on failure and on recovery, run time kept,
and the token stored only as a hash and never logged."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone

import boto3
import pytest

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=timezone.utc)
TOKEN = "hb-secret-token-0123456789abcdef"
API_KEY = "heartbeat-test-api-key-0123"


@pytest.fixture
def world(aws, tmp_path, monkeypatch):
    path = tmp_path / "targets.yaml"
    path.write_text("endpoints:\n  - name: backup\n    alerts: [console]\n    heartbeat:\n"
                    "      token: ${HB_TOKEN}\n      period: 1m\n      grace: 1m\n")
    monkeypatch.setenv("HB_TOKEN", TOKEN)
    monkeypatch.setenv("NEWBOOKS_TARGETS_FILE", str(path))
    monkeypatch.setenv("API_KEY", API_KEY)
    from chalice.test import Client

    from app import app
    from chalicelib import bootstrap
    from chalicelib.settings import get_settings

    get_settings.cache_clear()
    bootstrap.reset()
    service = bootstrap.uptime_service()
    clock = {"now": T0}
    service.clock = lambda: clock["now"]
    events = []
    original = service.store.set_event

    def spy(pk, event, expected_version=None):
        done = original(pk, event, expected_version)
        if done:
            events.append(event)
        return done

    service.store.set_event = spy
    with Client(app) as client:
        yield client, service, clock, events


def ping(client, clock, at: datetime, path: str = "", token: str = TOKEN):
    clock["now"] = at
    return client.http.get(f"/ping/{token}{path}")


def tick(service, minute: int) -> None:
    at = T0 + timedelta(minutes=minute)
    service.run_tick({"id": f"t{minute}", "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "detail": {}})


def test_heartbeat_late_fail_and_recovery_alerts_and_run_time(world, capfd):
    client, service, clock, events = world
    logging.getLogger().setLevel(logging.DEBUG)  # every record a formatter would write
    tick(service, 0)
    assert service.status_summary()["targets"][0]["state"] == "PENDING"  # never pinged
    assert ping(client, clock, T0 + timedelta(seconds=30)).status_code == 200
    tick(service, 1)
    assert service.store.get_state("backup")["status"] == "UP" and events == []
    tick(service, 2)  # expected by 10:01:30, grace 1m -> fine until 10:02:30; tick 2 is judged at 10:02:59
    tick(service, 3)
    assert [e["type"] for e in events] == ["target.down"]
    assert events[0]["data"]["condition"].startswith("failing: late (no ping since 2026-12-03T10:00:30Z")
    ping(client, clock, T0 + timedelta(minutes=4), "/start")
    done = ping(client, clock, T0 + timedelta(minutes=4, seconds=20))
    assert json.loads(done.body)["run_time_ms"] == 20_000
    tick(service, 4)
    assert [e["type"] for e in events] == ["target.down", "target.recovered"]
    assert ping(client, clock, T0 + timedelta(minutes=5, seconds=10), "/2").status_code == 200  # exit code 2
    tick(service, 5)
    assert [e["type"] for e in events][-1] == "target.down"
    assert "exit code 2" in events[-1]["data"]["condition"]
    detail = service.target_status("backup")
    assert detail["state"] == "DOWN" and detail["last_checks"][0]["error"] == "fail"
    # the token: only its hash is stored, nothing logged, no answer echoes it
    for table in (service.store.state_name, service.store.checks_name):
        dump = json.dumps(boto3.client("dynamodb").scan(TableName=table)["Items"], default=repr)
        assert TOKEN not in dump
    out = capfd.readouterr()  # JSON logs go to stdout
    assert TOKEN not in out.out + out.err and TOKEN not in json.dumps(events)


def test_ping_routes_refuse_unknown_tokens_and_actions(world):
    client, _service, clock, _events = world
    assert ping(client, clock, T0, token="x" * 20).status_code == 404
    unknown = ping(client, clock, T0, token="short")
    assert unknown.status_code == 404 and "short" not in unknown.body.decode()
    bad = ping(client, clock, T0, "/explode")
    assert bad.status_code == 400 and json.loads(bad.body)["param"] == "action"


def test_runtime_heartbeat_gets_a_token_once_and_stores_only_its_hash(world):
    client, service, clock, _events = world
    response = client.http.post("/targets", headers={"X-Api-Key": API_KEY, "Content-Type": "application/json"},
                                body=json.dumps({"name": "cron-job", "heartbeat": {"cron": "*/5 * * * *", "timezone": "Asia/Tokyo"}}))
    assert response.status_code == 201, response.body
    created = json.loads(response.body)
    token = created["heartbeat"]["token"]
    assert created["heartbeat"]["ping_url"].endswith(f"/ping/{token}")
    stored = json.dumps(boto3.client("dynamodb").scan(TableName=service.store.state_name)["Items"])
    assert token not in stored and "token-sha256" in stored
    assert ping(client, clock, T0, token=token).status_code == 200
    listed = client.http.get("/targets", headers={"X-Api-Key": API_KEY})
    assert token not in listed.body.decode() and "cron-job" in listed.body.decode()
