"""The `/newbooks` slash command: verify, answer within Slack's 3 seconds, defer long work.

`handle(headers, raw_body) -> (status, body)` is what the route calls:

* not from Slack (bad/missing signature, stale timestamp, replay) -> 401, nothing else happens;
* quick commands (help, unknown input, follow, unfollow, following) are answered inline: with
  the replay check that is at most 2 DynamoDB calls (conditional PutItem + one Put/Delete/Query);
* release listings, search and status are enqueued on the slack-jobs queue as
  `{"schema_version": 1, "command": <name>, "response_url", "channel_id", "user_id", "text"}`
  and acknowledged at once with an ephemeral "working on it…" (2 AWS calls: replay put + SendMessage).

`run_job(body)` (the `slack_worker` Lambda) computes the answer with bounded reads and POSTs it
to the job's `response_url` through a client whose base URL is that URL. The post goes through
the delivery ledger (claim -> send -> mark sent, keyed by the response_url), so an SQS
redelivery does not answer twice. A response_url that is not Slack's (or loopback, when private
targets are allowed: the local stack and tests) is never called.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any
from urllib.parse import parse_qs, urlsplit

from chalicelib.log import get_logger
from chalicelib.slackbot import blocks as b
from chalicelib.slackbot import commands as c
from chalicelib.slackbot.verify import Rejected, Verifier

log = get_logger("slackbot")

JOB_SCHEMA_VERSION = 1
ACCEPTED_JOB_VERSIONS = frozenset({1})
DEFERRED = frozenset({c.FOLLOWED, c.TODAY, c.WEEK, c.NEXT, c.SEARCH, c.STATUS})
MAX_FOLLOWED_SERIES = 25  # one by_series Query each; more are named in the reply, not read
SEARCH_AHEAD_DAYS = 92  # title search window (by_month, <= 5 months)


def parse_form(raw_body: bytes | str | None) -> dict[str, str]:
    text = raw_body.decode("utf-8", "replace") if isinstance(raw_body, bytes) else (raw_body or "")
    return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


def response_url_allowed(url: str, allow_private: bool) -> bool:
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and (host == "slack.com" or host.endswith(".slack.com")):
        return True
    return allow_private and parts.scheme in ("http", "https") and host in ("127.0.0.1", "localhost", "::1")


def week_range(today: date, weeks_ahead: int = 0) -> tuple[str, str]:
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_ahead)
    return monday.isoformat(), (monday + timedelta(days=6)).isoformat()


class PermanentPostError(Exception):
    pass


class ResponseUrlPoster:
    """POSTs a message to a response_url with slack-sdk's WebhookClient (base URL = that URL)."""

    def __init__(self, timeout_s: int = 5) -> None:
        self.timeout_s = timeout_s

    def __call__(self, url: str, message: dict[str, Any]) -> None:
        from slack_sdk.webhook import WebhookClient

        client = WebhookClient(url=url, timeout=self.timeout_s, retry_handlers=[])
        replace = bool(message.get("replace_original"))
        response = client.send(
            text=message.get("text") or "", blocks=message.get("blocks"),
            response_type=None if replace else message.get("response_type", "ephemeral"),
            replace_original=True if replace else message.get("replace_original"),
            unfurl_links=False, unfurl_media=False,
        )
        if response.status_code == 200:
            return
        detail = f"response_url: HTTP {response.status_code} {(response.body or '')[:200]}"
        if response.status_code in (408, 429) or response.status_code >= 500:
            raise RuntimeError(detail)  # transient: the message goes back to the queue
        raise PermanentPostError(detail)  # 404 expired_url, 410, 400 ...: retrying cannot help


class JobQueue:
    def __init__(self, sqs: Callable[[], Any], queue_url: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url

    def __call__(self, job: dict[str, Any]) -> None:
        if not self.queue_url:
            raise RuntimeError("SLACK_JOBS_QUEUE_URL is not set")
        self.sqs().send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(job, ensure_ascii=False))


def _lazy(factory: Callable[[], Any]) -> Callable[[], Any]:
    box: list[Any] = []

    def get() -> Any:
        if not box:
            box.append(factory())
        return box[0]

    return get


class SlackCommands:
    def __init__(
        self,
        *,
        verifier: Verifier,
        subscriptions: Callable[[], Any],
        releases: Callable[[], Any],
        uptime: Callable[[], Any],
        enqueue: Callable[[dict[str, Any]], None],
        post: Callable[[str, dict[str, Any]], None],
        ledger: Callable[[], Any] | None = None,
        clock: Callable[[], float] = time.time,
        tz: tzinfo | None = timezone.utc,
        public_base_url: str = "http://127.0.0.1:8000",
        allow_private_urls: bool = False,
        sources: Callable[[], Any] | None = None,
        open_modal: Callable[[str, str, str], None] | None = None,
    ) -> None:
        self.open_modal = open_modal  # (which, trigger_id, channel_id): the follow / target forms
        self.verifier = verifier
        self.subscriptions = subscriptions
        self.releases = releases
        self.uptime = uptime
        self.enqueue = enqueue
        self.post = post
        self.ledger = ledger
        self.clock = clock
        self.tz = tz or timezone.utc
        self.public_base_url = public_base_url.rstrip("/")
        self.allow_private_urls = allow_private_urls
        self.sources = sources  # the crawl service: release sources' health in `status`

    # --- the HTTP request ------------------------------------------------------------------------

    def handle(self, headers: dict[str, Any], raw_body: bytes) -> tuple[int, dict[str, Any] | str]:
        try:
            self.verifier.verify(headers, raw_body or b"")
        except Rejected as exc:
            log.warning("slack request rejected", extra={"reason": exc.reason})
            return 401, {"error": "invalid_request"}
        except Exception:  # the replay store is unreachable: execute nothing
            log.exception("slack request verification failed")
            return 200, b.error_reply("newbooks is having trouble right now; please try again in a minute.")
        form = parse_form(raw_body)
        command = c.parse(form.get("text"))
        try:
            return 200, self._answer(command, form)
        except Exception:
            log.exception("slack command failed", extra={"command": command.name})
            return 200, b.error_reply("Something went wrong; please try again in a minute.")

    def _answer(self, command: c.Command, form: dict[str, str]) -> dict[str, Any] | str:
        channel = form.get("channel_id") or ""
        wants_form = command.name == c.TARGET or (command.problem == c.NEEDS_ARG_PROBLEM and command.word == c.FOLLOW)
        if wants_form and self.open_modal is not None and form.get("trigger_id"):
            self.open_modal("target" if command.name == c.TARGET else "follow", form["trigger_id"], channel)
            return b.opened_reply()
        if command.name == c.HELP:
            return b.help_reply(command)
        if not channel:
            return b.error_reply("Slack sent no channel id with this command.")
        destination = f"slack:{channel}"
        if command.name in (c.FOLLOW, c.UNFOLLOW, c.FOLLOWING):
            return self._quick(command, destination)
        response_url = form.get("response_url") or ""
        if not response_url:
            return b.error_reply("Slack sent no response_url, so I can't answer later.")
        job = {"schema_version": JOB_SCHEMA_VERSION, "command": command.name, "response_url": response_url,
               "channel_id": channel, "user_id": form.get("user_id") or "", "text": form.get("text") or ""}
        try:
            self.enqueue(job)
        except Exception:
            log.exception("slack job enqueue failed", extra={"command": command.name})
            return b.error_reply("I couldn't start on that; please try again in a minute.")
        return b.working_reply(command)

    def _quick(self, command: c.Command, destination: str) -> dict[str, Any]:
        from chalicelib.notify.subscriptions import InvalidSubscription

        subs = self.subscriptions()
        if command.name == c.FOLLOWING:
            return b.following_reply(subs.list(destination))
        try:
            if command.name == c.FOLLOW:
                sub = subs.follow(destination, "series", command.arg)
                return b.followed_reply(command.arg, sub.key)
            subs.unfollow(destination, "series", command.arg)
        except InvalidSubscription:
            return b.error_reply(f"“{command.arg}” has no letters or digits to match a series on.")
        return b.unfollowed_reply(command.arg)

    # --- the queued job ------------------------------------------------------------------------------

    def run_job(self, body: dict[str, Any]) -> None:
        from chalicelib.notify.ledger import AlreadySent

        if isinstance(body, dict) and body.get("kind") in ("action", "home"):  # buttons, App Home
            from chalicelib.bootstrap import slack_interactions

            slack_interactions().run(body)
            return

        version = body.get("schema_version") if isinstance(body, dict) else None
        if version not in ACCEPTED_JOB_VERSIONS:
            raise ValueError(f"slack job schema_version {version!r} not accepted")  # -> DLQ, visible
        url = str(body.get("response_url") or "")
        if not response_url_allowed(url, self.allow_private_urls):
            log.error("slack job response_url refused", extra={"host": urlsplit(url).hostname})
            return
        parsed = c.parse(body.get("text"))
        command = c.Command(str(body.get("command") or parsed.name), arg=parsed.arg, raw=parsed.raw)
        ledger = self.ledger() if self.ledger else None
        claim = None
        if ledger is not None:
            key = f"slack-job:{hashlib.sha256(url.encode()).hexdigest()[:32]}#response_url"
            try:
                claim = ledger.claim(key)
            except AlreadySent:
                log.info("slack job already answered")
                return
        try:
            message = self.answer_job(command, str(body.get("channel_id") or ""))
        except Exception:
            log.exception("slack job failed", extra={"command": command.name})
            message = b.error_reply("Sorry, I couldn't get that answer. Please try again in a minute.")
        try:
            self.post(url, message)
        except PermanentPostError as exc:
            log.error("slack job answer refused", extra={"reason": str(exc)})
            if claim is not None and ledger is not None:  # done for good: a duplicate delivery must not try again
                ledger.mark_sent(claim, f"refused: {exc}")
            return
        except Exception as exc:
            if claim is not None and ledger is not None:
                ledger.release(claim, f"{type(exc).__name__}: {exc}")
            raise
        if claim is not None and ledger is not None:
            ledger.mark_sent(claim, command.name)

    def today(self) -> date:
        return datetime.fromtimestamp(self.clock(), self.tz).date()

    def answer_job(self, command: c.Command, channel_id: str) -> dict[str, Any]:
        """The reply for a deferred command (bounded Query/GetItem calls): chalicelib.slackbot.jobs,
        kept out of this module so the acknowledgement path does not compile it."""
        from chalicelib.slackbot import jobs

        return jobs.answer(self, command, channel_id)


def build(settings: Any, *, clock: Callable[[], float] = time.time) -> SlackCommands:
    from chalicelib import aws
    from chalicelib.secrets import get_secret
    from chalicelib.slackbot.verify import ReplayGuard

    def subscriptions() -> Any:
        from chalicelib.notify.subscriptions import build as build_subscriptions

        return build_subscriptions(settings)

    def releases() -> Any:
        from chalicelib.queries import build as build_queries

        return build_queries(settings)

    def uptime() -> Any:
        from chalicelib.uptime.service import build as build_uptime

        return build_uptime(settings)

    def sources() -> Any:
        from chalicelib.crawl.service import build as build_crawl

        return build_crawl(settings)

    def ledger() -> Any:
        from chalicelib.notify.ledger import Ledger

        return Ledger(aws.table(settings.ledger_table))

    return SlackCommands(
        verifier=Verifier(lambda: get_secret("slack_signing_secret"),
                          ReplayGuard((aws.client("dynamodb"), settings.state_table), clock=clock), clock=clock),
        subscriptions=_lazy(subscriptions),
        releases=_lazy(releases),
        uptime=_lazy(uptime),
        enqueue=JobQueue(lambda: aws.client("sqs"), settings.slack_jobs_queue_url),
        post=ResponseUrlPoster(),
        ledger=_lazy(ledger),
        clock=clock,
        tz=None,  # UTC; resolved when a job first needs a date (keeps the ack path's imports small)
        public_base_url=settings.public_base_url,
        allow_private_urls=bool(settings.allow_private_targets),
        sources=_lazy(sources),
        open_modal=_open_modal,
    )


def _open_modal(which: str, trigger_id: str, channel_id: str) -> None:
    from chalicelib.bootstrap import slack_interactions

    slack_interactions().open_modal(which, trigger_id, channel_id)
