"""chalicelib.api.validate and .auth as plain functions (no AWS, no HTTP)."""
from __future__ import annotations

import json

import pytest

from chalicelib import errors as domain
from chalicelib.api import auth, validate
from chalicelib.api.errors import BadRequest, NotConfigured, NotFound, Unauthorized, UnsupportedMediaType
from chalicelib.notify.model import BadDestination, split_destination
from chalicelib.notify.subscriptions import Subscription, normalize_key, parse_quiet_hours, zone
from chalicelib.queries import BadQuery
from chalicelib.uptime.targets import InvalidTarget, TargetExists


@pytest.mark.parametrize("headers, key", [
    ({"x-api-key": "k1"}, "k1"),
    ({"x-api-key": "  k1 "}, "k1"),
    ({"authorization": "Bearer k2"}, "k2"),
    ({"authorization": "bearer   k2"}, "k2"),
    ({"authorization": "Basic k2"}, None),
    ({"authorization": "Bearer "}, None),
    ({}, None),
    (None, None),
])
def test_presented_key(headers, key):
    assert auth.presented_key(headers) == key


def test_require_api_key_outcomes():
    auth.require_api_key({"x-api-key": "right"}, expected="right")
    with pytest.raises(Unauthorized) as wrong:
        auth.require_api_key({"x-api-key": "righ"}, expected="right")
    assert wrong.value.param == "X-Api-Key" and wrong.value.headers["WWW-Authenticate"].startswith("Bearer")
    with pytest.raises(Unauthorized):
        auth.require_api_key({}, expected="right")
    with pytest.raises(NotConfigured) as missing:
        auth.require_api_key({"x-api-key": "anything"}, expected="")
    assert missing.value.status == 503 and missing.value.param == "api_key"
    with pytest.raises(Unauthorized):  # non-ASCII input never crashes the comparison
        auth.require_api_key({"x-api-key": "ключ\udcff"}, expected="right")


def test_release_params_pass_through_and_reject():
    assert validate.release_params({"q": "x", "limit": "5"}) == {"q": "x", "limit": "5"}
    assert validate.release_params(None) == {}
    for query, param in ([{"from": "2026-02-29"}, "from"], [{"to": "2026-00"}, "to"], [{"limit": "1e3"}, "limit"],
                         [{"source": "a\nb"}, "source"], [{"zzz": "1"}, "zzz"], [{"cursor": "%%%"}, "cursor"]):
        with pytest.raises(BadRequest) as exc:
            validate.release_params(query)
        assert exc.value.param == param


def test_json_body():
    assert validate.json_body({"content-type": "application/json; charset=utf-8"}, b'{"a": 1}') == {"a": 1}
    assert validate.json_body({"content-type": "application/merge-patch+json"}, b"{}") == {}
    assert validate.json_body({}, b"", required=False) == {}
    with pytest.raises(UnsupportedMediaType):
        validate.json_body({"content-type": "text/plain"}, b"{}")
    with pytest.raises(BadRequest):
        validate.json_body({}, b"\xff\xfe")
    with pytest.raises(BadRequest):
        validate.json_body({}, b"{" + b" " * validate.MAX_BODY_BYTES + b"}")


@pytest.mark.parametrize("config, param", [  # issue 15: the field is set where the error is raised
    ({"name": "a"}, "url"),
    ({"name": "a", "url": "http://[::1"}, "url"),
    ({"name": "a", "url": "http://example.com/", "alerts": ["pager"]}, "alerts"),
    ({"name": "a", "url": "http://example.com/", "conditions": ["[CONNECTED] == true"]}, "conditions"),
    ({"name": "a", "url": "http://example.com/", "degraded-response-time": "x"}, "degraded_response_time"),
    ({"name": "a", "url": "http://example.com/", "maintenance": [{"duration": "1h"}]}, "maintenance"),
    ({"name": "a", "url": "http://example.com/", "failure-threshold": 0}, "failure_threshold"),
    ({"name": "a", "url": "http://example.com/", "heartbeat": {"period": "1h"}}, "heartbeat"),
    ({"name": "a", "heartbeat": {"token": "t" * 20, "period": "1s"}}, "heartbeat"),
    ({"name": "a", "url": "dns://9.9.9.9", "dns": {"query-type": "A"}}, "dns"),
    ({"name": "a", "url": "http://example.com/", "colour": "red"}, "colour"),
    ("not a mapping", None),  # the input as a whole: no field to name
])
def test_invalid_target_names_the_field(config, param):
    from chalicelib.errors import InvalidInput
    from chalicelib.uptime.targets import parse_target

    with pytest.raises(InvalidTarget) as exc:
        parse_target(config)
    assert exc.value.param == param and isinstance(exc.value, InvalidInput)


@pytest.mark.parametrize("make, param", [
    (lambda: split_destination("pager:1"), "destination"),
    (lambda: zone("Mars/Olympus"), "tz"),
    (lambda: parse_quiet_hours("late"), "quiet_hours"),
    (lambda: Subscription.create("console:", "series", "!!!"), "match"),
    (lambda: Subscription.create("console:", "series", "x", digest="hourly"), "digest"),
    (lambda: normalize_key("genre", "x"), "kind"),
])
def test_subscription_errors_name_the_field(make, param):
    from chalicelib.errors import InvalidInput

    with pytest.raises(InvalidInput) as exc:
        make()
    assert exc.value.param == param and isinstance(exc.value, ValueError)  # `except ValueError` still catches them


def test_known_target_and_dlq_channel():
    assert validate.known_target("peers-healthy") == "peers-healthy"
    with pytest.raises(NotFound):
        validate.known_target("../etc")
    assert validate.dlq_channel("console", {"console": "url"}) == "console"
    with pytest.raises(NotFound):
        validate.dlq_channel("slack", {"console": "url", "slack": ""})
    with pytest.raises(BadRequest):
        validate.dlq_channel("pager", {"console": "url"}, missing=BadRequest)


# --- request bodies are checked against the served OpenAPI schemas (issue 15 point 1) -----------

def _wrong_value(schema: dict) -> object:
    """A JSON value of a type the property does not allow (an enum without a type: a number)."""
    if "type" not in schema:
        return 12345
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    for value, kind in ((True, "boolean"), (7, "integer"), ([], "array"), ({}, "object"), ("x", "string")):
        if kind not in kinds and not (kind == "integer" and "number" in kinds):
            return value
    raise AssertionError(schema)


def test_every_target_field_of_the_served_schema_is_enforced_and_named():
    """Derived from the schema /openapi.json serves: a wrong type for each property is a 400
    naming that property, in snake_case or kebab-case as sent."""
    from chalicelib.api.errors import BadRequest
    from chalicelib.api.openapi import document

    schema = document()["components"]["schemas"]["TargetConfig"]
    assert schema["additionalProperties"] is False and len(schema["properties"]) >= 15
    for field, prop in schema["properties"].items():
        sent = field.replace("_", "-") if field not in ("name", "url") else field
        body = {"name": "t1", "url": "http://127.0.0.1:9/", sent: _wrong_value(prop)}
        with pytest.raises(BadRequest) as bad:
            validate.target_config(body)
        assert bad.value.param == sent, (field, str(bad.value))


@pytest.mark.parametrize("schema, body, param, words", [
    ("SubscriptionRequest", {"kind": "series", "match": "x"}, "destination", "required"),
    ("SubscriptionRequest", {"destination": "slack:C1", "kind": "series", "match": "x", "digest": "hourly"}, "digest", "one of"),
    ("SubscriptionRequest", {"destination": "slack:C1", "kind": "series", "match": "x", "colour": 1}, "colour", "known: "),
    ("RedriveRequest", {"message_ids": ["a", 2]}, "message_ids", "message_ids[1]"),
    ("RedriveRequest", {"message_ids": ["a"] * 101}, "message_ids", "100"),
])
def test_check_schema_names_the_field(schema, body, param, words):
    from chalicelib.api.errors import BadRequest

    with pytest.raises(BadRequest) as bad:
        validate.check_schema(schema, body)
    assert bad.value.param == param and words in str(bad.value)


def test_ops_follow_needs_no_match_as_the_schema_says():
    from chalicelib.api.openapi import document

    assert "match" not in document()["components"]["schemas"]["SubscriptionRequest"]["required"]
    assert validate.subscription({"destination": "console:ops", "kind": "ops"})["text"] == "*"


# --- one place maps errors to problem JSON: the Chalice middleware ------------------------------


def test_problems_middleware_maps_api_errors_and_passes_the_rest():
    from chalice import Response
    from chalice.app import ChaliceUnhandledError

    from app import app
    from chalicelib.api import errors

    registered = [func.__name__ for func, kind in app.middleware_handlers if kind in ("http", "all")]
    assert registered == ["_problems"]  # one middleware, and no other place catches ApiError
    ok = Response(body="fine", status_code=200)
    assert errors.problems(None, lambda event: ok) is ok

    def raises(event):
        raise errors.Conflict("name", "target 'x': already exists")

    problem = errors.problems(None, raises)
    assert problem.status_code == 409 and problem.headers["Content-Type"] == "application/problem+json"
    assert json.loads(problem.body)["param"] == "name"

    def crashes(event):
        raise KeyError("not ours")

    with pytest.raises(KeyError):  # anything else is Chalice's 500, not dressed up as a problem
        errors.problems(None, crashes)
    assert issubclass(errors.ApiError, ChaliceUnhandledError)  # the one exception Chalice lets reach middleware


@pytest.mark.parametrize("kind, status, param", [
    (TargetExists, 409, "name"),
    (InvalidTarget, 400, "interval"),
    (BadQuery, 400, "cursor"),
    (BadDestination, 400, "destination"),
    (domain.NotFound, 404, "release_id"),
    (domain.InvalidInput, 400, None),
])
def test_guarded_maps_domain_errors_by_kind_not_by_message(kind, status, param):
    """`guarded` (around every API route) turns a domain error into the ApiError of its kind; the
    message is passed through and never read: every wording gives the same status and param."""
    from chalicelib.api import errors

    for message in ("already exists", "unknown time zone", "url is required", "", "名前"):
        error = kind(param, message)

        @errors.guarded(lambda: None)
        def view():
            raise error  # noqa: B023 (called at once, in this iteration)

        with pytest.raises(errors.ApiError) as exc:
            view()
        assert (exc.value.status, exc.value.param, str(exc.value)) == (status, param, message)
        problem = json.loads(exc.value.response().body)
        assert (problem["status"], problem.get("param")) == (status, param)
