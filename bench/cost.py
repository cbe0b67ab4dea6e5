"""The monthly AWS bill of newbooks at a given scale, from a sample of the real pipeline on moto.

    .venv/bin/python bench/cost.py [--targets 50] [--interval-min 1] [--sources 10] [--crawls-per-day 24]
        [--changes-per-day 1] [--api-per-day 1000] [--slack-per-day 100] [--followers 200]
        [--scale 100] [--stage prod]

What runs (moto `mock_aws`, everything in one process, peers on 127.0.0.1):
  ping          `UptimeService.run_tick` for 21 schedule minutes (two of them hourly-rollup
                minutes) with a stub checker that answers every target "up" in 20-200 ms, at
                `--targets` and at `--targets x --scale` (sharding and tick item sizes change
                with the count, so both are measured);
  crawl         the crawl dispatcher; the worker on a source whose list changed (PREVIEWSworld
                week 1 -> week 2, real samples served over HTTP) and on an unchanged one;
  fan-out       `release_fanout` on the stream INSERTs of that crawl's new releases, with
                `--followers` series subscriptions, then `deliver_console` on every notification;
  digest flush  one `digest_flush` run;  archive  `tick_archiver` on the sample's expired ticks;
  API           GETs through `chalice.test.Client` (/releases, /releases/{id}, /sources,
                /status, /status/{t}, /healthz); Slack: signed `/newbooks` slash commands and
                the `slack_worker` jobs they enqueue.
What is counted, per handler run: every AWS request (botocore `before-call` hooks on every
client the app builds), DynamoDB capacity units computed from item sizes (bench/uptime_cost.py
`Capacity`: 1 KB write units, 4 KB read units, eventually consistent = half), SQS requests per
started 64 KB of payload, S3 bytes written, the wall time of the handler (Lambda GB-s with the
function's memory from .chalice/config.json; moto in-process makes this an upper bound) and the
bytes of log output (the JSON lines + ~260 bytes of Lambda START/END/REPORT per invocation).
Per-run numbers are then multiplied by runs per day from the flags, and by 30 for a month.
Modelled, not run: SQS event-source polling (Lambda polls each mapped queue with 5 pollers x
3 long-polls a minute even when idle), API Gateway requests, storage (end-of-month size, billed
for the whole month: conservative). Free: EventBridge schedules, DynamoDB stream reads by Lambda.
Prices: us-east-1 list, no free tier. The last line is JSON.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import io
import json
import logging
import math
import os
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1",
                   "NEWBOOKS_STAGE": "bench", "NEWBOOKS_ALLOW_PRIVATE_TARGETS": "1", "NEWBOOKS_LOG_LEVEL": "INFO",
                   "NEWBOOKS_SSM_DISABLED": "1", "SLACK_SIGNING_SECRET": "bench-signing-secret"})
for _name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "SLACK_BOT_TOKEN", "X_API_KEY", "WEBHOOK_SIGNING_SECRET"):
    os.environ.pop(_name, None)

from uptime_cost import Capacity  # noqa: E402  (bench/uptime_cost.py: capacity units from item sizes)

os.environ["NEWBOOKS_LOG_LEVEL"] = "INFO"  # as deployed (uptime_cost sets WARNING on import): logs are billed

PRICE = {
    "wru": 1.25 / 1e6, "rru": 0.25 / 1e6, "ddb_gb_month": 0.25,
    "s3_put": 0.005 / 1e3, "s3_get": 0.0004 / 1e3, "s3_gb_month": 0.023,
    "sqs": 0.40 / 1e6, "lambda_req": 0.20 / 1e6, "gbs": 0.0000166667,
    "apigw": 3.50 / 1e6, "log_gb": 0.50,
}
S3_PUT_CLASS = {"PutObject", "CopyObject", "ListObjectsV2", "ListObjects", "CreateMultipartUpload", "UploadPart",
                "CompleteMultipartUpload"}
DDB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}
LAMBDA_LOG_OVERHEAD = 260  # START / END / REPORT lines per invocation
POLLERS, POLLS_PER_MIN = 5, 3
LIST_LINES = 160  # the sample crawls the first lines of each weekly list (moto writes are slow)


# --- metering ------------------------------------------------------------------------------------


class Run:
    def __init__(self) -> None:
        self.calls: Counter = Counter()
        self.sqs_requests = 0
        self.s3_bytes = 0
        self.capacity = Capacity()
        self.seconds = 0.0
        self.log_bytes = 0
        self.invocations = 0


class Meter:
    """Counts AWS requests of every client the app builds, per named handler run."""

    def __init__(self) -> None:
        self.runs: dict[str, Run] = defaultdict(Run)
        self.current: str | None = None
        self.sizes: dict = {}
        self.pending: dict[int, tuple[str, dict]] = {}
        self.hooked: set[int] = set()
        self.log_sink = io.StringIO()

    def hook(self, client) -> None:
        if id(client) in self.hooked:
            return
        self.hooked.add(id(client))
        client.meta.events.register("before-call.*.*", self._before)
        client.meta.events.register("after-call.*.*", self._after)

    def _run(self) -> Run | None:
        if self.current is None:
            return None
        run = self.runs[self.current]
        run.capacity.sizes = self.sizes  # one ledger of item sizes for every run
        return run

    def _before(self, event_name, params, model, **_):
        run = self._run()
        service = event_name.split(".")[1]
        if run is None:
            return
        run.calls[f"{service}:{model.name}"] += 1
        body = params.get("body")
        if service == "dynamodb":
            data = json.loads(body or b"{}")
            if model.name in DDB_WRITES:
                run.capacity.request(model.name, data)
            else:
                self.pending[id(params.get("context"))] = (model.name, data)
        elif service == "sqs":
            size = len(body or b"") if isinstance(body, (bytes, str)) else len(json.dumps(body or {}))
            run.sqs_requests += max(1, math.ceil(size / 65536))
        elif service == "s3" and model.name == "PutObject":
            payload = params.get("body")
            if hasattr(payload, "getbuffer"):
                size = payload.getbuffer().nbytes
            elif hasattr(payload, "__len__"):
                size = len(payload)
            else:
                size = int(params.get("headers", {}).get("Content-Length", 0) or 0)
            run.s3_bytes += size

    def _after(self, event_name, http_response, model, context=None, **_):
        run = self._run()
        found = self.pending.pop(id(context), None)
        if run is None or found is None or http_response.status_code != 200:
            return
        op, body = found
        run.capacity.response(op, body, json.loads(http_response.content or b"{}"))

    @contextlib.contextmanager
    def measure(self, name: str, invocations: int = 1):
        from chalicelib import aws

        for value in list(aws._clients.values()):
            self.hook(getattr(getattr(value, "meta", None), "client", None) or value)
        handler = logging.getLogger("newbooks").handlers[0]
        sink = io.StringIO()
        previous_stream = handler.setStream(sink)
        self.current = name
        started = time.perf_counter()
        try:
            yield self.runs[name]
        finally:
            run = self.runs[name]
            run.seconds += time.perf_counter() - started
            run.invocations += invocations
            run.log_bytes += len(sink.getvalue().encode()) + LAMBDA_LOG_OVERHEAD * invocations
            self.current = None
            handler.setStream(previous_stream)


def install_client_hooks(meter: Meter) -> None:
    """Every boto3 client/resource the app builds gets the meter's hooks (aws._cached wraps)."""
    from chalicelib import aws

    original = aws._cached

    def cached(kind, service):
        value = original(kind, service)
        meter.hook(value.meta.client if kind == "resource" else value)
        return value

    aws._cached = cached


# --- peers ---------------------------------------------------------------------------------------


class Peer:
    """127.0.0.1: the sample lists as sources (GET /list/<n>), Slack response_url (POST)."""

    def __init__(self) -> None:
        from devstack.samples import read_sample

        self.bodies = {
            1: read_sample("previewsworld-newreleases-txt", "slem1_comicspreviews-parser__catalog-2020-02-19__23c5b25.txt"),
            2: read_sample("previewsworld-newreleases-txt", "slem1_comicspreviews-parser__catalog-2020-02-26__23c5b25.txt"),
        }
        full_lines = {week: body.split(b"\n") for week, body in self.bodies.items()}
        self.full = dict(self.bodies)
        self.bodies = {week: b"\n".join(lines[:LIST_LINES]) for week, lines in full_lines.items()}
        self.week = 1
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                body = b"User-agent: *\nAllow: /\n" if self.path == "/robots.txt" else peer.bodies[peer.week]
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


class StubChecker:
    """Answers every target up in 20-200 ms (the checks themselves cost nothing on AWS)."""

    def __init__(self, policy) -> None:
        self.policy = policy
        self.random = random.Random(7)

    def run(self, targets, extra=None):  # the checker's signature; `extra` ([DOMAIN_EXPIRATION]) unused
        from chalicelib.uptime.checker import CheckResult

        return [CheckResult(name=t.name, ok=True, latency_ms=self.random.randint(20, 200), status=200, ip="192.0.2.1")
                for t in targets]


# --- the sample ------------------------------------------------------------------------------------


def memory_mb(stage: str) -> dict[str, int]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    functions = config["stages"][stage]["lambda_functions"]
    return {name: int(spec.get("lambda_memory_size", 128)) for name, spec in functions.items()}


def ping_sample(meter: Meter, tmp: Path, targets: int, interval: int, tag: str, day: int = 22) -> list[dict]:
    from chalicelib import bootstrap
    from chalicelib.settings import get_settings
    from chalicelib.uptime.service import build

    path = tmp / f"targets-{tag}.yaml"
    path.write_text(f"defaults:\n  timeout: 5s\n  interval: {interval}m\nendpoints:\n" + "".join(
        f"  - name: {tag}-t{i:05d}\n    url: https://t{i}.example.com/health\n" for i in range(targets)))
    os.environ["NEWBOOKS_TARGETS_FILE"] = str(path)
    bootstrap.reset()
    get_settings.cache_clear()
    service = build(get_settings(), clock=lambda: datetime(2026, 11, day, 10, 30, tzinfo=timezone.utc))
    service.checker = StubChecker(service.policy)
    start = datetime(2026, 11, day, 10, 0, tzinfo=timezone.utc)  # each sample its own day: no shared ticks
    # Minutes -3..-1 are the targets' onboarding (PENDING -> UP writes every state once): not
    # counted, as bench/uptime_cost.py does; a day is the steady state. Counting them put 21
    # ticks' worth of onboarding writes into every tick of the day (about 4x the writes).
    for minute in range(-3, 21):  # counted: minutes 0..20, two of them rollup minutes (5 and 20)
        at = start + timedelta(minutes=minute)
        kind = "rollup" if minute in (5, 20) else "normal"
        tick = {"id": f"{tag}-{minute}", "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "detail": {}}
        if minute < 0:
            service.run_tick(tick)
            continue
        with meter.measure(f"ping_{kind}_{tag}"):
            service.run_tick(tick)
    from boto3.dynamodb.types import TypeSerializer

    ser = TypeSerializer()
    table = service.store.checks
    items = [i for i in table.scan()["Items"] if str(i["pk"]).startswith("TICK#") and str(i["sk"]).startswith(f"2026-11-{day}")]
    return [{"eventID": str(n), "eventName": "REMOVE", "userIdentity": {"type": "Service"},
             "dynamodb": {"SequenceNumber": str(n), "Keys": {"pk": ser.serialize(i["pk"]), "sk": ser.serialize(i["sk"])},
                          "OldImage": {k: ser.serialize(v) for k, v in i.items()}}} for n, i in enumerate(items)]


def crawl_sample(meter: Meter, peer: Peer, tmp: Path, followers: int) -> dict:
    import app
    from chalicelib import aws, bootstrap
    from chalicelib.settings import get_settings
    from crawlers.fetcher import Fetcher

    (tmp / "sources.yaml").write_text("sources:\n" + "".join(
        f"  - {{name: s{i}, kind: previewsworld, url: '{peer.url}/list/{i}'}}\n" for i in range(3)))
    os.environ["NEWBOOKS_SOURCES_FILE"] = str(tmp / "sources.yaml")
    bootstrap.reset()
    crawl = bootstrap.crawl_service()
    crawl.fetcher_factory = lambda: Fetcher(user_agent="newbooks-bench", min_host_delay_s=0, sleep=lambda s: None)

    def worker(source: str, hour: str):
        body = json.dumps({"schema_version": 1, "source": source, "scheduled_at": f"2026-11-22T{hour}:00Z"})
        return app.crawl_worker({"Records": [{"messageId": f"{source}-{hour}", "body": body}]}, None)

    with meter.measure("crawl_dispatch"):
        crawl.dispatch({"time": "2026-11-22T09:00:00Z"})
    peer.week = 1
    worker("s0", "09")  # the first crawl ever (a one-off): not part of the steady state
    settings = get_settings()
    releases = aws.table(settings.releases_table)
    before = {i["pk"] for i in releases.scan()["Items"]}
    # followers: series subscriptions over the week-2 list's series (console destinations)
    import crawlers
    from chalicelib.notify.subscriptions import build as subscriptions_build

    week2 = crawlers.parse("previewsworld", peer.full[2])
    series = sorted({r.series or r.title for r in week2 if (r.series or r.title)})
    subs = subscriptions_build(settings)
    rng = random.Random(3)
    for n in range(followers):
        subs.follow(f"console:f{n}", "series", rng.choice(series))
    peer.week = 2
    with meter.measure("crawl_changed"):
        worker("s0", "10")
    with meter.measure("crawl_unchanged"):
        worker("s0", "11")
    new_items = [i for i in releases.scan()["Items"] if i["pk"] not in before and i["sk"] == "META"]
    from boto3.dynamodb.types import TypeSerializer

    ser = TypeSerializer()
    records = [{"eventID": str(n), "eventName": "INSERT",
                "dynamodb": {"Keys": {"pk": ser.serialize(i["pk"]), "sk": ser.serialize("META")},
                             "NewImage": {k: ser.serialize(v) for k, v in i.items()}, "SequenceNumber": str(n)}}
               for n, i in enumerate(new_items)]
    batches = [records[b:b + 100] for b in range(0, len(records), 100)]
    with meter.measure("release_fanout", invocations=len(batches)):
        for batch in batches:
            app.release_fanout({"Records": batch}, None)
    sqs = aws.client("sqs")
    url = settings.notify_queue_urls["console"]
    notifications = 0
    meter.current = None
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                              "attributes": {"ApproximateReceiveCount": "1"}} for m in messages]}
        with meter.measure("deliver_console"), contextlib.redirect_stdout(io.StringIO()) as out:
            app.deliver_console(event, None)
        meter.runs["deliver_console"].log_bytes += len(out.getvalue().encode())  # console channel prints
        for m in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        notifications += len(messages)
    with meter.measure("digest_flush"):
        app.digest_flush(_schedule_event("2026-11-22T12:00:00Z"), None)
    full_items = len(crawlers.parse("previewsworld", peer.full[2]))
    sample_items = len(crawlers.parse("previewsworld", peer.bodies[2]))
    return {"new_releases": len(new_items), "notifications": notifications, "release_ids": [i["id"] for i in new_items],
            "new_per_change": len(new_items) * full_items / max(1, sample_items), "list_grow": full_items / max(1, sample_items)}


def _schedule_event(at: str) -> dict:
    return {"id": "bench", "time": at, "detail": {}, "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "1", "region": "us-east-1", "resources": [], "version": "0"}


def archive_sample(meter: Meter, records: list[dict], per_invocation: int) -> int:
    import app

    batches = [records[b:b + per_invocation] for b in range(0, len(records), per_invocation)]
    with meter.measure("tick_archiver", invocations=len(batches)):
        for batch in batches:
            app.tick_archiver({"Records": batch}, None)
    return len(records)


def api_sample(meter: Meter, release_ids: list[str], target: str, peer: Peer) -> None:
    from chalice.test import Client

    import app
    from chalicelib import aws
    from chalicelib.settings import get_settings

    paths = ["/releases", f"/releases/{release_ids[0]}", "/sources", "/status", f"/status/{target}", "/healthz",
             "/releases", f"/releases/{release_ids[-1]}", "/status", "/releases"]
    with Client(app.app) as client:
        for path in paths:
            with meter.measure("api_handler"):
                client.http.get(path)
        secret = os.environ["SLACK_SIGNING_SECRET"].encode()
        texts = ["help", "this week", "follow Nailbiter", "list", "status"]
        for n, text in enumerate(texts):
            body = urlencode({"command": "/newbooks", "text": text, "user_id": "U1", "channel_id": "C1", "team_id": "T1",
                              "response_url": f"{peer.url}/respond/{n}", "trigger_id": f"t{n}"})
            stamp = str(int(time.time()))
            signature = "v0=" + hmac.new(secret, f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
            with meter.measure("slack_command"):
                client.http.post("/slack/commands", body=body, headers={
                    "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": stamp,
                    "X-Slack-Signature": signature})
    url = get_settings().slack_jobs_queue_url
    sqs = aws.client("sqs")
    jobs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []) if url else []
    for m in jobs:
        with meter.measure("slack_worker"):
            app.slack_worker({"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"],
                                           "body": m["Body"]}]}, None)
    meter.runs["slack_meta"].invocations = len(texts)
    meter.runs["slack_meta"].calls["jobs"] = len(jobs)


# --- the bill --------------------------------------------------------------------------------------


def per_run(run) -> dict:
    n = max(1, run.invocations)
    s3_put = sum(v for k, v in run.calls.items() if k.split(":")[0] == "s3" and k.split(":")[1] in S3_PUT_CLASS)
    s3_get = sum(v for k, v in run.calls.items() if k.split(":")[0] == "s3" and k.split(":")[1] not in S3_PUT_CLASS)
    return {"wru": run.capacity.wru / n, "rru": run.capacity.rru / n, "sqs": run.sqs_requests / n,
            "s3_put": s3_put / n, "s3_get": s3_get / n, "s3_bytes": run.s3_bytes / n,
            "seconds": run.seconds / n, "log_bytes": run.log_bytes / n}


def bill(meter: Meter, a, factor: int, facts: dict, memory: dict[str, int]) -> tuple[dict[str, float], list[str]]:
    """Daily counts per handler -> monthly dollars per line."""
    targets, sources = a.targets * factor, a.sources * factor
    api, slack, followers = a.api_per_day * factor, a.slack_per_day * factor, a.followers * factor
    tag = "x" if factor > 1 else "base"
    # the x-scale sample ran one full shard; run_tick checks every shard in one invocation
    shards = facts[f"shards_{tag}"] if tag == "x" else 1
    ping_normal = {k: v * shards for k, v in per_run(meter.runs[f"ping_normal_{tag}"]).items()}
    ping_rollup = {k: v * shards for k, v in per_run(meter.runs[f"ping_rollup_{tag}"]).items()}
    changes = sources * a.changes_per_day
    new_per_day = changes * facts["new_per_change"]
    notif_per_release = facts["notifications"] / max(1, facts["new_releases"]) * (followers / a.followers)
    notifications = new_per_day * notif_per_release
    ticks_per_day = 1440 * facts[f"shards_{tag}"]
    archive_invocations = min(ticks_per_day, 1440)
    slack_jobs_per_cmd = meter.runs["slack_meta"].calls["jobs"] / max(1, meter.runs["slack_meta"].invocations)
    # release_fanout: measured over the sample's K new releases and N notifications; per day it
    # scales with new releases (subscription queries) and notifications (SQS sends)
    fanout_runs = max(changes, new_per_day / 100)
    total = per_run(meter.runs["release_fanout"])
    total = {k: v * max(1, meter.runs["release_fanout"].invocations) for k, v in total.items()}
    k_new, n_sent = max(1, facts["new_releases"]), max(1, facts["notifications"])
    fanout = {key: value / k_new * new_per_day / fanout_runs for key, value in total.items()}
    fanout["sqs"] = total["sqs"] / n_sent * notifications / fanout_runs
    # a changed crawl's writes, time, bytes and logs grow with the list (the sample cut it)
    changed = per_run(meter.runs["crawl_changed"])
    changed = {k: v * facts["list_grow"] if k in ("wru", "rru", "seconds", "s3_bytes", "log_bytes") else v
               for k, v in changed.items()}
    # handler -> (function, invocations/day, per-invocation measurements)
    plan = [
        ("ping", "ping", 1440 - 48, ping_normal),
        ("ping (rollup minutes)", "ping", 48, ping_rollup),
        ("crawl_dispatch", "crawl_dispatch", a.crawls_per_day, _scaled(per_run(meter.runs["crawl_dispatch"]), "sqs", sources / 3)),
        ("crawl_worker (changed)", "crawl_worker", changes, changed),
        ("crawl_worker (unchanged)", "crawl_worker", sources * a.crawls_per_day - changes, per_run(meter.runs["crawl_unchanged"])),
        ("release_fanout", "release_fanout", fanout_runs, fanout),
        ("deliver_console", "deliver_console", notifications / 10, per_run(meter.runs["deliver_console"])),
        ("digest_flush", "digest_flush", 288, per_run(meter.runs["digest_flush"])),
        ("tick_archiver", "tick_archiver", archive_invocations, per_run(meter.runs["tick_archiver"])),
        ("api_handler (API)", "api_handler", api, per_run(meter.runs["api_handler"])),
        ("api_handler (Slack)", "api_handler", slack, per_run(meter.runs["slack_command"])),
        ("slack_worker", "slack_worker", slack * slack_jobs_per_cmd, per_run(meter.runs["slack_worker"])),
    ]
    totals = defaultdict(float)
    lines = []
    gbs = 0.0
    for label, function, per_day, m in plan:
        month = per_day * 30
        gb = memory[function] / 1024
        billed_s = math.ceil(m["seconds"] * 1000) / 1000
        totals["lambda_requests"] += month * PRICE["lambda_req"]
        totals["lambda_gbs"] += month * billed_s * gb * PRICE["gbs"]
        gbs += month * billed_s * gb
        totals["dynamodb_writes"] += month * m["wru"] * PRICE["wru"]
        totals["dynamodb_reads"] += month * m["rru"] * PRICE["rru"]
        totals["sqs_requests"] += month * m["sqs"] * PRICE["sqs"]
        totals["s3_requests"] += month * (m["s3_put"] * PRICE["s3_put"] + m["s3_get"] * PRICE["s3_get"])
        totals["cloudwatch_logs"] += month * m["log_bytes"] / 1e9 * PRICE["log_gb"]
        totals["_s3_bytes_month"] += month * m["s3_bytes"]
        lines.append(f"  {label:<26} {per_day:>11,.0f}/day {m['seconds'] * 1000:>7.1f} ms {m['wru']:>7.2f} WRU "
                     f"{m['rru']:>7.2f} RRU {m['sqs']:>6.2f} SQS {m['s3_put'] + m['s3_get']:>5.2f} S3 {m['log_bytes']:>7.0f} B log")
    mapped_queues = facts["sqs_mapped_queues"]
    polls = mapped_queues * POLLERS * POLLS_PER_MIN * 1440 * 30
    totals["sqs_polling"] = polls * PRICE["sqs"]
    totals["api_gateway"] = (api + slack) * 30 * PRICE["apigw"]
    totals["s3_storage"] = totals.pop("_s3_bytes_month") / 1e9 * PRICE["s3_gb_month"]
    ddb_bytes = (new_per_day * 30 * facts["release_item_bytes"] + targets * 24 * 30 * facts["rollup_item_bytes"]
                 + ticks_per_day * 2 * facts["tick_item_bytes"] + followers * 300 + (targets + sources) * 600)
    totals["dynamodb_storage"] = ddb_bytes / 1e9 * PRICE["ddb_gb_month"]
    totals["eventbridge_schedules"] = 0.0
    header = [f"  {'handler':<26} {'runs':>15} {'avg':>10} {'per run':>11}"]
    totals["_gbs"] = gbs
    return dict(totals), header + lines


def _scaled(m: dict, key: str, factor: float) -> dict:
    return {**m, key: m[key] * factor}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", type=int, default=50)
    parser.add_argument("--interval-min", type=int, default=1)
    parser.add_argument("--sources", type=int, default=10)
    parser.add_argument("--crawls-per-day", type=int, default=24)
    parser.add_argument("--changes-per-day", type=float, default=1 / 7,
                        help="crawls per source per day that find a changed list (weekly lists: 1/7)")
    parser.add_argument("--api-per-day", type=int, default=1000)
    parser.add_argument("--slack-per-day", type=int, default=100)
    parser.add_argument("--followers", type=int, default=200)
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--stage", default="prod")
    a = parser.parse_args()

    import tempfile

    from moto import mock_aws

    started = time.perf_counter()
    meter = Meter()
    tmp = Path(tempfile.mkdtemp())
    peer = Peer()
    with mock_aws():
        from devstack.deploy import deploy_resources

        for key, value in deploy_resources("bench").items():
            os.environ[key] = value
        from chalicelib import log, resources

        log.get_logger("bench")
        logging.getLogger("newbooks").handlers[0].setStream(io.StringIO())  # logs are metered, not shown
        install_client_hooks(meter)
        phase = lambda name: print(f"[{time.perf_counter() - started:6.1f}s] {name}", file=sys.stderr)  # noqa: E731
        phase("ping sample")
        records = ping_sample(meter, tmp, a.targets, a.interval_min, "base")
        from chalicelib.settings import get_settings

        shard_size = get_settings().ping_shard_size
        phase(f"ping sample x{a.scale}")
        big_records = ping_sample(meter, tmp, min(a.targets * a.scale, shard_size), a.interval_min, "x", day=23)
        os.environ["NEWBOOKS_TARGETS_FILE"] = str(tmp / "targets-base.yaml")  # the API sees the base targets
        per_invocation = max(1, math.ceil(len(records) / 21))  # one minute's expiring ticks per batch window
        archive_sample(meter, records, per_invocation)
        phase("crawl sample")
        crawl = crawl_sample(meter, peer, tmp, a.followers)
        phase("api sample")
        api_sample(meter, crawl["release_ids"], "base-t00000", peer)
        sizes = meter.sizes
        def avg_size(prefix: str) -> float:
            found = [v for k, v in sizes.items() if json.dumps(k[1]).find(prefix) != -1]
            return sum(found) / len(found) if found else 0.0
        facts = {
            "new_releases": crawl["new_releases"], "notifications": crawl["notifications"],
            "new_per_change": crawl["new_per_change"], "list_grow": crawl["list_grow"],
            "batches": [0] * max(1, math.ceil(crawl["new_releases"] / 100)),
            "shards_base": max(1, math.ceil(a.targets / shard_size)),
            "shards_x": max(1, math.ceil(a.targets * a.scale / shard_size)),
            "release_item_bytes": avg_size("REL#"), "rollup_item_bytes": avg_size("ROLLUP#"),
            "tick_item_bytes": avg_size("TICK#"),
            "sqs_mapped_queues": sum(1 for m in resources.MAPPINGS if isinstance(resources.by_logical_id(m.source), resources.Queue)),
        }
        del big_records
    memory = memory_mb(a.stage)
    out = {}
    for factor in (1, a.scale):
        totals, table = bill(meter, a, factor, facts, memory)
        gbs = totals.pop("_gbs")
        total = sum(totals.values())
        out[factor] = (totals, total)
        print(f"\n== {a.targets * factor} targets @ {a.interval_min} min, {a.sources * factor} sources x "
              f"{a.crawls_per_day}/day ({a.changes_per_day:.3g} changed), {a.api_per_day * factor} API + "
              f"{a.slack_per_day * factor} Slack requests/day, {a.followers * factor} followers  (x{factor})")
        print("\n".join(table))
        print(f"  {'line':<28} {'USD/month':>10}")
        for key, value in sorted(totals.items(), key=lambda kv: -kv[1]):
            print(f"  {key:<28} {value:>10.4f}")
        print(f"  {'TOTAL':<28} {total:>10.2f}   (Lambda {gbs:,.0f} GB-s/month)")
    print(f"\nsample: {crawl['new_releases']} new releases in a changed list -> {crawl['notifications']} notifications "
          f"with {a.followers} followers; ran in {time.perf_counter() - started:.1f} s")
    base, big = out[1], out[a.scale]
    print(json.dumps({"bench": "cost", "monthly_usd": round(base[1], 4), "monthly_usd_x100": round(big[1], 4),
                      "scale": a.scale, "lines": {k: round(v, 4) for k, v in base[0].items()},
                      "lines_x100": {k: round(v, 4) for k, v in big[0].items()}}))


if __name__ == "__main__":
    main()
