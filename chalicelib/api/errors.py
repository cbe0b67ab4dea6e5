"""Errors the API routes raise, and `guarded`: the one place they become problem JSON.

Every error body is RFC 9457 problem JSON (`application/problem+json`) with `param` naming the
request parameter at fault (a query/path parameter, a body field, or a header) where there is one.
This module is imported when app.py loads, so it imports nothing heavy at module level.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


class ApiError(Exception):
    status = 500
    title = "Error"

    def __init__(self, param: str | None, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.param = param
        self.headers = headers

    def response(self) -> Any:
        from chalicelib.http import problem_response

        return problem_response(self.status, self.title, str(self), param=self.param, headers=self.headers)


class BadRequest(ApiError):
    status, title = 400, "Bad request parameter"


class Unauthorized(ApiError):
    status, title = 401, "Unauthorized"


class NotFound(ApiError):
    status, title = 404, "Not found"


class Conflict(ApiError):
    status, title = 409, "Conflict"


class UnsupportedMediaType(ApiError):
    status, title = 415, "Unsupported media type"


class NotConfigured(ApiError):
    status, title = 503, "Not configured"


def guarded(request: Callable[[], Any], *, protected: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator for a route: checks the API key first when `protected`, percent-decodes the
    path parameters (`chalice local` hands them over raw: `webhook:https:%2F%2Fh.example%2Fx`,
    UTF-8 series keys), and turns any `ApiError` the route raises into its problem response."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from urllib.parse import unquote

            try:
                if protected:
                    from chalicelib.api.auth import require_api_key

                    require_api_key(request().headers)
                return view(*args, **{k: unquote(v) if isinstance(v, str) else v for k, v in kwargs.items()})
            except ApiError as exc:
                return exc.response()

        return wrapper

    return decorate
