"""Every API request is a bounded number of DynamoDB Query/GetItem-style calls and never a Scan,
counted with botocore's `before-call` event on the application's own boto3 objects."""
from __future__ import annotations

import json

import pytest

from tests.integration.api.api_testkit import RELEASES, auth, json_headers

READ_ONLY = {"Query", "GetItem", "BatchGetItem"}
TARGETS = 2  # web-up, web-down (one shard)

# (method, path, body, most calls, operations allowed)
ROUTES = [
    ("GET", "/healthz", None, 0, set()),
    ("GET", "/openapi.json", None, 0, set()),
    ("GET", "/releases", None, 12, READ_ONLY),  # chalicelib.queries.MAX_QUERIES
    ("GET", "/releases?limit=1", None, 12, READ_ONLY),
    ("GET", "/releases?q=no-such-title-anywhere", None, 12, READ_ONLY),
    ("GET", "/releases?from=2025-01&to=2025-12&q=nothing", None, 12, READ_ONLY),
    ("GET", "/releases?series=Space%20Cats", None, 12, READ_ONLY),
    ("GET", "/releases?source=previewsworld-upcoming&limit=1", None, 12, READ_ONLY),  # a name from /sources
    ("GET", "/releases/" + RELEASES[0]["id"], None, 1, READ_ONLY),
    ("GET", "/releases/isbn:0000000000000", None, 1, READ_ONLY),
    ("GET", "/sources", None, 1, READ_ONLY),
    # runtime targets + BatchGetItem of states + ticks (<= 120 min) per shard + daily summaries per target
    ("GET", "/status", None, 1 + 1 + 1 + TARGETS, READ_ONLY),
    # runtime targets + GetItem state + ticks (<= 120 min) + rollups (30 days, latency) + daily summaries
    ("GET", "/status/web-up", None, 5, READ_ONLY),
    ("GET", "/status/nope", None, 1, READ_ONLY),
    ("GET", "/targets", None, 1, READ_ONLY),
    ("POST", "/targets", {"name": "counted", "url": "http://127.0.0.1:9/"}, 1, {"PutItem"}),
    # the config, then the target forgotten: out of the dirty/known sets, its state deleted
    ("DELETE", "/targets/counted", None, 3, {"DeleteItem", "UpdateItem"}),
    ("POST", "/subscriptions", {"destination": "slack:CCOUNT", "kind": "series", "match": "Saga"}, 1, {"PutItem"}),
    ("GET", "/subscriptions/slack:CCOUNT", None, 1, READ_ONLY),
    ("DELETE", "/subscriptions/slack:CCOUNT/series/Saga", None, 1, {"DeleteItem"}),
    ("GET", "/dlq", None, 0, set()),
    ("POST", "/dlq/console/redrive", None, 0, set()),
    ("GET", "/releases?limit=0", None, 0, set()),  # rejected before any call
]
UNAUTHENTICATED = ("GET", "/targets", None, 0, set())  # no key: rejected before any call


CASES = [(*route, True) for route in ROUTES] + [(*UNAUTHENTICATED, False)]


@pytest.mark.parametrize("method, path, body, most, allowed, keyed", CASES,
                         ids=[f"{m} {p}{'' if k else ' (no key)'}" for m, p, _, _, _, k in CASES])
def test_calls_per_request(client, ddb_calls, method, path, body, most, allowed, keyed):
    headers = json_headers() if keyed else {}
    ddb_calls.reset()
    kwargs = {"body": json.dumps(body)} if body is not None else {}
    response = getattr(client.http, method.lower())(path, headers=headers, **kwargs)
    assert response.status_code < 500, response.body
    assert "Scan" not in ddb_calls.names
    assert len(ddb_calls.names) <= most, ddb_calls.names
    assert set(ddb_calls.names) <= allowed, ddb_calls.names
    if most and response.status_code < 400 and method == "GET":
        assert ddb_calls.names, "the counter saw nothing: is it hooked to the application's client?"


def test_counter_sees_a_scan(client, ddb_calls, api_env):
    """The hook is on the objects the services use: a Scan through them is seen."""
    from chalicelib import aws

    ddb_calls.reset()
    aws.table(api_env["RELEASES_TABLE"]).scan(Limit=1)
    assert ddb_calls.names == ["Scan"]


def test_status_calls_grow_with_targets_only(client, ddb_calls):
    """/status makes one rollup Query per target (bounded by the configured target count, not by
    data volume): adding a runtime target adds exactly one call."""
    ddb_calls.reset()
    client.http.get("/status")
    before = len(ddb_calls.names)
    client.http.post("/targets", headers=json_headers(), body=json.dumps({"name": "grow", "url": "http://127.0.0.1:9/"}))
    ddb_calls.reset()
    client.http.get("/status")
    assert len(ddb_calls.names) == before + 1 and "Scan" not in ddb_calls.names
    client.http.delete("/targets/grow", headers=auth())


def test_release_pages_stay_bounded_when_filters_match_nothing(client, ddb_calls):
    ddb_calls.reset()
    page = json.loads(client.http.get("/releases?from=2025-01&to=2025-12&q=zzz&limit=200").body)
    assert page["releases"] == [] and len(ddb_calls.names) <= 12
