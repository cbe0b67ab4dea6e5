"""The JSON API through `chalice.test.Client(app)` on in-process moto (`aws` fixture), with
seeded releases, source health, two uptime targets checked against a real HTTP peer on
127.0.0.1, and a DynamoDB call counter on botocore's `before-call` hook."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.integration.api.api_testkit import API_KEY, RELEASES
from tests.integration.peer_testkit import Peer, Reply, Request

NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)


def healthy_or_down(request: Request) -> Reply:
    up = request.path.startswith("/healthy")
    return Reply(200 if up else 500, b'{"status":"up"}' if up else b'{"status":"down"}', {"Content-Type": "application/json"})


@pytest.fixture(scope="module")
def peer():
    """A monitoring target on the shared peer: /healthy answers 200, anything else 500."""
    with Peer(responder=healthy_or_down, protocol_version="HTTP/1.1") as p:
        yield p.url


def seed_releases(env: dict[str, str]) -> None:
    from chalicelib.crawl.store import ReleaseStore, release_item
    from crawlers.normalize import series_key

    store = ReleaseStore(env["RELEASES_TABLE"])
    for n, rel in enumerate(RELEASES):
        seen = (NOW - timedelta(days=n % 3, minutes=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        store.put_if_new(release_item(rel, series_key=series_key(rel["series"]), first_seen=seen))
    store.add_source_ref(RELEASES[0]["id"], "previewsworld:JAN261234", NOW.isoformat())


def seed_sources(env: dict[str, str]) -> None:
    from chalicelib.crawl.store import SourceStateStore

    states = SourceStateStore(env["STATE_TABLE"])
    states.save({"pk": "SOURCE#previewsworld", "sk": "STATE", "status": "ok", "item_count": 5,
                 "last_crawl": NOW.isoformat(), "reason": None})


def run_ticks(minutes: int = 4) -> None:
    from chalicelib.bootstrap import uptime_service

    for back in range(minutes, 0, -1):
        at = NOW - timedelta(minutes=back)
        uptime_service().run_tick({"id": f"tick-{back}", "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "detail": {}})


@pytest.fixture(scope="module")
def api_env(peer, tmp_path_factory):
    """One moto world per test module (creating every resource takes seconds): environment as
    the `aws` fixture sets it, plus two targets, the API key (API_KEY) and seeded data. Tests
    that write use names of their own, so they do not disturb each other."""
    from moto import mock_aws

    from chalicelib import bootstrap
    from devstack.deploy import deploy_resources

    targets = tmp_path_factory.mktemp("api") / "targets.yaml"
    targets.write_text(
        "defaults:\n  timeout: 2s\n  failure-threshold: 2\n"
        f"endpoints:\n  - name: web-up\n    group: web\n    url: {peer}/healthy\n"
        f"  - name: web-down\n    group: web\n    url: {peer}/down\n"
    )
    with pytest.MonkeyPatch.context() as mp, mock_aws():
        mp.setenv("NEWBOOKS_STAGE", "test")
        env = deploy_resources("test")
        for key, value in env.items():
            mp.setenv(key, value)
        mp.setenv("NEWBOOKS_TARGETS_FILE", str(targets))
        mp.setenv("NEWBOOKS_ALLOW_PRIVATE_TARGETS", "1")
        mp.setenv("API_KEY", API_KEY)
        bootstrap.reset()
        seed_releases(env)
        seed_sources(env)
        run_ticks()
        yield env
    bootstrap.reset()


@pytest.fixture(scope="module")
def client(api_env):
    from chalice.test import Client

    from app import app

    with Client(app) as test_client:
        yield test_client


class Calls:
    """DynamoDB operations made through the application's boto3 objects."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def __call__(self, model: Any = None, **_: Any) -> None:
        self.names.append(model.name)

    def reset(self) -> None:
        self.names.clear()


@pytest.fixture
def ddb_calls(api_env):
    from chalicelib import aws

    calls = Calls()
    emitters = [aws.resource("dynamodb").meta.client.meta.events, aws.client("dynamodb").meta.events]
    for events in emitters:
        events.register("before-call.dynamodb", calls)
    yield calls
    for events in emitters:
        events.unregister("before-call.dynamodb", calls)
