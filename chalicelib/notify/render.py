"""Pure rendering: one Event -> Slack Block Kit, tweet text, webhook JSON, console line.

Every crawled or configured string that reaches Slack goes through `mrkdwn()` (escapes `&`,
`<`, `>`), so a title like `<!channel> <http://evil|click> & co` shows as literal text: it can
neither ping a channel nor forge a link. Links are only built here, from http(s) URLs that
`safe_url()` accepted, and scraped text is never put in `plain_text` headers (headers are fixed
strings). Messages are posted without `link_names`, so `@channel` in plain text stays text.

Tweet length follows X's weighted count (twitter-text v3): code points in U+0000-U+10FF,
U+2000-U+200D, U+2010-U+201F, U+2032-U+2037 weigh 1, every other code point 2 (CJK, emoji),
each URL counts 23, the limit is 280. Emoji ZWJ sequences are counted per code point, which
only over-estimates (a fitted tweet is never too long).
"""
from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from chalicelib import events as ev
from chalicelib.notify.model import NOTIFY_FAILED, RELEASE_DIGEST, ledger_key
from chalicelib.notify.text import _CONTROL, link, mrkdwn, release_title, safe_url

# action_ids of the buttons on our posts (chalicelib.slackbot.interactions handles them)
OPEN_RELEASE, FOLLOW_SERIES, UNFOLLOW_SERIES, MUTE_SERIES = "open_release", "follow_series", "unfollow_series", "mute_series"
ACK_ALERT, MUTE_ALERT, OPEN_STATUS = "ack_alert", "mute_alert", "open_status"
ACTION_VALUE_MAX = 2000  # Block Kit button value limit

TWEET_LIMIT = 280
TWEET_URL_WEIGHT = 23
_URL = re.compile(r"https?://\S+")


def duration_text(data: dict[str, Any], occurred_at: str = "") -> str | None:
    seconds = data.get("duration_s")
    if seconds is None and data.get("since") and occurred_at:
        try:
            start = datetime.fromisoformat(str(data["since"]).replace("Z", "+00:00"))
            end = datetime.fromisoformat(occurred_at.replace("Z", "+00:00"))
            seconds = (end - start).total_seconds()
        except ValueError:
            seconds = None
    if seconds is None:
        return None
    seconds = int(float(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    text = " ".join(p for p in parts if p)
    return text or f"{secs}s"


def failing_condition(data: dict[str, Any]) -> str | None:
    found = (data.get("failing_condition") or data.get("condition") or data.get("conditions") or data.get("error")
             or data.get("reason"))
    if isinstance(found, (list, tuple)):
        found = ", ".join(str(c) for c in found)
    return str(found) if found else None


def status_url(public_base_url: str, target: str | None = None) -> str:
    """The human status page (`/pages/status`), at the target's section when one is named
    (the page gives each target `id="target-<name>"`). `/status` is the JSON API."""
    page = f"{public_base_url.rstrip('/')}/pages/status"
    return f"{page}#target-{quote(target, safe='')}" if target else page


def human_page(url: str | None, target: str) -> str | None:
    """Events name the JSON `/status[/<target>]` as their status page; people get the HTML page
    on the same base URL instead."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.path.rstrip("/") == "/status" or parts.path.startswith("/status/"):
        return status_url(f"{parts.scheme}://{parts.netloc}", target)
    return url


_UPTIME_HEADERS = {
    ev.TARGET_DOWN: ("Target down", ":red_circle:", "down"),
    ev.TARGET_RECOVERED: ("Target recovered", ":large_green_circle:", "up"),
    ev.TARGET_REMINDER: ("Target still down", ":red_circle:", "down"),
    ev.TARGETS_GROUPED_DOWN: ("Several targets down", ":red_circle:", "down"),
    ev.TARGETS_GROUPED_REMINDER: ("Several targets still down", ":red_circle:", "down"),
    ev.TARGETS_GROUPED_RECOVERED: ("Several targets recovered", ":large_green_circle:", "up"),
    ev.SOURCE_DEGRADED: ("Release source degraded", ":warning:", "degraded"),
    ev.SOURCE_RECOVERED: ("Release source recovered", ":white_check_mark:", "healthy"),
    ev.SOURCE_DEAD: ("Release source dead", ":skull:", "dead"),
}


# --- Slack -------------------------------------------------------------------------------------


def slack_message(event: ev.Event, public_base_url: str) -> dict[str, Any]:
    """`{"text": fallback, "blocks": [...], "metadata": ...}` for chat.postMessage and incoming
    webhooks. The message metadata carries the event id, so a posted message can be traced back
    to its event (and audits can count posts per event)."""
    if event.type == ev.RELEASE_NEW:
        text, blocks = _slack_release(event.data)
    elif event.type == ev.RELEASE_DATE_CHANGED:
        text, blocks = _slack_moved(event.data)
    elif event.type == RELEASE_DIGEST:
        text, blocks = _slack_digest(event.data)
    elif event.type == NOTIFY_FAILED:
        text, blocks = _slack_failed(event.data)
    else:
        text, blocks = _slack_uptime(event, public_base_url)
    metadata = {"event_type": "newbooks_event", "event_payload": {"event_id": event.id, "type": event.type}}
    return {"text": text, "blocks": [b.to_dict() for b in blocks], "metadata": metadata}


def _fields(pairs: list[tuple[str, Any]]) -> list[Any]:
    from slack_sdk.models.blocks import MarkdownTextObject

    return [MarkdownTextObject(text=f"*{label}*\n{mrkdwn(value)}") for label, value in pairs if value not in (None, "")][:10]


def _slack_release(data: dict[str, Any]) -> tuple[str, list[Any]]:
    from slack_sdk.models.blocks import (
        ActionsBlock,
        ButtonElement,
        ContextBlock,
        HeaderBlock,
        ImageElement,
        MarkdownTextObject,
        SectionBlock,
    )

    title = release_title(data)
    price = f"{data['price']} {data.get('currency') or ''}".strip() if data.get("price") else None
    fields = _fields(
        [
            ("Volume", data.get("volume")),
            ("Release date", data.get("release_date")),
            ("Publisher", data.get("publisher")),
            ("Price", price),
        ]
    )
    cover = safe_url(data.get("cover_url"))
    section = SectionBlock(
        text=MarkdownTextObject(text=f"*{link(data.get('url'), title)}*"
                                + (f"\n{mrkdwn(data['series'])}" if data.get("series") and data["series"] != data.get("title") else "")),
        fields=fields or None,
        accessory=ImageElement(image_url=cover, alt_text=f"cover of {mrkdwn(title)}"[:2000]) if cover else None,
    )
    context_bits = [f"source: {mrkdwn(data.get('source'))}"] if data.get("source") else []
    if data.get("isbn13"):
        context_bits.append(f"ISBN {mrkdwn(data['isbn13'])}")
    blocks: list[Any] = [HeaderBlock(text=":books: New release"), section]
    if editions_text(data):  # one post per work (notify/works.py): its covers listed, never posted apart
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*Editions:* {mrkdwn(editions_text(data))}"[:3000])))
    if context_bits:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(context_bits))]))
    url = safe_url(data.get("url"))
    buttons = [ButtonElement(text="Open", url=url, action_id=OPEN_RELEASE)] if url else []
    # escaped like text (the value is opaque to Slack, but nothing crawled leaves unescaped);
    # the interactions worker unescapes it
    series = mrkdwn(str(data.get("series") or "").strip()[:ACTION_VALUE_MAX // 5])
    if series:  # handled by /slack/interactions (chalicelib.slackbot.interactions)
        buttons += [
            ButtonElement(text="Follow series", action_id=FOLLOW_SERIES, value=series, style="primary"),
            ButtonElement(text="Unfollow", action_id=UNFOLLOW_SERIES, value=series),
            ButtonElement(text="Mute series", action_id=MUTE_SERIES, value=series),
        ]
    if buttons:
        blocks.append(ActionsBlock(block_id="release_actions", elements=buttons))
    return f"New release: {mrkdwn(title)}", blocks


def editions_text(data: dict[str, Any], most: int = 6) -> str:
    """ "3 editions: standard, CVR B GIENI, CVR C WOMENS HISTORY MONTH CHARITY VAR" from the labels
    the crawl listed with the release (`editions_listed`, notify/works.py); "" for a single edition."""
    labels = [str(x) for x in (data.get("editions_listed") or []) if str(x).strip()]
    if len(labels) < 2:
        return ""
    return f"{len(labels)} editions: " + ", ".join(labels[:most]) + (f" and {len(labels) - most} more" if len(labels) > most else "")


def moved_text(data: dict[str, Any]) -> str:
    """ "NAILBITER #30 moved from 2017-03-01 to 2017-03-08" (issue 12: dates that move)."""
    return f"{release_title(data)} moved from {data.get('moved_from') or 'no date'} to {data.get('moved_to') or 'no date'}"


def _slack_moved(data: dict[str, Any]) -> tuple[str, list[Any]]:
    from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

    text = moved_text(data)
    return f"Date changed: {mrkdwn(text)}", [SectionBlock(text=MarkdownTextObject(
        text=f":calendar: *{link(data.get('url'), release_title(data))}* moved from "
             f"{mrkdwn(data.get('moved_from') or 'no date')} to *{mrkdwn(data.get('moved_to') or 'no date')}*"))]


def digest_line(item: dict[str, Any]) -> str:
    count = len(item.get("editions_listed") or [])
    bits = [b for b in (item.get("release_date"), item.get("publisher"), f"{count} editions" if count > 1 else None) if b]
    suffix = f" — {mrkdwn(', '.join(str(b) for b in bits))}" if bits else ""
    return f"• {link(item.get('url'), release_title(item))}{suffix}"


def _slack_digest(data: dict[str, Any]) -> tuple[str, list[Any]]:
    from slack_sdk.models.blocks import ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

    items = list(data.get("items") or [])
    period = data.get("period") or ""
    header = f":books: {len(items)} new releases" + (f" ({period})" if period else "")
    blocks: list[Any] = [HeaderBlock(text=header[:150])]
    chunk: list[str] = []
    size = 0
    shown = 0
    for item in items:
        line = digest_line(item)[:2900]
        if size + len(line) + 1 > 2900:
            blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
            chunk, size = [], 0
            if len(blocks) >= 48:
                break
        chunk.append(line)
        size += len(line) + 1
        shown += 1
    if chunk and len(blocks) < 49:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
    else:
        shown -= len(chunk)
    if shown < len(items):
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"and {len(items) - shown} more")]))
    return f"{len(items)} new releases", blocks


def _slack_uptime(event: ev.Event, public_base_url: str) -> tuple[str, list[Any]]:
    from slack_sdk.models.blocks import ActionsBlock, ButtonElement, HeaderBlock, MarkdownTextObject, SectionBlock

    data = event.data
    header, emoji, state = _UPTIME_HEADERS.get(event.type, (event.type, ":information_source:", ""))
    subject = str(data.get("target") or data.get("source") or event.subject)
    state = str(data.get("state") or data.get("status") or state)
    is_source = event.type in (ev.SOURCE_DEGRADED, ev.SOURCE_RECOVERED, ev.SOURCE_DEAD)
    page = human_page(safe_url(data.get("status_page")), subject) or (
        status_url(public_base_url, subject) if not is_source else f"{public_base_url.rstrip('/')}/sources"
    )
    lines = f"{emoji} *{link(page, subject)}* is *{mrkdwn(state)}*"
    if event.type in (ev.TARGETS_GROUPED_DOWN, ev.TARGETS_GROUPED_REMINDER, ev.TARGETS_GROUPED_RECOVERED) and data.get("targets"):
        lines += "\n" + mrkdwn(", ".join(str(t) for t in data["targets"]))
    fields = _fields(
        [
            ("State", state),
            ("Duration", duration_text(data, event.occurred_at)),
            ("Failing condition", failing_condition(data)),
            ("Since", data.get("since") or event.occurred_at),
        ]
    )
    buttons = []
    if event.type in (ev.TARGET_DOWN, ev.TARGET_REMINDER) and not is_source:
        ack = json.dumps({"t": subject, "e": event.id}, separators=(",", ":"), ensure_ascii=False)
        if len(ack) <= ACTION_VALUE_MAX:
            buttons += [
                ButtonElement(text="Acknowledge", action_id=ACK_ALERT, value=ack, style="primary"),
                ButtonElement(text="Mute 1 h", action_id=MUTE_ALERT, value=subject),
            ]
    buttons.append(ButtonElement(text="Open status page", url=page, action_id=OPEN_STATUS))
    blocks = [
        HeaderBlock(text=header),
        SectionBlock(text=MarkdownTextObject(text=lines), fields=fields or None),
        ActionsBlock(block_id="alert_actions", elements=buttons),
    ]
    return f"{header}: {mrkdwn(subject)} is {mrkdwn(state)}", blocks


def slack_thread_reply(event: ev.Event, public_base_url: str) -> dict[str, Any]:
    """A reminder or recovery as a reply in its incident's thread: one short line."""
    from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

    data = event.data
    subject = str(data.get("target") or event.subject)
    duration = duration_text(data, event.occurred_at)
    if event.type == ev.TARGET_RECOVERED:
        text = f":large_green_circle: *{mrkdwn(subject)}* recovered" + (f" after {duration}" if duration else "")
    else:
        text = f":red_circle: *{mrkdwn(subject)}* is still down" + (f" ({duration})" if duration else "")
        if failing_condition(data):
            text += f" · {mrkdwn(failing_condition(data))}"
    metadata = {"event_type": "newbooks_event", "event_payload": {"event_id": event.id, "type": event.type}}
    return {"text": re.sub(r"[*:]", "", text).strip(), "blocks": [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()],
            "metadata": metadata}


def slack_incident_parent(
    parent: Any,
    latest: ev.Event,
    public_base_url: str,
    acked_by: str | None = None,
    group: tuple[list[str], list[str]] | None = None,
) -> dict[str, Any]:
    """The incident's parent message as `chat.update` rewrites it after `latest` (a reminder or
    the recovery): current state, how long, and the buttons that still make sense."""
    from slack_sdk.models.blocks import (
        ActionsBlock,
        ButtonElement,
        ContextBlock,
        HeaderBlock,
        MarkdownTextObject,
        SectionBlock,
    )

    target = parent.target
    duration = duration_text(latest.data, latest.occurred_at) or duration_text({"since": parent.since}, latest.occurred_at)
    if group is not None:
        targets, recovered = group
        down = [t for t in targets if t not in recovered]
        over = not down
        header = "Several targets recovered" if over else "Several targets down"
        lines = (":large_green_circle: All recovered: " if over else f":red_circle: {len(down)} of {len(targets)} still down: ") \
            + mrkdwn(", ".join(down or targets))
        if recovered and down:
            lines += f"\n:large_green_circle: recovered: {mrkdwn(', '.join(recovered))}"
        page = status_url(public_base_url)
        subject = f"{len(targets)} targets"
    else:
        over = latest.type == ev.TARGET_RECOVERED
        header = "Target recovered" if over else "Target down"
        lines = f"{':large_green_circle:' if over else ':red_circle:'} *{link(status_url(public_base_url, target), target)}* " \
            + (f"recovered after {duration}" if over and duration else "recovered" if over else
               "is *down*" + (f" for {duration}" if duration else ""))
        page = status_url(public_base_url, target)
        subject = target
    fields = _fields([("State", "up" if over else "down"), ("Duration", duration), ("Since", parent.since),
                      ("Failing condition", None if over else parent.condition or failing_condition(latest.data))])
    blocks: list[Any] = [HeaderBlock(text=header), SectionBlock(text=MarkdownTextObject(text=lines), fields=fields or None)]
    if acked_by:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f":eyes: Acknowledged by <@{mrkdwn(acked_by)}>")]))
    buttons = []
    if not over and group is None:
        if not acked_by:
            ack = json.dumps({"t": target, "e": parent.event_id}, separators=(",", ":"), ensure_ascii=False)
            buttons.append(ButtonElement(text="Acknowledge", action_id=ACK_ALERT, value=ack, style="primary"))
        buttons.append(ButtonElement(text="Mute 1 h", action_id=MUTE_ALERT, value=target))
    buttons.append(ButtonElement(text="Open status page", url=page, action_id=OPEN_STATUS))
    blocks.append(ActionsBlock(block_id="alert_actions", elements=buttons))
    state = "recovered" if over else "down"
    return {"text": f"{header}: {mrkdwn(subject)} {state}", "blocks": [b.to_dict() for b in blocks]}


def _slack_failed(data: dict[str, Any]) -> tuple[str, list[Any]]:
    from slack_sdk.models.blocks import HeaderBlock, MarkdownTextObject, SectionBlock

    fields = _fields([("Destination", data.get("destination")), ("Event", data.get("event_id")), ("Reason", data.get("reason"))])
    blocks = [
        HeaderBlock(text=":rotating_light: Notification failed"),
        SectionBlock(text=MarkdownTextObject(text="A notification failed permanently and is in the dead-letter queue."), fields=fields),
    ]
    return f"Notification to {mrkdwn(data.get('destination'))} failed: {mrkdwn(data.get('reason'))}", blocks


# --- X ---------------------------------------------------------------------------------------


def char_weight(ch: str) -> int:
    cp = ord(ch)
    if cp <= 0x10FF or 0x2000 <= cp <= 0x200D or 0x2010 <= cp <= 0x201F or 0x2032 <= cp <= 0x2037:
        return 1
    return 2


def weighted_length(text: str) -> int:
    text = unicodedata.normalize("NFC", text)
    total = 0
    last = 0
    for m in _URL.finditer(text):
        total += sum(char_weight(c) for c in text[last : m.start()]) + TWEET_URL_WEIGHT
        last = m.end()
    return total + sum(char_weight(c) for c in text[last:])


def fit_tweet(head: str, body: str, tail: str = "", limit: int = TWEET_LIMIT) -> str:
    """`head + body + tail`, with `body` cut (ending in "…") until the weighted length fits."""
    body = unicodedata.normalize("NFC", body)
    text = head + body + tail
    if weighted_length(text) <= limit:
        return text
    budget = limit - weighted_length(head + tail) - char_weight("…")
    out, used = [], 0
    for ch in body:
        w = char_weight(ch)
        if used + w > budget:
            break
        out.append(ch)
        used += w
    return head + "".join(out).rstrip() + "…" + tail


def tweet_text(event: ev.Event, public_base_url: str) -> str:
    data = event.data
    if event.type == ev.RELEASE_NEW:
        count = len(data.get("editions_listed") or [])
        bits = [b for b in (data.get("publisher"), data.get("release_date"), f"{count} editions" if count > 1 else None) if b]
        url = safe_url(data.get("url"))
        tail = (f" ({', '.join(str(b) for b in bits)})" if bits else "") + (f" {url}" if url else "")
        return fit_tweet("New: ", release_title(data), tail)
    if event.type == ev.RELEASE_DATE_CHANGED:
        url = safe_url(data.get("url"))
        return fit_tweet("Date changed: ", moved_text(data), f" {url}" if url else "")
    if event.type == RELEASE_DIGEST:
        items = data.get("items") or []
        titles = ", ".join(release_title(i) for i in items)
        return fit_tweet(f"{len(items)} new releases: ", titles, f" {public_base_url.rstrip('/')}/releases")
    header, _emoji, state = _UPTIME_HEADERS.get(event.type, (event.type, "", ""))
    subject = str(data.get("target") or data.get("source") or event.subject)
    condition = failing_condition(data)
    tail = f" {status_url(public_base_url, subject)}"
    return fit_tweet(f"{header}: ", f"{subject} is {data.get('state') or state}" + (f" ({condition})" if condition else ""), tail)


# --- webhook and console -----------------------------------------------------------------------


def webhook_payload(event: ev.Event, destination: str) -> dict[str, Any]:
    return {
        "delivery_id": ledger_key(event.id, destination),  # a receiver URL never appears in it
        "event": event.to_dict(),
    }


def console_line(event: ev.Event, destination: str, public_base_url: str) -> str:
    data = event.data
    if event.type == ev.RELEASE_NEW:
        bits = [str(b) for b in (data.get("publisher"), data.get("release_date")) if b]
        what = release_title(data) + (f" ({', '.join(bits)})" if bits else "") + (f" {data['url']}" if data.get("url") else "")
        what += f" [{editions_text(data)}]" if editions_text(data) else ""
    elif event.type == ev.RELEASE_DATE_CHANGED:
        what = moved_text(data)
    elif event.type == RELEASE_DIGEST:
        items = data.get("items") or []
        what = f"{len(items)} releases: " + "; ".join(release_title(i) for i in items)
    elif event.type == NOTIFY_FAILED:
        what = f"{data.get('destination')} {data.get('event_id')}: {data.get('reason')}"
    else:
        subject = str(data.get("target") or data.get("source") or event.subject)
        state = data.get("state") or _UPTIME_HEADERS.get(event.type, ("", "", ""))[2]
        extra = [x for x in (duration_text(data, event.occurred_at), failing_condition(data)) if x]
        what = f"{subject} is {state}" + (f" ({'; '.join(extra)})" if extra else "")
    line = f"[newbooks] {event.type} -> {destination or 'console:'} | {what}"
    return _CONTROL.sub(" ", line)
