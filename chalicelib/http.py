"""HTTP response helpers for the API: JSON with ETag/Cache-Control and 304 on a match, and RFC
9457 problem details for every error."""
from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from chalice.app import Response

# chalice types a header value as str or a list of them (multi-value headers)
Headers = dict[str, str | list[str]]


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def dumps(body: Any) -> str:
    return json.dumps(body, default=_default, ensure_ascii=False, separators=(",", ":"))


def json_response(body: Any, request: Any = None, *, max_age: int = 30, status: int = 200,
                  cache_control: str | None = None, etag_of: Any = None) -> Response:
    """`cache_control` overrides the public max-age default (e.g. "private, no-store" for
    answers behind the API key). `etag_of`: what the ETag is computed from when the body carries
    a part that changes on every call (a `generated_at` time); the ETag is then weak (W/)."""
    text = dumps(body)
    etag = '"' + hashlib.sha256((text if etag_of is None else dumps(etag_of)).encode()).hexdigest()[:32] + '"'
    if etag_of is not None:
        etag = "W/" + etag
    headers: Headers = {"Content-Type": "application/json", "ETag": etag,
               "Cache-Control": cache_control or f"public, max-age={max_age}"}
    if request is not None and _if_none_match(request) & {etag.removeprefix("W/"), "*"}:
        return Response(body="", status_code=304, headers=headers)
    return Response(body=text, status_code=status, headers=headers)


def text_response(body: str, content_type: str, request: Any = None, *, max_age: int = 60,
                  status: int = 200) -> Response:
    """A text body (HTML, Atom/RSS, iCalendar, SVG) with ETag/Cache-Control and 304 on a match.
    HEAD gets the same status and headers without the body (RFC 9110 9.3.2). Compression is API
    Gateway's (`minimum_compression_size` in .chalice/config.json), not ours."""
    etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
    headers: Headers = {"Content-Type": content_type, "ETag": etag, "Cache-Control": f"public, max-age={max_age}"}
    if request is not None and status == 200 and etag in _if_none_match(request):
        return Response(body="", status_code=304, headers=headers)
    if request is not None and getattr(request, "method", "GET") == "HEAD":
        return Response(body="", status_code=status, headers=headers)
    return Response(body=body, status_code=status, headers=headers)


def _if_none_match(request: Any) -> set[str]:
    raw = (request.headers or {}).get("if-none-match") or ""
    return {tag.strip().removeprefix("W/") for tag in raw.split(",") if tag.strip()}


def problem_response(status: int, title: str, detail: str, *, headers: dict[str, str] | None = None,
                     **extra: Any) -> Response:
    """`extra` fields (e.g. `param`) go into the body; `headers` (e.g. WWW-Authenticate) are added."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    all_headers: Headers = {**(headers or {}), "Content-Type": "application/problem+json", "Cache-Control": "no-store"}
    return Response(body=dumps(body), status_code=status, headers=all_headers)


def no_content() -> Response:
    """204 for a successful DELETE (no body, not cacheable)."""
    return Response(body="", status_code=204, headers={"Cache-Control": "no-store"})
