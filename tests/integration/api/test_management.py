"""Protected routes: API key (401/503), targets, subscriptions, DLQ listing and redrive."""
from __future__ import annotations

import json

import pytest

from tests.integration.api.api_testkit import API_KEY, assert_problem, assert_schema, auth, body_of, hdr, json_headers

PROTECTED = [
    ("GET", "/targets", None),
    ("POST", "/targets", {"name": "x", "url": "http://127.0.0.1:9/"}),
    ("DELETE", "/targets/x", None),
    ("POST", "/subscriptions", {"destination": "console:ops", "kind": "ops", "match": "*"}),
    ("GET", "/subscriptions/console:ops", None),
    ("DELETE", "/subscriptions/console:ops/ops/*", None),
    ("GET", "/dlq", None),
    ("POST", "/dlq/console/redrive", None),
]


def call(client, method, path, body=None, headers=None):
    payload = json.dumps(body) if body is not None else None
    return getattr(client.http, method.lower())(path, headers=headers or {}, **({"body": payload} if payload else {}))


@pytest.mark.parametrize("method, path, body", PROTECTED)
def test_protected_routes_need_the_key(client, method, path, body):
    missing = assert_problem(call(client, method, path, body, {"Content-Type": "application/json"}), 401, "X-Api-Key")
    assert "X-Api-Key" in missing["detail"]
    wrong = call(client, method, path, body, json_headers("wrong-key"))
    assert_problem(wrong, 401, "X-Api-Key")
    assert hdr(wrong, "www-authenticate").startswith("Bearer")
    assert_problem(call(client, method, path, body, {"Authorization": "Basic " + API_KEY}), 401, "X-Api-Key")


def test_bearer_token_is_accepted(client):
    assert client.http.get("/targets", headers={"Authorization": f"Bearer {API_KEY}"}).status_code == 200


@pytest.mark.parametrize("method, path, body", PROTECTED)
def test_no_key_configured_fails_closed_with_503(client, monkeypatch, method, path, body):
    from chalicelib import secrets

    monkeypatch.delenv("API_KEY")
    secrets.clear_cache()
    try:
        assert_problem(call(client, method, path, body, json_headers()), 503, "api_key")
    finally:
        monkeypatch.undo()
        secrets.clear_cache()
    assert call(client, "GET", "/targets", None, auth()).status_code == 200


def test_public_reads_need_no_key(client):
    assert client.http.get("/releases").status_code == 200
    assert client.http.get("/status").status_code == 200


# --- targets ----------------------------------------------------------------------------------


def test_list_targets(client):
    response = client.http.get("/targets", headers=auth())
    assert response.status_code == 200 and hdr(response, "cache-control") == "private, no-store"
    body = body_of(response)
    assert_schema(body, "TargetList")
    assert {"web-up", "web-down"} <= {t["name"] for t in body["targets"]}


def test_add_target_then_it_is_listed_reported_and_deletable(client, peer):
    config = {"name": "api-added", "url": f"{peer}/healthy", "group": "api", "conditions": ["[STATUS] == 200"],
              "failure-threshold": 3}
    created = call(client, "POST", "/targets", config, json_headers())
    assert created.status_code == 201, created.body
    assert_schema(body_of(created), "Target")
    assert body_of(created)["source"] == "api" and body_of(created)["failure_threshold"] == 3
    assert "api-added" in {t["name"] for t in body_of(client.http.get("/targets", headers=auth()))["targets"]}
    status = body_of(client.http.get("/status/api-added"))
    assert status["name"] == "api-added" and status["state"] in ("PENDING", "UP")
    assert_problem(call(client, "POST", "/targets", config, json_headers()), 409, "name")
    assert client.http.delete("/targets/api-added", headers=auth()).status_code == 204
    assert_problem(client.http.delete("/targets/api-added", headers=auth()), 404, "name")
    assert_problem(client.http.get("/status/api-added"), 404, "target")


@pytest.mark.parametrize("config, param", [
    ({"name": "t1"}, "url"),
    ({"name": "t1", "url": "ftp://example.com/"}, "url"),
    ({"name": "t1", "url": "http://example.com/", "method": "BREW"}, "method"),
    ({"name": "t1", "url": "http://example.com/", "interval": "90s"}, "interval"),
    ({"name": "t1", "url": "http://example.com/", "conditions": ["[STATUS] ~~ 1"]}, "conditions"),
    ({"name": "t1", "url": "http://example.com/", "alerts": ["pager"]}, "alerts"),
    ({"name": "t1", "url": "http://example.com/", "failure_threshold": 99}, "failure_threshold"),
    ({"name": "t1", "url": "http://example.com/", "maintenance": [{"start": "25:00", "duration": "1h"}]}, "maintenance"),
    ({"name": "t1", "url": "http://example.com/", "maintenance": [{"start": "01:00", "duration": "1h", "every": 3}]}, "maintenance"),
    ({"name": "web-up", "url": "http://example.com/"}, "name"),
    ({"name": "bad name", "url": "http://example.com/"}, "name"),
    ({"url": "http://example.com/"}, "name"),
    ({"name": "t1", "url": "http://example.com/", "colour": "red"}, "colour"),
    ({"name": "t1", "url": ["http://example.com/"]}, "url"),
    ({"name": "t1", "url": "http://example.com/", "headers": {"A": 1}}, "headers"),
    ({"name": "t1", "url": "http://example.com/", "timeout": True}, "timeout"),
])
def test_add_target_rejections_name_the_field(client, config, param):
    response = call(client, "POST", "/targets", config, json_headers())
    problem = assert_problem(response, 409 if config.get("name") == "web-up" else 400, param)
    assert problem["detail"]


# Words the old message-reading code keyed on ("already" -> 409, "time zone" -> tz): every domain
# error is reworded to them, and status and param must not move (issue 15 point 1).
REWORDED = "reworded: already exists, unknown time zone, url, digest"


@pytest.fixture
def reworded(monkeypatch):
    from chalicelib.errors import DomainError

    real_init = DomainError.__init__

    def init(self, param, message):
        real_init(self, param, REWORDED)

    monkeypatch.setattr(DomainError, "__init__", init)


@pytest.mark.parametrize("method, path, body, status, param", [
    ("POST", "/targets", {"name": "t1"}, 400, "url"),
    ("POST", "/targets", {"name": "t1", "url": "http://example.com/", "interval": "90s"}, 400, "interval"),
    ("POST", "/targets", {"name": "t1", "url": "http://example.com/", "maintenance": [{"start": "25:00", "duration": "1h"}]},
     400, "maintenance"),
    ("POST", "/targets", {"name": "web-up", "url": "http://example.com/"}, 409, "name"),
    ("POST", "/subscriptions", {"destination": "slack:C1", "kind": "series", "match": "x", "quiet_hours": "late"}, 400,
     "quiet_hours"),
    ("POST", "/subscriptions", {"destination": "slack:C1", "kind": "series", "match": "!!!"}, 400, "match"),
    ("GET", "/releases?source=nowhere-at-all", None, 400, "source"),
])
def test_reworded_domain_errors_keep_status_and_param(client, reworded, method, path, body, status, param):
    problem = assert_problem(call(client, method, path, body, json_headers()), status, param)
    assert problem["detail"] == REWORDED  # the domain's (reworded) message, passed through unread


def test_a_runtime_duplicate_stays_409_whatever_its_message_says(client, reworded):
    config = {"name": "dup-reworded", "url": "http://example.com/"}
    assert call(client, "POST", "/targets", config, json_headers()).status_code == 201
    assert assert_problem(call(client, "POST", "/targets", config, json_headers()), 409, "name")["detail"] == REWORDED
    assert client.http.delete("/targets/dup-reworded", headers=auth()).status_code == 204


@pytest.mark.parametrize("raw, content_type, status, param", [
    (b"{not json", "application/json", 400, "body"),
    (b"[1, 2]", "application/json", 400, "body"),
    (b'{"name": NaN}', "application/json", 400, "body"),
    (b"", "application/json", 400, "body"),
    (b"name=x", "application/x-www-form-urlencoded", 415, "Content-Type"),
    (b'{"name": "x"}', "text/plain", 415, "Content-Type"),
])
def test_bodies_that_are_not_a_json_object(client, raw, content_type, status, param):
    for path in ("/targets", "/subscriptions"):
        response = client.http.post(path, headers={"X-Api-Key": API_KEY, "Content-Type": content_type}, body=raw)
        assert_problem(response, status, param)


def test_delete_target_with_an_impossible_name_is_400(client):
    assert_problem(client.http.delete("/targets/" + "x" * 65, headers=auth()), 400, "name")


def test_yaml_targets_are_not_deleted_through_the_api(client):
    assert_problem(client.http.delete("/targets/web-up", headers=auth()), 404, "name")
    assert "web-up" in {t["name"] for t in body_of(client.http.get("/status"))["targets"]}


# --- subscriptions ----------------------------------------------------------------------------


def test_follow_list_unfollow(client):
    follow = {"destination": "slack:C0API", "kind": "series", "match": "ONE PIECE 108", "digest": "daily",
              "quiet_hours": "22:00-07:00", "tz": "Asia/Tokyo"}
    created = call(client, "POST", "/subscriptions", follow, json_headers())
    assert created.status_code == 201, created.body
    sub = body_of(created)
    assert_schema(sub, "Subscription")
    assert sub["key"] == "onepiece" and sub["label"] == "ONE PIECE 108" and sub["digest"] == "daily"
    call(client, "POST", "/subscriptions", {"destination": "slack:C0API", "kind": "keyword", "match": "cats"}, json_headers())
    listed = client.http.get("/subscriptions/slack:C0API", headers=auth())
    assert listed.status_code == 200 and hdr(listed, "cache-control") == "private, no-store"
    assert_schema(body_of(listed), "SubscriptionList")
    assert {(s["kind"], s["key"]) for s in body_of(listed)["subscriptions"]} == {("series", "onepiece"), ("keyword", "cats")}
    assert client.http.delete("/subscriptions/slack:C0API/series/One%20Piece", headers=auth()).status_code == 204
    assert client.http.delete("/subscriptions/slack:C0API/series/One%20Piece", headers=auth()).status_code == 204  # idempotent
    left = body_of(client.http.get("/subscriptions/slack:C0API", headers=auth()))["subscriptions"]
    assert [(s["kind"], s["key"]) for s in left] == [("keyword", "cats")]


def test_webhook_destination_url_encoded_in_the_path(client):
    follow = {"destination": "webhook:https://hooks.example/x", "kind": "ops", "match": "*"}
    assert call(client, "POST", "/subscriptions", follow, json_headers()).status_code == 201
    listed = client.http.get("/subscriptions/webhook:https:%2F%2Fhooks.example%2Fx", headers=auth())
    assert listed.status_code == 200, listed.body
    assert [s["kind"] for s in body_of(listed)["subscriptions"]] == ["ops"]


@pytest.mark.parametrize("follow, param", [
    ({"destination": "pager:1", "kind": "series", "match": "x"}, "destination"),
    ({"destination": "slack:", "kind": "series", "match": "x"}, "destination"),
    ({"kind": "series", "match": "x"}, "destination"),
    ({"destination": "slack:C1", "kind": "genre", "match": "x"}, "kind"),
    ({"destination": "slack:C1", "kind": "series"}, "match"),
    ({"destination": "slack:C1", "kind": "series", "match": "!!!"}, "match"),
    ({"destination": "slack:C1", "kind": "series", "match": 7}, "match"),
    ({"destination": "slack:C1", "kind": "series", "match": "x", "digest": "hourly"}, "digest"),
    ({"destination": "slack:C1", "kind": "series", "match": "x", "quiet_hours": "late"}, "quiet_hours"),
    ({"destination": "slack:C1", "kind": "series", "match": "x", "tz": "Mars/Olympus"}, "tz"),
    ({"destination": "slack:C1", "kind": "series", "match": "x", "colour": "red"}, "colour"),
    ({"destination": "slack:C1", "kind": "series", "match": "x" * 201}, "match"),
])
def test_follow_rejections_name_the_field(client, follow, param):
    assert_problem(call(client, "POST", "/subscriptions", follow, json_headers()), 400, param)


@pytest.mark.parametrize("path, param", [
    ("/subscriptions/pager:1", "destination"),
    ("/subscriptions/slack:C1/genre/x", "kind"),
    ("/subscriptions/nowhere/series/x", "destination"),
])
def test_subscription_path_rejections(client, path, param):
    method = "get" if path.count("/") == 2 else "delete"
    assert_problem(getattr(client.http, method)(path, headers=auth()), 400, param)


# --- DLQ --------------------------------------------------------------------------------------


def _dead_letter(api_env, channel: str, n: int) -> list[str]:
    from chalicelib import aws

    url = api_env[f"NOTIFY_{channel.upper()}_DLQ_URL"]
    ids = []
    for i in range(n):
        body = {"destination": "console:ops", "event": {"id": f"ev-{i}", "type": "release.new"}}
        sent = aws.client("sqs").send_message(
            QueueUrl=url, MessageBody=json.dumps(body),
            MessageAttributes={"reason": {"DataType": "String", "StringValue": "400 from peer"},
                               "failed_at": {"DataType": "Number", "StringValue": "1795000000"}},
        )
        ids.append(sent["MessageId"])
    return ids


def _source_count(api_env, channel: str) -> int:
    from chalicelib import aws

    attrs = aws.client("sqs").get_queue_attributes(QueueUrl=api_env[f"NOTIFY_{channel.upper()}_QUEUE_URL"],
                                                   AttributeNames=["ApproximateNumberOfMessages"])
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def test_dlq_listing_and_redrive(client, api_env):
    ids = _dead_letter(api_env, "webhook", 3)
    listed = client.http.get("/dlq?channel=webhook", headers=auth())
    assert listed.status_code == 200 and hdr(listed, "cache-control") == "private, no-store"
    body = body_of(listed)
    assert_schema(body, "DlqListing")
    assert sorted(m["message_id"] for m in body["messages"]) == sorted(ids)
    assert {m["reason"] for m in body["messages"]} == {"400 from peer"} and body["messages"][0]["failed_at"] == 1795000000
    assert {m["event_id"] for m in body["messages"]} == {"ev-0", "ev-1", "ev-2"}
    before = _source_count(api_env, "webhook")
    one = call(client, "POST", "/dlq/webhook/redrive", {"message_ids": [ids[0]]}, json_headers())
    assert one.status_code == 200 and body_of(one) == {"channel": "webhook", "redriven": 1}
    assert_schema(body_of(one), "RedriveResult")
    rest = client.http.post("/dlq/webhook/redrive", headers=auth())  # no body: everything
    assert body_of(rest) == {"channel": "webhook", "redriven": 2}
    assert _source_count(api_env, "webhook") == before + 3
    assert body_of(client.http.get("/dlq?channel=webhook", headers=auth()))["messages"] == []


def test_dlq_all_channels(client, api_env):
    _dead_letter(api_env, "console", 1)
    channels = {m["channel"] for m in body_of(client.http.get("/dlq?limit=5", headers=auth()))["messages"]}
    assert "console" in channels
    client.http.post("/dlq/console/redrive", headers=auth())


def test_list_then_redrive_at_once_redrives_them_all(client, api_env):
    """A listing leaves what it listed visible: the redrive right after it moves every message,
    with the admin's default peek visibility (issue 16: it used to hide them for 5 s)."""
    from chalicelib.bootstrap import dlq_admin

    assert dlq_admin().peek_visibility_s > 0  # the listing does hide while it pages; it must undo that
    ids = _dead_letter(api_env, "slack", 12)  # more than one receive page
    before = _source_count(api_env, "slack")
    listed = body_of(client.http.get("/dlq?channel=slack", headers=auth()))["messages"]
    assert sorted(m["message_id"] for m in listed) == sorted(ids)
    again = body_of(client.http.get("/dlq", headers=auth()))["messages"]  # all queues, twice in a row
    assert sorted(m["message_id"] for m in again if m["channel"] == "slack") == sorted(ids)
    moved = body_of(client.http.post("/dlq/slack/redrive", headers=auth()))
    assert moved == {"channel": "slack", "redriven": 12}
    assert _source_count(api_env, "slack") == before + 12
    assert body_of(client.http.get("/dlq?channel=slack", headers=auth()))["messages"] == []


def test_redrive_of_some_ids_leaves_the_rest_visible_at_once(client, api_env):
    ids = _dead_letter(api_env, "x", 3)
    one = call(client, "POST", "/dlq/x/redrive", {"message_ids": [ids[1]]}, json_headers())
    assert body_of(one)["redriven"] == 1
    rest = body_of(client.http.get("/dlq?channel=x", headers=auth()))["messages"]
    assert sorted(m["message_id"] for m in rest) == sorted([ids[0], ids[2]])
    assert body_of(client.http.post("/dlq/x/redrive", headers=auth()))["redriven"] == 2


def test_every_dead_letter_queue_is_listed(client, api_env):
    """crawl, slack-jobs and stream-failures too; a crawl dead letter redrives to the crawl queue;
    stream-failures (Lambda OnFailure records) is listed with its condition but not redrivable."""
    from chalicelib import aws

    sqs = aws.client("sqs")
    crawl = {"schema_version": 1, "source": "ndl-comics", "scheduled_at": "2026-12-03T07:00:00Z"}
    sqs.send_message(QueueUrl=api_env["CRAWL_DLQ_URL"], MessageBody=json.dumps(crawl))
    sqs.send_message(QueueUrl=api_env["SLACK_JOBS_DLQ_URL"], MessageBody=json.dumps({"command": "search"}))
    on_failure = {  # the shape Lambda sends to an OnFailure destination (hand-written: no sample covers it)
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3,
                           "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:newbooks-test-release_fanout"},
        "timestamp": "2026-12-03T07:01:02.000Z",
        "DDBStreamBatchInfo": {"startSequenceNumber": "100", "endSequenceNumber": "104", "batchSize": 5},
    }
    sqs.send_message(QueueUrl=api_env["STREAM_FAILURES_QUEUE_URL"], MessageBody=json.dumps(on_failure))
    for channel in ("console", "webhook"):
        _dead_letter(api_env, channel, 1)
    listing = body_of(client.http.get("/dlq?limit=100", headers=auth()))
    assert_schema(listing, "DlqListing")
    by_channel = {m["channel"]: m for m in listing["messages"]}
    assert {"crawl", "slack-jobs", "stream-failures", "console", "webhook"} <= set(by_channel)
    assert by_channel["crawl"]["body"] == crawl and by_channel["crawl"]["reason"].startswith("retries exhausted")
    failure = by_channel["stream-failures"]
    assert failure["reason"] == "RetryAttemptsExhausted in newbooks-test-release_fanout; stream records 100..104"
    assert failure["failed_at"] == 1796281262
    alone = body_of(client.http.get("/dlq?channel=stream-failures", headers=auth()))["messages"]
    assert [m["message_id"] for m in alone] == [failure["message_id"]]

    assert body_of(client.http.post("/dlq/crawl/redrive", headers=auth())) == {"channel": "crawl", "redriven": 1}
    moved = sqs.receive_message(QueueUrl=api_env["CRAWL_QUEUE_URL"], MaxNumberOfMessages=10)["Messages"]
    assert crawl in [json.loads(m["Body"]) for m in moved]
    assert body_of(client.http.post("/dlq/slack-jobs/redrive", headers=auth()))["redriven"] == 1
    problem = assert_problem(client.http.post("/dlq/stream-failures/redrive", headers=auth()), 404, "channel")
    assert "stream-failures" in problem["detail"]
    # the refused redrive moved nothing and hid nothing
    assert [m["message_id"] for m in body_of(client.http.get("/dlq?channel=stream-failures", headers=auth()))["messages"]] \
        == [failure["message_id"]]
    for channel in ("console", "webhook"):
        client.http.post(f"/dlq/{channel}/redrive", headers=auth())


@pytest.mark.parametrize("method, path, body, status, param", [
    ("GET", "/dlq?channel=pager", None, 400, "channel"),
    ("GET", "/dlq?limit=0", None, 400, "limit"),
    ("GET", "/dlq?limit=many", None, 400, "limit"),
    ("GET", "/dlq?limit=101", None, 400, "limit"),
    ("POST", "/dlq/pager/redrive", None, 404, "channel"),
    ("POST", "/dlq/console/redrive", {"message_ids": "all"}, 400, "message_ids"),
    ("POST", "/dlq/console/redrive", {"message_ids": [1]}, 400, "message_ids"),
    ("POST", "/dlq/console/redrive", {"ids": []}, 400, "ids"),
])
def test_dlq_rejections(client, method, path, body, status, param):
    assert_problem(call(client, method, path, body, json_headers()), status, param)
