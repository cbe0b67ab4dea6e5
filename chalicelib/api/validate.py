"""Pure request validation for the JSON API: every function takes plain request parts (query
mapping, path value, body bytes, headers) and returns clean values or raises
`BadRequest(param, message)` naming the parameter at fault. Nothing here touches AWS.

What reaches a service has the types and sizes the service expects, so an odd request is a 400
here rather than a 500 deeper down (e.g. an over-long DynamoDB key, a dict where a string goes).
"""
from __future__ import annotations

import json
import re
from datetime import date
from typing import Any, Mapping

from chalicelib.api.errors import BadRequest, NotFound, UnsupportedMediaType

MAX_TEXT = 200  # q, series, publisher, source, subscription match
MAX_ID = 300  # release ids: isbn:<13>, <source>:<item code>, <source>:<series key>:<volume>
MAX_DESTINATION = 500
MAX_CURSOR = 2048
MAX_BODY_BYTES = 64 * 1024
DLQ_MAX_LIMIT = 100
RELEASE_PARAMS = ("from", "to", "q", "series", "publisher", "source", "limit", "cursor", "category")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_CURSOR_KEYS = {"pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk"}


def _text(param: str, value: Any, *, max_len: int = MAX_TEXT, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise BadRequest(param, f"'{param}' is required")
        return None
    if not isinstance(value, str):
        raise BadRequest(param, f"'{param}' must be a string")
    if len(value) > max_len:
        raise BadRequest(param, f"'{param}' is longer than {max_len} characters")
    if _CONTROL.search(value):
        raise BadRequest(param, f"'{param}' must not contain control characters")
    return value


def _date(param: str, value: str) -> None:
    month = _MONTH.match(value)
    try:
        if month:
            date(int(month.group(1)), int(month.group(2)), 1)
        else:
            date.fromisoformat(value)
            if len(value) != 10:
                raise ValueError(value)
    except ValueError:
        raise BadRequest(param, f"'{param}' must be a date YYYY-MM-DD or a month YYYY-MM, got {value!r}") from None


def release_params(query: Mapping[str, str] | None) -> dict[str, str]:
    """GET /releases query: known names only, sane lengths, real dates, a well-formed cursor.
    (chalicelib.queries checks the rest: limit range, date span, cursor position.)"""
    params = {name: query[name] for name in (query or {})}
    for name in params:
        if name not in RELEASE_PARAMS:
            raise BadRequest(name, f"unknown parameter {name!r}; known: {', '.join(RELEASE_PARAMS)}")
    for name in ("q", "series", "publisher", "source", "category"):
        _text(name, params.get(name))
    for name in ("from", "to"):
        if params.get(name):
            _date(name, params[name])
    if params.get("limit") is not None and not re.fullmatch(r"[0-9]{1,4}", params["limit"]):
        raise BadRequest("limit", "'limit' must be a whole number between 1 and 200")
    if params.get("cursor"):
        _cursor(params["cursor"])
    return params


def _cursor(value: str) -> None:
    from chalicelib.queries import BadQuery, decode_cursor

    bad = BadRequest("cursor", "'cursor' is not a cursor this API returned")
    if len(value) > MAX_CURSOR or not re.fullmatch(r"[A-Za-z0-9_-]+", value):
        raise bad
    try:
        position, key = decode_cursor(value)
    except BadQuery:
        raise bad from None
    if position < 0 or (key is not None and not (
        isinstance(key, dict) and key and set(key) <= _CURSOR_KEYS
        and all(isinstance(v, str) and 0 < len(v) <= 1024 for v in key.values())
    )):
        raise bad


def release_id(value: str) -> str:
    return _text("release_id", value, max_len=MAX_ID, required=True)  # type: ignore[return-value]


def target_name(value: str, param: str = "name") -> str:
    from chalicelib.uptime.targets import NAME

    if not NAME.match(value or ""):
        raise BadRequest(param, f"'{param}' must be 1-64 letters, digits, '.', '_' or '-'")
    return value


def known_target(value: str) -> str:
    """A /status/{target} name: anything that cannot name a target is simply not found."""
    from chalicelib.uptime.targets import NAME

    if not NAME.match(value or ""):
        raise NotFound("target", f"no monitoring target named {value[:80]!r}")
    return value


# --- bodies ---------------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_body(headers: Mapping[str, str] | None, raw: bytes | None, *, required: bool = True) -> dict[str, Any]:
    """The request body as a JSON object. Content-Type must be JSON (`application/json` or a
    `+json` type) when a body is sent; an empty body is `{}` unless `required`."""
    if not raw:
        if required:
            raise BadRequest("body", "a JSON object body is required")
        return {}
    media = ((headers or {}).get("content-type") or "application/json").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaType("Content-Type", f"send the body as application/json, not {media!r}")
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest("body", f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("body", f"the body is not valid JSON ({exc})") from None
    if not isinstance(body, dict):
        raise BadRequest("body", "the body must be a JSON object")
    return body


def _no_unknown(body: dict[str, Any], known: set[str]) -> None:
    for name in sorted(body, key=str):
        if name not in known:
            raise BadRequest(name, f"unknown field {name!r}; known: {', '.join(sorted(known))}")


def destination(value: Any, param: str = "destination") -> str:
    from chalicelib.notify.model import BadDestination, split_destination

    text = _text(param, value, max_len=MAX_DESTINATION, required=True)
    try:
        split_destination(text)  # type: ignore[arg-type]
    except BadDestination as exc:
        raise BadRequest(param, f"{exc}: use slack:<channel>, x:<handle>, webhook:<url> or console:") from None
    return text  # type: ignore[return-value]


def kind(value: Any, param: str = "kind") -> str:
    from chalicelib.notify.subscriptions import KINDS

    if value not in KINDS:
        raise BadRequest(param, f"'{param}' must be one of {', '.join(KINDS)}")
    return value


def subscription(body: dict[str, Any]) -> dict[str, Any]:
    """POST /subscriptions: {destination, kind, match, digest?, quiet_hours?, tz?} ->
    keyword arguments of SubscriptionService.follow."""
    from chalicelib.notify.subscriptions import DIGEST_MODES

    _no_unknown(body, {"destination", "kind", "match", "digest", "quiet_hours", "tz"})
    out = {"destination": destination(body.get("destination")), "kind": kind(body.get("kind"))}
    out["text"] = _text("match", body.get("match"), required=out["kind"] != "ops") or "*"
    if body.get("digest") is not None and body["digest"] not in DIGEST_MODES:
        raise BadRequest("digest", f"'digest' must be one of {', '.join(DIGEST_MODES)}")
    for name in ("digest", "quiet_hours", "tz"):
        value = _text(name, body.get(name), max_len=64)
        if value is not None:
            out[name] = value
    return out


def subscription_error_param(message: str) -> str:
    """Which field a SubscriptionService ValueError is about (its messages name it)."""
    for param, words in (("tz", ("time zone",)), ("quiet_hours", ("quiet_hours",)), ("digest", ("digest",)),
                         ("kind", ("kind",)), ("destination", ("destination",))):
        if any(word in message for word in words):
            return param
    return "match"


_TARGET_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,), "group": (str,), "url": (str,), "method": (str,), "headers": (dict,), "body": (str,),
    "interval": (str, int), "timeout": (str, int, float), "conditions": (list,), "alerts": (list,),
    "failure_threshold": (int,), "success_threshold": (int,), "reminder_interval": (str, int),
    "maintenance": (list,), "degraded_response_time": (str, int, float), "max_body_bytes": (int,), "enabled": (bool,),
}


def target_config(body: dict[str, Any]) -> dict[str, Any]:
    """POST /targets: a Gatus-style endpoint mapping with JSON types checked field by field
    (uptime's parse_target then checks the meaning and raises InvalidTarget)."""
    for key, value in body.items():
        field = str(key).replace("-", "_")
        allowed = _TARGET_TYPES.get(field)
        if allowed is None:
            raise BadRequest(str(key), f"unknown field {key!r}; known: {', '.join(sorted(_TARGET_TYPES))}")
        if (isinstance(value, bool) and bool not in allowed) or not isinstance(value, allowed):
            names = " or ".join({str: "string", int: "integer", float: "number", dict: "object", list: "array",
                                 bool: "boolean"}[t] for t in allowed)
            raise BadRequest(str(key), f"'{key}' must be a {names}")
        if isinstance(value, str):
            _text(str(key), value, max_len=2048)
        if field == "headers" and not all(isinstance(v, str) for v in value.values()):
            raise BadRequest(str(key), "'headers' values must be strings")
        if field in ("conditions", "alerts") and not all(isinstance(v, str) for v in value):
            raise BadRequest(str(key), f"'{key}' must be an array of strings")
        if field == "maintenance":
            _maintenance(str(key), value)
    target_name(body.get("name") if isinstance(body.get("name"), str) else "", "name")
    return body


def target_error_param(message: str) -> str:
    """Which field an uptime InvalidTarget message ("target 'x': url ... must ...") is about:
    its messages start with the field ("url is required", "alert channel 'y' not one of ...")."""
    _, _, tail = message.partition(": ")
    for word in re.findall(r"[a-z][a-z_-]*", tail.lower())[:2]:
        field = {"condition": "conditions", "alert": "alerts"}.get(word, word.replace("-", "_"))
        if field in _TARGET_TYPES:
            return field
    return "body"


def _maintenance(param: str, windows: list[Any]) -> None:
    for window in windows:
        if not isinstance(window, dict):
            raise BadRequest(param, "each maintenance window must be an object")
        for key, value in window.items():
            if key == "every" and isinstance(value, list) and all(isinstance(v, str) for v in value):
                continue
            if not isinstance(value, str):
                raise BadRequest(param, f"maintenance field {key!r} must be a string")


# --- DLQ ------------------------------------------------------------------------------------------


def dlq_channel(value: Any, configured: Mapping[str, str], *, param: str = "channel", missing: type = NotFound) -> str:
    if value not in configured or not configured.get(value):
        raise missing(param, f"no dead-letter queue for channel {str(value)[:40]!r}; known: {', '.join(sorted(configured))}")
    return value


def dlq_limit(value: str | None) -> int:
    if value is None:
        return 50
    if not re.fullmatch(r"[0-9]{1,3}", value) or not 1 <= int(value) <= DLQ_MAX_LIMIT:
        raise BadRequest("limit", f"'limit' must be a whole number between 1 and {DLQ_MAX_LIMIT}")
    return int(value)


def redrive_ids(body: dict[str, Any]) -> list[str] | None:
    _no_unknown(body, {"message_ids"})
    ids = body.get("message_ids")
    if ids is None:
        return None
    if not isinstance(ids, list) or len(ids) > DLQ_MAX_LIMIT or not all(isinstance(i, str) and 0 < len(i) <= 200 for i in ids):
        raise BadRequest("message_ids", f"'message_ids' must be an array of at most {DLQ_MAX_LIMIT} message id strings")
    return ids


def match(value: Any) -> str:
    return _text("match", value, required=True)  # type: ignore[return-value]
