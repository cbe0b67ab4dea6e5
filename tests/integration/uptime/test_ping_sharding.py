"""Sharding that runs: past NEWBOOKS_PING_SHARD_SIZE targets the minute's tick fans out, one
`ping-shards` message per shard, and each shard is its own `ping_shard` invocation, run by the
local runtime's queue poller (up to the mapping's max_concurrency batches at once, like Lambda's
ScalingConfig) against moto, checking real HTTP targets on 127.0.0.1. Idempotent on
(minute, shard): a schedule fired twice re-checks nothing.

Also: function timeouts follow from the target limits (chalicelib/uptime/targets.py)."""
from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import boto3
import pytest

from chalicelib import bootstrap
from chalicelib import resources as r
from chalicelib.uptime.targets import MAX_TIMEOUT_S, STORE_MARGIN_S, InvalidTarget, parse_target
from tests.integration.uptime.uptime_testkit import Handler

ROOT = Path(__file__).resolve().parents[3]
MINUTE = datetime(2026, 12, 3, 9, 17, tzinfo=timezone.utc)
SHARD_SIZE, TARGETS = 2, 6  # -> 3 shards


def scheduled(event_id: str) -> dict:
    from devstack.lambda_runtime import scheduled_event

    return {**scheduled_event("ping", MINUTE), "id": event_id}


class Concurrency:
    """Wraps a handler; records how many invocations were running at once."""

    def __init__(self, handler) -> None:
        self.handler, self.lock = handler, threading.Lock()
        self.active = self.peak = self.calls = 0
        self.results: list[dict] = []

    def __call__(self, event, context):
        with self.lock:
            self.active += 1
            self.calls += 1
            self.peak = max(self.peak, self.active)
        try:
            result = self.handler(event, context)
            with self.lock:
                self.results.append(result)
            return result
        finally:
            with self.lock:
                self.active -= 1


@pytest.fixture
def sharded(aws, peer, tmp_path, monkeypatch):
    lines = ["defaults:", "  timeout: 5s", "endpoints:"]
    lines += [f"  - {{name: t{i}, url: '{peer}/slow'}}" for i in range(TARGETS)]  # /slow answers after 0.6 s
    (tmp_path / "targets.yaml").write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("NEWBOOKS_TARGETS_FILE", str(tmp_path / "targets.yaml"))
    monkeypatch.setenv("NEWBOOKS_ALLOW_PRIVATE_TARGETS", "1")
    monkeypatch.setenv("NEWBOOKS_PING_SHARD_SIZE", str(SHARD_SIZE))
    bootstrap.reset()
    yield aws
    bootstrap.reset()


def run_shard_pollers(queue_url: str, handler, expected_calls: int, timeout_s: float = 30) -> None:
    from devstack import lambda_runtime as rt

    mapping = next(m for m in r.MAPPINGS if m.function == "ping_shard")
    stop = threading.Event()
    pollers = [rt.QueuePoller("ping_shard", handler, queue_url, mapping.batch_size, stop,
                              concurrency=mapping.max_concurrency, wait_s=1)]  # as the runner starts it, short polls (in-process moto)
    for poller in pollers:
        poller.start()
    deadline = time.monotonic() + timeout_s
    while handler.calls < expected_calls or handler.active:
        assert time.monotonic() < deadline, f"only {handler.calls} of {expected_calls} shard invocations ran"
        time.sleep(0.05)
    stop.set()
    for poller in pollers:
        poller.join(5)


def tick_items(aws) -> dict[str, dict]:
    checks = boto3.resource("dynamodb", region_name="us-east-1").Table(aws["CHECKS_TABLE"])
    items = checks.scan()["Items"]  # test inspection only
    return {i["pk"]: i for i in items if i["pk"].startswith("TICK#")}


def test_three_shards_run_as_three_concurrent_invocations_one_tick_item_each(sharded):
    import app

    first = app.ping(scheduled("ev-1"), None)
    assert first == {"tick": "2026-12-03T09:17", "shards": 3, "fanned_out": 3}
    assert tick_items(sharded) == {}  # the schedule invocation checked nothing itself
    Handler.hits.pop("/slow", None)

    shard_handler = Concurrency(app.ping_shard)
    run_shard_pollers(sharded["PING_SHARDS_QUEUE_URL"], shard_handler, expected_calls=3)
    assert shard_handler.peak == 3  # all three shards at once, not one after another
    assert all(res == {"batchItemFailures": []} for res in shard_handler.results)
    items = tick_items(sharded)
    assert sorted(items) == ["TICK#0", "TICK#1", "TICK#2"]
    assert all(i["sk"] == "2026-12-03T09:17" and int(i["n"]) == SHARD_SIZE for i in items.values())
    assert Handler.hits.get("/slow") == TARGETS  # every target checked once

    # EventBridge fires the same minute again: the shards fan out again and re-check nothing.
    assert app.ping(scheduled("ev-1-again"), None)["fanned_out"] == 3
    again = Concurrency(app.ping_shard)
    run_shard_pollers(sharded["PING_SHARDS_QUEUE_URL"], again, expected_calls=3)
    assert Handler.hits.get("/slow") == TARGETS
    assert tick_items(sharded).keys() == items.keys()


def test_a_shard_message_delivered_twice_checks_once(sharded):
    import app

    app.ping(scheduled("ev-2"), None)
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sharded["PING_SHARDS_QUEUE_URL"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60)["Messages"]
    assert sorted(json.loads(m["Body"])["detail"]["shard"] for m in messages) == [0, 1, 2]
    shard_one = next(m for m in messages if json.loads(m["Body"])["detail"]["shard"] == 1)
    record = {"messageId": shard_one["MessageId"], "receiptHandle": shard_one["ReceiptHandle"], "body": shard_one["Body"]}
    Handler.hits.pop("/slow", None)
    assert app.ping_shard({"Records": [record, record]}, None) == {"batchItemFailures": []}
    assert Handler.hits.get("/slow") == SHARD_SIZE  # the duplicate found the tick item
    assert sorted(tick_items(sharded)) == ["TICK#1"]


def test_one_shard_runs_in_the_schedule_invocation(sharded, monkeypatch):
    import app

    monkeypatch.setenv("NEWBOOKS_PING_SHARD_SIZE", "500")
    bootstrap.reset()
    result = app.ping(scheduled("ev-3"), None)
    assert result["checked"] == TARGETS and "fanned_out" not in result
    sqs = boto3.client("sqs", region_name="us-east-1")
    assert "Messages" not in sqs.receive_message(QueueUrl=sharded["PING_SHARDS_QUEUE_URL"], WaitTimeSeconds=0)


# --- timeouts follow from configuration ----------------------------------------------------------


def test_function_timeouts_cover_the_longest_check_plus_the_store_margin():
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    mapping = next(m for m in r.MAPPINGS if m.function == "ping_shard")
    for stage, body in config["stages"].items():
        functions = body["lambda_functions"]
        for name in ("ping", "ping_shard"):
            assert functions[name]["lambda_timeout"] > MAX_TIMEOUT_S + STORE_MARGIN_S, (stage, name)
        # Lambda refuses an SQS mapping whose queue hides messages for less than the function runs
        assert r.PING_SHARDS_QUEUE.visibility_timeout_s >= functions["ping_shard"]["lambda_timeout"], stage
        assert mapping.max_concurrency <= functions["ping_shard"]["reserved_concurrency"], stage


def test_a_target_timeout_past_the_budget_is_refused_at_load():
    target = {"name": "slow-site", "url": "https://slow.invalid/"}
    assert parse_target({**target, "timeout": f"{MAX_TIMEOUT_S}s"}).timeout_s == MAX_TIMEOUT_S
    with pytest.raises(InvalidTarget) as caught:
        parse_target({**target, "timeout": f"{MAX_TIMEOUT_S + 1}s"})
    assert str(caught.value) == (
        f"target 'slow-site': timeout must be between 0 and {MAX_TIMEOUT_S}s (a check must finish within the ping "
        f"function's timeout, less {STORE_MARGIN_S}s to store the tick)")
