"""Errors the API routes raise; `problems`, the Chalice middleware that is the one place they
become problem JSON; and `guarded`, the per-route check of the API key and path decoding.

ApiError derives from Chalice's ChaliceUnhandledError, the one exception Chalice lets propagate
out of a view to its middleware (chalice/app.py, `_get_view_function_response`; any other
exception becomes Chalice's own 500 before middleware sees it). So `guarded`, around every API
route, turns a domain error (chalicelib.errors.DomainError) into the ApiError of its kind by the
one table `_BY_KIND` (`from_domain`), keeping the `param` the domain set: the status never
depends on a message's wording, and routes have no try/except of their own.
Every error body is RFC 9457 problem JSON (`application/problem+json`) with `param` naming the
request parameter at fault (a query/path parameter, a body field, or a header) where there is one.
This module is imported when app.py loads, so it imports nothing heavy at module level.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from chalice.app import ChaliceUnhandledError

from chalicelib import errors as domain


class ApiError(ChaliceUnhandledError):
    status = 500
    title = "Error"

    def __init__(self, param: str | None, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.param = param
        self.headers = headers

    def response(self) -> Any:
        """The RFC 9457 problem response (a chalice Response)."""
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


# The one map from domain error kinds to API errors; most specific kind first (TargetExists is an
# InvalidTarget too, and must stay a 409).
_BY_KIND: tuple[tuple[type[domain.DomainError], type[ApiError]], ...] = (
    (domain.AlreadyExists, Conflict),
    (domain.NotFound, NotFound),
    (domain.InvalidInput, BadRequest),
)


def from_domain(exc: domain.DomainError) -> ApiError:
    """The ApiError for a domain error: status by its kind, `param` as the domain set it."""
    api_error = next((api for kind, api in _BY_KIND if isinstance(exc, kind)), BadRequest)
    return api_error(exc.param, str(exc))


def problems(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice HTTP middleware (registered once in app.py): any ApiError a route or `guarded`
    raises becomes its RFC 9457 problem response; everything else passes through untouched."""
    try:
        return get_response(event)
    except ApiError as exc:
        return exc.response()


def guarded(request: Callable[[], Any], *, protected: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator for a route: checks the API key first when `protected` and percent-decodes the
    path parameters (`chalice local` hands them over raw: `webhook:https:%2F%2Fh.example%2Fx`,
    UTF-8 series keys). A domain error becomes its ApiError (`from_domain`); ApiErrors propagate
    to `problems`."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from urllib.parse import unquote

            if protected:
                from chalicelib.api.auth import require_api_key

                require_api_key(request().headers)
            try:
                return view(*args, **{k: unquote(v) if isinstance(v, str) else v for k, v in kwargs.items()})
            except domain.DomainError as exc:
                raise from_domain(exc) from None

        return wrapper

    return decorate
