"""The checker against real servers on 127.0.0.1."""
from __future__ import annotations

import time
from datetime import datetime, timezone

from chalicelib.uptime.checker import Checker
from chalicelib.uptime.ssrf import AddressPolicy
from chalicelib.uptime.targets import parse_target

LOCAL = AddressPolicy(allow_private=True)


def target(name, url, conditions=None, **extra):
    raw = {"name": name, "url": url, "timeout": extra.pop("timeout", "2s"), **extra}
    if conditions is not None:
        raw["conditions"] = conditions
    return parse_target(raw)


def run(targets, policy=LOCAL, **kwargs):
    results = Checker(policy, **kwargs).run(targets)
    return {r.name: r for r in results}


def test_healthy_passes_with_json_path_len_and_latency(peer):
    conditions = ["[STATUS] == 200", '[BODY].status == "up"', "len([BODY].items) > 0", "[RESPONSE_TIME] < 1500"]
    r = run([target("ok", f"{peer}/healthy", conditions)])["ok"]
    assert r.ok and r.status == 200 and r.error is None and r.ip == "127.0.0.1"


def test_500_is_a_status_failure_naming_the_condition(peer):
    r = run([target("down", f"{peer}/down", ["[STATUS] == 200"])])["down"]
    assert not r.ok and r.error == "status" and r.status == 500
    assert "[STATUS] == 200" in r.condition and "500" in r.condition


def test_slow_fails_response_time_and_marks_degraded_when_passing(peer):
    results = run([
        target("slow", f"{peer}/slow", ["[STATUS] == 200", "[RESPONSE_TIME] < 300"]),
        target("slowok", f"{peer}/slow", ["[STATUS] == 200"], **{"degraded-response-time": 300}),
    ])
    assert results["slow"].error == "condition" and "[RESPONSE_TIME]" in results["slow"].condition
    assert results["slowok"].ok and results["slowok"].slow and results["slowok"].latency_ms >= 500


def test_hanging_server_times_out_at_the_targets_own_deadline(peer):
    started = time.perf_counter()
    results = run([target("hang", f"{peer}/hang", timeout="0.5s"), target("ok", f"{peer}/healthy", timeout="5s")])
    elapsed = time.perf_counter() - started
    assert results["hang"].error == "timeout" and not results["hang"].ok
    assert results["ok"].ok
    assert elapsed < 2.0


def test_huge_body_is_capped(peer):
    r = run([target("huge", f"{peer}/huge", ["[STATUS] == 200", "[BODY] == pat(x*)"], **{"max-body-bytes": 65536})])["huge"]
    assert r.ok and r.truncated and r.bytes_read == 65536


def test_wrong_keyword_fails_pattern_and_regex(peer):
    results = run([
        target("pat", f"{peer}/keyword", ["[BODY] == pat(*ok*)"]),
        target("re", f"{peer}/keyword", ["[BODY] == re(^all (good|fine)$)"]),
        target("neg", f"{peer}/keyword", ["[BODY] != pat(*ok*)"]),
    ])
    assert results["pat"].error == "condition" and "pat(*ok*)" in results["pat"].condition
    assert results["re"].error == "condition"
    assert results["neg"].ok


def test_invalid_json_fails_json_path_condition(peer):
    r = run([target("json", f"{peer}/invalid-json", ['[BODY].status == "up"'])])["json"]
    assert not r.ok and r.error == "condition" and "missing" in r.condition


def test_connection_refused_is_connect_error(refused_port):
    results = run([
        target("http", f"http://127.0.0.1:{refused_port}/"),
        target("tcp", f"tcp://127.0.0.1:{refused_port}"),
    ])
    assert results["http"].error == "connect"
    assert results["tcp"].error == "connect"


def test_tcp_connected(peer):
    host_port = peer.split("//")[1]
    r = run([target("tcp", f"tcp://{host_port}", ["[CONNECTED] == true", "[RESPONSE_TIME] < 1000"])])["tcp"]
    assert r.ok


def test_tls_certificate_expiring_in_two_days(tls_peer):
    url, context = tls_peer
    results = run([
        target("cert", f"{url}/healthy", ["[STATUS] == 200", "[CERTIFICATE_EXPIRATION] > 168h"]),
        target("cert-short", f"{url}/healthy", ["[CERTIFICATE_EXPIRATION] > 24h"]),
    ], ssl_context=context)
    r = results["cert"]
    assert r.status == 200 and not r.ok and r.error == "condition"
    assert "[CERTIFICATE_EXPIRATION]" in r.condition
    expiry = datetime.fromisoformat(r.tls_expiry)
    hours = (expiry - datetime.now(timezone.utc)).total_seconds() / 3600
    assert 40 < hours < 49
    assert results["cert-short"].ok


def test_untrusted_certificate_is_tls_error(tls_peer):
    url, _ = tls_peer
    r = run([target("cert", f"{url}/healthy")])["cert"]  # default trust store does not know the test CA
    assert r.error == "tls" and not r.ok


def test_dns_check_with_injected_resolver():
    async def resolver(host, port):
        if host == "known.test":
            return ["127.0.0.1"]
        import socket

        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    results = run([
        target("dns-ok", "dns://known.test", ["[DNS_RCODE] == NOERROR", "[IP] == 127.0.0.1"]),
        target("dns-nx", "dns://missing.test", ["[DNS_RCODE] == NOERROR"]),
        target("http-nx", "http://missing.test/"),
    ], resolver=resolver)
    assert results["dns-ok"].ok
    assert results["dns-nx"].error == "condition" and "NXDOMAIN" in results["dns-nx"].condition
    assert results["http-nx"].error == "dns"


def test_ssrf_refused_before_any_connection():
    calls = []

    async def resolver(host, port):
        calls.append(host)
        return ["169.254.169.254"]  # a name that resolves to the metadata service

    policy = AddressPolicy(allow_private=False)
    results = run([
        target("meta", "http://169.254.169.254/latest/meta-data/"),
        target("hex", "http://0x7f000001/"),
        target("v6", "http://[::1]/"),
        target("private", "http://10.0.0.1/"),
        target("rebind", "http://rebind.test/"),
        target("local", "http://localhost/"),
    ], policy=policy, resolver=resolver)
    assert all(r.error == "policy" for r in results.values()), {n: r.error for n, r in results.items()}
    assert calls == ["rebind.test"]


def test_private_allowed_stage_still_refuses_metadata(peer):
    results = run([target("meta", "http://169.254.169.254/"), target("ok", f"{peer}/healthy")])
    assert results["meta"].error == "policy" and results["ok"].ok


def test_many_targets_run_concurrently(peer):
    targets = [target(f"s{i}", f"{peer}/slow") for i in range(20)]
    started = time.perf_counter()
    results = run(targets)
    assert all(r.ok for r in results.values()), {n: (r.error, r.detail) for n, r in results.items() if not r.ok}
    assert time.perf_counter() - started < 3.0  # 20 x 0.6 s one after another would be 12 s


def test_gzip_and_chunked_bodies_are_decoded_and_capped(peer):
    results = run([
        target("gz", f"{peer}/gzip", ['[BODY].status == "up"']),
        target("gzcap", f"{peer}/gzip", ["[BODY] == pat(*status*)"], **{"max-body-bytes": 100}),
        target("chunked", f"{peer}/chunked", ['[BODY].status == "up"']),
    ])
    assert results["gz"].ok and results["gz"].bytes_read > 5000
    assert results["gzcap"].ok and results["gzcap"].truncated and results["gzcap"].bytes_read == 100
    assert results["chunked"].ok, results["chunked"]


def test_not_http_is_a_connect_error_naming_the_protocol_problem():
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def answer():
        for _ in range(2):
            conn, _ = server.accept()
            conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
            conn.close()

    threading.Thread(target=answer, daemon=True).start()
    port = server.getsockname()[1]
    results = run([target("ssh", f"http://127.0.0.1:{port}/"), target("ssh-head", f"http://127.0.0.1:{port}/", method="HEAD")])
    server.close()
    for r in results.values():
        assert r.error == "connect" and "status line" in r.detail, r
