"""[DOMAIN_EXPIRATION] through the service: a local RDAP server (bootstrap + domain answers,
hand-written to the RFC 9224 / RFC 9083 shapes: no sample of an RDAP answer exists in
/work/shared/samples), the HTTP peer of conftest, the answer cached a day in DynamoDB."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.uptime.rdap import base_urls, domain_of, expiration
from tests.integration.peer_testkit import Peer, Reply, Request

HITS: list[str] = []
EXPIRES = (datetime.now(timezone.utc) + timedelta(days=40)).replace(microsecond=0)


def rdap_answer(request: Request, base: str) -> Reply:
    """Bootstrap and domain answers of an RDAP service at `base`."""
    HITS.append(request.path)
    if request.path == "/bootstrap/dns.json":
        body = {"version": "1.0", "services": [[["localhost"], [f"{base}/rdap/"]]]}
    elif request.path == "/rdap/domain/example.localhost":
        body = {"objectClassName": "domain", "ldhName": "example.localhost",
                "events": [{"eventAction": "registration", "eventDate": "2001-01-01T00:00:00Z"},
                           {"eventAction": "expiration", "eventDate": EXPIRES.isoformat().replace("+00:00", "Z")}]}
    else:
        return Reply(404)
    return Reply(200, json.dumps(body).encode(), {"Content-Type": "application/rdap+json"})


@pytest.fixture
def rdap():
    server = Peer()
    server.responder = lambda request: rdap_answer(request, server.url)
    HITS.clear()
    with server:
        yield server.url


def test_domain_expiration_from_rdap_cached_a_day(aws, peer, rdap, tmp_path, monkeypatch):
    port = peer.rsplit(":", 1)[1]
    path = tmp_path / "targets.yaml"
    path.write_text(
        "defaults:\n  timeout: 2s\nendpoints:\n"
        f"  - name: long\n    url: http://shop.example.localhost:{port}/healthy\n"
        "    conditions: ['[STATUS] == 200', '[DOMAIN_EXPIRATION] > 720h']\n"
        f"  - name: short\n    url: http://example.localhost:{port}/healthy\n"
        "    conditions: ['[DOMAIN_EXPIRATION] > 1000h']\n"
        f"  - name: unknown\n    url: http://other.localhost:{port}/healthy\n"
        "    conditions: ['[DOMAIN_EXPIRATION] > 1h']\n")
    for key, value in {"NEWBOOKS_TARGETS_FILE": str(path), "NEWBOOKS_ALLOW_PRIVATE_TARGETS": "1",
                       "NEWBOOKS_RDAP_BOOTSTRAP_URL": f"{rdap}/bootstrap/dns.json"}.items():
        monkeypatch.setenv(key, value)
    from chalicelib.settings import get_settings
    from chalicelib.uptime.service import build

    get_settings.cache_clear()
    service = build(get_settings())
    minute = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    rows = service._check(service.targets(), minute)
    assert rows["long"][0] == "o"
    assert rows["short"][0] == "f" and "[DOMAIN_EXPIRATION] > 1000h (got " in rows["short"][4]
    assert rows["unknown"][0] == "f" and "(got missing)" in rows["unknown"][4]
    assert sorted(HITS) == ["/bootstrap/dns.json", "/rdap/domain/example.localhost", "/rdap/domain/other.localhost"]
    service._rdap = None  # a new container: the answers come from DynamoDB, not RDAP
    rows = service._check(service.targets(), minute + timedelta(minutes=1))
    assert rows["long"][0] == "o" and len(HITS) == 3


def test_rdap_pure_parts():
    assert domain_of("a.b.example.co.uk") == "example.co.uk" and domain_of("api.example.com") == "example.com"
    assert domain_of("127.0.0.1") is None and domain_of("localhost") is None
    boot = {"services": [[["com", "net"], ["http://x/", "https://rdap.example/"]], [["uk"], ["https://uk/"]]]}
    assert base_urls(boot, "example.com") == ["https://rdap.example/", "http://x/"]
    assert base_urls(boot, "example.org") == []
    assert expiration({"events": [{"eventAction": "expiration", "eventDate": "2030-01-02T03:04:05Z"}]}) == \
        datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert expiration({"events": [{"eventAction": "expiration", "eventDate": "soon"}]}) is None
