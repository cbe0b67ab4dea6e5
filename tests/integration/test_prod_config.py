"""Prod configuration is checked: every shipped config file (chalicelib/config/) loads under the
prod policy, and one tick of every schedule in app.py runs with the prod stage's configuration.

No test reaches a public host: name resolution is blocked for every name but loopback (each
attempt is recorded, and the test asserts what was attempted), and any socket connect to a
non-loopback address fails the test. The shipped targets are real public hosts, so here each
becomes a clean "down: cannot resolve" result, never a crash."""
from __future__ import annotations

import json
import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from chalicelib import bootstrap
from chalicelib.uptime.ssrf import AddressPolicy
from chalicelib.uptime.targets import InvalidTarget, load_file
from chalicelib.uptime.tickrow import decode_rows

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "chalicelib" / "config"
PROD_POLICY = AddressPolicy(allow_private=False)
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def _load_targets(path: Path) -> int:
    return len(load_file(path, policy=PROD_POLICY).targets)


def _load_sources(path: Path) -> int:
    from chalicelib.crawl.sources_config import load_sources

    return len(load_sources(path))


def _load_subscriptions(path: Path) -> int:
    from chalicelib.notify.subscriptions import load_yaml

    return len(load_yaml(path))


LOADERS = {"targets.yaml": _load_targets, "sources.yaml": _load_sources, "subscriptions.yaml": _load_subscriptions}


def prod_stage_env() -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return {**config.get("environment_variables", {}), **config["stages"]["prod"]["environment_variables"]}


@pytest.mark.parametrize("path", sorted(CONFIG.glob("*.y*ml")), ids=lambda p: p.name)
def test_every_shipped_config_file_loads_under_the_prod_policy(path, monkeypatch):
    for key, value in prod_stage_env().items():
        monkeypatch.setenv(key, value)
    assert prod_stage_env()["NEWBOOKS_ALLOW_PRIVATE_TARGETS"] == "false"
    loader = LOADERS.get(path.name)
    assert loader is not None, f"{path.name}: a shipped config file nobody checks (add its loader here)"
    assert loader(path) > 0


def test_local_peers_live_under_devstack_and_are_refused_in_prod():
    with pytest.raises(InvalidTarget, match="refused"):
        load_file(ROOT / "devstack" / "config" / "targets.yaml", policy=PROD_POLICY)
    dev = load_file(ROOT / "devstack" / "config" / "targets.yaml", policy=AddressPolicy(allow_private=True))
    assert all(t.host in LOOPBACK for t in dev.targets) and dev.targets  # loopback, fine in the dev stage


class Offline:
    """Blocks name resolution (all but loopback) and non-loopback connects, recording both."""

    def __init__(self, monkeypatch) -> None:
        from tests.dns_sink import DnsSink

        self.resolved: list[str] = []
        self.connects: list[object] = []
        # the uptime checker's own DNS client asks NEWBOOKS_DNS_SERVERS: a sink that records names
        self.dns = DnsSink()
        monkeypatch.setenv("NEWBOOKS_DNS_SERVERS", self.dns.address)
        real_getaddrinfo, real_connect, real_connect_ex = socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex

        def getaddrinfo(host, *args, **kwargs):
            name = host.decode() if isinstance(host, bytes) else str(host)
            if name in LOOPBACK:
                return real_getaddrinfo(host, *args, **kwargs)
            self.resolved.append(name)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (resolution blocked by the test)")

        def guard(real):
            def connect(sock, address):
                host = address[0] if isinstance(address, tuple) else address
                if sock.family in (socket.AF_INET, socket.AF_INET6) and host not in LOOPBACK:
                    self.connects.append(address)
                    raise ConnectionRefusedError(f"test refuses non-loopback connect to {address!r}")
                return real(sock, address)
            return connect

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        monkeypatch.setattr(socket.socket, "connect", guard(real_connect))
        monkeypatch.setattr(socket.socket, "connect_ex", guard(real_connect_ex))


@pytest.fixture
def prod(aws, monkeypatch):
    """The prod stage's environment (.chalice/config.json) and shipped config files on moto."""
    for key, value in prod_stage_env().items():
        monkeypatch.setenv(key, value)
    for name in ("NEWBOOKS_TARGETS_FILE", "NEWBOOKS_SOURCES_FILE", "NEWBOOKS_SUBSCRIPTIONS_FILE", "NEWBOOKS_SSM_DISABLED"):
        monkeypatch.delenv(name, raising=False)  # the shipped files; SSM on (moto: no parameters)
    offline = Offline(monkeypatch)
    bootstrap.reset()
    yield offline
    bootstrap.reset()


def _scheduled(name: str, when: datetime) -> dict:
    from devstack.lambda_runtime import scheduled_event

    return scheduled_event(name, when)


def test_one_tick_of_every_schedule_with_the_prod_config(prod, aws):
    import boto3

    import app
    from chalicelib.settings import get_settings

    settings = get_settings()
    assert settings.stage == "prod" and not settings.allow_private_targets
    assert settings.targets_file == CONFIG / "targets.yaml"
    schedules = {s.name: getattr(app, s.handler_string.split(".", 1)[1])
                 for s in app.app.event_sources if getattr(s, "schedule_expression", None)}
    assert set(schedules) == {"crawl_dispatch", "ping", "digest_flush"}

    start = datetime(2026, 12, 3, 10, 0, tzinfo=timezone.utc)
    results = {name: handler(_scheduled(name, start), None) for name, handler in schedules.items() if name != "ping"}
    # Shipped targets check every 15 minutes: one interval of ping ticks checks each exactly once.
    ping = [schedules["ping"](_scheduled("ping", start + timedelta(minutes=m)), None) for m in range(15)]

    targets = load_file(CONFIG / "targets.yaml", policy=PROD_POLICY).targets
    hosts = {t.host for t in targets}
    assert sum(r["checked"] for r in ping) == len(targets) == sum(r["down"] for r in ping)
    assert set(prod.resolved) | set(prod.dns.names) == hosts and prod.connects == []  # every name tried, none reached

    checks = boto3.resource("dynamodb", region_name="us-east-1").Table(aws["CHECKS_TABLE"])
    rows = {}
    for m in range(15):
        item = checks.get_item(Key={"pk": "TICK#0", "sk": (start + timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M")}).get("Item")
        assert item is not None
        rows.update(decode_rows(item.get("r")))
    assert set(rows) == {t.name for t in targets}
    hosts_by_name = {t.name: t.host for t in targets}
    for name, row in rows.items():
        code, kind, detail = row.code, row.error, row.detail or ""
        assert code in ("f", "F") and kind == "dns", (name, row)
        assert detail.startswith(f"cannot resolve {hosts_by_name[name]}:"), (name, row)

    sqs = boto3.client("sqs", region_name="us-east-1")
    queued = int(sqs.get_queue_attributes(QueueUrl=aws["CRAWL_QUEUE_URL"], AttributeNames=["ApproximateNumberOfMessages"])
                 ["Attributes"]["ApproximateNumberOfMessages"])
    from chalicelib.crawl.sources_config import load_sources

    enabled = [s for s in load_sources(CONFIG / "sources.yaml") if s.enabled]
    assert enabled and queued == len(enabled)  # one crawl message per enabled shipped source (none crawled yet)
    assert results["digest_flush"] == {"sent": 0}

    summary = bootstrap.uptime_service().status_summary()  # what /status and /pages/status render
    assert {t["name"] for t in summary["targets"]} == {t.name for t in targets}
