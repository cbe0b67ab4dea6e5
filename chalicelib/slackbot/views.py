"""Pure Block Kit views: the follow and add-target modals, and the App Home tab.

Modals (https://docs.slack.dev/surfaces/modals, read 2026-12-03): `callback_id` names the form,
`private_metadata` carries the channel the modal was opened from, each input's `block_id` is
the API field it fills, so a validation error on field F is answered with
`{"response_action": "errors", "errors": {F: message}}` and shows under that input.
`form_body()` turns a submitted view's `state.values` into the JSON body the API route takes,
so the same validators (chalicelib.api.validate) and services decide.

Every string from users or crawled pages goes through `render.mrkdwn` before it reaches mrkdwn.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from chalicelib.notify.text import link, mrkdwn, release_title

FOLLOW_MODAL = "follow_modal"
TARGET_MODAL = "target_modal"
# action_ids (chalicelib.slackbot.interactions)
OPEN_FOLLOW, OPEN_TARGET = "open_follow_modal", "open_target_modal"
REMOVE_FOLLOW, REMOVE_TARGET, UNMUTE = "remove_follow", "remove_target", "unmute"

KIND_LABELS = (("series", "A series"), ("keyword", "A keyword in titles"), ("publisher", "A publisher"),
               ("source", "A release source"), ("target", "An uptime target"), ("ops", "Operator alerts"))
DIGEST_LABELS = (("off", "Instant"), ("daily", "Daily digest"), ("weekly", "Weekly digest"))
METHODS = ("GET", "HEAD", "POST")
MAX_HOME_ROWS = 40


def _text(text: str) -> Any:
    from slack_sdk.models.blocks import PlainTextObject

    return PlainTextObject(text=text[:150])


def _option(value: str, label: str) -> Any:
    from slack_sdk.models.blocks import Option

    return Option(value=value, text=label[:75])


def _input(block_id: str, label: str, element: Any, *, optional: bool = False, hint: str | None = None) -> Any:
    from slack_sdk.models.blocks import InputBlock

    return InputBlock(block_id=block_id, label=label, element=element, optional=optional,
                      hint=_text(hint) if hint else None)


def _plain(action_id: str = "value", placeholder: str = "", multiline: bool = False, initial: str | None = None,
           max_length: int = 2000) -> Any:
    from slack_sdk.models.blocks import PlainTextInputElement

    return PlainTextInputElement(action_id=action_id, placeholder=placeholder or None, multiline=multiline,
                                 initial_value=initial, max_length=max_length)


def _modal(callback_id: str, title: str, submit: str, blocks: list[Any], metadata: dict[str, Any]) -> dict[str, Any]:
    from slack_sdk.models.views import View

    return View(type="modal", callback_id=callback_id, title=title, submit=submit, close="Cancel",
                private_metadata=json.dumps(metadata, separators=(",", ":")), blocks=blocks).to_dict()


def follow_modal(channel_id: str | None, initial_match: str = "", initial_kind: str = "series") -> dict[str, Any]:
    """Follow something: what (kind + text), how (instant or digest, quiet hours, time zone),
    where (this channel when opened from one, else a DM)."""
    from slack_sdk.models.blocks import RadioButtonsElement, StaticSelectElement

    kinds = [_option(v, label) for v, label in KIND_LABELS]
    digests = [_option(v, label) for v, label in DIGEST_LABELS]
    where = [_option("dm", "A direct message to me")]
    if channel_id and not channel_id.startswith("D"):
        where.insert(0, _option("channel", "This channel"))
    initial = next((o for o in kinds if o.value == initial_kind), kinds[0])
    blocks = [
        _input("kind", "Follow", StaticSelectElement(action_id="value", options=kinds, initial_option=initial)),
        _input("match", "Name or words", _plain(placeholder="ONE PIECE, ワンピース, Image Comics …",
                                                initial=initial_match[:200] or None, max_length=200),
               hint="Series and publishers match however they are written (full-width, volume numbers)."),
        _input("digest", "Delivery", RadioButtonsElement(action_id="value", options=digests, initial_option=digests[0])),
        _input("quiet_hours", "Quiet hours", _plain(placeholder="22:00-07:00", max_length=11), optional=True,
               hint="Release posts arriving then wait until the quiet hours end. Alerts never wait."),
        _input("tz", "Time zone", _plain(placeholder="Asia/Tokyo or +09:00", max_length=64), optional=True),
        _input("where", "Post to", RadioButtonsElement(action_id="value", options=where, initial_option=where[0])),
    ]
    return _modal(FOLLOW_MODAL, "Follow", "Follow", blocks, {"channel_id": channel_id or ""})


def target_modal(channel_id: str | None) -> dict[str, Any]:
    """Add a monitoring target (the fields of POST /targets people need most)."""
    from slack_sdk.models.blocks import CheckboxesElement, StaticSelectElement

    methods = [_option(m, m) for m in METHODS]
    alert_opts = [_option("slack", "Slack"), _option("x", "X"), _option("webhook", "Webhook"), _option("console", "Console")]
    blocks = [
        _input("name", "Name", _plain(placeholder="shop-api", max_length=64),
               hint="Letters, digits, - and _; unique."),
        _input("url", "URL", _plain(placeholder="https://example.com/health", max_length=2048)),
        _input("method", "Method", StaticSelectElement(action_id="value", options=methods, initial_option=methods[0])),
        _input("conditions", "Conditions", _plain(multiline=True, initial="[STATUS] == 200", max_length=2000),
               hint="One per line, Gatus style: [STATUS] == 200, [RESPONSE_TIME] < 500, [BODY].status == ok"),
        _input("interval", "Check every", _plain(placeholder="1m", max_length=16), optional=True),
        _input("alerts", "Alert through", CheckboxesElement(action_id="value", options=alert_opts,
                                                             initial_options=[alert_opts[0]]), optional=True),
        _input("follow_alerts", "Tell me", CheckboxesElement(
            action_id="value", options=[_option("yes", "Post this target's alerts where I opened this")],
            initial_options=None), optional=True),
    ]
    return _modal(TARGET_MODAL, "Add a target", "Add", blocks, {"channel_id": channel_id or ""})


def _value(values: dict[str, Any], block_id: str) -> Any:
    element = (values.get(block_id) or {}).get("value") or {}
    kind = element.get("type")
    if kind in ("static_select", "radio_buttons"):
        return (element.get("selected_option") or {}).get("value")
    if kind == "checkboxes":
        return [o.get("value") for o in element.get("selected_options") or []]
    value = element.get("value")
    return value.strip() if isinstance(value, str) and value.strip() else None


def form_body(view: dict[str, Any], user_id: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(callback_id, API body, extras) from a submitted view."""
    values = ((view.get("state") or {}).get("values")) or {}
    meta = json.loads(view.get("private_metadata") or "{}")
    channel = str(meta.get("channel_id") or "")
    callback = str(view.get("callback_id") or "")
    if callback == FOLLOW_MODAL:
        where = _value(values, "where")
        destination = f"slack:{channel}" if where == "channel" and channel else f"slack-user:{user_id}"
        body: dict[str, Any] = {"destination": destination, "kind": _value(values, "kind"),
                                "match": _value(values, "match"), "digest": _value(values, "digest")}
        for name in ("quiet_hours", "tz"):
            if _value(values, name) is not None:
                body[name] = _value(values, name)
        return callback, body, {}
    if callback == TARGET_MODAL:
        body = {"name": _value(values, "name"), "url": _value(values, "url"), "method": _value(values, "method") or "GET"}
        conditions = [line.strip() for line in (_value(values, "conditions") or "").splitlines() if line.strip()]
        body["conditions"] = conditions
        if _value(values, "interval"):
            body["interval"] = _value(values, "interval")
        alerts = _value(values, "alerts")
        if alerts:
            body["alerts"] = alerts
        body = {k: v for k, v in body.items() if v is not None}
        here = f"slack:{channel}" if channel and not channel.startswith("D") else f"slack-user:{user_id}"
        return callback, body, {"follow_alerts": "yes" in (_value(values, "follow_alerts") or []), "destination": here}
    return callback, {}, {}


def field_errors(callback_id: str, param: str, message: str) -> dict[str, Any]:
    """`response_action: errors` naming the input of the API field `param` (or the first one)."""
    blocks = {FOLLOW_MODAL: ("kind", "match", "digest", "quiet_hours", "tz", "where"),
              TARGET_MODAL: ("name", "url", "method", "conditions", "interval", "alerts")}[callback_id]
    aliases = {"destination": "where", "text": "match", "body": blocks[0]}
    block = aliases.get(param, param)
    if block not in blocks:
        block = "conditions" if callback_id == TARGET_MODAL and param in ("timeout", "failure_threshold") else blocks[0]
    return {"response_action": "errors", "errors": {block: message[:2000]}}


# --- App Home -----------------------------------------------------------------------------------


def home_view(
    follows: list[Any],
    upcoming: list[dict[str, Any]],
    status: dict[str, Any],
    targets: list[dict[str, Any]],
    mutes: list[dict[str, Any]],
    status_page_url: str,
) -> dict[str, Any]:
    """The user's follows (remove buttons), the coming releases they follow, muted things,
    a status overview and the monitoring targets (runtime ones removable)."""
    from slack_sdk.models.blocks import (
        ActionsBlock,
        ButtonElement,
        ContextBlock,
        DividerBlock,
        HeaderBlock,
        MarkdownTextObject,
        SectionBlock,
    )
    from slack_sdk.models.views import View

    def section(text: str, button: Any = None) -> Any:
        return SectionBlock(text=MarkdownTextObject(text=text[:2900]), accessory=button)

    blocks: list[Any] = [
        HeaderBlock(text="newbooks"),
        ActionsBlock(block_id="home_actions", elements=[
            ButtonElement(text="Follow…", action_id=OPEN_FOLLOW, style="primary"),
            ButtonElement(text="Add a target…", action_id=OPEN_TARGET),
            ButtonElement(text="Status page", action_id="open_status", url=status_page_url),
        ]),
        HeaderBlock(text="Your follows"),
    ]
    rows = 0
    if not follows:
        blocks.append(section("You follow nothing in direct messages yet. *Follow…* picks a series, keyword or publisher."))
    for sub in follows[:MAX_HOME_ROWS]:
        how = "instant" if sub.digest == "off" else f"{sub.digest} digest"
        quiet = f", quiet {mrkdwn(sub.quiet_hours)} {mrkdwn(sub.tz)}" if sub.quiet_hours else ""
        value = json.dumps({"d": sub.destination, "k": sub.kind, "m": sub.label or sub.key}, ensure_ascii=False)[:2000]
        blocks.append(section(f"*{mrkdwn(sub.label or sub.key)}* · {sub.kind} · {how}{quiet}",
                              ButtonElement(text="Remove", action_id=REMOVE_FOLLOW, value=value)))
        rows += 1
    if mutes:
        blocks.append(HeaderBlock(text="Muted"))
        for m in mutes[:10]:
            value = json.dumps({"s": m["scope"], "k": m["key"]}, ensure_ascii=False)[:2000]
            until = int(m["until"])
            blocks.append(section(f"{m['scope']} *{mrkdwn(m['key'])}* until <!date^{until}^{{date_short}} {{time}}|{until}>",
                                  ButtonElement(text="Unmute", action_id=UNMUTE, value=value)))
    blocks += [DividerBlock(), HeaderBlock(text="Coming releases you follow")]
    if upcoming:
        lines = []
        for r in upcoming[:20]:
            lines.append(f"• {mrkdwn(r.get('release_date') or '')} {link(r.get('url'), release_title(r))}")
        blocks.append(section("\n".join(lines)))
    else:
        blocks.append(section("Nothing dated in the next weeks for what you follow."))
    blocks += [DividerBlock(), HeaderBlock(text="Status")]
    counts: dict[str, int] = {}
    for t in status.get("targets") or []:
        counts[str(t.get("state"))] = counts.get(str(t.get("state")), 0) + 1
    overview = " · ".join(f"{n} {mrkdwn(s.lower())}" for s, n in sorted(counts.items())) or "no targets"
    blocks.append(section(f"{overview} — {link(status_page_url, 'status page')}"))
    for t in targets[:MAX_HOME_ROWS - rows]:
        name = str(t.get("name"))
        removable = t.get("source") == "api"
        button = ButtonElement(text="Remove", action_id=REMOVE_TARGET, value=name[:2000], style="danger") if removable else None
        state = next((x.get("state") for x in status.get("targets") or [] if x.get("name") == name), "UNKNOWN")
        host = urlsplit(str(t.get("url") or "")).netloc.rpartition("@")[2]  # never a path or query: they may hold keys
        blocks.append(section(f"*{mrkdwn(name)}* {mrkdwn(state)} · {mrkdwn(host)}", button))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text="Follows made here arrive as direct messages. "
                                                             "Channels use `/newbooks follow`.")]))
    return View(type="home", blocks=blocks[:100]).to_dict()
