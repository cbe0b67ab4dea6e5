"""Gatus-style conditions (parse + evaluate) and target validation at load time, pure."""
from __future__ import annotations

from itertools import pairwise

import pytest

from chalicelib.uptime import conditions as cond
from chalicelib.uptime.conditions import ConditionError, duration_ms, evaluate_all, parse
from chalicelib.uptime.ssrf import AddressPolicy
from chalicelib.uptime.targets import InvalidTarget, parse_config, parse_target

HOUR_MS = 3_600_000


def check(text: str, **ctx) -> tuple[bool, str]:
    return parse(text).evaluate(dict(ctx))


@pytest.mark.parametrize("text, ctx, expected", [
    ("[STATUS] == 200", {"STATUS": 200}, True),
    ("[STATUS] == 200", {"STATUS": 500}, False),
    ("[STATUS] < 400", {"STATUS": 399}, True),
    ("[STATUS] < 400", {"STATUS": 404}, False),
    ("[STATUS] != 500", {"STATUS": 200}, True),
    ("[STATUS] >= 200", {"STATUS": 200}, True),
    ("[STATUS] <= 299", {"STATUS": 301}, False),
    ("[STATUS] == any(200, 204)", {"STATUS": 204}, True),
    ("[STATUS] == any(200, 204)", {"STATUS": 201}, False),
    ("[RESPONSE_TIME] < 500", {"RESPONSE_TIME": 499}, True),
    ("[RESPONSE_TIME] < 500", {"RESPONSE_TIME": 500}, False),
    ("[RESPONSE_TIME] < 1s", {"RESPONSE_TIME": 999}, True),
    ("[RESPONSE_TIME] < 1s", {"RESPONSE_TIME": 1000}, False),
    ("[BODY] == pat(*ok*)", {"BODY": b"all ok here"}, True),
    ("[BODY] == pat(*ok*)", {"BODY": b"everything is terrible"}, False),
    ("[BODY] != pat(*error*)", {"BODY": b"fine"}, True),
    ("[BODY] != pat(*error*)", {"BODY": b"an error"}, False),
    ("[BODY] == re(^ok$)", {"BODY": b"ok"}, True),
    ("[BODY] == re(^ok$)", {"BODY": b"not ok"}, False),
    ("[BODY] == regex(v[0-9]+\\.[0-9]+)", {"BODY": b"version v2.17"}, True),
    ('[BODY].status == "up"', {"BODY": b'{"status": "up"}'}, True),
    ("[BODY].status == up", {"BODY": b'{"status": "up"}'}, True),
    ('[BODY].status == "up"', {"BODY": b'{"status": "down"}'}, False),
    ('[BODY].status == "up"', {"BODY": b'{"other": 1}'}, False),
    ('[BODY].status == "up"', {"BODY": b"{status: up"}, False),  # invalid JSON
    ("[BODY].data[0].name == alpha", {"BODY": b'{"data": [{"name": "alpha"}]}'}, True),
    ("[BODY].count > 2", {"BODY": b'{"count": 3}'}, True),
    ("[BODY].ready == true", {"BODY": b'{"ready": true}'}, True),
    ("[BODY].ready == true", {"BODY": b'{"ready": false}'}, False),
    ("len([BODY].items) > 0", {"BODY": b'{"items": [1, 2]}'}, True),
    ("len([BODY].items) > 0", {"BODY": b'{"items": []}'}, False),
    ("len([BODY].items) > 0", {"BODY": b'{"no": 1}'}, False),
    ("len([BODY]) == 5", {"BODY": b"hello"}, True),
    ("[CERTIFICATE_EXPIRATION] > 168h", {"CERTIFICATE_EXPIRATION": 200 * HOUR_MS}, True),
    ("[CERTIFICATE_EXPIRATION] > 168h", {"CERTIFICATE_EXPIRATION": 48 * HOUR_MS}, False),
    ("[CERTIFICATE_EXPIRATION] > 168h", {}, False),  # plain http: no certificate
    ("[CERTIFICATE_EXPIRATION] > 7d", {"CERTIFICATE_EXPIRATION": 8 * 24 * HOUR_MS}, True),
    ("[CONNECTED] == true", {"CONNECTED": True}, True),
    ("[CONNECTED] == true", {"CONNECTED": False}, False),
    ("[CONNECTED] == true", {}, False),
    ("[DNS_RCODE] == NOERROR", {"DNS_RCODE": "NOERROR"}, True),
    ("[DNS_RCODE] == NOERROR", {"DNS_RCODE": "NXDOMAIN"}, False),
    ("[IP] == 127.0.0.1", {"IP": "127.0.0.1"}, True),
    ("[IP] == 127.0.0.1", {"IP": "10.0.0.1"}, False),
    ("[BODY] == 93.184.216.34", {"BODY": "93.184.216.34"}, True),  # DNS body is the answer
    ("200 == [STATUS]", {"STATUS": 200}, True),  # placeholder on the right
])
def test_every_gatus_form(text, ctx, expected):
    passed, rendered = check(text, **ctx)
    assert passed is expected, rendered
    assert rendered.startswith(parse(text).text)


def test_rendering_shows_the_value_that_failed():
    passed, rendered = check("[STATUS] == 200", STATUS=503)
    assert not passed and rendered == "[STATUS] == 200 (got 503)"
    assert check('[BODY].status == "up"', BODY=b"{}")[1].endswith("(got missing)")


def test_evaluate_all_returns_the_first_failure():
    conditions = tuple(parse(t) for t in ("[STATUS] == 200", "[RESPONSE_TIME] < 300", "[BODY] == pat(*ok*)"))
    assert evaluate_all(conditions, {"STATUS": 200, "RESPONSE_TIME": 10, "BODY": b"ok"}) is None
    failed, rendered = evaluate_all(conditions, {"STATUS": 200, "RESPONSE_TIME": 900, "BODY": b"nope"})
    assert failed.text == "[RESPONSE_TIME] < 300" and "900" in rendered


def test_error_class_status_only_vs_condition():
    assert parse("[STATUS] == 200").error_class == "status"
    assert parse("[RESPONSE_TIME] < 300").error_class == "condition"
    assert parse("[BODY] == pat(*ok*)").error_class == "condition"


@pytest.mark.parametrize("text, expected_ms", [
    ("500ms", 500), ("30s", 30_000), ("5m", 300_000), ("168h", 168 * HOUR_MS), ("2d", 48 * HOUR_MS),
    ("1h30m", 90 * 60_000), ("1.5s", 1500),
])
def test_durations(text, expected_ms):
    assert duration_ms(text) == expected_ms


@pytest.mark.parametrize("text", ["", "5", "5x", "h", "1h 30m", "-5s"])
def test_not_durations(text):
    assert duration_ms(text) is None


@pytest.mark.parametrize("text, problem", [
    ("", "empty"),
    ("[STATUS] 200", "no operator"),
    ("[STATUS] ==", "both sides"),
    ("[STATUSS] == 200", "unknown placeholder [STATUSS]"),
    ("pat(*ok*) == [BODY]", "right-hand side"),
    ("[BODY] < pat(*ok*)", "only works with == or !="),
    ("[STATUS] < abc", "needs a number or duration"),
    ("[CONNECTED] > 1", "cannot be ordered"),
    ("[STATUS].code == 200", "only [BODY] takes a JSON path"),
    ("len([STATUS]) > 1", "len() takes [BODY]"),
    ("[BODY] == re([unclosed)", "invalid regex"),
    ("1 == 1", "no placeholder"),
])
def test_bad_conditions_are_rejected_with_the_problem(text, problem):
    with pytest.raises(ConditionError) as info:
        parse(text)
    assert problem in str(info.value)


def test_operator_inside_a_pattern_is_not_the_operator():
    condition = parse("[BODY] == pat(*a==b*)")
    assert condition.op == "==" and isinstance(condition.right, cond.Pattern) and condition.right.raw == "*a==b*"
    assert condition.evaluate({"BODY": b"x a==b y"})[0]


# --- targets: rejected at load, naming the target and the problem -----------------------------

def endpoint(**raw):
    return {"name": "api", "url": "https://api.example.com/health", **raw}


@pytest.mark.parametrize("raw, problem", [
    (endpoint(conditions=["[STATUS] = 200"]), "no operator"),
    (endpoint(conditions=["[STAUTS] == 200"]), "unknown placeholder [STAUTS]"),
    (endpoint(conditions=["[BODY] < pat(x)"]), "only works with == or !="),
    (endpoint(conditions="[STATUS] == 200"), "conditions must be a list"),
    (endpoint(url="tcp://db.example.com:5432", conditions=["[STATUS] == 200"]), "tcp:// target does not have"),
    (endpoint(url="http://api.example.com/", conditions=["[CERTIFICATE_EXPIRATION] > 72h"]), "http:// target does not have"),
    (endpoint(url="ftp://files.example.com/"), "must start with http://, https://, tcp:// or dns://"),
    (endpoint(url="http:///path"), "has no host"),
    (endpoint(url="https://user:secret@api.example.com/"), "must not carry credentials"),
    (endpoint(url="tcp://db.example.com"), "needs a port"),
    (endpoint(url="http://api.example.com:99999/"), "invalid url"),
    (endpoint(url=""), "url is required"),
    (endpoint(method="FETCH"), "method 'FETCH'"),
    (endpoint(interval="90s"), "interval must be whole minutes"),
    (endpoint(interval="soon"), "is not a duration"),
    (endpoint(timeout="2m"), "timeout must be between 0 and 50s"),
    (endpoint(**{"failure-threshold": 0}), "failure-threshold 0 must be between 1 and 20"),
    (endpoint(alerts=["pager"]), "alert channel 'pager'"),
    (endpoint(colour="blue"), "unknown field(s) colour"),
    (endpoint(maintenance=[{"start": "02:00", "duration": "1h", "timezone": "Mars/Olympus"}]), "unknown timezone"),
    (endpoint(**{"degraded-response-time": "fast"}), "degraded-response-time"),
])
def test_bad_targets_are_rejected_naming_target_and_problem(raw, problem):
    with pytest.raises(InvalidTarget) as info:
        parse_config({"endpoints": [raw]})
    message = str(info.value)
    assert message.startswith("target 'api': ") and problem in message, message


def test_bad_name_and_duplicates_are_rejected():
    with pytest.raises(InvalidTarget, match="name must be"):
        parse_target({"name": "bad name!", "url": "http://example.com/"})
    with pytest.raises(InvalidTarget, match="target 'a': defined twice"):
        parse_config({"endpoints": [{"name": "a", "url": "http://x.example/"}, {"name": "a", "url": "http://y.example/"}]})


@pytest.mark.parametrize("url, kind", [
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://127.0.0.1:8080/", "loopback"),
    ("http://0x7f000001/", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://10.0.0.1/", "private"),
    ("http://localhost/", "loopback"),
])
def test_refused_addresses_are_rejected_at_load_when_a_policy_is_given(url, kind):
    with pytest.raises(InvalidTarget) as info:
        parse_target({"name": "api", "url": url}, policy=AddressPolicy(allow_private=False))
    assert str(info.value).startswith("target 'api': url") and "refused" in str(info.value) and kind in str(info.value)


def test_public_host_names_are_accepted_and_vetted_at_connect_time():
    target = parse_target({"name": "api", "url": "https://api.example.com/health"}, policy=AddressPolicy(False))
    assert target.host == "api.example.com" and target.port == 443 and target.scheme == "https"


def test_defaults_and_kebab_case_keys_apply():
    config = parse_config({
        "defaults": {"timeout": "5s", "failure-threshold": 2, "alerts": ["slack"]},
        "grouping": {"share": 0.6, "min-targets": 5},
        "endpoints": [
            {"name": "web", "url": "https://example.com/", "reminder-interval": "30m",
             "conditions": ["[STATUS] < 400", "[CERTIFICATE_EXPIRATION] > 168h"], "degraded-response-time": "300ms"},
            {"name": "db", "url": "tcp://db.example.com:5432"},
            {"name": "dns", "url": "dns://example.com", "enabled": False},
        ],
    })
    web, db = config.targets
    assert (web.timeout_s, web.failure_threshold, web.alerts, web.reminder_interval_s, web.degraded_ms) == (5.0, 2, ("slack",), 1800, 300.0)
    assert [c.text for c in db.conditions] == ["[CONNECTED] == true"]  # the scheme's default condition
    assert config.grouping.share == 0.6 and config.grouping.min_targets == 5
    assert [t.name for t in config.targets] == ["web", "db"]  # disabled endpoints are not checked


def test_due_is_deterministic_and_spreads_longer_intervals():
    target = parse_target({"name": "slowpoke", "url": "http://example.com/", "interval": "5m"})
    due = [m for m in range(100) if target.due(m)]
    assert len(due) == 20 and all(b - a == 5 for a, b in pairwise(due))
    assert due == [m for m in range(100) if target.due(m)]
    every = parse_target({"name": "fast", "url": "http://example.com/"})
    assert all(every.due(m) for m in range(10))


# --- issue 13: validation at load and Gatus semantics ------------------------------------------
@pytest.mark.parametrize("text, problem", [
    ("[STATUS] === 200", "unknown operator '==='"),
    ("[STATUS] !== 200", "unknown operator '!=='"),
    ("[STATUS] => 200", "unknown operator '=>'"),
    ("[STATUS] == banana", "[STATUS] is an HTTP status code (100-599), 'banana' is not"),
    ("[STATUS] == 2000", "HTTP status code"),
    ("[STATUS] == any(200, nope)", "'nope' is not"),
    ("[RESPONSE_TIME] == fast", "is a number or a duration"),
    ("[CONNECTED] == yes", "is true or false"),
    ("[DNS_RCODE] == NOPE", "is a DNS response code"),
    ("[IP] == localhost", "is an IP address"),
    ("has([BODY].x) > 1", "cannot be ordered"),
    ("has([STATUS]) == true", "has() takes [BODY]"),
    ("[DOMAIN_EXPIRATION] > soon", "needs a number or duration"),
])
def test_conditions_are_type_checked_at_load_with_a_message_naming_the_problem(text, problem):
    with pytest.raises(ConditionError) as info:
        parse(text)
    assert problem in str(info.value)


@pytest.mark.parametrize("text, ctx, expected", [
    ("len([BODY]) > 0", {"BODY": b"[]"}, False),  # Gatus counts elements, not bytes
    ("len([BODY]) == 2", {"BODY": b'{"a": 1, "b": 2}'}, True),  # keys of an object
    ("len([BODY]) == 5", {"BODY": "héllo".encode()}, True),  # characters of a non-JSON body
    ("len([BODY].name) == 3", {"BODY": b'{"name": "abc"}'}, True),
    ("len([BODY].items) == 0", {"BODY": b'{"items": []}'}, True),
    ("has([BODY].errors) == false", {"BODY": b'{"data": 1}'}, True),
    ("has([BODY].errors) == true", {"BODY": b'{"errors": null}'}, True),
    ("has([BODY].data) == true", {"BODY": b"not json"}, False),
    ("[status] == 200", {"STATUS": 200}, True),  # placeholders are case-insensitive
    ("[Body].status == up", {"BODY": b'{"status": "up"}'}, True),
    ("[BODY].flags == 0x1F", {"BODY": b'{"flags": 31}'}, True),
    ("[BODY].mode == 0o17", {"BODY": b'{"mode": 15}'}, True),
    ("[BODY].bits == 0b101", {"BODY": b'{"bits": "0b101"}'}, True),
    ("[BODY].hex > 0x10", {"BODY": b'{"hex": "0x20"}'}, True),
    ("[STATUS] == any(200, 0xCC)", {"STATUS": 204}, True),
    ("[DOMAIN_EXPIRATION] > 720h", {"DOMAIN_EXPIRATION": 31 * 86_400_000}, True),
])
def test_gatus_semantics(text, ctx, expected):
    assert parse(text).evaluate(dict(ctx))[0] is expected


def test_deeply_nested_json_is_missing_not_an_exception():
    body = b"[" * 100_000 + b"]" * 100_000
    passed, rendered = parse("[BODY].status == up").evaluate({"BODY": body})
    assert passed is False and "missing" in rendered
