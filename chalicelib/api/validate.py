"""Pure request validation for the JSON API: every function takes plain request parts (query
mapping, path value, body bytes, headers) and returns clean values or raises
`BadRequest(param, message)` naming the parameter at fault. Nothing here touches AWS.

What reaches a service has the types and sizes the service expects, so an odd request is a 400
here rather than a 500 deeper down (e.g. an over-long DynamoDB key, a dict where a string goes).
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import date
from functools import cache
from typing import Any

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
    params = dict(query or {})
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


@cache
def _schema_validator(name: str) -> Callable[[Any], Any]:
    """The OpenAPI component schema `name`, exactly as /openapi.json serves it, compiled once per
    container by fastjsonschema (https://horejsek.github.io/python-fastjsonschema/, read
    2026-12-03: `compile(definition)`; errors carry `path`, `rule` and `rule_definition`)."""
    import fastjsonschema

    from chalicelib.api.openapi import SCHEMAS

    validator: Callable[[Any], Any] = fastjsonschema.compile(
        {"$ref": f"#/components/schemas/{name}", "components": {"schemas": SCHEMAS}})
    return validator


def check_schema(name: str, body: dict[str, Any], *, keys: Mapping[str, str] | None = None) -> None:
    """Validate a request body against its OpenAPI schema; BadRequest names the field at fault
    (`keys` maps a normalized field name back to the one the client sent)."""
    import fastjsonschema

    try:
        _schema_validator(name)(body)
    except fastjsonschema.JsonSchemaValueException as exc:
        known = sorted((exc.definition or {}).get("properties") or {})
        if len(exc.path) > 1:  # a field (or something inside it): name the top-level field
            field = str(exc.path[1])
            message = f"'{(keys or {}).get(field, field)}' is invalid: {exc.message.removeprefix('data.')}"
        elif exc.rule == "required":
            field = next(str(f) for f in exc.rule_definition if f not in body)
            message = f"'{(keys or {}).get(field, field)}' is required"
        elif exc.rule == "additionalProperties":
            field = sorted(str(f) for f in body if f not in known)[0]
            message = f"unknown field {(keys or {}).get(field, field)!r}; known: {', '.join(known)}"
        else:
            field, message = "body", exc.message.replace("data", "the body", 1)
        raise BadRequest((keys or {}).get(field, field), message) from None


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
    return str(value)


def subscription(body: dict[str, Any]) -> dict[str, Any]:
    """POST /subscriptions: {destination, kind, match, digest?, quiet_hours?, tz?} ->
    keyword arguments of SubscriptionService.follow."""
    check_schema("SubscriptionRequest", body)
    out = {"destination": destination(body.get("destination")), "kind": kind(body.get("kind"))}
    out["text"] = _text("match", body.get("match"), required=out["kind"] != "ops") or "*"
    for name in ("digest", "quiet_hours", "tz"):
        value = _text(name, body.get(name), max_len=64)
        if value is not None:
            out[name] = value
    return out


def target_config(body: dict[str, Any]) -> dict[str, Any]:
    """POST /targets: a Gatus-style endpoint mapping checked against the TargetConfig schema
    (kebab-case keys as their snake_case twins); uptime's parse_target then checks the meaning
    and raises InvalidTarget naming the field. Returned as sent."""
    keys = {str(key).replace("-", "_"): str(key) for key in body}
    check_schema("TargetConfig", {str(key).replace("-", "_"): value for key, value in body.items()}, keys=keys)
    for key, value in body.items():
        if isinstance(value, str):
            _text(str(key), value, max_len=2048)
    name = body.get("name")
    target_name(name if isinstance(name, str) else "", "name")
    return body


# --- DLQ ------------------------------------------------------------------------------------------


def dlq_channel(value: Any, configured: Mapping[str, str], *, param: str = "channel", missing: type = NotFound) -> str:
    if value not in configured or not configured.get(value):
        raise missing(param, f"{str(value)[:40]!r} is not a dead-letter queue this route serves; known: {', '.join(sorted(configured))}")
    return str(value)


def dlq_limit(value: str | None) -> int:
    if value is None:
        return 50
    if not re.fullmatch(r"[0-9]{1,3}", value) or not 1 <= int(value) <= DLQ_MAX_LIMIT:
        raise BadRequest("limit", f"'limit' must be a whole number between 1 and {DLQ_MAX_LIMIT}")
    return int(value)


def redrive_ids(body: dict[str, Any]) -> list[str] | None:
    check_schema("RedriveRequest", body)
    ids: list[str] | None = body.get("message_ids")
    return ids


def match(value: Any) -> str:
    return _text("match", value, required=True)  # type: ignore[return-value]


def heartbeat_ping(token: str, action: str | None) -> tuple[str, str | None]:
    """(token, action) of `/ping/{token}[/{action}]`. A token of the wrong shape is a 404 like an
    unknown one (no oracle), a bad action a 400; the token is never echoed in a message."""
    from urllib.parse import unquote

    from chalicelib.api import errors
    from chalicelib.uptime.heartbeat import TOKEN, InvalidHeartbeat, signal_of

    token = unquote(token or "")
    if not TOKEN.match(token):
        raise errors.NotFound("token", "no heartbeat has this token")
    if action is not None:
        try:
            signal_of(unquote(action))
        except InvalidHeartbeat as exc:
            raise errors.BadRequest("action", str(exc)) from None
    return token, (unquote(action) if action is not None else None)
