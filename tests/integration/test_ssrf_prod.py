"""SSRF in the prod stage: monitoring targets that point at the metadata endpoint, loopback in any
spelling, or DNS names that resolve to private space are refused — at configuration time where the
URL alone decides, and at check time (after DNS, before any connection) otherwise. A redirect to
the metadata endpoint is never followed. Every "not connected" claim is checked against a real
server on 127.0.0.1 that counts its hits, and against the network backend's connect calls."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib.uptime.checker import Checker
from chalicelib.uptime.ssrf import AddressPolicy
from chalicelib.uptime.targets import InvalidTarget, parse_target
from tests.integration.peer_testkit import Peer, Reply, Request

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)


METADATA_CREDENTIALS = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"


def hit_counting_peer() -> Peer:
    """A 127.0.0.1 peer whose request log shows any connection; /redirect answers 302 to the cloud
    metadata endpoint."""
    def answer(request: Request) -> Reply:
        if request.path.startswith("/redirect"):
            return Reply(302, headers={"Location": METADATA_CREDENTIALS})
        return Reply(200, b'{"status":"up"}')

    return Peer(responder=answer)


@pytest.fixture
def peer():
    with hit_counting_peer() as p:
        yield p


@pytest.fixture
def prod(monkeypatch):
    """Settings of the prod stage (.chalice/config.json's prod environment)."""
    from chalicelib.settings import get_settings

    monkeypatch.setenv("NEWBOOKS_STAGE", "prod")
    monkeypatch.setenv("NEWBOOKS_ALLOW_PRIVATE_TARGETS", "false")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def literal_urls(port: int) -> dict[str, str]:
    return {
        "metadata": "http://169.254.169.254/latest/meta-data/",
        "metadata-mapped": "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "ecs-metadata": "http://169.254.170.2/v2/credentials",
        "ipv6-loopback": f"http://[::1]:{port}/",
        "hex-loopback": f"http://0x7f000001:{port}/",
        "int-loopback": f"http://2130706433:{port}/",
        "short-loopback": f"http://127.1:{port}/",
        "octal-loopback": f"http://0177.0.0.1:{port}/",
        "localhost": f"http://localhost:{port}/",
        "localhost-sub": f"http://api.localhost:{port}/",
        "tcp-loopback": f"tcp://0x7f000001:{port}",
        "private": "http://10.0.0.5/",
        "unspecified": f"http://0.0.0.0:{port}/",
    }


def test_prod_stage_settings_forbid_private_targets(prod):
    from chalicelib.uptime.service import build

    assert prod.stage == "prod" and prod.allow_private_targets is False
    assert build(prod).policy == AddressPolicy(allow_private=False)


def test_config_refuses_private_and_metadata_urls_in_prod(prod, peer):
    from chalicelib.uptime.service import build

    policy = build(prod).policy
    for name, url in literal_urls(peer.port).items():
        with pytest.raises(InvalidTarget, match="refused"):
            parse_target({"name": name, "url": url}, policy=policy)
    assert peer.paths() == []


def test_checker_refuses_them_again_at_check_time_without_connecting(prod, peer, connects):
    """Defence in depth: a target that skipped config validation (created without a policy) is
    still refused by the prod checker, after resolution and before any connection."""
    from chalicelib.uptime.service import build

    checker = build(prod).checker
    targets = [parse_target({"name": n, "url": u, "timeout": "2s"}) for n, u in literal_urls(peer.port).items()]
    results = {r.name: r for r in checker.run(targets)}
    for name, result in results.items():
        assert not result.ok and result.error == "policy", (name, result)
    assert peer.paths() == [] and connects == []


def test_dns_names_resolving_to_private_space_are_refused(prod, peer, connects):
    from chalicelib.uptime.service import build

    answers = {
        "internal.example.test": ["127.0.0.1"],
        "rebind.example.test": ["169.254.169.254"],
        "mixed.example.test": ["93.184.216.34", "10.1.2.3"],  # one private answer is enough to refuse
        "v6.example.test": ["::1"],
        "mapped.example.test": ["::ffff:127.0.0.1"],
    }
    asked: list[str] = []

    async def resolver(host, port):
        asked.append(host)
        return answers[host]

    checker = build(prod).checker
    checker.resolver = resolver
    targets = [parse_target({"name": h.split(".")[0], "url": f"http://{h}:{peer.port}/", "timeout": "2s"},
                            policy=checker.policy)  # names pass config validation: DNS decides
               for h in answers]
    results = checker.run(targets)
    assert sorted(asked) == sorted(answers)
    assert all(r.error == "policy" and not r.ok for r in results), results
    assert peer.paths() == [] and connects == []


def test_ping_tick_in_prod_records_a_policy_failure_and_connects_nowhere(aws, prod, peer, connects, tmp_path, monkeypatch):
    """The whole ping path (targets file -> tick -> stored tick row) in the prod stage."""
    from chalicelib.settings import get_settings
    from chalicelib.uptime.service import build

    path = tmp_path / "targets.yaml"
    path.write_text(f"endpoints:\n  - name: sneaky\n    url: http://internal.example.test:{peer.port}/\n    timeout: 2s\n")
    monkeypatch.setenv("NEWBOOKS_TARGETS_FILE", str(path))
    get_settings.cache_clear()
    service = build(get_settings(), clock=lambda: T0)

    async def resolver(host, port):
        return ["127.0.0.1"]

    service.checker.resolver = resolver
    outcome = service.run_tick({"id": "ev-1", "time": "2026-11-22T10:00:00Z", "detail": {}})
    assert outcome["checked"] == 1 and outcome["up"] == 0
    minute = service.store.get_tick(0, outcome["tick"])
    assert minute is not None and minute["sneaky"].error == "policy"
    assert peer.paths() == [] and connects == []


def test_redirect_to_metadata_is_not_followed(peer, connects):
    """Loopback allowed (so the first hop is reachable), link-local/metadata not: the 302 from
    127.0.0.1 to 169.254.169.254 is reported as a status, and nothing connects to the metadata
    address."""
    policy = AddressPolicy(allow_private=True)
    assert policy.refusal("169.254.169.254") and policy.refusal("127.0.0.1") is None
    checker = Checker(policy)
    url = f"http://127.0.0.1:{peer.port}/redirect"
    default = parse_target({"name": "redirect", "url": url, "timeout": "2s"}, policy=policy)
    lenient = parse_target({"name": "lenient", "url": url, "timeout": "2s",
                            "conditions": ["[STATUS] < 400"]}, policy=policy)
    results = {r.name: r for r in checker.run([default, lenient])}
    assert results["redirect"].status == 302 and results["redirect"].error == "status"
    assert results["lenient"].status == 302  # passes its own condition without following
    assert peer.paths() == ["/redirect", "/redirect"]
    assert {host for host, _port in connects} == {"127.0.0.1"}
