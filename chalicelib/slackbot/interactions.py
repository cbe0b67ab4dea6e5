"""Slack interactivity and the Events API: buttons, modals, App Home.

HTTP side (answers within Slack's 3 seconds; every request verified like the slash command:
signature, 5-minute window, replay guard):

* `handle_interaction(headers, raw_body)` — POST /slack/interactions, form field `payload`
  (https://docs.slack.dev/interactivity/handling-user-interaction, read 2026-12-03):
  - `block_actions` from our posts and the App Home (follow / unfollow / mute series,
    acknowledge / mute 1 h, remove a follow / target, unmute) are queued on the slack-jobs
    queue and acknowledged with an empty 200: 2 AWS calls (replay put + SendMessage);
  - "Follow…" / "Add a target…" open a modal at once (`views.open` needs the trigger_id
    within 3 s);
  - `view_submission` of the modals is validated by the API's own validators
    (chalicelib.api.validate + the services) and answered inline: errors under the inputs
    (`response_action: errors`) or the modal closes after one write;
  - URL buttons (Open, Open status page) need nothing: empty 200.
* `handle_event(headers, raw_body)` — POST /slack/events: `url_verification` echoes the
  challenge; `event_callback` is de-duplicated by `event_id` (Slack retries a delivery up to 3
  times, each newly signed) with a conditional PutItem, and `app_home_opened` queues a job that
  publishes the Home tab.

Worker side (`run(job)`, the slack_worker Lambda): each action job is claimed in the delivery
ledger under a key made from the action payload (action_ts, user, action, value, message), so a
repeated payload or an SQS redelivery changes nothing twice; mutes and acknowledgements are
conditional writes too (a second click reports who did it first).
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib.log import get_logger
from chalicelib.slackbot.verify import Rejected, Verifier

log = get_logger("slackbot.interactions")

JOB_KINDS = frozenset({"action", "home"})
# action_ids (the buttons are built in chalicelib.notify.render and chalicelib.slackbot.views)
FOLLOW_SERIES, UNFOLLOW_SERIES, MUTE_SERIES = "follow_series", "unfollow_series", "mute_series"
ACK_ALERT, MUTE_ALERT = "ack_alert", "mute_alert"
REMOVE_FOLLOW, REMOVE_TARGET, UNMUTE = "remove_follow", "remove_target", "unmute"
REMOVE_FOLLOW_SELECT = "remove_follow_select"  # the menu under `/newbooks following`
OPEN_FOLLOW, OPEN_TARGET = "open_follow_modal", "open_target_modal"
DEFERRED = frozenset({FOLLOW_SERIES, UNFOLLOW_SERIES, MUTE_SERIES, ACK_ALERT, MUTE_ALERT, REMOVE_FOLLOW,
                      REMOVE_TARGET, UNMUTE, REMOVE_FOLLOW_SELECT})
HOME_AHEAD_DAYS = 60
HOME_SERIES_READ = 10  # one by_series Query each
EVENT_KEEP_S = 3600  # Slack retries an event within about an hour


class SlackInteractions:
    def __init__(
        self,
        *,
        verifier: Verifier,
        enqueue: Callable[[dict[str, Any]], None],
        web: Callable[[], Any],
        subscriptions: Callable[[], Any],
        uptime: Callable[[], Any],
        releases: Callable[[], Any],
        mutes: Callable[[], Any],
        ledger: Callable[[], Any],
        state_table: Callable[[], Any],
        post: Callable[[str, dict[str, Any]], None],
        public_base_url: str,
        target_admins: frozenset[str] = frozenset(),
        allow_private_urls: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.verifier = verifier
        self.enqueue = enqueue
        self.web = web
        self.subscriptions = subscriptions
        self.uptime = uptime
        self.releases = releases
        self.mutes = mutes
        self.ledger = ledger
        self.state_table = state_table
        self.post = post
        self.public_base_url = public_base_url.rstrip("/")
        self.target_admins = target_admins
        self.allow_private_urls = allow_private_urls
        self.clock = clock

    # --- HTTP: interactions ------------------------------------------------------------------------

    def _verified(self, headers: dict[str, Any], raw_body: bytes) -> tuple[int, Any] | None:
        try:
            self.verifier.verify(headers, raw_body or b"")
        except Rejected as exc:
            log.warning("slack request rejected", extra={"reason": exc.reason})
            return 401, {"error": "invalid_request"}
        except Exception:  # the replay store is unreachable: execute nothing, Slack shows an error
            log.exception("slack request verification failed")
            return 503, {"error": "unavailable"}
        return None

    def handle_interaction(self, headers: dict[str, Any], raw_body: bytes) -> tuple[int, Any]:
        refused = self._verified(headers, raw_body)
        if refused:
            return refused
        from chalicelib.slackbot.service import parse_form

        try:
            payload = json.loads(parse_form(raw_body).get("payload") or "")
            kind = payload["type"]
        except (ValueError, KeyError, TypeError):
            return 400, {"error": "bad_payload"}
        try:
            if kind == "block_actions":
                return 200, self._action(payload)
            if kind == "view_submission":
                return 200, self._submission(payload)
        except Exception:
            log.exception("slack interaction failed", extra={"type": kind})
            return 503, {"error": "unavailable"}
        return 200, ""  # view_closed, shortcuts we do not offer: nothing to do

    def _action(self, payload: dict[str, Any]) -> str:
        actions = payload.get("actions") or []
        if not actions:
            return ""
        action = actions[0]
        action_id = str(action.get("action_id") or "")
        user = str((payload.get("user") or {}).get("id") or "")
        channel = str((payload.get("channel") or {}).get("id") or "")
        if action_id in (OPEN_FOLLOW, OPEN_TARGET):
            self.open_modal("follow" if action_id == OPEN_FOLLOW else "target", str(payload.get("trigger_id") or ""), channel)
            return ""
        if action_id not in DEFERRED:
            return ""  # URL buttons: Slack opened the link already
        message = payload.get("message") or {}
        job = {
            "schema_version": 1, "kind": "action", "action_id": action_id,
            "value": str(action.get("value") or (action.get("selected_option") or {}).get("value") or ""),
            "action_ts": str(action.get("action_ts") or ""), "user_id": user, "channel_id": channel,
            "container": str((payload.get("container") or {}).get("type") or ""),
            "message_ts": str(message.get("ts") or (payload.get("container") or {}).get("message_ts") or ""),
            "response_url": str(payload.get("response_url") or ""),
        }
        if action_id == ACK_ALERT:
            job["message"] = {"text": message.get("text") or "", "blocks": message.get("blocks") or []}
        self.enqueue(job)
        return ""

    def open_modal(self, which: str, trigger_id: str, channel_id: str, initial: str = "") -> None:
        """`views.open` at once: a trigger_id is good for 3 seconds."""
        from chalicelib.slackbot import views

        view = views.follow_modal(channel_id, initial) if which == "follow" else views.target_modal(channel_id)
        self.web().call("views.open", trigger_id=trigger_id, view=view)

    def _submission(self, payload: dict[str, Any]) -> Any:
        """A modal's submit: the service call, or `response_action: errors` on the input of the
        field at fault (`param` of the API's ApiError or of the domain's error, never the text)."""
        from chalicelib.api import validate
        from chalicelib.api.errors import ApiError
        from chalicelib.errors import DomainError
        from chalicelib.slackbot import views

        view = payload.get("view") or {}
        user = str((payload.get("user") or {}).get("id") or "")
        callback, body, extra = views.form_body(view, user)
        if callback == views.FOLLOW_MODAL:
            try:
                args = validate.subscription(body)
                self.subscriptions().follow(**args)
            except (ApiError, DomainError) as exc:  # InvalidSubscription, BadDestination: the API's 400s
                return views.field_errors(callback, exc.param or "", str(exc))
            return {"response_action": "clear"}
        if callback == views.TARGET_MODAL:
            if self.target_admins and user not in self.target_admins:
                return views.field_errors(callback, "name", "Only the workspace's newbooks admins can add targets.")
            try:
                config = validate.target_config(body)
                created = self.uptime().add_target(config)
            except (ApiError, DomainError) as exc:  # InvalidTarget, TargetExists (its param is "name")
                return views.field_errors(callback, exc.param or "", str(exc))
            if extra.get("follow_alerts"):
                self.subscriptions().follow(extra["destination"], "target", created["name"])
            return {"response_action": "clear"}
        return ""

    # --- HTTP: Events API ----------------------------------------------------------------------------

    def handle_event(self, headers: dict[str, Any], raw_body: bytes) -> tuple[int, Any]:
        refused = self._verified(headers, raw_body)
        if refused:
            return refused
        try:
            body = json.loads(raw_body or b"")
            kind = body["type"]
        except (ValueError, KeyError, TypeError):
            return 400, {"error": "bad_payload"}
        if kind == "url_verification":
            return 200, {"challenge": str(body.get("challenge") or "")}
        if kind != "event_callback":
            return 200, {}
        event = body.get("event") or {}
        event_id = str(body.get("event_id") or "")
        if event.get("type") != "app_home_opened" or event.get("tab", "home") != "home" or not event_id:
            return 200, {}
        if not self._first_sight(event_id):
            log.info("slack event retry ignored", extra={"event_id": event_id})
            return 200, {}
        try:
            self.enqueue({"schema_version": 1, "kind": "home", "user_id": str(event.get("user") or ""),
                          "event_id": event_id})
        except Exception:
            log.exception("home job enqueue failed")
            self.state_table().delete_item(Key={"pk": f"SLACKEVT#{event_id}", "sk": "-"})  # let Slack's retry in
            return 503, {"error": "unavailable"}
        return 200, {}

    def _first_sight(self, event_id: str) -> bool:
        from chalicelib import aws

        now = int(self.clock())
        with aws.conditional() as write:
            self.state_table().put_item(
                Item={"pk": f"SLACKEVT#{event_id}", "sk": "-", "expires_at": now + EVENT_KEEP_S},
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues={":now": now},
            )
        return write.held

    # --- worker -----------------------------------------------------------------------------------------

    def run(self, job: dict[str, Any]) -> None:
        if job.get("kind") == "home":
            self.publish_home(str(job.get("user_id") or ""))
            return
        from chalicelib.notify.ledger import AlreadySent

        ledger = self.ledger()
        identity = [job.get(k) for k in ("action_ts", "user_id", "action_id", "value", "channel_id", "message_ts")]
        key = "slack-action:" + hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:32]
        try:
            claim = ledger.claim(key)
        except AlreadySent:
            log.info("slack action already done", extra={"action_id": job.get("action_id")})
            return
        try:
            reply = self.act(job)
            if reply is not None:
                self._answer(job, reply)
        except Exception as exc:
            ledger.release(claim, type(exc).__name__)
            raise
        ledger.mark_sent(claim, str(job.get("action_id")))

    def act(self, job: dict[str, Any]) -> dict[str, Any] | None:
        """Do what the button says; the ephemeral reply (or replacement message) to send."""
        from chalicelib.notify.mutes import ALERT_MUTE_S, SERIES_MUTE_S
        from chalicelib.notify.text import mrkdwn
        from chalicelib.slackbot.commands import unescape

        action, value, user = job["action_id"], str(job.get("value") or ""), str(job.get("user_id") or "")
        if action in (FOLLOW_SERIES, UNFOLLOW_SERIES, MUTE_SERIES):
            value = unescape(value)  # render.py escaped the crawled series name
        destination = self.destination(job)
        where = "in direct messages" if destination.startswith("slack-user:") else "in this channel"
        if action == FOLLOW_SERIES:
            self.subscriptions().follow(destination, "series", value)
            return _ephemeral(f":white_check_mark: Following *{mrkdwn(value)}* {where}.")
        if action == UNFOLLOW_SERIES:
            self.subscriptions().unfollow(destination, "series", value)
            return _ephemeral(f"Stopped following *{mrkdwn(value)}* {where}.")
        if action == MUTE_SERIES:
            from chalicelib.notify.subscriptions import (
                normalize_key,
                resolve_series_key,
            )

            key = normalize_key("series", value, resolve_series_key())
            done = self.mutes().mute(destination, "series", key, SERIES_MUTE_S, user)
            return _ephemeral(_muted_text(f"*{mrkdwn(value)}*", done, user))
        if action == MUTE_ALERT:
            done = self.mutes().mute(destination, "target", value, ALERT_MUTE_S, user)
            return _ephemeral(_muted_text(f"alerts for *{mrkdwn(value)}*", done, user))
        if action == ACK_ALERT:
            ref = json.loads(value)
            done = self.mutes().acknowledge(str(ref["t"]), str(ref["e"]), user)
            if not done.changed and done.by != user:
                return _ephemeral(f"<@{done.by}> already acknowledged this alert.")
            return acknowledged_message(job.get("message") or {}, done.by, int(self.clock()))
        if action == REMOVE_FOLLOW_SELECT:  # the exact stored key: no second normalization
            kind, _sep, key = value.partition("#")
            self.subscriptions().store.delete(destination, kind, key)
            return _ephemeral(f"Removed the {mrkdwn(kind)} follow *{mrkdwn(key)}* {where}.")
        if action in (REMOVE_FOLLOW, REMOVE_TARGET, UNMUTE):
            self._home_change(action, value, user, destination)
            self.publish_home(user)
            return None
        raise ValueError(f"unknown action {action!r}")

    def _home_change(self, action: str, value: str, user: str, destination: str) -> None:
        if action == REMOVE_FOLLOW:
            ref = json.loads(value)
            if ref.get("d") != destination:  # a Home view only lists the viewer's own follows
                raise PermissionError("not your follow")
            self.subscriptions().unfollow(ref["d"], ref["k"], ref["m"])
        elif action == REMOVE_TARGET:
            if not self.target_admins or user in self.target_admins:
                self.uptime().delete_target(value)
        else:
            ref = json.loads(value)
            self.mutes().unmute(destination, str(ref["s"]), str(ref["k"]))

    @staticmethod
    def destination(job: dict[str, Any]) -> str:
        channel = str(job.get("channel_id") or "")
        if job.get("container") == "view" or not channel or channel.startswith("D"):
            return f"slack-user:{job['user_id']}"
        return f"slack:{channel}"

    def _answer(self, job: dict[str, Any], reply: dict[str, Any]) -> None:
        from chalicelib.slackbot.service import response_url_allowed

        url = str(job.get("response_url") or "")
        if not response_url_allowed(url, self.allow_private_urls):
            log.error("slack action response_url refused")
            return
        self.post(url, reply)

    def publish_home(self, user: str) -> None:
        from chalicelib.notify.render import status_url
        from chalicelib.queries import BadQuery
        from chalicelib.slackbot import views

        if not user:
            return
        destination = f"slack-user:{user}"
        follows = self.subscriptions().list(destination)
        today = datetime.fromtimestamp(self.clock(), timezone.utc).date()
        upcoming: dict[str, dict[str, Any]] = {}
        for sub in [s for s in follows if s.kind == "series"][:HOME_SERIES_READ]:
            try:
                page = self.releases().list({"series": sub.key, "from": today.isoformat(),
                                             "to": (today + timedelta(days=HOME_AHEAD_DAYS)).isoformat(), "limit": "20"})
            except BadQuery:
                continue
            upcoming.update((str(r.get("id")), r) for r in page["releases"])
        rows = sorted(upcoming.values(), key=lambda r: (str(r.get("release_date") or ""), str(r.get("title") or "")))
        uptime = self.uptime()
        view = views.home_view(follows, rows, uptime.status_summary(), uptime.list_targets(),
                               self.mutes().list(destination), status_url(self.public_base_url))
        self.web().call("views.publish", user_id=user, view=view)


def _ephemeral(text: str) -> dict[str, Any]:
    from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

    return {"response_type": "ephemeral", "replace_original": False, "text": text,
            "blocks": [SectionBlock(text=MarkdownTextObject(text=text[:2900])).to_dict()]}


def _muted_text(what: str, done: Any, user: str) -> str:
    until = f"<!date^{done.until}^{{date_short_pretty}} {{time}}|{done.until}>"
    if done.changed:
        return f":mute: Muted {what} here until {until}."
    who = "You" if done.by == user else f"<@{done.by}>"
    return f"{who} already muted {what} here until {until}."


def acknowledged_message(message: dict[str, Any], by: str, at: int) -> dict[str, Any]:
    """The alert message with its Acknowledge button replaced by who acknowledged it."""
    blocks = []
    for block in message.get("blocks") or []:
        if block.get("type") == "actions" and block.get("block_id") == "alert_actions":
            kept = [e for e in block.get("elements") or [] if e.get("action_id") != ACK_ALERT]
            blocks.append({"type": "context", "elements": [
                {"type": "mrkdwn", "text": f":eyes: Acknowledged by <@{by}> <!date^{at}^{{time}}|{at}>"}]})
            if kept:
                blocks.append({**block, "elements": kept})
        else:
            blocks.append(block)
    return {"replace_original": True, "text": message.get("text") or "Alert acknowledged", "blocks": blocks}


def build(settings: Any, *, clock: Callable[[], float] = time.time) -> SlackInteractions:
    from chalicelib import aws
    from chalicelib.bootstrap import subscription_service, uptime_service
    from chalicelib.secrets import get_secret
    from chalicelib.settings import slack_target_admins
    from chalicelib.slackbot.service import JobQueue, ResponseUrlPoster, _lazy
    from chalicelib.slackbot.verify import ReplayGuard

    def web() -> Any:
        from chalicelib.notify.slack import SlackWebApi

        token = get_secret("slack_bot_token")
        if not token:
            raise RuntimeError("slack_bot_token is not configured")
        return SlackWebApi(token, settings.slack_api_url, timeout_s=2)

    def releases() -> Any:
        from chalicelib.queries import build as build_queries

        return build_queries(settings)

    def mutes() -> Any:
        from chalicelib.notify.mutes import Mutes
        from chalicelib.notify.subscriptions import resolve_series_key

        return Mutes(aws.table(settings.state_table), clock=clock, series_key=resolve_series_key())

    def ledger() -> Any:
        from chalicelib.notify.ledger import Ledger

        return Ledger(aws.table(settings.ledger_table))

    admins = slack_target_admins()
    return SlackInteractions(
        verifier=Verifier(lambda: get_secret("slack_signing_secret"),
                          ReplayGuard((aws.client("dynamodb"), settings.state_table), clock=clock), clock=clock),
        enqueue=JobQueue(lambda: aws.client("sqs"), settings.slack_jobs_queue_url),
        web=_lazy(web),
        subscriptions=subscription_service,
        uptime=uptime_service,
        releases=_lazy(releases),
        mutes=_lazy(mutes),
        ledger=_lazy(ledger),
        state_table=lambda: aws.table(settings.state_table),
        post=ResponseUrlPoster(),
        public_base_url=settings.public_base_url,
        target_admins=admins,
        allow_private_urls=bool(settings.allow_private_targets),
        clock=clock,
    )

