"""Isolation (issue 13, point 1): hostile peers on 127.0.0.1 (devstack/hostile_peer.py: HTTP,
HTTPS and DNS) checked in one batch with healthy targets. Every hostile shape becomes that
target's own result; the healthy targets' verdicts stay exact; the batch ends within the
hostile targets' deadline plus a margin (their deadline covers DNS, connect, TLS, the exchange
and the conditions, regex included)."""
from __future__ import annotations

import time

import pytest

from chalicelib.uptime.checker import Checker
from chalicelib.uptime.resolver import DnsResolver, parse_servers
from chalicelib.uptime.ssrf import AddressPolicy
from chalicelib.uptime.targets import InvalidTarget, parse_target
from devstack.hostile_peer import HostileProcess

LOCAL = AddressPolicy(allow_private=True)
BODY_CONDITIONS = ["[STATUS] == 200", "[BODY].status == up"]
HOSTILE_TIMEOUT = 2.0

# shape -> error classes that are a correct verdict for it
EXPECTED = {
    "cl-super": {"connect"}, "deep-json": {"condition"}, "tiny-chunks": {"condition"},
    "many-1xx": {"connect"}, "trailers": {"connect"}, "drip": {"timeout"}, "garbage": {"connect"},
    "huge-head": {"connect"}, "short-body": {"timeout"}, "bad-status": {"connect"},
    "gzip-bomb": {"condition"}, "reset": {"connect"},
}


@pytest.fixture(scope="module")
def hostile():
    """In its own process: its CPU must not count against the checker under test."""
    peer = HostileProcess(tls=True)
    yield peer, peer.client_context()
    peer.stop()


def _t(name, url, conditions=BODY_CONDITIONS, timeout=HOSTILE_TIMEOUT, **extra):
    return parse_target({"name": name, "url": url, "timeout": f"{timeout}s", "conditions": conditions, **extra})


def test_hostile_shapes_are_each_their_own_result_and_healthy_verdicts_stay_exact(hostile, peer):
    host, client_context = hostile
    port = host.port
    peer_port = peer.rsplit(":", 1)[1]  # healthy targets live on a healthy server (conftest)
    healthy = (
        [_t(f"lit{i}", f"{peer}/healthy", [*BODY_CONDITIONS, "[RESPONSE_TIME] < 2000"], 5) for i in range(10)]
        + [_t(f"named{i}", f"http://h{i}.ok.test:{peer_port}/healthy", [*BODY_CONDITIONS, "[RESPONSE_TIME] < 2000"], 5)
           for i in range(20)]
        + [_t("idn", f"http://例え.test:{peer_port}/healthy", timeout=5)]
    )
    hostile_targets = [_t(shape, f"{host.url}/{shape}") for shape in EXPECTED]
    hostile_targets += [
        _t("tls-cl-super", f"{host.tls_url}/cl-super"),
        _t("tls-deep-json", f"{host.tls_url}/deep-json"),
        _t("tls-tiny-chunks", f"{host.tls_url}/tiny-chunks"),
        _t("redos", f"{host.url}/redos", ["[BODY] == re(^(a+)+$)"]),
        _t("nx", f"http://nx.test:{port}/ok"),
        *[_t(f"slowdns{i}", f"http://slow{i}.test:{port}/ok") for i in range(8)],
    ]
    checker = Checker(LOCAL, ssl_context=client_context,
                      resolver=DnsResolver(parse_servers(host.dns_server), attempt_timeout_s=1.0))
    started = time.perf_counter()
    results = {r.name: r for r in checker.run(healthy + hostile_targets)}
    elapsed = time.perf_counter() - started

    assert set(results) == {t.name for t in healthy + hostile_targets}
    bad_healthy = {n: (r.error, r.detail, r.condition) for n, r in results.items()
                   if n in {t.name for t in healthy} and not r.ok}
    assert not bad_healthy
    assert results["idn"].ok and results["idn"].ip == "127.0.0.1"
    for shape, classes in EXPECTED.items():
        assert not results[shape].ok and results[shape].error in classes, (shape, results[shape])
    assert results["tls-cl-super"].error == "connect" and "Content-Length" in results["tls-cl-super"].detail
    assert results["tls-deep-json"].error == "condition"
    assert results["tls-tiny-chunks"].error == "condition"
    assert results["redos"].error == "timeout" and "conditions" in results["redos"].detail
    assert results["nx"].error == "dns" and "NXDOMAIN" in results["nx"].detail
    for i in range(8):
        assert results[f"slowdns{i}"].error in {"dns", "timeout"}
    assert results["gzip-bomb"].bytes_read <= 256 * 1024
    # every hostile target ended at its own deadline: the batch is bounded by it
    assert elapsed < HOSTILE_TIMEOUT + 2.0, elapsed


def test_an_unforeseen_exception_is_that_targets_error_not_the_batchs(peer, monkeypatch):
    """A bug anywhere in one check (here: the request builder raising) is `error: ...` for that
    target only."""
    checker = Checker(LOCAL)
    original = checker._request_bytes

    def explode(target):
        if target.name == "boom":
            raise RecursionError("maximum recursion depth exceeded")
        return original(target)

    monkeypatch.setattr(checker, "_request_bytes", explode)
    results = {r.name: r for r in checker.run([_t("boom", f"{peer}/healthy"), _t("fine", f"{peer}/healthy")])}
    assert results["fine"].ok
    assert results["boom"].error == "error" and results["boom"].detail.startswith("error: RecursionError")


def test_regex_within_the_deadline_still_decides(peer):
    results = {r.name: r for r in Checker(LOCAL).run([
        _t("match", f"{peer}/keyword", ["[BODY] == re(^every.*terrible$)"]),
        _t("nomatch", f"{peer}/keyword", ["[BODY] == re(^fine$)"]),
    ])}
    assert results["match"].ok
    assert results["nomatch"].error == "condition"


@pytest.mark.parametrize("headers, problem", [
    ({"X-Name": "日本語"}, "U+65E5"),
    ({"X-Bell": "a\x07b"}, "U+0007"),
    ({"X-Line": "a\r\nInjected: 1"}, "line break"),
    ({"Bad Name": "v"}, "not a token"),
])
def test_header_values_are_validated_at_load(headers, problem):
    with pytest.raises(InvalidTarget) as caught:
        parse_target({"name": "h", "url": "http://127.0.0.1:9/", "headers": headers})
    assert problem in str(caught.value) and "'h'" in str(caught.value)


def test_idn_host_is_encoded_at_load_and_invalid_ones_are_refused():
    target = parse_target({"name": "idn", "url": "https://例え.jp:8443/パス"})
    assert target.host == "xn--r8jz45g.jp" and target.netloc == "xn--r8jz45g.jp:8443"
    with pytest.raises(InvalidTarget, match="internationalized"):
        parse_target({"name": "bad", "url": "http://a\u200db.example/"})  # ZWJ is disallowed in IDNA


# --- dns:// targets (issue 13 points 3 and 6) against the peer's DNS server ----------------------
class LoopbackOnly(AddressPolicy):
    """The prod policy, except that the test's own DNS server on 127.0.0.1 may be asked."""

    def refusal(self, address):
        from chalicelib.uptime.ssrf import category, parse_literal

        literal = parse_literal(str(address))
        if literal is not None and category(literal) == "loopback":
            return None
        return AddressPolicy(allow_private=False).refusal(address)


def _dns(name, server, query_name, query_type="A", conditions=("[DNS_RCODE] == NOERROR",)):
    return parse_target({"name": name, "url": f"dns://{server}", "timeout": "2s", "conditions": list(conditions),
                         "dns": {"query-name": query_name, "query-type": query_type}})


def test_dns_targets_ask_the_named_server_and_answers_pass_the_address_policy(hostile):
    host, _ = hostile
    server = host.dns_server
    targets = [
        _dns("a", server, "h1.ok.test", conditions=["[DNS_RCODE] == NOERROR", "[BODY] == 127.0.0.1", "[IP] == 127.0.0.1"]),
        _dns("idn", server, "例え.test", conditions=["[BODY] == 127.0.0.1"]),
        _dns("nx", server, "nx.test", conditions=["[DNS_RCODE] == NXDOMAIN"]),
        _dns("servfail", server, "servfail.test", conditions=["[dns_rcode] == servfail"]),
        _dns("aaaa-empty", server, "h1.ok.test", "AAAA", ["[DNS_RCODE] == NOERROR", "len([BODY]) == 0"]),
        _dns("private", server, "private.test", conditions=["[DNS_RCODE] == NOERROR"]),
        _dns("slow", server, "slow.test"),
        parse_target({"name": "legacy", "url": "dns://h2.ok.test", "conditions": ["[IP] == 127.0.0.1"]}),
    ]
    checker = Checker(LoopbackOnly(), resolver=DnsResolver(parse_servers(server), attempt_timeout_s=0.5))
    results = {r.name: r for r in checker.run(targets)}
    for name in ("a", "idn", "nx", "servfail", "aaaa-empty", "legacy"):
        assert results[name].ok, (name, results[name])
    private = results["private"]
    assert private.error == "policy" and "private address" in private.detail
    assert "10.0.0.1" not in str(private.to_dict())  # never shown, not even in the detail
    assert results["slow"].error == "condition" and "SERVFAIL" in results["slow"].condition


def test_dns_block_is_validated_and_its_server_vetted_at_load():
    prod = AddressPolicy(allow_private=False)
    with pytest.raises(InvalidTarget, match="query-type 'BOGUS'"):
        parse_target({"name": "d", "url": "dns://9.9.9.9", "dns": {"query-name": "example.org", "query-type": "bogus"}})
    with pytest.raises(InvalidTarget, match="use its IP address"):
        parse_target({"name": "d", "url": "dns://resolver.example", "dns": {"query-name": "example.org"}})
    with pytest.raises(InvalidTarget, match="refused"):
        parse_target({"name": "d", "url": "dns://10.0.0.2", "dns": {"query-name": "example.org"}}, policy=prod)
    ok = parse_target({"name": "d", "url": "dns://9.9.9.9:5353", "dns": {"query-name": "例え.jp", "query-type": "mx"}}, policy=prod)
    assert (ok.dns_query_name, ok.dns_query_type, ok.port) == ("xn--r8jz45g.jp", "MX", 5353)
