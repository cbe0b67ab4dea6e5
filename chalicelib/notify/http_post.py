"""One POST through httpx for the HTTP senders (webhooks, Discord, Teams, Telegram, ntfy,
PagerDuty), with the ways it can fail translated into `TransientError`/`PermanentError`.

An error before the request went out (connect, write, pool) is plain transient: the peer cannot
have acted on a request it did not fully get. One after it (read timeout, reset) is ambiguous:
the peer may have acted, so a retry first checks or follows the channel's rule. Every reason is
scrubbed of the URL (a hostile receiver may echo its token back).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.notify.errors import DeliveryError, PermanentError, TransientError, retry_after, scrub

if TYPE_CHECKING:
    import httpx


def post(name: str, url: str, timeout_s: float, client: httpx.Client | None = None, **kwargs: Any) -> httpx.Response:
    """POST `url` (through `client` when given, e.g. a `vetted_http` client; its own timeout then)."""
    import httpx

    try:
        if client is not None:
            return client.post(url, **kwargs)
        return httpx.post(url, timeout=timeout_s, **kwargs)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.WriteError, httpx.WriteTimeout, httpx.PoolTimeout) as exc:
        raise TransientError(f"{name}: {type(exc).__name__}: {scrub(str(exc), url)}") from None
    except httpx.HTTPError as exc:
        raise TransientError(f"{name}: {type(exc).__name__}: {scrub(str(exc), url)}", ambiguous=True) from None


def status_error(name: str, status: int, body: str, headers: dict[str, Any], url: str) -> DeliveryError:
    """The error for a non-success HTTP status: 429 (with its Retry-After), 408 and 5xx are
    transient; any other status is permanent and quotes the start of the scrubbed body."""
    if status == 429:
        return TransientError(f"{name}: 429", retry_after(headers))
    if status >= 500 or status == 408:
        return TransientError(f"{name}: HTTP {status}")
    return PermanentError(f"{name}: HTTP {status} {scrub(body[:2000], url)[:200]}".rstrip())
