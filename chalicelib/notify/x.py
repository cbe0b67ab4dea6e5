"""X (Twitter) API v2 `POST /2/tweets` with OAuth 1.0a user context, signed with stdlib only.

OAuth 1.0a (RFC 5849, HMAC-SHA1), as implemented by `oauth_header`:

1. Collect the oauth_* protocol parameters (consumer key, nonce, signature method, timestamp,
   token, version) plus query and form parameters. A JSON body is *not* signed.
2. Percent-encode names and values (RFC 3986 unreserved characters kept), sort by name then
   value, join as `name=value` with `&`.
3. Base string: `METHOD&enc(base URL)&enc(parameter string)`; the base URL is scheme and host
   lower-cased, default port dropped, no query.
4. Key: `enc(consumer secret)&enc(token secret)`; signature = base64(HMAC-SHA1(key, base)).
5. Header: `OAuth ` + `name="enc(value)"` pairs joined by `, `.

Errors: 429 -> transient with the wait from `x-rate-limit-reset` (epoch seconds) or
`Retry-After`; a 403 saying the tweet is a duplicate means an earlier attempt already posted it,
so it counts as sent; other 4xx (401 revoked token, 403 forbidden, 400 invalid) are permanent;
5xx and network errors are transient.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any, TypedDict
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from chalicelib.notify.errors import PermanentError, TransientError, header, retry_after
from chalicelib.notify.retry import InlineRetry


def enc(value: Any) -> str:
    return quote(str(value), safe="-._~")


def base_url(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", "", ""))


def signature_base_string(method: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    all_params = list(params) + parse_qsl(urlsplit(url).query, keep_blank_values=True)
    encoded = sorted((enc(k), enc(v)) for k, v in all_params)
    param_string = "&".join(f"{k}={v}" for k, v in encoded)
    return "&".join((method.upper(), enc(base_url(url)), enc(param_string)))


def hmac_sha1_signature(base: str, consumer_secret: str, token_secret: str = "") -> str:
    key = f"{enc(consumer_secret)}&{enc(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, base.encode(), hashlib.sha1).digest()).decode()


def oauth_header(
    method: str,
    url: str,
    *,
    consumer_key: str,
    consumer_secret: str,
    token: str,
    token_secret: str,
    nonce: str | None = None,
    timestamp: int | None = None,
    extra_params: Iterable[tuple[str, str]] = (),
) -> str:
    oauth = {
        "oauth_consumer_key": consumer_key,
        "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "oauth_token": token,
        "oauth_version": "1.0",
    }
    base = signature_base_string(method, url, list(oauth.items()) + list(extra_params))
    oauth["oauth_signature"] = hmac_sha1_signature(base, consumer_secret, token_secret)
    return "OAuth " + ", ".join(f'{enc(k)}="{enc(v)}"' for k, v in sorted(oauth.items()))


class _Credentials(TypedDict):
    consumer_key: str
    consumer_secret: str
    token: str
    token_secret: str


class XClient:
    def __init__(
        self,
        api_url: str,
        consumer_key: str,
        consumer_secret: str,
        token: str,
        token_secret: str,
        timeout_s: float = 10,
        clock: Callable[[], float] = time.time,
        max_inline_wait_s: float = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = api_url.rstrip("/") + "/2/tweets"
        self.credentials: _Credentials = {"consumer_key": consumer_key, "consumer_secret": consumer_secret, "token": token,
                                          "token_secret": token_secret}
        self.timeout_s = timeout_s
        self.clock = clock
        self.retrying = InlineRetry(max_inline_wait_s, 2, sleep)

    def post(self, text: str) -> str:
        return self.retrying.run(lambda: self._post_once(text))

    def _post_once(self, text: str) -> str:
        import httpx

        auth = oauth_header("POST", self.url, timestamp=int(self.clock()), **self.credentials)
        try:
            response = httpx.post(
                self.url, json={"text": text}, headers={"Authorization": auth}, timeout=self.timeout_s
            )
        except httpx.HTTPError as exc:
            raise TransientError(f"x: {type(exc).__name__}: {exc}") from None
        if response.status_code in (200, 201):
            try:
                return str(response.json()["data"]["id"])
            except Exception:
                return ""
        body = response.text[:300]
        if response.status_code == 429:
            reset = header(dict(response.headers), "x-rate-limit-reset")
            wait = retry_after(dict(response.headers))
            if reset and reset.isdigit():
                wait = max(0.0, int(reset) - self.clock())
            raise TransientError("x: 429 too many requests", wait)
        if response.status_code == 403 and "duplicate" in body.lower():
            return "duplicate"
        if response.status_code >= 500:
            raise TransientError(f"x: HTTP {response.status_code} {body}")
        raise PermanentError(f"x: HTTP {response.status_code} {body}")
