"""chalicelib.api.validate and .auth as plain functions (no AWS, no HTTP)."""
from __future__ import annotations

import pytest

from chalicelib.api import auth, validate
from chalicelib.api.errors import BadRequest, NotConfigured, NotFound, Unauthorized, UnsupportedMediaType


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


@pytest.mark.parametrize("message, param", [
    ("target 'a': url is required", "url"),
    ("target 'a': invalid url 'x' (bad port)", "url"),
    ("target 'a': alert channel 'pager' not one of console, slack", "alerts"),
    ("target 'a': condition '[X] == 1' uses [X], which a http:// target does not have", "conditions"),
    ("target 'a': degraded-response-time 'x' must be ms or a duration", "degraded_response_time"),
    ("target 'a': maintenance window needs a start", "maintenance"),
    ("target 'a': something else entirely", "body"),
])
def test_target_error_param(message, param):
    assert validate.target_error_param(message) == param


def test_known_target_and_dlq_channel():
    assert validate.known_target("peers-healthy") == "peers-healthy"
    with pytest.raises(NotFound):
        validate.known_target("../etc")
    assert validate.dlq_channel("console", {"console": "url"}) == "console"
    with pytest.raises(NotFound):
        validate.dlq_channel("slack", {"console": "url", "slack": ""})
    with pytest.raises(BadRequest):
        validate.dlq_channel("pager", {"console": "url"}, missing=BadRequest)
