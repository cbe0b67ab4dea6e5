"""Pure Block Kit replies for `/newbooks` (plain dicts in the shapes of slack_sdk.models.blocks).

Every reply is `{"response_type": "ephemeral", "text": <fallback>, "blocks": [...]}`.
Crawled, configured and user-typed strings go through `chalicelib.notify.render.mrkdwn` (and
links through `render.link`, http(s) only), so a title like `<!channel>` stays literal text.
Header blocks (plain_text) only carry fixed wording and dates we computed. Limits kept: at most
50 blocks, section text under 3000 characters, header under 150.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from chalicelib.notify.text import link, mrkdwn, release_title
from chalicelib.slackbot import commands as c

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 2900
MAX_RELEASES_SHOWN = 20
COMMAND = "/newbooks"
REMOVE_FOLLOW_SELECT = "remove_follow_select"  # chalicelib.slackbot.interactions

_STATE_EMOJI = {"DOWN": ":red_circle:", "DEGRADED": ":large_orange_circle:", "MAINTENANCE": ":wrench:",
                "UNKNOWN": ":white_circle:", "UP": ":large_green_circle:"}
_STATE_ORDER = {"DOWN": 0, "DEGRADED": 1, "UNKNOWN": 2, "MAINTENANCE": 3, "UP": 4}


def _reply(text: str, blocks: list[Any]) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": text, "blocks": list(blocks[:MAX_BLOCKS])}


# Plain dicts, not slack_sdk.models: importing slack_sdk loads its whole Web API client (and
# asyncio) through the package __init__, which tripled the cold acknowledgement
# (bench/slack_ack.py --ratio). The tests validate every reply with slack_sdk's models.


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150], "emoji": True}}


def _section(text: str) -> dict[str, Any]:
    if len(text) > MAX_SECTION_CHARS:
        text = text[: MAX_SECTION_CHARS - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:MAX_SECTION_CHARS]}]}


# --- help ----------------------------------------------------------------------------------------

HELP_LINES = (
    (f"`{COMMAND}`", "this week's releases of the series this channel follows"),
    (f"`{COMMAND} today` · `week` · `next`", "all releases dated today, this week, next week, "
     "by publisher (`week merch`: merchandise, `week all`: everything)"),
    (f"`{COMMAND} search <title, series or ISBN>`", "find releases (`search ワンピース`, `search 9784088820000`)"),
    (f"`{COMMAND} follow <series>`", "tell this channel about new volumes (`follow ONE PIECE`)"),
    (f"`{COMMAND} unfollow <series>`", "stop that"),
    (f"`{COMMAND} following`", "what this channel follows"),
    (f"`{COMMAND} status`", "uptime of the monitored targets, down first"),
    (f"`{COMMAND} target`", "add a monitoring target (a form); `follow` alone opens the full follow form"),
    (f"`{COMMAND} help`", "this message"),
)

_PROBLEMS = {
    c.UNKNOWN_WORD: "I don't know `{word}`.",
    c.NEEDS_ARG_PROBLEM: "`{word}` needs something after it, e.g. `{word} ONE PIECE`.",
    c.NO_ARG_PROBLEM: "`{word}` takes nothing after it (`today`, `week` and `next` take `merch` or `all`).",
    c.TOO_LONG: "That is longer than " + str(c.MAX_ARG_CHARS) + " characters.",
}


def help_reply(command: c.Command | None = None) -> dict[str, Any]:
    blocks: list[Any] = [_header("newbooks: new comic and manga releases")]
    problem = ""
    if command is not None and command.problem:
        template = _PROBLEMS.get(command.problem, "I didn't understand that.")
        problem = template.format(word=mrkdwn(command.word).replace("`", "'"))
        blocks.append(_section(f":thinking_face: {problem} Here is what I can do:"))
    blocks.append(_section("\n".join(f"{usage} — {what}" for usage, what in HELP_LINES)))
    blocks.append(_context("Japanese works too: `今日` `今週` `来週` `検索` `フォロー` `フォロー解除` `フォロー中` "
                           "`状態` `ヘルプ`; full-width spaces are fine. Replies are only visible to you."))
    return _reply((problem + " " if problem else "") + f"{COMMAND} help", blocks)


# --- acks and errors -------------------------------------------------------------------------------


def working_reply(command: c.Command) -> dict[str, Any]:
    what = {c.FOLLOWED: "this week's releases for this channel", c.TODAY: "today's releases",
            c.WEEK: "this week's releases", c.NEXT: "next week's releases", c.STATUS: "the uptime summary",
            c.SEARCH: f"releases matching “{mrkdwn(command.arg)}”"}.get(command.name, "that")
    text = f":hourglass_flowing_sand: Working on it… looking up {what}."
    return _reply(text, [_context(text)])


def opened_reply() -> str:
    """The slash command opened a modal: nothing else to say (an empty 200 acknowledges)."""
    return ""


def error_reply(text: str) -> dict[str, Any]:
    return _reply(text, [_section(f":warning: {mrkdwn(text)}")])


# --- releases --------------------------------------------------------------------------------------


def release_line(release: dict[str, Any]) -> str:
    title = link(release.get("url"), release_title(release))
    meta = [mrkdwn(v) for v in (release.get("release_date"), release.get("publisher")) if v]
    if release.get("isbn13"):
        meta.append(f"ISBN {mrkdwn(release['isbn13'])}")
    elif release.get("diamond_code"):
        meta.append(mrkdwn(release["diamond_code"]))
    if release.get("price"):
        meta.append(mrkdwn(f"{release['price']} {release.get('currency') or ''}".strip()))
    if len(release.get("editions") or []) > 1:  # variants collapsed (chalicelib.queries.collapse)
        meta.append(f"{len(release['editions'])} editions: "
                    + ", ".join(mrkdwn(str(e.get("label") or "standard")) for e in release["editions"][:6])
                    + ("…" if len(release["editions"]) > 6 else ""))
    return f"*{title}*" + (f"\n{' · '.join(meta)}" if meta else "")


def releases_reply(
    title: str, releases: list[dict[str, Any]], *, empty: str, note: str = "", more_url: str | None = None,
    more: bool = False, grouped: bool = True,
) -> dict[str, Any]:
    """`title` is our own wording (header); `empty` and `note` are mrkdwn we wrote, with any user
    text already escaped by the caller. `releases` are one per work (chalicelib.queries.collapse);
    `grouped` puts them under their publisher, biggest first, as the releases page does."""
    from chalicelib.pages.releases_page import by_publisher

    shown = releases[:MAX_RELEASES_SHOWN]
    blocks: list[Any] = [_header(title)]
    if note:
        blocks.append(_context(note))
    if not shown:
        blocks.append(_section(empty))
    for publisher, rows in (by_publisher(shown) if grouped else [("", shown)]):
        if grouped:
            blocks.append(_context(f"*{mrkdwn(publisher)}* ({len(rows)})"))
        blocks.extend(_section(release_line(release)) for release in rows)
    hidden = len(releases) - len(shown)
    if hidden > 0 or more:
        count = f"{hidden} more" if hidden > 0 and not more else "More"
        tail = f" — {link(more_url, 'see the full list')}" if more_url else ""
        blocks.append(_context(f"{count} not shown{tail}."))
    fallback = f"{title}: {len(releases)} release(s)" if releases else f"{title}: none"
    return _reply(fallback, blocks)


def releases_url(public_base_url: str, **params: str) -> str:
    return f"{public_base_url.rstrip('/')}/releases?{urlencode(params)}"


# --- follows ---------------------------------------------------------------------------------------


def followed_reply(label: str, key: str) -> dict[str, Any]:
    text = f":white_check_mark: This channel now follows *{mrkdwn(label)}*."
    blocks = [_section(text), _context(f"Matches releases whose series key is `{mrkdwn(key)}`. "
                                       "Different spellings are different series (`ONE PIECE` ≠ `ワンピース`): "
                                       "follow both to get both.")]
    return _reply(f"This channel now follows {label}.", blocks)


def unfollowed_reply(label: str) -> dict[str, Any]:
    text = f"This channel no longer follows *{mrkdwn(label)}*."
    return _reply(f"This channel no longer follows {label}.", [_section(f":wave: {text}")])


def following_reply(subs: Iterable[Any]) -> dict[str, Any]:
    subs = sorted(subs, key=lambda s: (s.kind != "series", s.kind, (s.label or s.key).casefold()))
    if not subs:
        text = f"This channel follows nothing yet. Try `{COMMAND} follow ONE PIECE`."
        return _reply(text, [_header("Following"), _section(text)])
    lines = []
    for sub in subs:
        kind = "" if sub.kind == "series" else f" _({mrkdwn(sub.kind)})_"
        digest = f" · {mrkdwn(sub.digest)} digest" if sub.digest and sub.digest != "off" else ""
        lines.append(f"• *{mrkdwn(sub.label or sub.key)}*{kind}{digest}")
    blocks: list[Any] = [_header(f"Following ({len(subs)})")]
    for chunk in _chunks(lines):
        if len(blocks) >= MAX_BLOCKS - 1:
            break
        blocks.append(_section(chunk))
    # Removing any kind of follow (keyword, publisher ... not only `unfollow <series>`): a menu
    # handled by /slack/interactions; option values carry "<kind>#<key>" (at most 150 characters)
    options = [{"text": {"type": "plain_text", "text": (f"{sub.label or sub.key} ({sub.kind})")[:75]},
                "value": f"{sub.kind}#{sub.key}"} for sub in subs if len(f"{sub.kind}#{sub.key}") <= 150][:100]
    if options:
        blocks.append({"type": "actions", "block_id": "following_actions", "elements": [{
            "type": "static_select", "action_id": REMOVE_FOLLOW_SELECT, "options": options,
            "placeholder": {"type": "plain_text", "text": "Remove a follow…"}}]})
    return _reply(f"This channel follows {len(subs)} thing(s).", blocks)


def _chunks(lines: list[str], limit: int = MAX_SECTION_CHARS) -> list[str]:
    out, current = [], ""
    for line in lines:
        if current and len(current) + 1 + len(line) > limit:
            out.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        out.append(current)
    return out


# --- uptime ----------------------------------------------------------------------------------------


def status_reply(summary: dict[str, Any], status_page_url: str | None = None,
                 sources: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    targets = sorted(summary.get("targets") or [], key=lambda t: (_STATE_ORDER.get(str(t.get("state")), 9),
                                                                  str(t.get("name"))))
    counts: dict[str, int] = {}
    for t in targets:
        counts[str(t.get("state"))] = counts.get(str(t.get("state")), 0) + 1
    blocks: list[Any] = [_header("Uptime status")]
    failing = _failing_sources(sources or [])
    if not targets:
        blocks.append(_section("No monitoring targets are configured."))
        if failing:
            blocks.append(_section(failing))
        return _reply("Uptime status: no targets", blocks)
    order = sorted(counts, key=lambda s: _STATE_ORDER.get(s, 9))
    summary_line = " · ".join(f"{_STATE_EMOJI.get(s, ':white_circle:')} {counts[s]} {mrkdwn(s.lower())}" for s in order)
    generated = mrkdwn(summary.get("generated_at") or "")
    blocks.append(_context(summary_line + (f" · as of {generated}" if generated else "")))
    if failing:
        blocks.append(_section(failing))
    down = [t for t in targets if t.get("state") != "UP"]
    up = [t for t in targets if t.get("state") == "UP"]
    for group in (down, up):
        for chunk in _chunks([_target_line(t) for t in group]):
            if len(blocks) >= MAX_BLOCKS - 1:
                break
            blocks.append(_section(chunk))
    if status_page_url:
        blocks.append(_context(f"Details: {link(status_page_url, 'status page')}"))
    fallback = "Uptime status: " + ", ".join(f"{counts[s]} {s.lower()}" for s in order)
    return _reply(fallback, blocks)


def _failing_sources(sources: list[dict[str, Any]]) -> str:
    """Release sources that are degraded or dead (healthy ones are not news), dead first."""
    bad = sorted((s for s in sources if s.get("status") in ("degraded", "dead")),
                 key=lambda s: (s.get("status") != "dead", str(s.get("name"))))
    if not bad:
        return ""
    lines = [f"{':skull:' if s['status'] == 'dead' else ':warning:'} source *{mrkdwn(s.get('name'))}* "
             f"{mrkdwn(s['status'])} since {mrkdwn(s.get('degraded_since') or s.get('last_crawl') or '?')}"
             f" · {mrkdwn(str(s.get('reason') or '')[:120])}" for s in bad]
    return _chunks(lines)[0]


def _target_line(target: dict[str, Any]) -> str:
    state = str(target.get("state") or "UNKNOWN")
    parts = [f"{_STATE_EMOJI.get(state, ':white_circle:')} *{mrkdwn(target.get('name'))}* {mrkdwn(state)}"]
    if target.get("uptime_24h") is not None:
        parts.append(f"{float(target['uptime_24h']) * 100:.2f}% up 24h")  # a fraction 0..1
    if target.get("latency_ms") is not None:
        parts.append(f"{int(float(target['latency_ms']))} ms")
    if target.get("group"):
        parts.append(mrkdwn(target["group"]))
    return " · ".join(parts)
