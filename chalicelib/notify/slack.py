"""Slack senders through slack-sdk: Web API `chat.postMessage` with the bot token, and incoming
webhooks. Both honour HTTP 429 `Retry-After`: a short wait (<= `max_inline_wait_s`) is slept
here and the call repeated; a longer one raises `TransientError(retry_after_s=...)` so the
deliverer hands the message back to SQS with that visibility delay instead of holding a Lambda.

Error classes: Slack's `ok: false` codes that no retry can fix (bad channel, auth revoked,
rejected payload) are permanent; `ratelimited`/`rate_limited`, 5xx, `internal_error`,
`fatal_error`, `service_unavailable`, `request_timeout` and network errors are transient.
Unknown codes are permanent, so they surface in the DLQ with their reason.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.notify.errors import DeliveryError, PermanentError, TransientError, retry_after, scrub
from chalicelib.notify.retry import InlineRetry

TRANSIENT_CODES = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout",
     "team_added_to_org", "timeout"}
)


class SlackWebApi:
    """`chat.postMessage` to a channel or user id."""

    def __init__(
        self,
        token: str,
        base_url: str,
        timeout_s: float = 10,
        max_inline_wait_s: float = 5,
        attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from slack_sdk import WebClient

        if not base_url.endswith("/"):
            base_url += "/"
        self.client = WebClient(token=token, base_url=base_url, timeout=int(max(1, timeout_s)), retry_handlers=[])
        self.retrying = InlineRetry(max_inline_wait_s, attempts, sleep)
        self._dm: dict[str, str] = {}

    def dm_channel(self, user: str) -> str:
        """The id of the app's DM with `user` (`conversations.open`, scope im:write; cached per
        container). Posting to the DM's id rather than the user id lets `posted` read the same
        conversation back (https://docs.slack.dev/reference/methods/conversations.open/,
        read 2026-12-03)."""
        from slack_sdk.errors import SlackApiError

        if user not in self._dm:
            try:
                response = self.client.conversations_open(users=user)
            except SlackApiError as exc:
                raise api_error(exc) from None
            except Exception as exc:  # opening a DM posts nothing: safe to retry
                raise TransientError(f"slack: conversations.open {type(exc).__name__}") from None
            self._dm[user] = str((response.get("channel") or {}).get("id") or "")
            if not self._dm[user]:
                raise TransientError("slack: conversations.open returned no channel")
        return self._dm[user]

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Any Web API method with a JSON body (views.open, views.publish, chat.update ...),
        errors classified like chat.postMessage's."""
        from slack_sdk.errors import SlackApiError

        try:
            data = self.client.api_call(method, json={k: v for k, v in params.items() if v is not None}).data
            if not isinstance(data, dict):
                raise TypeError("the answer is not a JSON object")
            return dict(data)
        except SlackApiError as exc:
            raise api_error(exc) from None
        except Exception as exc:
            raise TransientError(f"slack: {method} {type(exc).__name__}", ambiguous=True) from None

    def post(self, channel: str, message: dict[str, Any], thread_ts: str | None = None) -> str:
        """Post (into a thread when `thread_ts`); returns the message ts."""
        return self.retrying.run(lambda: self._post_once(channel, message, thread_ts))

    def update(self, channel: str, ts: str, message: dict[str, Any]) -> None:
        """chat.update: rewrite a message we posted (an incident's parent)."""
        self.retrying.run(lambda: self.call("chat.update", channel=channel, ts=ts, text=message.get("text") or "",
                                            blocks=message.get("blocks")))

    def _post_once(self, channel: str, message: dict[str, Any], thread_ts: str | None = None) -> str:
        from slack_sdk.errors import SlackApiError

        try:
            response = self.client.chat_postMessage(
                channel=channel,
                text=message.get("text") or "",
                blocks=message.get("blocks"),
                metadata=message.get("metadata"),
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            raise api_error(exc) from None
        except PermanentError:
            raise
        except Exception as exc:  # timeouts, connection resets, unparsable bodies: may have posted
            raise TransientError(f"slack: {type(exc).__name__}: {exc}", ambiguous=True) from None
        return str(response.get("ts") or "")

    def posted(self, channel: str, event_id: str, oldest: float, thread_ts: str | None = None) -> str | None:
        """The ts of a message for `event_id` in `channel` (or in the thread `thread_ts`) since
        `oldest`, else None. Our posts carry the event id as message metadata (scopes
        channels:history / groups:history / im:history; thread replies come from
        conversations.replies, which conversations.history does not list)."""
        cursor = None
        for _page in range(5):  # bounded: a stale claim is minutes old, not days
            if thread_ts:
                response = self.client.conversations_replies(
                    channel=channel, ts=thread_ts, oldest=f"{oldest:.6f}", include_all_metadata=True, limit=200,
                    cursor=cursor)
            else:
                response = self.client.conversations_history(
                    channel=channel, oldest=f"{oldest:.6f}", include_all_metadata=True, limit=200, cursor=cursor
                )
            for message in response.get("messages") or []:
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                if payload.get("event_id") == event_id:
                    return str(message.get("ts") or "") or "found"
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None


class SlackWebhookSender:
    """An incoming webhook URL (`slack-webhook:<name>` destinations)."""

    def __init__(
        self,
        url: str,
        timeout_s: float = 10,
        max_inline_wait_s: float = 5,
        attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from slack_sdk.webhook import WebhookClient

        self.client = WebhookClient(url=url, timeout=int(max(1, timeout_s)), retry_handlers=[])
        self.retrying = InlineRetry(max_inline_wait_s, attempts, sleep)

    def post(self, message: dict[str, Any]) -> str:
        return self.retrying.run(lambda: self._post_once(message))

    def _post_once(self, message: dict[str, Any]) -> str:
        from urllib.error import URLError

        url = self.client.url
        try:
            response = self.client.send(
                text=message.get("text") or "", blocks=message.get("blocks"), metadata=message.get("metadata"),
                unfurl_links=False, unfurl_media=False,
            )
        except URLError as exc:
            # urllib wraps errors while connecting and sending in URLError: Slack did not get the
            # whole request, so it cannot have posted
            raise TransientError(f"slack webhook: {scrub(str(exc.reason), url)}") from None
        except Exception as exc:  # read timeout, reset after the request went out: may have posted
            raise TransientError(f"slack webhook: {type(exc).__name__}: {scrub(str(exc), url)}", ambiguous=True) from None
        if response.status_code == 200:
            return "ok"
        body = scrub((response.body or "").strip()[:2000], url)[:200]
        if response.status_code == 429:
            raise TransientError("slack webhook: 429 rate limited", retry_after(response.headers))
        if response.status_code >= 500 or response.status_code == 408:
            raise TransientError(f"slack webhook: HTTP {response.status_code} {body}".rstrip())
        raise PermanentError(f"slack webhook: HTTP {response.status_code} {body}".rstrip())


def api_error(exc: Any) -> DeliveryError:
    """The error for a slack-sdk `SlackApiError` (its HTTP status, `error` code and headers)."""
    data = getattr(exc.response, "data", None)
    code = data.get("error") if isinstance(data, dict) else None
    return classify(getattr(exc.response, "status_code", 0), code, getattr(exc.response, "headers", {}) or {})


def classify(status: int, code: str | None, headers: Mapping[str, Any]) -> DeliveryError:
    if status == 429 or code in ("ratelimited", "rate_limited"):
        return TransientError(f"slack: {code or 'HTTP 429'}", retry_after(headers))
    if status >= 500 or code in TRANSIENT_CODES:
        return TransientError(f"slack: {code or f'HTTP {status}'}")
    return PermanentError(f"slack: {code or f'HTTP {status}'}")
