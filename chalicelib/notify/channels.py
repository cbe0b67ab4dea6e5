"""More places to be told: Discord, Microsoft Teams, Telegram, ntfy, PagerDuty Events v2, email.

Each is a small native sender (httpx or smtplib, both already in the package), so the exactly-once
rules can be kept per channel. Destinations name configuration, never carry a credential:

    discord:<name>     Discord webhook, URL from secret `discord_webhook_url_<name>`
                       (https://discord.com/developers/docs/resources/webhook#execute-webhook,
                       read 2026-12-03: POST {url}?wait=true -> the message; allowed_mentions
                       parse [] so crawled text cannot ping)
    teams:<name>       Teams Workflows / incoming webhook, URL from secret `teams_webhook_url_<name>`
                       (https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/
                       how-to/add-incoming-webhook, read 2026-12-03: {"type": "message",
                       "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", ...}]})
    telegram:<chat id> Bot API sendMessage with secret `telegram_bot_token`, base `TELEGRAM_API_URL`
                       (https://core.telegram.org/bots/api#sendmessage, read 2026-12-03; errors
                       carry error_code and parameters.retry_after)
    ntfy:<name>        ntfy topic from secret `ntfy_topic_<name>` (a topic is a password), server
                       `NTFY_URL`, optional secret `ntfy_token` (https://docs.ntfy.sh/publish/ and
                       /subscribe/api/, read 2026-12-03: POST /<topic> with Title/Tags/Click
                       headers; GET /<topic>/json?poll=1&since=<unix> lists cached messages)
    pagerduty:<name>   Events API v2, routing key from secret `pagerduty_routing_key_<name>`, base
                       `PAGERDUTY_EVENTS_URL` (https://developer.pagerduty.com/docs/events-api-v2/
                       overview, read 2026-12-03: POST /v2/enqueue, 202 on success; an event with
                       the same dedup_key updates the same alert; resolve closes it)
    email:<address>    SMTP from `NEWBOOKS_SMTP_URL` (smtp://host:port, smtps://, or
                       smtp+starttls://), login `NEWBOOKS_SMTP_USER` + secret `smtp_password`,
                       sender `NEWBOOKS_EMAIL_FROM`

Uncertain sends (the request went out, the answer did not come), per channel — see the README:
pagerduty resends (the dedup_key makes a repeat update the same alert); ntfy is reconciled by
polling the topic for the event's tag; email resends with the same Message-ID (most mail
clients fold the copy, some show two); discord, teams and telegram cannot be asked and park the
message in the DLQ (at most once, visible, redrivable).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from chalicelib import events as ev
from chalicelib.notify import http_post
from chalicelib.notify.errors import PermanentError, TransientError, retry_after, scrub
from chalicelib.notify.model import NOTIFY_FAILED, RELEASE_DIGEST
from chalicelib.notify.text import release_title, safe_url

# what an uncertain send does when the peer cannot be asked (delivery.RESEND_WHEN_UNSURE)
RESEND_WHEN_UNSURE = {"pagerduty": True, "email": True, "ntfy": False, "discord": False, "teams": False,
                      "telegram": False}


def event_tag(event_id: str) -> str:
    """A short, stable tag naming the event (ntfy tags; lookups after an uncertain send)."""
    return "nb-" + hashlib.sha256(event_id.encode()).hexdigest()[:16]


def summary(event: ev.Event, public_base_url: str) -> tuple[str, str, str | None]:
    """(title, plain text, link) for the text-only channels."""
    from chalicelib.notify.render import (
        _UPTIME_HEADERS,
        duration_text,
        failing_condition,
        status_url,
    )

    data, base = event.data, public_base_url.rstrip("/")
    if event.type == ev.RELEASE_NEW:
        bits = [str(b) for b in (data.get("publisher"), data.get("release_date")) if b]
        return f"New release: {release_title(data)}", ", ".join(bits), safe_url(data.get("url"))
    if event.type == RELEASE_DIGEST:
        items = data.get("items") or []
        return f"{len(items)} new releases", "\n".join(f"- {release_title(i)}" for i in items[:50]), f"{base}/pages/releases"
    if event.type == NOTIFY_FAILED:
        return "Notification failed", f"{data.get('destination')}: {data.get('reason')}", None
    header_text, _emoji, state = _UPTIME_HEADERS.get(event.type, (event.type, "", ""))
    subject = str(data.get("target") or data.get("source") or event.subject)
    extra = [x for x in (duration_text(data, event.occurred_at), failing_condition(data)) if x]
    text = f"{subject} is {data.get('state') or state}" + (f" ({'; '.join(extra)})" if extra else "")
    if event.type == ev.TARGETS_GROUPED_DOWN and data.get("targets"):
        text += ": " + ", ".join(str(t) for t in data["targets"])
    is_source = event.type in (ev.SOURCE_DEGRADED, ev.SOURCE_RECOVERED)
    return f"{header_text}: {subject}", text, f"{base}/sources" if is_source else status_url(base, subject)


class DiscordSender:
    def __init__(self, url: str, timeout_s: float = 10) -> None:
        self.url, self.timeout_s = url, timeout_s

    def send(self, event: ev.Event, public_base_url: str) -> str:
        title, text, link = summary(event, public_base_url)
        embed = {"title": title[:256], "description": text[:4000]}
        if link:
            embed["url"] = link
        body = {"content": title[:2000], "embeds": [embed], "allowed_mentions": {"parse": []}}
        sep = "&" if "?" in self.url else "?"
        response = http_post.post("discord", f"{self.url}{sep}wait=true", self.timeout_s, json=body)
        if response.status_code in (200, 204):
            return str((response.json() or {}).get("id") or "ok") if response.status_code == 200 else "ok"
        raise http_post.status_error("discord", response.status_code, response.text, dict(response.headers), self.url)


class TeamsSender:
    def __init__(self, url: str, timeout_s: float = 10) -> None:
        self.url, self.timeout_s = url, timeout_s

    def send(self, event: ev.Event, public_base_url: str) -> str:
        title, text, link = summary(event, public_base_url)
        card: dict[str, Any] = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4",
            "body": [{"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": True},
                     {"type": "TextBlock", "text": text or " ", "wrap": True}],
        }
        if link:
            card["actions"] = [{"type": "Action.OpenUrl", "title": "Open", "url": link}]
        body = {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                                                    "contentUrl": None, "content": card}]}
        response = http_post.post("teams", self.url, self.timeout_s, json=body)
        if 200 <= response.status_code < 300:
            return str(response.status_code)
        raise http_post.status_error("teams", response.status_code, response.text, dict(response.headers), self.url)


class TelegramSender:
    def __init__(self, base_url: str, token: str, timeout_s: float = 10) -> None:
        self.url = f"{base_url.rstrip('/')}/bot{token}/sendMessage"
        self.timeout_s = timeout_s

    def send(self, chat_id: str, event: ev.Event, public_base_url: str) -> str:
        title, text, link = summary(event, public_base_url)
        message = "\n".join(x for x in (title, text, link) if x)[:4096]  # plain text: no parse_mode, nothing to inject
        response = http_post.post("telegram", self.url, self.timeout_s,
                         json={"chat_id": chat_id, "text": message, "link_preview_options": {"is_disabled": True}})
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code == 200 and data.get("ok"):
            return str((data.get("result") or {}).get("message_id") or "ok")
        if response.status_code == 429 or data.get("error_code") == 429:
            wait = (data.get("parameters") or {}).get("retry_after")
            raise TransientError("telegram: 429", float(wait) if wait is not None else retry_after(dict(response.headers)))
        reason = f"telegram: {data.get('error_code') or response.status_code} {scrub(str(data.get('description') or ''), self.url)[:200]}"
        if response.status_code >= 500:
            raise TransientError(reason.rstrip())
        raise PermanentError(reason.rstrip())


class NtfySender:
    def __init__(self, base_url: str, topic: str, token: str | None = None, timeout_s: float = 10) -> None:
        self.url = f"{base_url.rstrip('/')}/{topic}"
        self.token, self.timeout_s = token, timeout_s

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def send(self, event: ev.Event, public_base_url: str) -> str:
        title, text, link = summary(event, public_base_url)
        # HTTP headers are latin-1: ntfy reads RFC 2047 encoded words in Title
        headers = {"Title": _rfc2047(title), "Tags": f"newbooks,{event_tag(event.id)}", **self._auth()}
        if link:
            headers["Click"] = link
        if event.type in (ev.TARGET_DOWN, ev.TARGETS_GROUPED_DOWN):
            headers["Priority"] = "high"
        response = http_post.post("ntfy", self.url, self.timeout_s, content=(text or title).encode(), headers=headers)
        if response.status_code == 200:
            return str((response.json() or {}).get("id") or "ok")
        raise http_post.status_error("ntfy", response.status_code, response.text, dict(response.headers), self.url)

    def posted(self, event_id: str, since: float) -> bool:
        """Is a message tagged for `event_id` in the topic's cache since `since`?"""
        import httpx

        response = httpx.get(f"{self.url}/json", params={"poll": "1", "since": str(int(since))}, headers=self._auth(),
                             timeout=self.timeout_s)
        response.raise_for_status()
        tag = event_tag(event_id)
        for line in response.text.splitlines():
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if message.get("event") == "message" and tag in (message.get("tags") or []):
                return True
        return False


def _rfc2047(text: str) -> str:
    try:
        text.encode("latin-1")
        return text
    except UnicodeEncodeError:
        from email.header import Header

        return Header(text, "utf-8").encode()


class PagerDutySender:
    """Events API v2: target and source incidents trigger and resolve one alert per subject
    (dedup_key), everything else triggers an alert of its own (dedup_key = event id)."""

    def __init__(self, base_url: str, routing_key: str, timeout_s: float = 10) -> None:
        self.url = f"{base_url.rstrip('/')}/v2/enqueue"
        self.routing_key, self.timeout_s = routing_key, timeout_s

    @staticmethod
    def action(event: ev.Event) -> tuple[str, str, str]:
        """(event_action, dedup_key, severity)."""
        data = event.data
        if event.type in (ev.TARGET_DOWN, ev.TARGET_REMINDER, ev.TARGET_RECOVERED):
            key = f"newbooks:target:{data.get('target') or event.subject}"
            return ("resolve" if event.type == ev.TARGET_RECOVERED else "trigger"), key, "critical"
        if event.type in (ev.SOURCE_DEGRADED, ev.SOURCE_RECOVERED):
            key = f"newbooks:source:{data.get('source') or event.subject}"
            return ("resolve" if event.type == ev.SOURCE_RECOVERED else "trigger"), key, "warning"
        if event.type == ev.TARGETS_GROUPED_DOWN:
            return "trigger", f"newbooks:{event.id}", "critical"
        if event.type == NOTIFY_FAILED:
            return "trigger", f"newbooks:{event.id}"[:255], "error"
        return "trigger", f"newbooks:{event.id}"[:255], "info"

    def send(self, event: ev.Event, public_base_url: str) -> str:
        title, text, link = summary(event, public_base_url)
        action, dedup_key, severity = self.action(event)
        body: dict[str, Any] = {"routing_key": self.routing_key, "event_action": action, "dedup_key": dedup_key[:255]}
        if action == "trigger":
            body["payload"] = {"summary": f"{title} — {text}"[:1024], "source": "newbooks", "severity": severity,
                               "timestamp": event.occurred_at or None, "custom_details": {"event_id": event.id}}
            body["payload"] = {k: v for k, v in body["payload"].items() if v is not None}
            if link:
                body["links"] = [{"href": link, "text": "newbooks"}]
        response = http_post.post("pagerduty", self.url, self.timeout_s, json=body)
        if response.status_code == 202:
            return f"{action} {dedup_key}"
        raise http_post.status_error("pagerduty", response.status_code, response.text.replace(self.routing_key, "***"),
                           dict(response.headers), self.url)


class EmailSender:
    def __init__(self, smtp_url: str, sender: str, user: str | None = None, password: str | None = None,
                 timeout_s: float = 10) -> None:
        from urllib.parse import urlsplit

        parts = urlsplit(smtp_url)
        self.scheme = parts.scheme
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if parts.scheme == "smtps" else 587 if "starttls" in parts.scheme else 25)
        self.sender, self.user, self.password, self.timeout_s = sender, user, password, timeout_s

    def send(self, address: str, event: ev.Event, public_base_url: str, delivery_id: str) -> str:
        import smtplib
        import ssl
        from email.message import EmailMessage
        from email.utils import formatdate

        title, text, link = summary(event, public_base_url)
        message = EmailMessage()
        message["Subject"] = title[:200]
        message["From"] = self.sender
        message["To"] = address
        message["Date"] = formatdate(usegmt=True)
        # the same Message-ID on every attempt: a resent copy is recognisably the same mail
        message["Message-ID"] = f"<{hashlib.sha256(delivery_id.encode()).hexdigest()[:32]}@newbooks>"
        message.set_content("\n\n".join(x for x in (text, link) if x) or title)
        try:
            if self.scheme == "smtps":
                smtp: Any = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        except OSError as exc:
            raise TransientError(f"email: connect: {type(exc).__name__}") from None
        try:
            with smtp:
                if "starttls" in self.scheme:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user and self.password:
                    smtp.login(self.user, self.password)
                refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentError(f"email: recipient refused {sorted(exc.recipients)[:1]}") from None
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:
                raise TransientError(f"email: {exc.smtp_code}") from None
            raise PermanentError(f"email: {exc.smtp_code} {exc.smtp_error[:200]!r}") from None
        except (smtplib.SMTPServerDisconnected, OSError) as exc:  # after DATA the server may have queued it
            raise TransientError(f"email: {type(exc).__name__}", ambiguous=True) from None
        if refused:
            raise PermanentError("email: recipient refused")
        return str(message["Message-ID"])


def from_config(settings: Any) -> ChannelSenders:
    """The factories the composition root hands to `delivery.Senders` (secrets looked up lazily;
    a channel without its secret is None, so the notification goes to the console)."""
    from chalicelib.secrets import get_secret
    from chalicelib.settings import email_from, ntfy_url, pagerduty_events_url, smtp_url, smtp_user, telegram_api_url

    def named(prefix: str, name: str) -> str | None:
        return get_secret(f"{prefix}_{name}" if name and name != "default" else prefix)

    def discord(name: str) -> DiscordSender | None:
        url = named("discord_webhook_url", name)
        return DiscordSender(url) if url else None

    def teams(name: str) -> TeamsSender | None:
        url = named("teams_webhook_url", name)
        return TeamsSender(url) if url else None

    def telegram() -> TelegramSender | None:
        token = get_secret("telegram_bot_token")
        return TelegramSender(telegram_api_url(), token) if token else None

    def ntfy(name: str) -> NtfySender | None:
        topic = named("ntfy_topic", name)
        return NtfySender(ntfy_url(), topic, get_secret("ntfy_token")) if topic else None

    def pagerduty(name: str) -> PagerDutySender | None:
        key = named("pagerduty_routing_key", name)
        return PagerDutySender(pagerduty_events_url(), key) if key else None

    def email() -> EmailSender | None:
        url = smtp_url()
        return EmailSender(url, email_from(), smtp_user(), get_secret("smtp_password")) if url else None

    return ChannelSenders(discord=discord, teams=teams, telegram=telegram, ntfy=ntfy, pagerduty=pagerduty, email=email)


class ChannelSenders:
    """Factories per scheme; each returns None when the channel is not configured (console)."""

    def __init__(self, *, discord: Callable[[str], Any] = lambda n: None, teams: Callable[[str], Any] = lambda n: None,
                 telegram: Callable[[], Any] = lambda: None, ntfy: Callable[[str], Any] = lambda n: None,
                 pagerduty: Callable[[str], Any] = lambda n: None, email: Callable[[], Any] = lambda: None) -> None:
        self.discord, self.teams, self.telegram, self.ntfy, self.pagerduty, self.email = (
            discord, teams, telegram, ntfy, pagerduty, email)

    def send(self, scheme: str, target: str, event: ev.Event, public_base_url: str, delivery_id: str) -> str | None:
        """The peer's id for the post, or None when the channel is not configured."""
        if scheme in ("discord", "teams", "ntfy", "pagerduty"):
            sender = getattr(self, scheme)(target)
            return None if sender is None else sender.send(event, public_base_url)
        if scheme == "telegram":
            sender = self.telegram()
            return None if sender is None else sender.send(target, event, public_base_url)
        if scheme == "email":
            sender = self.email()
            return None if sender is None else sender.send(target, event, public_base_url, delivery_id)
        return None

    def posted(self, scheme: str, target: str, event: ev.Event, since: float) -> bool | None:
        """True/False when the channel can be asked, None when it cannot."""
        if scheme == "ntfy":
            sender = self.ntfy(target)
            return None if sender is None else sender.posted(event.id, since - 60)
        return None

