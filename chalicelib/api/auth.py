"""API key for the protected routes (target and subscription management, the DLQ).

The key is the secret `api_key` (environment `API_KEY`, else SSM `<prefix>api_key`, see
chalicelib.secrets). A client sends it as `X-Api-Key: <key>` or `Authorization: Bearer <key>`;
it is compared in constant time (`hmac.compare_digest`).

No key configured anywhere -> every protected route answers **503** problem "Not configured"
(`param: "api_key"`): the routes fail closed, and an operator can tell "the stage has no key"
apart from "the client sent a wrong key" (401, with `WWW-Authenticate: Bearer`).
"""
from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from chalicelib.api.errors import NotConfigured, Unauthorized

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="newbooks"'}


def presented_key(headers: Mapping[str, str] | None) -> str | None:
    """The key the client sent (Chalice lower-cases header names)."""
    headers = headers or {}
    key = headers.get("x-api-key")
    if key:
        return key.strip()
    scheme, _, value = (headers.get("authorization") or "").strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def require_api_key(headers: Mapping[str, str] | None, expected: Any = None) -> None:
    """Raise NotConfigured (503) or Unauthorized (401) unless the request carries the key."""
    if expected is None:
        from chalicelib.secrets import get_secret

        expected = get_secret("api_key")
    if not expected:
        raise NotConfigured("api_key", "no API key is configured for this stage (secret 'api_key')")
    given = presented_key(headers)
    if given is None:
        raise Unauthorized("X-Api-Key", "send the API key as 'X-Api-Key: <key>' or 'Authorization: Bearer <key>'",
                           headers=CHALLENGE)
    if not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), str(expected).encode("utf-8", "surrogatepass")):
        raise Unauthorized("X-Api-Key", "the API key is not valid", headers=CHALLENGE)
