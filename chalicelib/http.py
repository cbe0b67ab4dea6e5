"""HTTP response helpers for the API: JSON with ETag/Cache-Control and 304 on a match, and RFC
9457 problem details for every error."""
from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from chalice import Response


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def dumps(body: Any) -> str:
    return json.dumps(body, default=_default, ensure_ascii=False, separators=(",", ":"))


def json_response(body: Any, request: Any = None, *, max_age: int = 30, status: int = 200) -> Response:
    text = dumps(body)
    etag = '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'
    headers = {"Content-Type": "application/json", "ETag": etag, "Cache-Control": f"public, max-age={max_age}"}
    if request is not None and etag in _if_none_match(request):
        return Response(body="", status_code=304, headers=headers)
    return Response(body=text, status_code=status, headers=headers)


def _if_none_match(request: Any) -> set[str]:
    raw = (request.headers or {}).get("if-none-match") or ""
    return {tag.strip().removeprefix("W/") for tag in raw.split(",") if tag.strip()}


def problem_response(status: int, title: str, detail: str, **extra: Any) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(body=dumps(body), status_code=status, headers={"Content-Type": "application/problem+json"})
