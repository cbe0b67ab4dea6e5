"""Deliverers: one SQS message = one (event, destination) -> at most one post.

`deliver(channel, body, record)` (called per record by `sqs_batch`, which reports the records
that raise as `batchItemFailures`, so only those are retried):

1. Parse the message; a malformed one (bad JSON shape, unknown destination, unsupported event
   type or schema version) is permanent.
2. `Ledger.claim(<event id>#<destination>)`. Already sent -> acknowledge (duplicate or
   redelivery). Claimed by a live delivery -> raise, with the message hidden until the claim
   would go stale.
3. Render and send through the destination's sender.
4. Success -> `mark_sent`. Transient failure -> `release` the claim and raise (SQS retries; on
   429 the message stays hidden for `Retry-After`; after `maxReceiveCount` receives SQS moves it
   to the DLQ). Permanent failure -> `mark_failed`, send the message to the channel's DLQ with
   the reason as message attributes, raise an operator alert (`notify.failed` to the `ops`
   subscriptions; never for a failed alert itself), and return normally so the source message
   is deleted.

Destinations without credentials degrade to the console (the local stack): Slack without
`slack_bot_token` / webhook URL, X without its four OAuth secrets, webhooks without a URL.
Config: Slack incoming webhook URLs are secrets `slack_webhook_url_<name>` (`slack_webhook_url`
for `default`); outgoing webhook URLs are `NEWBOOKS_WEBHOOK_<NAME>_URL` (or secret
`webhook_url_<name>`), signed with secret `webhook_signing_secret_<name>` or
`webhook_signing_secret`.
"""
from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalicelib import events as ev
from chalicelib.log import get_logger
from chalicelib.notify import render
from chalicelib.notify.channels import RESEND_WHEN_UNSURE as CHANNELS_RESEND
from chalicelib.notify.console import ConsoleSender
from chalicelib.notify.errors import PermanentError, TransientError
from chalicelib.notify.ledger import AlreadySent, InFlight, Ledger
from chalicelib.notify.model import (
    NOTIFY_FAILED,
    BadDestination,
    channel_of,
    ledger_key,
    parse_event,
    safe_destination,
    split_destination,
    url_target,
)
from chalicelib.settings import dead_letter_urls, ledger_stale_s
from chalicelib.settings import slack_webhook_channel as env_slack_webhook_channel
from chalicelib.settings import webhook_url as env_webhook_url

if TYPE_CHECKING:
    from chalicelib.notify.channels import ChannelSenders
    from chalicelib.notify.ledger import Claim
    from chalicelib.notify.slack import SlackWebApi, SlackWebhookSender
    from chalicelib.notify.threads import IncidentThreads, Parent
    from chalicelib.notify.webhook import WebhookSender
    from chalicelib.notify.x import XClient

log = get_logger("notify.delivery")
_ANY_URL = re.compile(r"https?://\S+", re.IGNORECASE)


class CannotTell(Exception):
    """The peer cannot be asked whether an earlier, uncertain attempt posted."""


# What happens when an attempt may have posted and the peer cannot be asked (README, "Delivery
# guarantees"): resend (duplicates are recognisable there) or park in the DLQ (at most once).
RESEND_WHEN_UNSURE = {"x": True, "webhook": True, "console": True, "slack": False, "slack-user": False,
                      "slack-webhook": False, **CHANNELS_RESEND}
CHANNEL_SCHEMES = frozenset(CHANNELS_RESEND)


class Senders:
    """Destination string -> the right client, with console fallback."""

    def __init__(
        self,
        public_base_url: str,
        slack_api: SlackWebApi | None = None,
        slack_webhook: Callable[[str], SlackWebhookSender | None] = lambda name: None,
        x: XClient | None = None,
        webhook: Callable[[str], WebhookSender | None] = lambda name: None,
        console: ConsoleSender | None = None,
        slack_webhook_channel: Callable[[str], str | None] = lambda name: None,
        webhook_url: Callable[[str], WebhookSender | None] | None = None,
        threads: IncidentThreads | None = None,
        channels: ChannelSenders | None = None,
    ) -> None:
        """`webhook_url(url)`: the sender for a `webhook:<url>` destination (default: unsigned,
        public addresses only). `slack_webhook_channel(name)`: the channel id an incoming
        webhook posts to, when known, so an uncertain post can be looked for with the bot token."""
        self.public_base_url = public_base_url
        self.slack_api = slack_api
        self.slack_webhook = slack_webhook
        self.x = x
        self.webhook = webhook
        self.console = console or ConsoleSender()
        self.slack_webhook_channel = slack_webhook_channel
        self.webhook_url = webhook_url or _default_webhook_url
        self.threads = threads  # chalicelib.notify.threads.IncidentThreads: incidents as threads
        self.channels = channels  # chalicelib.notify.channels.ChannelSenders: discord, teams, ...

    def already_sent(self, destination: str, event: ev.Event, since: float) -> bool:
        """After an attempt that may have posted: is the message already at the peer? Only the
        Slack Web API can be asked (message metadata, `conversations.history`). Raises
        `CannotTell` when the peer cannot be asked, `TransientError` when asking failed."""
        scheme, target = split_destination(destination)
        if self.channels is not None and scheme in CHANNEL_SCHEMES:
            try:
                found = self.channels.posted(scheme, target, event, since)
            except Exception as exc:  # the peer could not be asked now: ask again later
                raise TransientError(f"{scheme}: could not check for an earlier post ({type(exc).__name__})") from None
            if found is None:
                raise CannotTell(f"{scheme} destinations cannot be checked for an earlier post")
            return found
        api, channel = self.slack_api, None
        if scheme == "slack" and api is not None:
            channel = target
        elif scheme == "slack-user" and api is not None:
            channel = api.dm_channel(target)
        elif scheme == "slack-webhook" and api is not None:
            channel = self.slack_webhook_channel(target)
        if not channel or api is None:
            raise CannotTell(f"{scheme} destinations cannot be checked for an earlier post")
        try:
            parent = self._parent(destination, event) if scheme != "slack-webhook" else None
            if parent is not None:
                return bool(api.posted(parent.channel, event.id, since - 60, thread_ts=parent.ts))
            ts = api.posted(channel, event.id, since - 60)
        except Exception as exc:  # scope missing, Slack down: ask again later, never guess
            raise TransientError(f"slack: could not check for an earlier post ({type(exc).__name__})") from None
        if ts and scheme != "slack-webhook":
            self._remember(destination, event, channel, ts)
        return bool(ts)

    def _parent(self, destination: str, event: ev.Event) -> Parent | None:
        from chalicelib.notify.threads import THREADED

        if self.threads is None or event.type not in THREADED:
            return None
        return self.threads.find(destination, str(event.data.get("target") or event.subject))

    def _remember(self, destination: str, event: ev.Event, channel: str, ts: str) -> None:
        from chalicelib.notify.threads import PARENTS

        if self.threads is None or event.type not in PARENTS or not ts:
            return
        try:
            self.threads.remember(destination, event, channel, ts)
        except Exception as exc:  # the post is done; later events of the incident post on their own
            log.warning("could not remember the incident thread", extra={"error": type(exc).__name__})

    def _update_parent(self, destination: str, parent: Parent, event: ev.Event) -> None:
        if self.threads is None or self.slack_api is None:  # a parent is only found with both
            return
        try:
            recovered = parent.target if event.type == ev.TARGET_RECOVERED else None
            group = self.threads.group_state(destination, parent, recovered) if parent.group else None
            acked = None if group else self.threads.acknowledged_by(parent.target, parent.event_id)
            message = render.slack_incident_parent(parent, event, self.public_base_url, acked, group)
            self.slack_api.update(parent.channel, parent.ts, message)
        except Exception as exc:  # best effort: the thread reply is the delivery (threads.py)
            log.warning("could not update the incident parent", extra={"error": type(exc).__name__})

    @staticmethod
    def resend_when_unsure(destination: str) -> bool:
        return RESEND_WHEN_UNSURE.get(split_destination(destination)[0], False)

    def send(self, destination: str, event: ev.Event) -> str:
        scheme, target = split_destination(destination)
        if scheme in ("slack", "slack-user") and self.slack_api is not None:
            api = self.slack_api
            channel = target if scheme == "slack" else api.dm_channel(target)
            parent = self._parent(destination, event)
            if parent is not None:  # a reminder or the recovery: into the incident's thread
                ts = api.post(parent.channel, render.slack_thread_reply(event, self.public_base_url), thread_ts=parent.ts)
                self._update_parent(destination, parent, event)
                return ts
            ts = api.post(channel, render.slack_message(event, self.public_base_url))
            self._remember(destination, event, channel, ts)
            return ts
        if scheme == "slack-webhook":
            sender = self.slack_webhook(target)
            if sender is not None:
                return sender.post(render.slack_message(event, self.public_base_url))
        if scheme == "x" and self.x is not None:
            return self.x.post(render.tweet_text(event, self.public_base_url))
        if scheme in CHANNEL_SCHEMES and self.channels is not None:
            info = self.channels.send(scheme, target, event, self.public_base_url, ledger_key(event.id, destination))
            if info is not None:
                return info
        if scheme == "webhook":
            url = url_target(destination)
            hook = self.webhook_url(url) if url else self.webhook(target)
            if hook is not None:
                return hook.post(render.webhook_payload(event, destination))
        return self.console.post(render.console_line(event, safe_destination(destination), self.public_base_url))


def _default_webhook_url(url: str) -> Any:
    from chalicelib.notify.webhook import WebhookSender
    from chalicelib.uptime.ssrf import AddressPolicy

    return WebhookSender(url, None, policy=AddressPolicy(allow_private=False))


class DeliveryService:
    def __init__(
        self,
        ledger: Ledger,
        senders: Senders,
        sqs: Any,
        queue_urls: dict[str, str],
        dlq_urls: dict[str, str],
        alert: Callable[[ev.Event], None] | None = None,
        clock: Callable[[], float] = time.time,
        after_claim: Callable[[str], None] | None = None,
        mutes: Any = None,
    ) -> None:
        self.mutes = mutes  # chalicelib.notify.mutes.Mutes: "Mute series" / "Mute 1 h" from Slack
        self.ledger = ledger
        self.senders = senders
        self.sqs = sqs
        self.queue_urls = queue_urls
        self.dlq_urls = dlq_urls
        self.alert = alert
        self.clock = clock
        self.after_claim = after_claim  # test hook: crash injection between claim and send

    def deliver(self, channel: str, body: dict[str, Any], record: dict[str, Any]) -> None:
        try:
            event, destination = self._parse(body)
        except (KeyError, TypeError, ValueError, BadDestination, ev.UnsupportedEvent) as exc:
            self._dead_letter(channel, record, f"malformed message: {type(exc).__name__}: {exc}", None, None)
            return
        key = ledger_key(event.id, destination)
        try:
            claim = self.ledger.claim(key)
        except AlreadySent:
            log.info("duplicate delivery skipped", extra={"key": key})
            return
        except InFlight as exc:
            self._hide(channel, record, exc.retry_in_s)
            raise
        if self.after_claim is not None:
            self.after_claim(key)
        if self.mutes is not None:
            try:
                muted = self.mutes.silenced(destination, event)
            except Exception:
                self.ledger.release(claim, "mute check failed")
                raise
            if muted:  # done for good: un-muting does not replay what was muted
                self.ledger.mark_sent(claim, "muted")
                log.info("muted", extra={"key": key})
                return
        if claim.uncertain_since is not None and self._reconcile(channel, record, claim, claim.uncertain_since, event,
                                                                 destination):
            return
        try:
            info = self.senders.send(destination, event)
        except PermanentError as exc:
            self.ledger.mark_failed(claim, exc.reason)
            self._dead_letter(channel, record, exc.reason, event, destination)
            return
        except TransientError as exc:
            if exc.ambiguous:
                self.ledger.mark_uncertain(claim, exc.reason)
            else:
                self.ledger.release(claim, exc.reason)
            if exc.retry_after_s:
                self._hide(channel, record, exc.retry_after_s)
            raise
        except Exception as exc:  # unknown: it may have reached the peer
            self.ledger.mark_uncertain(claim, _ANY_URL.sub("<url>", f"{type(exc).__name__}: {exc}"))
            raise
        if not self.ledger.mark_sent(claim, str(info or "")):
            log.warning("claim went stale during send", extra={"key": key})
        log.info("delivered", extra={"key": key, "event_type": event.type, "destination": safe_destination(destination)})

    def _reconcile(self, channel: str, record: dict[str, Any], claim: Claim, since: int, event: ev.Event,
                   destination: str) -> bool:
        """An earlier attempt may have posted. True when this delivery is settled without a send:
        found at the peer (sent), or parked in the DLQ because the peer cannot be asked and a
        duplicate there would be a second visible post (at most once, nothing silently lost)."""
        try:
            found = self.senders.already_sent(destination, event, since)
        except CannotTell as exc:
            if self.senders.resend_when_unsure(destination):
                return False
            reason = (f"uncertain: an earlier attempt may have posted and {exc}; not resent. "
                      "Check the channel, then redrive if it is missing")
            self.ledger.mark_failed(claim, reason)
            self._dead_letter(channel, record, reason, event, destination)
            return True
        except TransientError as exc:
            self.ledger.mark_uncertain(claim, exc.reason)
            raise
        if not found:
            return False
        self.ledger.mark_sent(claim, "reconciled: found at the peer")
        log.info("delivery reconciled", extra={"key": claim.key})
        return True

    @staticmethod
    def _parse(body: Any) -> tuple[ev.Event, str]:
        if not isinstance(body, dict):
            raise TypeError("message body is not an object")
        destination = str(body["destination"])
        channel_of(destination)
        return parse_event(body["event"]), destination

    def _hide(self, channel: str, record: dict[str, Any], seconds: float) -> None:
        url = self.queue_urls.get(channel)
        handle = record.get("receiptHandle")
        if not url or not handle:
            return
        try:
            self.sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=min(43200, max(0, math.ceil(seconds)))
            )
        except Exception as exc:  # the default visibility timeout still applies
            log.warning("could not delay message", extra={"error": type(exc).__name__})

    def _dead_letter(
        self, channel: str, record: dict[str, Any], reason: str, event: ev.Event | None, destination: str | None
    ) -> None:
        destination = safe_destination(destination) if destination else destination
        reason = _ANY_URL.sub("<url>", reason)  # belt and braces: senders scrub their own URLs
        log.error("delivery failed permanently", extra={"reason": reason, "destination": destination})
        attributes = {
            "reason": {"DataType": "String", "StringValue": reason[:1000] or "unknown"},
            "channel": {"DataType": "String", "StringValue": channel},
            "failed_at": {"DataType": "Number", "StringValue": str(int(self.clock()))},
        }
        if destination:
            attributes["destination"] = {"DataType": "String", "StringValue": destination}
        if event is not None:
            attributes["event_id"] = {"DataType": "String", "StringValue": event.id}
        url = self.dlq_urls.get(channel)
        if not url:
            raise RuntimeError(f"no DLQ configured for channel {channel!r}: {reason}")
        self.sqs.send_message(QueueUrl=url, MessageBody=record.get("body") or "null", MessageAttributes=attributes)
        if event is not None and destination and event.type != NOTIFY_FAILED and self.alert is not None:
            self.alert(
                ev.Event(
                    id=f"{NOTIFY_FAILED}:{event.id}#{destination}",
                    type=NOTIFY_FAILED,
                    occurred_at=render_time(self.clock()),
                    subject=destination,
                    data={"destination": destination, "event_id": event.id, "event_type": event.type, "reason": reason},
                )
            )


def render_time(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def dlq_urls_from_env() -> dict[str, str]:
    urls = dead_letter_urls()
    return {c: urls.get(c, "") for c in ("slack", "x", "webhook", "console")}


def senders_from_config(settings: Any) -> Senders:
    from chalicelib.notify.slack import SlackWebApi, SlackWebhookSender
    from chalicelib.notify.webhook import WebhookSender
    from chalicelib.notify.x import XClient
    from chalicelib.secrets import get_secret

    token = get_secret("slack_bot_token")
    slack_api = SlackWebApi(token, settings.slack_api_url) if token else None

    def slack_webhook(name: str) -> Any:
        url = get_secret("slack_webhook_url" if name in ("", "default") else f"slack_webhook_url_{name}")
        return SlackWebhookSender(url) if url else None

    x_secrets = [get_secret(n) for n in ("x_api_key", "x_api_secret", "x_access_token", "x_access_token_secret")]
    x = XClient(settings.x_api_url, *x_secrets) if all(x_secrets) else None  # type: ignore[arg-type]

    def webhook(name: str) -> Any:
        url = env_webhook_url(name) or get_secret(f"webhook_url_{name}")
        secret = get_secret(f"webhook_signing_secret_{name}") or get_secret("webhook_signing_secret")
        return WebhookSender(url, secret) if url and secret else None

    def webhook_url(url: str) -> Any:
        from chalicelib.uptime.ssrf import AddressPolicy

        policy = AddressPolicy(allow_private=settings.allow_private_targets)
        return WebhookSender(url, get_secret("webhook_signing_secret"), policy=policy)

    def slack_webhook_channel(name: str) -> str | None:
        return env_slack_webhook_channel(name)

    from chalicelib import aws
    from chalicelib.notify.channels import from_config as channels_from_config
    from chalicelib.notify.threads import IncidentThreads

    return Senders(settings.public_base_url, slack_api=slack_api, slack_webhook=slack_webhook, x=x, webhook=webhook,
                   webhook_url=webhook_url, slack_webhook_channel=slack_webhook_channel,
                   threads=IncidentThreads(aws.table(settings.state_table)) if slack_api else None,
                   channels=channels_from_config(settings))


def build(settings: Any) -> DeliveryService:
    from chalicelib import aws
    from chalicelib.notify.fanout import Enqueuer, Router, alert_routes, static_subscriptions
    from chalicelib.notify.mutes import Mutes
    from chalicelib.notify.subscriptions import SubscriptionStore, resolve_series_key

    sqs = aws.client("sqs")
    series_key = resolve_series_key()
    router = Router(
        [SubscriptionStore(aws.table(settings.state_table)), static_subscriptions(settings, series_key)],
        series_key,
        alert_routes(settings),
    )
    enqueue = Enqueuer(sqs, settings.notify_queue_urls)

    def alert(event: ev.Event) -> None:
        for destination in router.route(event):
            enqueue(event, destination)

    return DeliveryService(
        ledger=Ledger(aws.table(settings.ledger_table), stale_after_s=ledger_stale_s()),
        senders=senders_from_config(settings),
        sqs=sqs,
        queue_urls=settings.notify_queue_urls,
        dlq_urls=dlq_urls_from_env(),
        alert=alert,
        mutes=Mutes(aws.table(settings.state_table), series_key=series_key),
    )

