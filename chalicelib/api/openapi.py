"""The OpenAPI 3.1 document of the JSON API, built once as a Python dict and served at
/openapi.json. It describes what the routes in app.py really answer; schemathesis checks that
against the local stack (tests/e2e/test_api_schema.py) and tests/integration/api checks every
route's responses against these component schemas.

Undocumented on purpose: unknown paths and methods get the gateway's own answer (API Gateway /
`chalice local`: 403 "Missing Authentication Token", 405), which is not problem JSON and cannot
be, because no function of ours runs for them.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib.notify.dlq import DLQ_NAMES
from chalicelib.queries import MAX_LIMIT

VERSION = "1.0.0"
STATES = ["DOWN", "DEGRADED", "MAINTENANCE", "UNKNOWN", "UP", "PENDING"]
CHANNELS = ["slack", "x", "webhook", "console"]
DLQ = list(DLQ_NAMES)  # the notification channels plus crawl, slack-jobs, stream-failures
KINDS = ["series", "keyword", "publisher", "source", "target", "ops"]


def _nullable(kind: str | list[str], **extra: Any) -> dict[str, Any]:
    kinds = [kind] if isinstance(kind, str) else list(kind)
    return {"type": [*kinds, "null"], **extra}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_STR = {"type": "string"}
_DESTINATION = "^(slack|slack-user|slack-webhook|x|webhook|discord|teams|telegram|ntfy|pagerduty|email):[^\\s]+$|^console:"
_NUM_OR_NULL = _nullable("number")
_OBJ = {"type": "object"}

SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details; `param` names the request parameter, body field or header at fault.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": _STR, "title": _STR, "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": _STR, "param": _STR,
        },
    },
    "Health": {"type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean"}}},
    "Release": {
        "type": "object",
        "required": ["id", "source", "title", "first_seen"],
        "properties": {
            "id": {"type": "string", "description": "isbn:<13>, jan:<13>, <source>:<item code> or <source>:<series>:<volume>"},
            "source": _STR,
            "title": _STR,
            "series": _nullable("string"),
            "volume": _nullable("string"),
            "flags": _nullable("array", items=_STR),
            "isbn13": _nullable("string"),
            "jan": _nullable("string"),
            "diamond_code": _nullable("string"),
            "publisher": _nullable("string"),
            "release_date": _nullable("string", description="YYYY-MM-DD or YYYY-MM"),
            "price": _nullable("string", description="decimal string, exact"),
            "currency": _nullable("string"),
            "url": _nullable("string"),
            "cover_url": _nullable("string"),
            "source_refs": _nullable("array", items=_STR),
            "first_seen": _STR,
            "issue": _nullable("string", description="issue number when the title prints one (VOL 2 #3 -> 3)"),
            "category": _nullable("string", description="comic, collected, magazine or merchandise"),
            "work": _nullable("string", description="editions of one issue share it: <series key>|<number>|<format>"),
            "listing": _nullable("string", description="'no longer listed' when its source dropped it before release"),
            "previous_release_date": _nullable("string", description="the date before its last move"),
            "editions": {"type": "array", "description": "every stored edition of its work: on GET /releases/{id} always "
                         "(id, title, edition, source, url); on GET /releases when a work has more than one (id, label, "
                         "url), the item itself being its main edition",
                         "items": {"type": "object"}},
        },
    },
    "ReleasePage": {
        "type": "object",
        "required": ["releases", "next_cursor", "partial"],
        "properties": {
            "releases": {"type": "array", "items": _ref("Release"), "maxItems": MAX_LIMIT,
                         "description": "one item per work (variants collapsed into `editions`); `limit` counts works"},
            "next_cursor": _nullable("string", description="pass as `cursor` for the next page; null on the last page"),
            "partial": _nullable("string", description="why this page holds fewer than `limit` rows while "
                                 "`next_cursor` is not null (the read budget ran out); null otherwise"),
        },
    },
    "Source": {
        "type": "object",
        "required": ["name", "kind", "enabled", "status", "items", "last_crawl", "reason"],
        "properties": {
            "name": _STR,
            "kind": _nullable("string"),
            "enabled": {"type": "boolean"},
            "status": {"type": "string", "description": "ok, degraded, dead, never crawled"},
            "items": {"type": "integer", "minimum": 0},
            "skipped_rows": {"type": "integer", "minimum": 0,
                             "description": "rows of its last parsed list skipped as unreadable (the list was kept)"},
            "last_crawl": _nullable("string"),
            "reason": _nullable("string"),
            "degraded_since": _nullable("string"),
            "retry_at": _nullable("string"),
        },
    },
    "SourceList": {
        "type": "object", "required": ["sources"],
        "properties": {"sources": {"type": "array", "items": _ref("Source")}},
    },
    "TargetSummary": {
        "type": "object",
        "required": ["name", "group", "state", "last_check", "latency_ms", "uptime_24h"],
        "properties": {
            "name": _STR, "group": _STR, "state": {"enum": STATES},
            "last_check": _nullable("string"), "latency_ms": _NUM_OR_NULL,
            "uptime_24h": _nullable("number", minimum=0, maximum=1),
            "uptime": {"type": "object", "description": "the one uptime figure per window (incl. minutes not rolled up)",
                       "properties": {w: _nullable("number", minimum=0, maximum=1) for w in ("24h", "7d", "30d", "90d")}},
        },
    },
    "PingResult": {
        "type": "object", "required": ["ok", "target", "signal", "at"],
        "properties": {"ok": {"type": "boolean"}, "target": _STR, "signal": {"enum": ["success", "start", "fail"]},
                       "at": _STR, "run_time_ms": {"type": "integer"}},
    },
    "StatusSummary": {
        "type": "object",
        "required": ["targets", "generated_at"],
        "properties": {"targets": {"type": "array", "items": _ref("TargetSummary")}, "generated_at": _STR},
    },
    "TargetStatus": {
        "type": "object",
        "required": ["name", "group", "url", "state", "since", "uptime", "latency_ms", "incidents", "last_event",
                     "last_checks", "maintenance"],
        "properties": {
            "name": _STR, "group": _STR, "url": _STR, "state": {"enum": STATES},
            "since": _nullable(["string", "integer"]),
            "uptime": {
                "type": "object", "required": ["1h", "24h", "7d", "30d", "90d"],
                "properties": {w: _nullable("number", minimum=0, maximum=1) for w in ("1h", "24h", "7d", "30d", "90d")},
            },
            "latency_ms": {
                "type": "object", "required": ["1h", "24h", "7d", "30d"],
                "properties": {
                    w: {"type": "object", "required": ["p50", "p95"], "properties": {"p50": _NUM_OR_NULL, "p95": _NUM_OR_NULL}}
                    for w in ("1h", "24h", "7d", "30d")
                },
            },
            "incidents": {"type": "array", "maxItems": 10, "items": {
                "type": "object", "properties": {"start": _STR, "end": _nullable("string"), "duration_s": _NUM_OR_NULL},
            }},
            "last_event": _nullable("object"),
            "last_checks": {"type": "array", "maxItems": 10, "items": {
                "type": "object", "required": ["tick", "ok", "code"],
                "properties": {"tick": _STR, "ok": {"type": "boolean"}, "code": _STR, "latency_ms": _NUM_OR_NULL},
            }},
            "maintenance": {"type": "array", "items": _OBJ},
        },
    },
    "TargetConfig": {
        "type": "object",
        "description": "A Gatus-style endpoint, see chalicelib/uptime/targets.py: a url, or a heartbeat block "
                       "(period or cron + timezone, grace; a token is generated and returned once). Keys may also "
                       "be kebab-case (failure-threshold); the API validates request bodies against this schema "
                       "(chalicelib.api.validate.check_schema).",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"},
            "url": {"type": "string", "maxLength": 2048,
                    "description": "http(s)://, tcp://host:port or dns://host (required unless heartbeat)"},
            "dns": {"type": "object", "description": "query-name, query-type (the dns:// url names the server)"},
            "heartbeat": {"type": "object", "description": "period | cron + timezone, grace (healthchecks.io style)"},
            "group": {"type": "string", "maxLength": 200},
            "method": {"enum": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]},
            "headers": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 2048}},
            "body": {"type": "string", "maxLength": 2048},
            "interval": {"type": ["string", "integer"], "description": "e.g. 1m, 5m; whole minutes"},
            "timeout": {"type": ["string", "number"], "description": "e.g. 10s"},
            "conditions": {"type": "array", "items": {"type": "string", "maxLength": 2048}},
            "alerts": {"type": "array", "items": {"enum": CHANNELS}},
            "failure_threshold": {"type": "integer", "minimum": 1, "maximum": 20},
            "success_threshold": {"type": "integer", "minimum": 1, "maximum": 20},
            "reminder_interval": {"type": ["string", "integer"], "description": "e.g. 1h; 0 or off for none"},
            "maintenance": {"type": "array", "items": {
                "type": "object", "description": "start HH:MM, duration, every (days), timezone",
                "properties": {"every": {"type": ["string", "array"], "items": {"type": "string"}}},
                "additionalProperties": {"type": "string"}}},
            "degraded_response_time": {"type": ["string", "number"], "description": "e.g. 800ms"},
            "max_body_bytes": {"type": "integer"},
            "enabled": {"type": "boolean"},
        },
        "additionalProperties": False,
    },
    "Target": {
        "type": "object",
        "required": ["name", "group", "url", "method", "interval_s", "timeout_s", "conditions", "alerts", "source"],
        "properties": {
            "name": _STR, "group": _STR, "url": _STR, "method": _STR,
            "interval_s": {"type": "integer"}, "timeout_s": {"type": "number"},
            "conditions": {"type": "array", "items": _STR}, "alerts": {"type": "array", "items": _STR},
            "failure_threshold": {"type": "integer"}, "success_threshold": {"type": "integer"},
            "reminder_interval_s": {"type": "integer"}, "maintenance": {"type": "array", "items": _OBJ},
            "degraded_response_time_ms": _NUM_OR_NULL, "source": {"enum": ["config", "api"]},
        },
    },
    "TargetList": {
        "type": "object", "required": ["targets"],
        "properties": {"targets": {"type": "array", "items": _ref("Target")}},
    },
    "SubscriptionRequest": {
        "type": "object",
        "description": "`match` is required except for kind `ops` (which follows everything: '*').",
        "required": ["destination", "kind"],
        "additionalProperties": False,
        "properties": {
            "destination": {"type": "string", "minLength": 1, "maxLength": 500, "pattern": _DESTINATION,
                            "description": "slack:<channel>, x:<handle>, webhook:<url> or console:<name>"},
            "kind": {"enum": KINDS},
            "match": {"type": "string", "minLength": 1, "maxLength": 200,
                      "description": "series, keyword, publisher, source or target; '*' for ops"},
            "digest": {"enum": ["off", "daily", "weekly"]},
            "quiet_hours": {"type": "string", "maxLength": 64, "description": "HH:MM-HH:MM"},
            "tz": {"type": "string", "maxLength": 64, "description": "IANA name or +09:00"},
        },
    },
    "Subscription": {
        "type": "object",
        "required": ["destination", "kind", "key", "label", "digest", "quiet_hours", "tz", "created_at"],
        "properties": {
            "destination": _STR, "kind": {"enum": KINDS}, "key": {"type": "string", "description": "normalized match"},
            "label": _STR, "digest": {"enum": ["off", "daily", "weekly"]}, "quiet_hours": _nullable("string"),
            "tz": _STR, "created_at": _STR,
        },
    },
    "SubscriptionList": {
        "type": "object", "required": ["destination", "subscriptions"],
        "properties": {"destination": _STR, "subscriptions": {"type": "array", "items": _ref("Subscription")}},
    },
    "DlqMessage": {
        "type": "object",
        "required": ["channel", "message_id", "reason", "destination", "event_id", "event_type", "failed_at",
                     "receive_count", "body"],
        "properties": {
            "channel": {"enum": DLQ}, "message_id": _STR, "reason": _STR,
            "destination": _nullable("string"), "event_id": _nullable("string"), "event_type": _nullable("string"),
            "failed_at": _nullable("integer"), "receive_count": {"type": "integer", "minimum": 0},
            "body": {"description": "the queued message (JSON when it parses)"},
        },
    },
    "DlqListing": {
        "type": "object", "required": ["messages"],
        "properties": {"messages": {"type": "array", "items": _ref("DlqMessage")}},
    },
    "RedriveRequest": {
        "type": "object", "additionalProperties": False,
        "properties": {"message_ids": {"type": "array", "maxItems": 100, "items": {"type": "string", "minLength": 1, "maxLength": 200}}},
    },
    "RedriveResult": {
        "type": "object", "required": ["channel", "redriven"],
        "properties": {"channel": {"enum": DLQ}, "redriven": {"type": "integer", "minimum": 0}},
    },
}

_PROBLEM = {"application/problem+json": {"schema": _ref("Problem")}}
_CACHE_HEADERS = {
    "ETag": {"schema": _STR, "description": "strong validator; send back as If-None-Match"},
    "Cache-Control": {"schema": _STR},
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": _PROBLEM}


def _read(schema: str, description: str = "OK", *errors: int) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {"description": description, "headers": _CACHE_HEADERS, "content": {"application/json": {"schema": _ref(schema)}}},
        "304": {"description": "Not modified: If-None-Match matched the current ETag", "headers": _CACHE_HEADERS},
    }
    for status in errors:
        responses[str(status)] = _problem(_ERROR_TEXT[status])
    return responses


_ERROR_TEXT = {
    400: "A request parameter is wrong; `param` names it",
    401: "Missing or wrong API key (`WWW-Authenticate: Bearer`)",
    404: "Not found; `param` names the path parameter",
    415: "The body is not application/json",
    503: "No API key is configured for this stage: protected routes fail closed",
}
_IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False,
                  "schema": {"type": "string", "pattern": '^(W/)?"[0-9a-f]{32}"$'}}
_SECURITY: list[dict[str, list[str]]] = [{"ApiKey": []}, {"Bearer": []}]


def _protected(operation: dict[str, Any], *, body: bool = False) -> dict[str, Any]:
    operation["security"] = _SECURITY
    for status in (401, 503) + ((415,) if body else ()):
        operation["responses"].setdefault(str(status), _problem(_ERROR_TEXT[status]))
    return operation


def _path(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _json_body(schema: str, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": _ref(schema)}}}


_TEXT = {"type": "string", "minLength": 1, "maxLength": 200}
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}(-\d{2})?$", "examples": ["2025-01-15", "2025-01"]}


def _paths() -> dict[str, Any]:
    release_params = [
        _query("from", _DATE, "first release date (YYYY-MM-DD or YYYY-MM); with `to`, at most 12 months"),
        _query("to", _DATE, "last release date (inclusive)"),
        _query("q", _TEXT, "substring of title, series, ISBN, JAN or Diamond code (NFKC, case-insensitive)"),
        _query("series", _TEXT, "one series (normalized like subscriptions)"),
        _query("publisher", _TEXT, "substring of the publisher"),
        _query("source", _TEXT, "a source name from /sources (e.g. ndl-conan) or a kind (ndl)"),
        _query("category", _TEXT, "comic, collected, magazine, merchandise (comma list) or all; default: all but merchandise"),
        _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50}),
        _query("cursor", {"type": "string", "maxLength": 2048}, "next_cursor of the previous page"),
        _IF_NONE_MATCH,
    ]
    destination = _path("destination", {"type": "string", "minLength": 1, "maxLength": 500, "pattern": _DESTINATION},
                        "slack:<channel>, x:<handle>, webhook:<url-encoded url> or console:<name>")
    return {
        "/healthz": {"get": {"operationId": "healthz", "summary": "Liveness", "responses": {
            "200": {"description": "alive", "content": {"application/json": {"schema": _ref("Health")}}}}}},
        "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document",
                                  "parameters": [_IF_NONE_MATCH], "responses": {
            "200": {"description": "OpenAPI 3.1", "headers": _CACHE_HEADERS, "content": {"application/json": {"schema": _OBJ}}},
            "304": {"description": "Not modified"}}}},
        "/releases": {"get": {
            "operationId": "listReleases",
            "summary": "Releases: newest first seen (last 7 days) or by release date / series; cursor pagination",
            "description": "Without dates: releases first seen in the last 7 days, newest first. With from/to: by release "
                           "date, oldest first. Stable order. `source` takes a name listed by /sources or a kind (a name "
                           "selects its kind's releases); an unknown source is a 400. A filtered page keeps reading "
                           "until it fills or the data ends, within a bounded number of DynamoDB Queries; if that "
                           "budget runs out first, `partial` says so and `next_cursor` continues.",
            "parameters": release_params, "responses": _read("ReleasePage", "A page of releases", 400)}},
        "/releases/{release_id}": {"get": {
            "operationId": "getRelease", "summary": "One release",
            "parameters": [_path("release_id", {"type": "string", "minLength": 1, "maxLength": 300}), _IF_NONE_MATCH],
            "responses": _read("Release", "The release", 400, 404)}},
        "/sources": {"get": {"operationId": "listSources", "summary": "Health of each release source",
                             "parameters": [_IF_NONE_MATCH], "responses": _read("SourceList")}},
        "/status": {"get": {"operationId": "statusSummary", "summary": "Every monitoring target's state",
                            "parameters": [_IF_NONE_MATCH], "responses": _read("StatusSummary")}},
        "/status/{target}": {"get": {
            "operationId": "targetStatus", "summary": "One target: state, uptime 1h/24h/7d/30d, p50/p95 latency, incidents",
            "parameters": [_path("target", {"type": "string", "minLength": 1, "maxLength": 64}), _IF_NONE_MATCH],
            "responses": _read("TargetStatus", "The target's status", 404)}},
        "/targets": {
            "get": _protected({"operationId": "listTargets", "summary": "Every target (YAML and runtime-added)",
                               "responses": {"200": {"description": "targets",
                                                     "content": {"application/json": {"schema": _ref("TargetList")}}}}}),
            "post": _protected({
                "operationId": "addTarget", "summary": "Add a runtime target", "requestBody": _json_body("TargetConfig"),
                "responses": {"201": {"description": "created", "content": {"application/json": {"schema": _ref("Target")}}},
                              "400": _problem("Invalid target; `param` names the field (or `body`)"),
                              "409": _problem("A target of that name exists already (`param`: name)")}}, body=True),
        },
        "/targets/{name}": {"delete": _protected({
            "operationId": "deleteTarget", "summary": "Delete a runtime-added target",
            "parameters": [_path("name", {"type": "string", "minLength": 1, "maxLength": 64})],
            "responses": {"204": {"description": "deleted"}, "400": _problem(_ERROR_TEXT[400]),
                          "404": _problem("No runtime target of that name (YAML targets are changed in the file)")}})},
        "/ping/{token}": {m: {
            "operationId": f"heartbeatPing{m.title()}", "summary": "A job's heartbeat: success (healthchecks.io style)",
            "parameters": [_path("token", {"type": "string", "minLength": 16, "maxLength": 128})],
            "responses": {"200": {"description": "recorded", "content": {"application/json": {"schema": _ref("PingResult")}}},
                          "404": _problem("No heartbeat has this token")}} for m in ("get", "post")},
        "/ping/{token}/{action}": {m: {
            "operationId": f"heartbeatPingAction{m.title()}", "summary": "A job's heartbeat: start, fail or an exit code (0 = success)",
            "parameters": [_path("token", {"type": "string", "minLength": 16, "maxLength": 128}),
                           _path("action", {"type": "string", "pattern": "^(start|fail|[0-9]{1,3})$"})],
            "responses": {"200": {"description": "recorded", "content": {"application/json": {"schema": _ref("PingResult")}}},
                          "400": _problem("Unknown action"), "404": _problem("No heartbeat has this token")}} for m in ("get", "post")},
        "/subscriptions": {"post": _protected({
            "operationId": "follow", "summary": "Follow a series, keyword, publisher, source, target or ops alerts",
            "requestBody": _json_body("SubscriptionRequest"),
            "responses": {"201": {"description": "created (or replaced)",
                                  "content": {"application/json": {"schema": _ref("Subscription")}}},
                          "400": _problem(_ERROR_TEXT[400])}}, body=True)},
        "/subscriptions/{destination}": {"get": _protected({
            "operationId": "listSubscriptions", "summary": "One destination's subscriptions",
            "parameters": [destination],
            "responses": {"200": {"description": "subscriptions", "content": {"application/json": {"schema": _ref("SubscriptionList")}}},
                          "400": _problem(_ERROR_TEXT[400])}})},
        "/subscriptions/{destination}/{kind}/{match}": {"delete": _protected({
            "operationId": "unfollow", "summary": "Unfollow (idempotent)",
            "parameters": [destination, _path("kind", {"enum": KINDS}),
                           _path("match", {"type": "string", "minLength": 1, "maxLength": 200})],
            "responses": {"204": {"description": "gone"}, "400": _problem(_ERROR_TEXT[400])}})},
        "/dlq": {"get": _protected({
            "operationId": "listDlq", "summary": "Peek at every dead-letter queue (nothing is deleted; listed messages stay visible "
                                  "to a redrive)",
            "parameters": [_query("channel", {"enum": DLQ}),
                           _query("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 50})],
            "responses": {"200": {"description": "messages", "content": {"application/json": {"schema": _ref("DlqListing")}}},
                          "400": _problem(_ERROR_TEXT[400])}})},
        "/dlq/{channel}/redrive": {"post": _protected({
            "operationId": "redriveDlq", "summary": "Move a channel's dead letters (all, or `message_ids`) back to its queue",
            "parameters": [_path("channel", {"enum": DLQ})], "requestBody": _json_body("RedriveRequest", required=False),
            "responses": {"200": {"description": "redriven", "content": {"application/json": {"schema": _ref("RedriveResult")}}},
                          "400": _problem(_ERROR_TEXT[400]),
                          "404": _problem("No dead-letter queue of that name that can be redriven "
                                          "(stream-failures holds Lambda OnFailure records: replay from the stream)")}},
                                   body=True)},
    }


@cache
def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "newbooks API", "version": VERSION,
            "description": "New comic/manga releases and uptime status. Errors are RFC 9457 problem JSON naming the "
                           "bad parameter in `param`. Reads carry ETag and Cache-Control and answer 304 to a matching "
                           "If-None-Match. Management routes need the API key (X-Api-Key or Authorization: Bearer).",
        },
        "paths": _paths(),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
                "Bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }
