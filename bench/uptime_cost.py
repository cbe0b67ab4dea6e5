"""Storage requests and cost of uptime for 50 targets at a 1-minute interval, under moto.

    .venv/bin/python bench/uptime_cost.py [--targets 50] [--minutes 120] [--stage prod] [--peer-delay 0.2]

Runs (after 3 uncounted ticks that take the new targets past PENDING) `--minutes` real ticks of
`UptimeService.run_tick` (a window that contains the hourly
rollup points, with a duplicate delivery every 7th minute) against moto `mock_aws`, with the
real `Checker` against a loopback peer in a child process that answers after `--peer-delay`
seconds (one target, `flappy`, answers 500 for ten minutes of every hour so state writes and
events happen), plus the TTL archive of those ticks in stream batches of up to 500 records.

Counting. Every DynamoDB/S3 API call is counted with botocore `before-call` hooks. Capacity
units are computed here from item sizes (moto's ConsumedCapacity is not trusted): item size =
attribute names + values (strings/binary by length, numbers ~1 byte per 2 digits + 1, lists and
maps 3 bytes + 1 per element), from the wire JSON of each request and response.
  writes: 1 WRU per started 1 KB of the larger of the old and new item, per item (PutItem,
          UpdateItem, DeleteItem, each BatchWriteItem request); a failed conditional write
          still costs its units. Old sizes come from a ledger of what this run wrote.
  reads:  GetItem / each BatchGetItem item: 1 RRU per started 4 KB strongly consistent, 0.5
          eventually consistent (a missing item costs the minimum); Query: the sizes of all
          items read are summed, then rounded up to 4 KB (per page); a projection does not
          reduce it (the full item size from the ledger is used).
Counts and units are scaled to a day (x 1440 / minutes) and to a 30-day month.
Lambda: memory of the `ping` function read from .chalice/config.json (`--stage`), duration =
the median measured `run_tick` wall time here (moto in-process + real checks on loopback),
billed per 1 ms. Prices (us-east-1 list): DynamoDB on-demand $1.25/M WRU, $0.25/M RRU; S3 PUT
$0.005/1k, GET $0.0004/1k; Lambda $0.0000166667/GB-s + $0.20/M requests. No free tier.
Last line: JSON with requests_per_day, monthly_usd and the breakdown. Goal: < $0.50/month.
"""
from __future__ import annotations

import argparse
import base64
import json
import math
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1",
                   "NEWBOOKS_STAGE": "bench", "NEWBOOKS_ALLOW_PRIVATE_TARGETS": "1", "NEWBOOKS_LOG_LEVEL": "WARNING"})
os.environ.pop("AWS_ENDPOINT_URL", None)

ROOT = Path(__file__).resolve().parent.parent
PRICE = {"wru": 1.25 / 1e6, "rru": 0.25 / 1e6, "put": 0.005 / 1e3, "get": 0.0004 / 1e3,
         "gbs": 0.0000166667, "req": 0.20 / 1e6}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}


def ping_memory_mb(stage: str) -> int:
    """lambda_memory_size of `ping` in .chalice/config.json (function, then stage, then top level)."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    stage_cfg = config.get("stages", {}).get(stage, {})
    for scope in (stage_cfg.get("lambda_functions", {}).get("ping", {}), stage_cfg, config):
        if "lambda_memory_size" in scope:
            return int(scope["lambda_memory_size"])
    return 128  # Lambda's default


# --- DynamoDB item sizes from the wire format -------------------------------------------------

def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").split("E")[0].split("e")[0].strip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def value_size(value: dict) -> int:
    (kind, raw), = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        return _number_size(raw)
    if kind == "B":
        return len(base64.b64decode(raw))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(x.encode()) for x in raw)
    if kind == "NS":
        return sum(_number_size(x) for x in raw)
    if kind == "BS":
        return sum(len(base64.b64decode(x)) for x in raw)
    if kind == "L":
        return 3 + sum(1 + value_size(x) for x in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in raw.items())
    raise ValueError(kind)


def item_size(item: dict) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def _key(table: str, item: dict) -> tuple:
    return table, json.dumps(item.get("pk")), json.dumps(item.get("sk"))


class Capacity:
    """Capacity units computed from request/response bodies (see the module docstring)."""

    def __init__(self):
        self.sizes: dict[tuple, int] = {}  # (table, pk, sk) -> size of the item as last written
        self.wru = 0.0
        self.rru = 0.0

    def _write(self, table: str, key_item: dict, new_size: int) -> None:
        key = _key(table, key_item)
        old = self.sizes.get(key, 0)
        self.wru += max(1, math.ceil(max(old, new_size) / 1024))
        if new_size:
            self.sizes[key] = new_size
        else:
            self.sizes.pop(key, None)

    def request(self, op: str, body: dict) -> None:
        if op == "PutItem":
            self._write(body["TableName"], body["Item"], item_size(body["Item"]))
        elif op == "DeleteItem":
            self._write(body["TableName"], body["Key"], 0)
        elif op == "UpdateItem":  # new size ~ old size + the values written (an upper bound)
            key = _key(body["TableName"], body["Key"])
            added = sum(value_size(v) for v in body.get("ExpressionAttributeValues", {}).values())
            added += sum(len(n.encode()) for n in body.get("ExpressionAttributeNames", {}).values())
            self._write(body["TableName"], body["Key"], self.sizes.get(key, item_size(body["Key"])) + added)
        elif op == "BatchWriteItem":
            for table, requests in body["RequestItems"].items():
                for request in requests:
                    if "PutRequest" in request:
                        item = request["PutRequest"]["Item"]
                        self._write(table, item, item_size(item))
                    else:
                        self._write(table, request["DeleteRequest"]["Key"], 0)

    def response(self, op: str, body: dict, reply: dict) -> None:
        if op == "GetItem":
            self._read(body.get("ConsistentRead", False), [self._full(body["TableName"], reply.get("Item"))])
        elif op == "BatchGetItem":
            for table, request in body["RequestItems"].items():
                found = reply.get("Responses", {}).get(table, [])
                sizes = [self._full(table, item) for item in found]
                missing = len(request["Keys"]) - len(found) - len(reply.get("UnprocessedKeys", {}).get(table, {}).get("Keys", []))
                self._read(request.get("ConsistentRead", False), sizes + [0] * max(0, missing))
        elif op == "Query":
            total = sum(self._full(body["TableName"], item) for item in reply.get("Items", []))
            self._read(body.get("ConsistentRead", False), [total])

    def _full(self, table: str, item: dict | None) -> int:
        if not item:
            return 0
        return max(item_size(item), self.sizes.get(_key(table, item), 0))  # projections still pay full size

    def _read(self, consistent: bool, sizes: list[int]) -> None:
        factor = 1.0 if consistent else 0.5
        self.rru += sum(max(1, math.ceil(size / 4096)) * factor for size in sizes)


# --- the loopback peer ----------------------------------------------------------------------

def serve(port_queue, delay: float, flappy_down) -> None:
    """HTTP/1.1 peer in a child process: 200 {"status":"up"} after `delay`; /flappy answers 500
    while the shared `flappy_down` flag is set."""
    import asyncio

    class Peer(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport, self.buffer = transport, b""

        def data_received(self, data):
            self.buffer += data
            if b"\r\n\r\n" in self.buffer:
                status = b"500 Internal Server Error" if b" /flappy " in self.buffer and flappy_down.value else b"200 OK"
                response = b"HTTP/1.1 " + status + b"\r\nContent-Length: 15\r\nConnection: close\r\n\r\n{\"status\":\"up\"}"
                asyncio.get_running_loop().call_later(delay, self.transport.write, response)

    async def listen():
        server = await asyncio.get_running_loop().create_server(Peer, "127.0.0.1", 0, backlog=1024)
        port_queue.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(listen())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--targets", type=int, default=50)
    parser.add_argument("--minutes", type=int, default=120)
    parser.add_argument("--stage", default="prod")
    parser.add_argument("--peer-delay", type=float, default=0.2)
    args = parser.parse_args()
    memory_mb = ping_memory_mb(args.stage)

    queue, flappy_down = multiprocessing.Queue(), multiprocessing.Value("b", 0)
    peer = multiprocessing.Process(target=serve, args=(queue, args.peer_delay, flappy_down), daemon=True)
    peer.start()
    port = queue.get(timeout=10)

    from moto import mock_aws

    try:
        with mock_aws():
            calls, capacity, tick_times, view = run(args, port, flappy_down)
    finally:
        peer.terminate()
        peer.join(5)

    scale = 1440 / args.minutes
    per_day = {k: round(v * scale) for k, v in sorted(calls.items()) if v}
    requests_per_day = sum(per_day.values())
    wru_day, rru_day = capacity.wru * scale, capacity.rru * scale
    puts = per_day.get("s3.PutObject", 0)
    gets = per_day.get("s3.GetObject", 0)
    tick_s = statistics.median(tick_times)
    billed_s = math.ceil(tick_s * 1000) / 1000
    invocations_day, month = 1440, 30
    cost = {
        "dynamodb_writes": wru_day * month * PRICE["wru"],
        "dynamodb_reads": rru_day * month * PRICE["rru"],
        "s3": (puts * PRICE["put"] + gets * PRICE["get"]) * month,
        "lambda": invocations_day * month * (billed_s * memory_mb / 1024 * PRICE["gbs"] + PRICE["req"]),
    }
    monthly = sum(cost.values())
    print(f"simulated {args.minutes} ticks of {args.targets} targets, scaled x{scale:g} to a day")
    for name, n in per_day.items():
        print(f"  {name:28s} {n:8d} /day")
    print(f"  DynamoDB units/day (computed from item sizes): {wru_day:,.0f} WRU, {rru_day:,.0f} RRU")
    print(f"  Lambda: ping {memory_mb} MB (.chalice/config.json, stage {args.stage}), median tick "
          f"{tick_s * 1000:.0f} ms (moto in-process + checks answering after {args.peer_delay:g} s), "
          f"{invocations_day} invocations/day")
    for name, usd in cost.items():
        print(f"  {name:16s} ${usd:.4f}/month")
    print(f"  total            ${monthly:.4f}/month   (goal < $0.50)")
    print(f"status page view, items read per target with 90 days stored: before {view['items_per_target_before']:,.0f} "
          f"(hourly rollups), after {view['day_items_per_target_after']:,.0f} daily summary items "
          f"(whole view of {view['targets_in_view']} targets: {view['items_per_view_after']:,} items incl. states and 120 min of ticks)")
    print(json.dumps({"bench": "uptime_cost", "targets": args.targets, "minutes": args.minutes,
                      "requests_per_day": requests_per_day, "requests_by_op_per_day": per_day,
                      "wru_per_day": round(wru_day), "rru_per_day": round(rru_day, 1), "memory_mb": memory_mb,
                      "stage": args.stage, "tick_s": round(tick_s, 3), "peer_delay_s": args.peer_delay,
                      "monthly_usd": round(monthly, 4), "breakdown_usd": {k: round(v, 4) for k, v in cost.items()},
                      "status_view": view, "goal_met": monthly < 0.50}))


def run(args, port: int, flappy_down):
    from devstack.deploy import deploy_resources

    for key, value in deploy_resources("bench").items():
        os.environ[key] = value
    folder = tempfile.mkdtemp()
    path = Path(folder) / "targets.yaml"
    names = ["flappy"] + [f"t{i:02d}" for i in range(args.targets - 1)]
    path.write_text("defaults:\n  timeout: 5s\nendpoints:\n" + "".join(
        f"  - name: {n}\n    url: http://127.0.0.1:{port}/{n}\n" for n in names))
    os.environ["NEWBOOKS_TARGETS_FILE"] = str(path)
    from chalicelib import aws, bootstrap
    from chalicelib.settings import get_settings
    from chalicelib.uptime.service import build

    bootstrap.reset()
    get_settings.cache_clear()
    service = build(get_settings())
    calls: Counter = Counter()
    capacity = Capacity()
    counting = [True]

    def before(event_name, params, model, **_):
        service_name, op = event_name.split(".")[1], event_name.split(".")[2]
        if not counting[0]:
            return
        calls[f"{service_name}.{op}"] += 1
        if service_name == "dynamodb" and op in WRITES:
            capacity.request(op, json.loads(params["body"]))
        if service_name == "dynamodb":
            pending[id(params["context"])] = json.loads(params["body"])

    def after(event_name, http_response, model, context=None, **_):
        if not counting[0] or not event_name.startswith("after-call.dynamodb"):
            return
        body = pending.pop(id(context), None)
        if body is not None and http_response.status_code == 200 and model.name not in WRITES:
            capacity.response(model.name, body, json.loads(http_response.content or b"{}"))

    pending: dict[int, dict] = {}
    ddb = aws.resource("dynamodb").meta.client
    clients = {id(ddb): ddb, id(aws.client("dynamodb")): aws.client("dynamodb"), id(aws.client("s3")): aws.client("s3")}
    for client in clients.values():
        client.meta.events.register("before-call.*.*", before)
        client.meta.events.register("after-call.*.*", after)

    start = datetime(2026, 11, 22, 9, 50, tzinfo=timezone.utc)
    # steady state: new targets are PENDING and written until decided (success threshold 2);
    # that one-off onboarding is not a daily cost, so three ticks before `start` are not counted
    counting[0] = False
    for minute in range(-3, 0):
        at = start + timedelta(minutes=minute)
        service.run_tick({"id": f"w{minute}", "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "detail": {}})
    counting[0] = True
    tick_times = []
    for minute in range(args.minutes):
        at = start + timedelta(minutes=minute)
        flappy_down.value = int(20 <= at.minute < 30)
        began = time.perf_counter()
        service.run_tick({"id": f"e{minute}", "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "detail": {}})
        tick_times.append(time.perf_counter() - began)
        if minute % 7 == 3:  # a duplicate delivery now and then (schedules fire twice)
            service.run_tick({"id": f"d{minute}", "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "detail": {}})

    # TTL archive: stream REMOVE records of the ticks, in batches of up to 500
    counting[0] = False  # the bench's own scan is not part of the app
    raw = ddb.scan(TableName=service.store.checks_name)["Items"]
    counting[0] = True
    ticks = [i for i in raw if i["pk"].startswith("TICK#")]
    from boto3.dynamodb.types import TypeSerializer

    ser = TypeSerializer()
    records = [{"eventID": str(n), "eventName": "REMOVE", "dynamodb": {"SequenceNumber": str(n),
                "OldImage": {k: ser.serialize(v) for k, v in item.items()}}} for n, item in enumerate(ticks)]
    for b in range(0, len(records), 500):
        service.archive_expired({"Records": records[b : b + 500]})
    counting[0] = False
    view = view_reads(service, ddb, start + timedelta(minutes=args.minutes))
    counting[0] = True
    return calls, capacity, tick_times, view


def view_reads(service, ddb, now):
    """Items read by one /pages/status view, per target, with 90 days of history stored: the
    old read path (24 hourly rollups for the 24 h figure + 2,160 for the bars) against the new
    one (status_board: <= 91 daily summary items). Two targets get
    90 days of hourly rollups and daily summaries written straight through the store; items
    are counted from the DynamoDB responses (Items, Responses, Item) with botocore hooks."""
    from chalicelib.uptime.rollup import Rollup, day_value

    names = ["flappy", "t00"]
    first = now - timedelta(days=89)
    for day in range(90):
        for hour in range(24):
            at = (first + timedelta(days=day)).replace(hour=hour)
            key = at.strftime("%Y-%m-%dT%H")
            r = Rollup(checks=60, passes=59, fails=1, expected=60)
            service.store.put_rollups({n: (key, r.to_item()) for n in names}, int(at.timestamp()) + 3600)
            service.store.put_day_hours(key, {n: day_value(r) for n in names}, int(at.timestamp()) + 3600)
    counted = [0]

    def after(http_response, model, **_):
        if model.name in ("Query", "GetItem", "BatchGetItem", "Scan"):
            body = json.loads(http_response.content or b"{}")
            counted[0] += len(body.get("Items", [])) + int("Item" in body)
            counted[0] += sum(len(v) for v in (body.get("Responses") or {}).values())

    ddb.meta.events.register("after-call.dynamodb.*", after)
    service.clock = lambda: now
    first_hour = (now.date() - timedelta(days=89)).isoformat() + "T00"
    day_ago = (now - timedelta(hours=24)).strftime("%Y-%m-%dT%H")
    counted[0] = 0
    for name in names:  # the old path: what the page read per target before the daily summary
        service.store.rollups(name, day_ago)
        service.store.rollups(name, first_hour)
    before = counted[0] / len(names)
    counted[0] = 0
    rows = [t for t in service.status_board().targets if t.name in names]
    after_all = counted[0]
    per_target_days = sum(len({hour[:10] for hour in t.hours}) for t in rows) / len(rows)  # one summary item a day
    ddb.meta.events.unregister("after-call.dynamodb.*", after)
    return {"items_per_target_before": before, "day_items_per_target_after": per_target_days,
            "items_per_view_after": after_all, "targets_in_view": len(service.targets())}


if __name__ == "__main__":
    main()
