"""The whole pipeline the way it fails in production, on the local stack.

While crawls, checks and deliveries flow, the stack runs with fault injection on
(devstack/chaos.py): retryable AWS faults (DynamoDB throughput/throttling, S3 SlowDown/500, SQS
send 500s), schedules fired twice or skipped, queue and stream batches delivered twice, late and
out of order. The Slack, X and webhook peers here answer 429 with Retry-After, 500, and hang past
the client timeout on a fixed rhythm. Mid-stream the runner (Lambda's stand-in) is SIGKILLed and
comes back as a "new version" writing events with the next schema version.

Afterwards: every new release and every state change reached every subscribed destination exactly
once (Slack by message metadata, ntfy by the event tag it polls for; webhook receivers dedupe on
X-Newbooks-Delivery and X refuses duplicate text, as documented, so their repeats are counted as
redeliveries), nothing was lost,
the poison destination's messages sit in the DLQ with their reason, and the stored releases
equal what a clean run of the same pages stores (ids, fields and source refs).

Issue 12 in the mix: the Image Comics series page moves a followed release's date three times
between crawls (out to a future week, back, then to another week), while the runner is killed and
batches are duplicated and late: the stored item, the API, the week list and the iCal feed end on
the last date, and every follower gets each "moved from X to Y" exactly once (one
release.date_changed event per move). Rat Queens #1 comes as CVR A, B and C in the Diamond list:
followers get one post for the issue, naming its three editions.

Hostile targets (devstack/hostile_peer.py, in its own process) are checked next to the healthy
one: each ends DOWN with its own error while `chaos-ok` stays UP. A heartbeat monitor is pinged
through the API: `/fail` turns it DOWN, a success brings it back, each alert delivered once.
"""
from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.request
from collections import Counter
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote

import pytest

from chalicelib.notify.channels import event_tag
from chalicelib.uptime.decide import HOLE_WAIT_MINUTES
from devstack.samples import read_sample, samples_dir
from tests.e2e.stack import REPORT, Stack, get_json, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

PAGES = {
    "nailbiter-series": ("publisher-release-html", "exqir__imagecomics_series_nailbiter__396e9c8.html"),
    "nailbiter-archive": ("publisher-release-html", "exqir__imagecomics_release-archive_series_nailbiter__396e9c8.html"),
    # issue 12: the same NAILBITER #30 from Diamond (no shared ISBN): merged into Image's work, told once
    "diamond-week": ("previewsworld-newreleases-csv", "vokurka_comics__raw_Export_csv_releaseDate_2017-03-01.csv"),
}
KINDS = {"diamond-week": "previewsworld"}  # the others are Image Comics pages
CHAOS = {"seed": int(os.environ.get("NEWBOOKS_CHAOS_SEED", "11")), "aws_fault_rate": 0.04, "duplicate_rate": 0.3, "late_rate": 0.2,
         "duplicate_schedule_rate": 0.3, "skip_schedule_rate": 0.1}
TOTALS: dict[str, int] = {}
SIGNING_SECRET = "chaos-signing-secret-789"
# issue 12: the release whose date moves (only on the series page) and the page's date text for it
MOVING = "imagecomics:nailbiter-vol.-6-the-bloody-truth-tp"
MOVING_TEXT, MOVING_FROM = b"Published: May 3, 2017", "2017-05-03"
FOLLOWED = ("Nailbiter", "Rat Queens")  # Rat Queens #1: CVR A, B, C in the Diamond week
CRAWL_EVERY_S = 20  # the dev runner's crawl schedule: each move is crawled within seconds
# A skipped tick (skip_schedule_rate) is a young hole: the state machine decides nothing past it
# for HOLE_WAIT_MINUTES (decide.py), so a heartbeat verdict may take that plus a few ticks.
VERDICT_WAIT_S = (HOLE_WAIT_MINUTES + 3) * 60


def published(day: date) -> bytes:
    """The series page with the moving release's date text set to `day` (as Image prints it)."""
    return f"Published: {day:%B} {day.day}, {day.year}".encode()


def move_dates(today: date) -> list[tuple[str, str]]:
    """The moves the peer makes, (from, to): out to a Wednesday a month ahead (so the iCal feed of
    upcoming releases shows it), back to the original date, then to two weeks after the first."""
    from datetime import timedelta

    ahead = today + timedelta(days=28 + (2 - today.weekday()) % 7)
    later = ahead + timedelta(days=14)
    return [(MOVING_FROM, ahead.isoformat()), (ahead.isoformat(), MOVING_FROM), (MOVING_FROM, later.isoformat())]


def move_event_ids(moves: list[tuple[str, str]]) -> list[str]:
    """release.date_changed ids, one per move (crawl/store.py): from the second move on they name
    the version the move makes (the item is version 1 when first stored)."""
    return [f"release.date_changed:{MOVING}:{a}>{b}" + (f":v{n + 2}" if n else "") for n, (a, b) in enumerate(moves)]


def click(base: str, peers_url: str, action: dict) -> int:
    """A signed block_actions payload, as Slack posts a button click (the same click, re-sent,
    gets a new timestamp and signature, so only the ledger can tell it is a repeat)."""
    import hashlib
    import hmac
    import urllib.request
    from urllib.parse import urlencode

    payload = {"type": "block_actions", "user": {"id": "U9"}, "channel": {"id": "C9"}, "trigger_id": "1.2.3",
               "container": {"type": "message", "message_ts": "1.000001", "channel_id": "C9"},
               "message": {"ts": "1.000001", "text": "alert", "blocks": [{"type": "actions", "block_id": "alert_actions",
                           "elements": [{"type": "button", "action_id": "ack_alert", "text": {"type": "plain_text", "text": "Ack"}}]}]},
               "response_url": f"{peers_url}/response/{action['action_id']}",
               "actions": [{**action, "type": "button", "action_ts": "1700000000.000100"}]}
    body = urlencode({"payload": json.dumps(payload)}).encode()
    ts = str(int(time.time()))
    signature = "v0=" + hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(f"{base}/slack/interactions", data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


class Peers:
    """Slack Web API, X API v2 and webhook receivers on 127.0.0.1, recording every accepted
    post. Every 7th request gets 429 (Retry-After: 1), every 11th a 500, every 23rd hangs past
    the client's 10 s timeout (and is then not counted: the client gave up on it)."""

    def __init__(self, site_pages: dict[str, bytes]):
        self.lock = threading.Lock()
        self.requests = 0
        self.injected = Counter()
        self.slack: Counter = Counter()  # (channel, event id) -> accepted posts
        self.slack_text: dict = {}  # (channel, event id) -> the accepted post's text and blocks
        self.tweets: Counter = Counter()  # text -> accepted posts
        self.webhooks: Counter = Counter()  # delivery id -> processed deliveries
        self.ntfy: Counter = Counter()  # event tag -> messages published to the ntfy topic
        self.responses: Counter = Counter()  # Slack response_url path -> accepted answers to a button click
        self.redeliveries: Counter = Counter()  # refused (X) or deduped (webhook) repeats
        self.pages = site_pages
        peers = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):  # the release pages and targets
                path = self.path.split("?")[0]
                if path == "/robots.txt":
                    return self.reply(200, b"User-agent: *\nAllow: /\n", "text/plain")
                if path == "/target/ok":
                    return self.reply(200, b"ok", "text/plain")
                if path == "/target/down":
                    return self.reply(500, b"down", "text/plain")
                if path == "/ntfy/chaos-topic/json":  # ntfy's poll: what the topic holds
                    with peers.lock:
                        lines = [json.dumps({"event": "message", "tags": ["newbooks", tag]}) for tag in peers.ntfy]
                    return self.reply(200, "\n".join(lines).encode() + b"\n", "application/x-ndjson")
                name = path.strip("/")
                if name in peers.pages:
                    return self.reply(200, peers.pages[name], "text/html")
                return self.reply(404, b"", "text/plain")

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.startswith("/webhook/broken"):
                    return self.reply(410, b'{"error":"gone"}', "application/json")  # permanent: poison
                fault = peers.fault()
                if fault == 429:
                    return self.reply(429, b'{"ok":false,"error":"ratelimited"}', "application/json", {"Retry-After": "1"})
                if fault == 500:
                    return self.reply(500, b'{"ok":false,"error":"internal_error"}', "application/json")
                if fault == "hang":
                    time.sleep(11)
                    return self.reply(503, b"{}", "application/json")
                with peers.lock:
                    if self.path.startswith(("/slack/api/conversations.history", "/slack/api/conversations.replies")):
                        query = _slack_payload(body, self.headers.get("Content-Type", ""))
                        messages = [{"ts": "1.0", "metadata": {"event_type": "newbooks_event", "event_payload": {"event_id": e}}}
                                    for (channel, e), n in peers.slack.items() if channel == query.get("channel") and n]
                        return self.reply(200, json.dumps({"ok": True, "messages": messages}).encode(), "application/json")
                    if self.path.startswith("/slack/api/chat.postMessage"):
                        payload = _slack_payload(body, self.headers.get("Content-Type", ""))
                        event_id = (payload.get("metadata") or {}).get("event_payload", {}).get("event_id")
                        peers.slack[(payload.get("channel"), event_id)] += 1
                        peers.slack_text[(payload.get("channel"), event_id)] = json.dumps(
                            [payload.get("text"), payload.get("blocks")], ensure_ascii=False)
                        reply = {"ok": True, "channel": payload.get("channel"), "ts": f"{time.time():.6f}"}
                        return self.reply(200, json.dumps(reply).encode(), "application/json")
                    if self.path.startswith("/slack/api/chat.update"):  # incident parents rewritten in place
                        payload = _slack_payload(body, self.headers.get("Content-Type", ""))
                        reply = {"ok": True, "channel": payload.get("channel"), "ts": payload.get("ts")}
                        return self.reply(200, json.dumps(reply).encode(), "application/json")
                    if self.path.startswith("/response/"):  # Slack's response_url for button clicks
                        peers.responses[self.path] += 1
                        return self.reply(200, b"ok", "text/plain")
                    if self.path.startswith("/ntfy/chaos-topic"):  # ntfy keeps every publish: a repeat is a double post
                        tag = next((t for t in (self.headers.get("Tags") or "").split(",") if t.startswith("nb-")), "")
                        peers.ntfy[tag] += 1
                        return self.reply(200, json.dumps({"id": f"n{len(peers.ntfy)}", "event": "message"}).encode(),
                                          "application/json")
                    if self.path.startswith("/x/2/tweets"):
                        text = json.loads(body)["text"]
                        if peers.tweets[text]:  # X refuses identical text, as the real API does
                            peers.redeliveries["x"] += 1
                            detail = {"detail": "You are not allowed to create a Tweet with duplicate content."}
                            return self.reply(403, json.dumps(detail).encode(), "application/json")
                        peers.tweets[text] += 1
                        return self.reply(201, json.dumps({"data": {"id": str(len(peers.tweets))}}).encode(), "application/json")
                    if self.path.startswith("/webhook/hook"):
                        delivery = self.headers.get("X-Newbooks-Delivery")
                        if peers.webhooks[delivery]:  # receivers dedupe on the documented header
                            peers.redeliveries["webhook"] += 1
                        else:
                            peers.webhooks[delivery] += 1
                        return self.reply(200, b"{}", "application/json")
                return self.reply(404, b"{}", "application/json")

            def reply(self, status, body, content_type, headers=None):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client timed out and left

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def fault(self):
        with self.lock:
            self.requests += 1
            n = self.requests
            kind = 429 if n % 7 == 0 else 500 if n % 11 == 0 else "hang" if n % 23 == 0 else None
            if kind:
                self.injected[str(kind)] += 1
            return kind

    def posts(self) -> int:
        with self.lock:
            return sum(self.slack.values()) + sum(self.tweets.values()) + sum(self.webhooks.values()) + sum(self.ntfy.values())


def _slack_payload(body: bytes, content_type: str) -> dict:
    if "json" in content_type:
        return json.loads(body)
    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    for key in ("metadata", "blocks"):
        if isinstance(form.get(key), str):
            form[key] = json.loads(form[key])
    return form


HOSTILE = ("cl-super", "deep-json", "many-1xx", "garbage", "reset", "redos", "drip")
BEAT_TOKEN = "chaos-heartbeat-token-0123456789"


def _config(tmp: Path, peers: Peers, hostile_url: str = "") -> dict[str, str]:
    sources = tmp / "sources.yaml"
    sources.write_text("sources:\n" + "".join(
        f"  - {{name: {name}, kind: {KINDS.get(name, 'imagecomics')}, url: '{peers.url}/{name}'}}\n" for name in PAGES))
    targets = tmp / "targets.yaml"
    targets.write_text(f"""endpoints:
  - name: chaos-ok
    url: "{peers.url}/target/ok"
    conditions: ["[STATUS] == 200"]
    failure-threshold: 1
    alerts: [console]
  - name: chaos-down
    url: "{peers.url}/target/down"
    conditions: ["[STATUS] == 200"]
    failure-threshold: 1
    alerts: [console]
  - name: chaos-beat
    heartbeat: {{token: "${{CHAOS_BEAT_TOKEN}}", period: 1h, grace: 1h}}
    alerts: [console]
""" + "".join(f"""  - name: hostile-{shape}
    url: "{hostile_url}/{shape}"
    conditions: [{'"[BODY] == re(^(a+)+$)"' if shape == "redos" else '"[STATUS] == 200", "[BODY].status == up"'}]
    timeout: 3s
    failure-threshold: 1
    alerts: [console]
""" for shape in (HOSTILE if hostile_url else ())) + """grouping: {share: 1.0, min-targets: 1000}
""")
    subs = tmp / "subscriptions.yaml"
    subs.write_text("""subscriptions:
  - {destination: "slack:C1", kind: target, match: "*"}
  - {destination: "webhook:hook", kind: target, match: "*"}
  - {destination: "webhook:broken", kind: target, match: "*"}
  - {destination: "ntfy:phone", kind: target, match: "*"}
""" + "".join(f'  - {{destination: "{d}", kind: series, match: "{series}"}}\n'
              for series in FOLLOWED for d in ("slack:C1", "x:default", "webhook:hook", "ntfy:phone")))
    return {
        "NEWBOOKS_SOURCES_FILE": str(sources), "NEWBOOKS_TARGETS_FILE": str(targets),
        "NEWBOOKS_SUBSCRIPTIONS_FILE": str(subs), "NEWBOOKS_CHAOS": json.dumps(CHAOS),
        "SLACK_BOT_TOKEN": "xoxb-chaos-token-123", "SLACK_API_URL": f"{peers.url}/slack/api/",
        "X_API_URL": f"{peers.url}/x", "X_API_KEY": "ck-chaos", "X_API_SECRET": "cs-chaos",
        "X_ACCESS_TOKEN": "at-chaos", "X_ACCESS_TOKEN_SECRET": "as-chaos",
        "NEWBOOKS_WEBHOOK_HOOK_URL": f"{peers.url}/webhook/hook",
        "NEWBOOKS_WEBHOOK_BROKEN_URL": f"{peers.url}/webhook/broken",
        "WEBHOOK_SIGNING_SECRET": "whsec-chaos-456",
        "NTFY_URL": f"{peers.url}/ntfy", "NTFY_TOPIC_PHONE": "chaos-topic",  # reconciled by polling the topic
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        # A killed deliverer's claim is retried once stale: 30 s still exceeds the longest send
        # (10 s client timeout + inline Retry-After waits), and keeps the run short.
        "NEWBOOKS_LEDGER_STALE_S": "30",
        # Every release as its own post (no hourly burst digest), so each one is checked.
        "NEWBOOKS_NOTIFY_BURST_LIMIT": "0",
        "CHAOS_BEAT_TOKEN": BEAT_TOKEN,
    }


class Moto:
    """Reads the stack's AWS state straight from its moto server."""

    def __init__(self, url: str):
        import boto3

        kwargs = {"endpoint_url": url, "region_name": "us-east-1", "aws_access_key_id": "local",
                  "aws_secret_access_key": "local"}
        self.ddb = boto3.resource("dynamodb", **kwargs)
        self.sqs = boto3.client("sqs", **kwargs)

    def items(self, table: str) -> list[dict]:
        from chalicelib import aws

        return list(aws.all_items(self.ddb.Table(f"newbooks-dev-{table}").scan))  # test inspection only

    def release(self, release_id: str) -> dict:
        return self.ddb.Table("newbooks-dev-releases").get_item(Key={"pk": f"REL#{release_id}", "sk": "META"},
                                                               ConsistentRead=True).get("Item") or {}

    def queue_messages(self, short: str) -> list[dict]:
        url = self.sqs.get_queue_url(QueueName=f"newbooks-dev-{short}")["QueueUrl"]
        got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                       VisibilityTimeout=0, WaitTimeSeconds=0)
        return got.get("Messages", [])


def expected_deliveries(moto: Moto, moves: list[str] = ()) -> set[tuple[str, str]]:
    """(event id, destination) pairs the subscriptions call for, from the stored state, plus the
    date moves the peer made (`moves`: their event ids)."""
    from crawlers.normalize import series_key

    followed = {series_key(s) for s in FOLLOWED}
    expected = {(event_id, d) for event_id in moves for d in ("slack:C1", "x:default", "webhook:hook", "ntfy:phone")}
    state = moto.items("state")
    # editions folded into a work another release already announced (notify/works.py) are not told
    folded = {(rid, item["sk"]) for item in state if item["pk"].startswith("WORK#") for rid in item.get("merged") or {}}
    for item in moto.items("releases"):
        if item["sk"] == "META" and item.get("series_key") in followed:
            for destination in ("slack:C1", "x:default", "webhook:hook", "ntfy:phone"):
                if (item["id"], destination) not in folded:
                    expected.add((f"release.new:{item['id']}", destination))
    for item in state:
        event = item.get("last_event") if item["pk"].startswith("TARGET#") and item["sk"] == "STATE" else None
        if event:
            for destination in ("slack:C1", "webhook:hook", "ntfy:phone"):
                expected.add((event["id"], destination))
    return expected


@pytest.fixture(scope="module")
def pages():
    if samples_dir() is None:
        pytest.skip("shared samples folder not found: the chaos run crawls real sample pages")
    pages = {name: read_sample(*parts) for name, parts in PAGES.items()}
    # the Diamond week trimmed (here, at run time) to its header, a few rows and the NAILBITER row
    lines = pages["diamond-week"].decode("utf-8").splitlines()
    rows = [ln for ln in lines if ln[:3].isalpha() and ln[3:9].isdigit()]
    nailbiter = next(i for i, ln in enumerate(lines) if "NAILBITER" in ln)
    section = next(ln for ln in reversed(lines[:nailbiter]) if ln.strip() and ln not in rows)  # IMAGE COMICS
    covers = [ln for ln in lines if "RAT QUEENS #1 " in ln]  # CVR A, B, C: one work, three editions
    pages["diamond-week"] = "\n".join([ln for ln in lines[:12] if ln not in rows] + rows[:12]
                                       + [section, lines[nailbiter]] + covers).encode()
    return pages


def _states(base: str) -> dict[str, str]:
    status, body = get_json(base + "/status")
    return {t["name"]: t["state"] for t in body.get("targets", [])} if status == 200 else {}


def test_pipeline_under_chaos_delivers_everything_exactly_once(pages, tmp_path):
    from devstack.hostile_peer import HostileProcess

    peers = Peers(pages)
    hostile = HostileProcess()
    data_dir = tmp_path / "data"
    stack = Stack(data_dir, tmp_path / "console.log", env=_config(tmp_path, peers, hostile.url),
                  crawl_every_s=CRAWL_EVERY_S)
    original = pages["nailbiter-series"]
    assert original.count(MOVING_TEXT) == 1
    moves = move_dates(date.today())
    move_ids = move_event_ids(moves)

    def move(n: int) -> None:
        """The peer serves the n-th move's page (the fixture's dict: the clean parse below reads
        the last page served) and the test waits until a crawl stored the new date."""
        day = moves[n][1]
        pages["nailbiter-series"] = original.replace(MOVING_TEXT, published(date.fromisoformat(day)))
        wait_for(lambda: moto.release(MOVING).get("release_date") == day, 90, f"move {n + 1} stored ({day})")
        stage(f"move {n + 1} stored")

    began = time.monotonic()

    def stage(what: str) -> None:  # shown with a failure: where a slow run spent its time
        print(f"{time.monotonic() - began:6.1f}s {what}", flush=True)

    try:
        moto = Moto(stack.moto_url())
        # the heartbeat: a failure (exit code 3) first, then a success once it is DOWN
        wait_for(lambda: get_json(f"{stack.base}/ping/{BEAT_TOKEN}/3")[0] == 200, 60, "the heartbeat's failure ping")
        wait_for(lambda: _states(stack.base).get("chaos-beat") == "DOWN", VERDICT_WAIT_S, "the failed heartbeat DOWN")
        assert get_json(f"{stack.base}/ping/{BEAT_TOKEN}")[0] == 200  # the job succeeds: UP on a later tick
        pinged = time.monotonic()

        def crawled():
            status, body = get_json(stack.base + "/sources")
            rows = body.get("sources", []) if status == 200 else []
            return len(rows) == len(PAGES) and all(r["status"] == "ok" for r in rows)

        wait_for(crawled, 120, "both sources crawled")
        stage("sources crawled")
        wait_for(lambda: peers.posts() >= 5, 120, "the first deliveries")
        move(0)  # out to a future week, while the first deliveries flow

        # Kill the runner mid-stream and "deploy" a version writing schema_version 2.
        (data_dir / "runner.env.json").write_text(json.dumps({"NEWBOOKS_EVENT_SCHEMA_VERSION": "2"}))
        old_pid = stack.runner_pid()
        os.kill(old_pid, signal.SIGKILL)
        wait_for(lambda: stack.runner_pid() != old_pid, 60, "the restarted runner")
        stage("runner restarted")
        move(1)  # back: crawled by the restarted runner
        move(2)  # and out again, to another week
        recovery_by = pinged + VERDICT_WAIT_S  # the recovery's own bound, counted from the ping
        wait_for(lambda: _states(stack.base).get("chaos-beat") == "UP", max(30.0, recovery_by - time.monotonic()),
                 "the heartbeat recovered")
        stage("heartbeat recovered")

        missing: list = []

        def delivered_all():
            expected = expected_deliveries(moto, move_ids)
            missing[:] = sorted(expected - delivered(peers, expected))
            return expected if expected and not missing else None

        try:  # bounded by the test's own timeout, so a slow run still says what is missing
            expected = wait_for(delivered_all, min(180.0, 560 - (time.monotonic() - began)),
                                "every expected (event, destination) delivered")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; still missing {len(missing)}: {missing[:6]}") from None
        # Button clicks under the same faults, each payload sent twice (re-signed): one effect each.
        follow = {"action_id": "follow_series", "block_id": "release_actions", "value": "Saga"}
        ack = {"action_id": "ack_alert", "block_id": "alert_actions", "value": json.dumps({"t": "chaos-down", "e": "chaos-incident"})}
        for n, action in enumerate((follow, ack, follow, ack)):
            if n == 2:
                time.sleep(1.1)  # a new timestamp: a new signature, past the replay guard
            assert click(stack.base, peers.url, action) == 200
        stage("all delivered")
        wait_for(lambda: len(peers.responses) == 2, 90, "both clicks answered")
        time.sleep(8)  # let stragglers (duplicates, late batches) land before counting
        follows = [i for i in moto.items("state") if i["pk"] == "SUB#slack:C9"]
        acks = [i for i in moto.items("state") if i["pk"] == "ACK#chaos-down"]
        counts = post_counts(peers, expected)
        dlq = moto.queue_messages("notify-webhook-dlq")
        other_dlqs = [m for q in ("notify-slack-dlq", "notify-x-dlq", "crawl-dlq") for m in moto.queue_messages(q)]
        stored = stored_releases(moto.items("releases"))
        ledger = moto.items("ledger")
        moto_state = moto.items("state")
        states = wait_for(lambda: _states(stack.base) or None, 60, "a /status answer")
        beat_events = [i.get("last_event", {}).get("type") for i in moto_state if i["pk"] == "TARGET#chaos-beat"
                       and i["sk"] == "STATE"]
        stored_text = json.dumps([moto_state, moto.items("checks")], default=repr)
        moved = moto.release(MOVING)
        final = moves[-1][1]
        api_release = get_json(f"{stack.base}/releases/{quote(MOVING, safe=':')}")
        week = {day: [r["id"] for r in get_json(f"{stack.base}/releases?from={day}&to={day}")[1]["releases"]]
                for day in (moves[0][1], final)}
        ics = urllib.request.urlopen(f"{stack.base}/feeds/slack:C1/upcoming.ics", timeout=10).read().decode()
    finally:
        assert stack.stop() == 0, stack.output()[-3000:]
        peers.server.shutdown()
        hostile.stop()

    # hostile targets are their own failures; the healthy verdicts stay exact
    assert states.get("chaos-ok") == "UP" and states.get("chaos-down") == "DOWN", states
    assert all(states.get(f"hostile-{shape}") == "DOWN" for shape in HOSTILE), states
    assert states.get("chaos-beat") == "UP" and beat_events == ["target.recovered"]
    assert BEAT_TOKEN not in stored_text  # only its hash is stored

    clean = clean_releases(pages, peers.url)
    doubles = {key: n for key, n in counts.items() if n > 1}
    losses = expected - {key for key, n in counts.items() if n >= 1}
    chaos = Counter()
    for path in data_dir.glob("chaos-*.json"):
        chaos.update(json.loads(path.read_text()))

    works = [i for i in moto_state if i["pk"] == "WORK#nailbiter|30|comic" and not i["sk"].startswith("MOVE#")]
    assert works and all(len(w.get("merged") or {}) == 1 for w in works), works  # Diamond's and Image's #30
    assert all("previewsworld and imagecomics agree" in why or "imagecomics and previewsworld agree" in why
               for w in works for why in w["merged"].values())
    assert set(stored) == set(clean), "stored release ids differ from a clean parse of the same pages"
    differing = {i: {k: (stored[i].get(k), clean[i].get(k)) for k in clean[i] if stored[i].get(k) != clean[i].get(k)}
                 for i in clean if stored[i] != clean[i]}
    assert not differing, f"stored release records differ from a clean run: {differing}"
    assert not losses, f"lost deliveries: {sorted(losses)[:5]}"
    assert not doubles, f"double posts: {doubles}"

    # Dates that move: the item moved in place, three times; the API, week list and iCal read the last date.
    assert (moved["release_date"], moved["previous_release_date"], int(moved["version"])) == (final, MOVING_FROM, 4)
    assert moved["gsi1sk"].startswith(f"{final}#") and moved["last_event"]["id"] == move_ids[-1]
    assert api_release[0] == 200 and api_release[1]["release_date"] == final, api_release
    assert MOVING in week[final] and MOVING not in week[moves[0][1]], week
    event = ics.replace("\r\n ", "").split(f"UID:{MOVING}@newbooks")
    assert len(event) == 2 and f"DTSTART;VALUE=DATE:{final.replace('-', '')}" in event[1].split("END:VEVENT")[0], ics
    # one release.date_changed event per move, each told once per follower, with its own dates
    told = {e for (channel, e), n in peers.slack.items() if n and e and e.startswith("release.date_changed")}
    assert told == set(move_ids), told
    for event_id, (a, b) in zip(move_ids, moves, strict=True):
        assert f"moved from {a} to {b}" in peers.slack_text[("C1", event_id)]
        assert sum(1 for text in peers.tweets if f"moved from {a} to {b}" in text) == 1, peers.tweets
    assert {e for e in ledger_events(ledger) if e.startswith("release.date_changed")} == set(move_ids)
    # no release event beyond the expected ones reached anyone (folded editions, stale or repeated moves)
    extra = {e for (channel, e), n in peers.slack.items() if n and e and e.startswith("release.")} - {e for e, _ in expected}
    assert not extra, extra
    # Variants: Rat Queens #1 CVR A, B, C are one post per follower, naming the three editions
    covers = {r for r, v in stored.items() if "RAT QUEENS #1 " in (v.get("title") or "")}
    told_covers = [e for (channel, e), n in peers.slack.items() if n and e in {f"release.new:{c}" for c in covers}]
    assert len(covers) == 3 and len(told_covers) == 1, (covers, told_covers)
    post = peers.slack_text[("C1", told_covers[0])]
    assert "3 editions: CVR A GIENI, CVR B GIENI, CVR C WOMENS HISTORY MONTH CHARITY VAR" in post, post
    assert [(i["sk"], i["label"]) for i in follows] == [("series#saga", "Saga")] and [a["by"] for a in acks] == ["U9"]
    assert dict(peers.responses) == {"/response/follow_series": 1, "/response/ack_alert": 1}, peers.responses
    assert dlq and all(m["MessageAttributes"].get("reason") or "reason" in m["Body"] for m in dlq)
    assert all(json.loads(m["Body"]).get("destination") == "webhook:broken" for m in dlq)  # only poison
    assert other_dlqs == []
    assert not [i for i in ledger if i.get("status") == "claimed" and not i["pk"].endswith("#webhook:broken")]
    assert "runner exited, restarting" in stack.output()
    assert chaos["aws_fault_rate"] > 0 and chaos["duplicate_rate"] > 0
    assert sum(peers.injected.values()) > 0

    TOTALS.update(events=len({e for e, _ in expected}), deliveries=sum(counts.values()),
                  faults_injected=chaos["aws_fault_rate"] + sum(peers.injected.values()),
                  duplicates=chaos["duplicate_rate"] + chaos["late_rate"] + chaos["duplicate_schedule_rate"],
                  skipped_schedules=chaos["skip_schedule_rate"], dlq=len(dlq),
                  peer_redeliveries=sum(peers.redeliveries.values()),
                  losses=len(losses), double_posts=len(doubles), date_moves=len(move_ids))
    REPORT["chaos"] = "chaos totals: " + " ".join(f"{k}={v}" for k, v in TOTALS.items())
    if os.environ.get("NEWBOOKS_CHAOS_REPORT"):  # bench/soak.py collects runs
        Path(os.environ["NEWBOOKS_CHAOS_REPORT"]).write_text(json.dumps(TOTALS))


COMPARED = ("title", "series", "volume", "flags", "isbn13", "publisher", "release_date", "price", "url", "cover_url")


def clean_releases(pages: dict[str, bytes], base_url: str) -> dict[str, dict]:
    """What a clean, fault-free run stores: the pages parsed in crawl order, the first sighting
    of an id kept (conditional put), every source ref collected."""
    import crawlers

    out: dict[str, dict] = {}
    for name in PAGES:  # the order sources.yaml lists (and the worker crawls) them
        for release in crawlers.parse(KINDS.get(name, "imagecomics"), pages[name], url=f"{base_url}/{name}"):
            record = release.to_dict()
            if record["id"] not in out:
                out[record["id"]] = {k: record[k] or None for k in COMPARED} | {"refs": set(record["source_refs"])}
            else:
                out[record["id"]]["refs"] |= set(record["source_refs"])
    return out


def stored_releases(items: list[dict]) -> dict[str, dict]:
    """The same shape from the releases table: META fields plus REF# items."""
    out: dict[str, dict] = {}
    for item in items:
        if item["sk"] == "META":
            record = {k: item.get(k) or None for k in COMPARED}
            if record["flags"]:
                record["flags"] = list(record["flags"])
            out.setdefault(item["id"], {"refs": set()}).update(record)
            out[item["id"]]["refs"] |= set(item.get("source_refs") or [])
    for item in items:
        if item["sk"].startswith("REF#") and item["pk"][4:] in out:
            out[item["pk"][4:]]["refs"].add(item["sk"][4:])
    return out


def ledger_events(ledger: list[dict]) -> set[str]:
    """Event ids the delivery ledger holds (keys `<event id>#<destination>`)."""
    return {str(item.get("event_id") or item["pk"].rsplit("#", 1)[0]) for item in ledger}


def delivered(peers: Peers, expected: set[tuple[str, str]]) -> set[tuple[str, str]]:
    return {key for key, n in post_counts(peers, expected).items() if n >= 1}


def post_counts(peers: Peers, expected: set[tuple[str, str]]) -> Counter:
    """Accepted posts per expected (event id, destination). Tweets carry no metadata: each
    release's tweet text is unique (its title), so X is checked as a whole: every accepted text
    once, and as many texts as expected X deliveries (a shortfall is reported as losses)."""
    with peers.lock:
        slack, tweets, hooks = Counter(peers.slack), Counter(peers.tweets), Counter(peers.webhooks)
        ntfy = Counter(peers.ntfy)
    counts: Counter = Counter()
    x_expected = sorted(e for e, d in expected if d == "x:default")
    accepted = sorted(tweets.values(), reverse=True)
    for position, event_id in enumerate(x_expected):
        counts[(event_id, "x:default")] = accepted[position] if position < len(accepted) else 0
    for event_id, destination in expected:
        if destination == "slack:C1":
            counts[(event_id, destination)] = slack[("C1", event_id)]
        elif destination.startswith("webhook:"):
            counts[(event_id, destination)] = hooks[f"{event_id}#{destination}"]
        elif destination == "ntfy:phone":
            counts[(event_id, destination)] = ntfy[event_tag(event_id)]
    return counts
