"""SlackCommands with in-memory collaborators: what is answered inline, what is deferred, which
reads a job makes (time zone, week bounds, caps)."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest

from chalicelib.notify.subscriptions import zone
from chalicelib.slackbot.service import SlackCommands, response_url_allowed, week_range
from chalicelib.slackbot.verify import Verifier

SECRET = "unit-test-signing-secret"
NOW = datetime(2026, 11, 22, 20, 0, tzinfo=timezone.utc).timestamp()  # Sunday UTC, Monday 05:00 in Tokyo


class Subs:
    def __init__(self, series=()):
        self.calls = []
        self.series = list(series)

    def list(self, destination):
        self.calls.append(("list", destination))
        return [SimpleNamespace(kind="series", key=k, label=k, digest="off", created_at=f"2026-01-{i % 28 + 1:02d}")
                for i, k in enumerate(self.series)]

    def follow(self, destination, kind, text):
        self.calls.append(("follow", destination, kind, text))
        return SimpleNamespace(key=text.lower())

    def unfollow(self, destination, kind, text):
        self.calls.append(("unfollow", destination, kind, text))


class Releases:
    def __init__(self):
        self.calls = []

    def list(self, params):
        self.calls.append(params)
        return {"releases": [], "next_cursor": None}

    def get(self, release_id):
        self.calls.append(("get", release_id))
        return None


def make(subs=None, tz="UTC", enqueue=None):
    jobs, posts = [], []
    service = SlackCommands(
        verifier=Verifier(lambda: SECRET, None, clock=lambda: NOW),
        subscriptions=lambda: subs or Subs(),
        releases=lambda: service.releases_fake,
        uptime=lambda: SimpleNamespace(status_summary=lambda: {"targets": []}),
        enqueue=enqueue or jobs.append,
        post=lambda url, message: posts.append((url, message)),
        clock=lambda: NOW,
        tz=zone(tz),
    )
    service.releases_fake = Releases()
    return service, jobs, posts


def signed(text, **extra):
    fields = {"command": "/newbooks", "text": text, "channel_id": "C1", "user_id": "U1",
              "response_url": "https://hooks.slack.com/commands/T1/1/x", **extra}
    body = urlencode(fields).encode()
    ts = str(int(NOW))
    sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}, body


@pytest.mark.parametrize("text", ["", "today", "week", "next", "search ONE PIECE", "status"])
def test_long_commands_are_deferred(text):
    service, jobs, posts = make()
    status, reply = service.handle(*signed(text))
    assert status == 200 and "Working on it" in reply["text"]
    assert len(jobs) == 1 and jobs[0]["text"] == text and jobs[0]["schema_version"] == 1
    assert posts == [] and service.releases_fake.calls == []  # nothing read on the request path


@pytest.mark.parametrize("text,call", [("follow Saga", ("follow", "slack:C1", "series", "Saga")),
                                       ("unfollow Saga", ("unfollow", "slack:C1", "series", "Saga")),
                                       ("following", ("list", "slack:C1"))])
def test_quick_commands_are_inline_with_one_call(text, call):
    subs = Subs()
    service, jobs, _ = make(subs)
    status, _reply = service.handle(*signed(text))
    assert status == 200 and jobs == [] and subs.calls == [call]


def test_enqueue_failure_is_a_friendly_ephemeral_error():
    def broken(job):
        raise ConnectionError("sqs down")

    service, _, _ = make(enqueue=broken)
    status, reply = service.handle(*signed("week"))
    assert status == 200 and reply["response_type"] == "ephemeral" and ":warning:" in str(reply["blocks"])


def test_missing_response_url_or_channel():
    service, jobs, _ = make()
    assert "response_url" in service.handle(*signed("week", response_url=""))[1]["text"]
    assert "channel" in service.handle(*signed("following", channel_id=""))[1]["text"]
    assert jobs == []


def test_unsigned_is_401_and_calls_nothing():
    subs = Subs()
    service, jobs, _ = make(subs)
    headers, body = signed("follow Saga")
    headers["X-Slack-Signature"] = headers["X-Slack-Signature"][:-2] + "00"
    assert service.handle(headers, body) == (401, {"error": "invalid_request"})
    assert subs.calls == [] and jobs == []


def test_week_bounds_follow_the_configured_time_zone():
    assert week_range(datetime(2026, 11, 22).date()) == ("2026-11-16", "2026-11-22")
    assert week_range(datetime(2026, 11, 23).date(), 1) == ("2026-11-30", "2026-12-06")
    utc, _, _ = make(tz="UTC")
    tokyo, _, _ = make(tz="Asia/Tokyo")
    utc.run_job({"schema_version": 1, "command": "week", "text": "week", "channel_id": "C1",
                 "response_url": "https://hooks.slack.com/commands/x"})
    tokyo.run_job({"schema_version": 1, "command": "today", "text": "today", "channel_id": "C1",
                   "response_url": "https://hooks.slack.com/commands/y"})
    assert utc.releases_fake.calls == [{"from": "2026-11-16", "to": "2026-11-22", "limit": "50"}]
    assert tokyo.releases_fake.calls == [{"from": "2026-11-23", "to": "2026-11-23", "limit": "50"}]


def test_followed_reads_one_series_partition_each_capped_at_25():
    subs = Subs(series=[f"series{i}" for i in range(30)])
    service, _, posts = make(subs)
    service.run_job({"schema_version": 1, "command": "followed", "text": "", "channel_id": "C1",
                     "response_url": "https://hooks.slack.com/commands/z"})
    calls = service.releases_fake.calls
    assert len(calls) == 25
    assert all(c["from"] == "2026-11-16" and c["to"] == "2026-11-22" and c["series"].startswith("series") for c in calls)
    (url, message), = posts
    assert url == "https://hooks.slack.com/commands/z"
    assert "5 more followed series were not read" in str(message["blocks"])


def test_search_isbn_is_one_get_and_text_is_bounded_lists_across_all_dates():
    service, _, posts = make()
    job = {"schema_version": 1, "command": "search", "channel_id": "C1", "response_url": "https://hooks.slack.com/c/1"}
    service.run_job({**job, "text": "search ISBN 4-08-883700-2"})
    assert service.releases_fake.calls == [("get", "isbn:9784088837000")]
    service.releases_fake.calls.clear()
    service.run_job({**job, "text": "search ワンピース", "response_url": "https://hooks.slack.com/c/2"})
    from datetime import date, timedelta
    from itertools import pairwise

    from chalicelib.slackbot.jobs import SEARCH_LISTS

    series, *texts = service.releases_fake.calls
    assert series == {"series": "ワンピース", "limit": "200"}  # the series on any date
    assert len(texts) == SEARCH_LISTS - 1  # the bound
    assert texts[0] == {"q": "ワンピース", "from": "2026-03-01", "to": "2027-02-22", "limit": "200"}
    for newer, older in pairwise(texts):  # contiguous years going back, none longer than 12 months
        assert date.fromisoformat(older["to"]) == date.fromisoformat(newer["from"]) - timedelta(days=1)
        assert older["from"][5:] == "03-01" and int(older["to"][:4]) - int(older["from"][:4]) == 1
    assert texts[-1]["from"] == "2016-03-01"
    (_, message), = [p for p in posts if p[0].endswith("/c/2")]
    assert "dated 2016-03-01 – 2027-02-22 (at most 12 reads)" in str(message["blocks"])


@pytest.mark.parametrize("url,private,ok", [
    ("https://hooks.slack.com/commands/T1/2/x", False, True),
    ("http://hooks.slack.com/commands/T1/2/x", False, False),
    ("https://hooks.slack.com.evil.example/x", False, False),
    ("https://evilslack.com/x", False, False),
    ("http://127.0.0.1:8080/x", False, False),
    ("http://127.0.0.1:8080/x", True, True),
    ("http://169.254.169.254/latest", True, False),
    ("", True, False),
])
def test_response_url_allow_list(url, private, ok):
    assert response_url_allowed(url, private) is ok


def test_replay_store_outage_executes_nothing():
    from chalicelib.slackbot.verify import ReplayGuard

    class Down:
        def put_item(self, **kw):
            raise ConnectionError("dynamodb unreachable")

    subs = Subs()
    service, jobs, _ = make(subs)
    service.verifier = Verifier(lambda: SECRET, ReplayGuard(Down(), clock=lambda: NOW), clock=lambda: NOW)
    for text in ("follow Saga", "week"):
        status, reply = service.handle(*signed(text))
        assert status == 200 and ":warning:" in str(reply["blocks"])
    assert subs.calls == [] and jobs == []


def test_job_answer_failure_is_reported_to_the_user_not_retried():
    class Boom(Releases):
        def list(self, params):
            raise RuntimeError("throttled")

    service, _, posts = make()
    service.releases_fake = Boom()
    service.run_job({"schema_version": 1, "command": "week", "text": "week", "channel_id": "C1",
                     "response_url": "https://hooks.slack.com/commands/q"})
    (_url, message), = posts
    assert message["response_type"] == "ephemeral" and "couldn't get that answer" in message["text"]
