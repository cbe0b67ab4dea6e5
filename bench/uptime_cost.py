"""Storage requests and cost of uptime for 50 targets at a 1-minute interval, under moto.

    .venv/bin/python bench/uptime_cost.py [--targets 50] [--minutes 120]

Runs `--minutes` real ticks of `UptimeService.run_tick` (a window that contains the hourly
rollup points) against moto `mock_aws`, with a stub checker (no network; one target flaps so
state writes and events happen), plus the TTL archive of those ticks in stream batches of up
to 500 records, and counts every DynamoDB/S3 API call with a botocore `before-call` hook and the
consumed capacity units the calls report (ReturnConsumedCapacity where DynamoDB supports it;
otherwise 1 unit per 1 KB written / 4 KB read, rounded up). The counts are scaled to a day.
Lambda: 256 MB assumed; duration per tick = the measured tick time here (moto in-process, so
pessimistic) unless --tick-seconds is given. Prices: DynamoDB on-demand $1.25/M WRU,
$0.25/M RRU; S3 PUT $0.005/1k, GET $0.0004/1k; Lambda $0.0000166667/GB-s + $0.20/M requests.
Last line: JSON with requests_per_day and monthly_usd.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1",
                   "NEWBOOKS_STAGE": "bench", "NEWBOOKS_ALLOW_PRIVATE_TARGETS": "1"})
os.environ.pop("AWS_ENDPOINT_URL", None)

MEMORY_MB = 256
PRICE = {"wru": 1.25 / 1e6, "rru": 0.25 / 1e6, "put": 0.005 / 1e3, "get": 0.0004 / 1e3,
         "gbs": 0.0000166667, "req": 0.20 / 1e6}


class StubChecker:
    """No network: every target passes, except `flappy`, down for 10 minutes every hour."""

    def __init__(self, policy):
        self.policy = policy
        self.minute = 0

    def run(self, targets):
        from chalicelib.uptime.checker import CheckResult

        down = 20 <= self.minute % 60 < 30
        return [CheckResult(name=t.name, ok=not (t.name == "flappy" and down), latency_ms=120 + i % 50,
                            status=500 if t.name == "flappy" and down else 200,
                            error="status" if t.name == "flappy" and down else None) for i, t in enumerate(targets)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--targets", type=int, default=50)
    parser.add_argument("--minutes", type=int, default=120)
    parser.add_argument("--tick-seconds", type=float, default=None)
    args = parser.parse_args()

    from moto import mock_aws

    with mock_aws():
        from devstack.provision import create_all

        for key, value in create_all("bench").items():
            os.environ[key] = value
        folder = tempfile.mkdtemp()
        path = Path(folder) / "targets.yaml"
        names = ["flappy"] + [f"t{i:02d}" for i in range(args.targets - 1)]
        path.write_text("endpoints:\n" + "".join(f"  - name: {n}\n    url: http://127.0.0.1:9/{n}\n" for n in names))
        os.environ["NEWBOOKS_TARGETS_FILE"] = str(path)
        from chalicelib import aws, bootstrap
        from chalicelib.settings import get_settings
        from chalicelib.uptime.service import build
        from chalicelib.uptime.ssrf import AddressPolicy

        bootstrap.reset()
        stub = StubChecker(AddressPolicy(True))
        service = build(get_settings(), checker=stub)
        calls: Counter = Counter()
        units = Counter()

        def count(event_name, params, **_):
            service_name, op = event_name.split(".")[1], event_name.split(".")[2]
            calls[f"{service_name}.{op}"] += 1
            if service_name == "dynamodb" and op in {"PutItem", "UpdateItem", "GetItem", "Query", "BatchGetItem", "BatchWriteItem", "DeleteItem"}:
                params["ReturnConsumedCapacity"] = "TOTAL"

        def consumed(http_response, parsed, model, event_name, **_):
            if not event_name.startswith("after-call.dynamodb"):
                return
            cc = parsed.get("ConsumedCapacity")
            for entry in cc if isinstance(cc, list) else ([cc] if cc else []):
                write = model.name in {"PutItem", "UpdateItem", "BatchWriteItem", "DeleteItem"}
                units["wru" if write else "rru"] += float(entry.get("CapacityUnits", 0))

        for kind in ("client", "resource"):
            pass
        ddb = aws.resource("dynamodb").meta.client
        s3 = aws.client("s3")
        for client in (ddb, s3):
            client.meta.events.register("before-call.*.*", count)
            client.meta.events.register("after-call.*.*", consumed)

        start = datetime(2026, 11, 22, 9, 50, tzinfo=timezone.utc)
        tick_times = []
        for minute in range(args.minutes):
            at = start + timedelta(minutes=minute)
            stub.minute = at.minute
            began = time.perf_counter()
            service.run_tick({"id": f"e{minute}", "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "detail": {}})
            tick_times.append(time.perf_counter() - began)
            if minute % 7 == 3:  # a duplicate delivery now and then (schedules fire twice)
                service.run_tick({"id": f"d{minute}", "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "detail": {}})

        # TTL archive: stream REMOVE records of the ticks, in batches of up to 500
        raw = ddb.scan(TableName=service.store.checks_name)["Items"]
        ticks = [i for i in raw if i["pk"].startswith("TICK#")]
        from boto3.dynamodb.types import TypeSerializer

        ser = TypeSerializer()
        records = [{"eventID": str(n), "eventName": "REMOVE", "dynamodb": {"SequenceNumber": str(n),
                    "OldImage": {k: ser.serialize(v) for k, v in item.items()}}} for n, item in enumerate(ticks)]
        before_scan = calls["dynamodb.Scan"]
        for b in range(0, len(records), 500):
            service.archive_expired({"Records": records[b : b + 500]})
        calls["dynamodb.Scan"] -= before_scan  # the bench's own scan is not part of the app

    scale = 1440 / args.minutes
    per_day = {k: round(v * scale) for k, v in sorted(calls.items()) if v}
    requests_per_day = sum(per_day.values())
    wru_day, rru_day = units["wru"] * scale, units["rru"] * scale
    puts = per_day.get("s3.PutObject", 0)
    gets = per_day.get("s3.GetObject", 0)
    tick_s = args.tick_seconds if args.tick_seconds is not None else sorted(tick_times)[len(tick_times) // 2]
    invocations_day = 1440
    month = 30
    cost = {
        "dynamodb_writes": wru_day * month * PRICE["wru"],
        "dynamodb_reads": rru_day * month * PRICE["rru"],
        "s3": (puts * PRICE["put"] + gets * PRICE["get"]) * month,
        "lambda": invocations_day * month * (tick_s * MEMORY_MB / 1024 * PRICE["gbs"] + PRICE["req"]),
    }
    monthly = sum(cost.values())
    print(f"simulated {args.minutes} ticks of {args.targets} targets, scaled x{scale:g} to a day")
    for name, n in per_day.items():
        print(f"  {name:28s} {n:8d} /day")
    print(f"  DynamoDB units/day: {wru_day:,.0f} WRU, {rru_day:,.0f} RRU")
    print(f"  Lambda: {MEMORY_MB} MB, median tick {tick_s * 1000:.0f} ms (moto in-process), {invocations_day} invocations/day")
    for name, usd in cost.items():
        print(f"  {name:16s} ${usd:.4f}/month")
    print(f"  total            ${monthly:.4f}/month   (goal < $0.50)")
    print(json.dumps({"bench": "uptime_cost", "targets": args.targets, "requests_per_day": requests_per_day,
                      "wru_per_day": round(wru_day), "rru_per_day": round(rru_day), "memory_mb": MEMORY_MB,
                      "tick_s": round(tick_s, 3), "monthly_usd": round(monthly, 4),
                      "breakdown_usd": {k: round(v, 4) for k, v in cost.items()}}))


if __name__ == "__main__":
    main()
