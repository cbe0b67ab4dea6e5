"""Escaping and links for Slack mrkdwn, and a release's display title: the few pure helpers the
slash command's acknowledgement needs, kept apart from `render` (which builds whole messages)
so the cold acknowledgement compiles only this (bench/slack_ack.py --ratio).

`mrkdwn()` escapes `&`, `<`, `>` (the three characters Slack documents), so crawled text like
`<!channel> <http://evil|click>` stays literal; `link()` only links http(s) URLs `safe_url()`
accepted.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# --- escaping --------------------------------------------------------------------------------


def mrkdwn(text: Any) -> str:
    """Escape text for Slack mrkdwn: the three control characters Slack documents."""
    s = _CONTROL.sub(" ", "" if text is None else str(text))
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe_url(url: Any) -> str | None:
    """An http(s) URL safe to embed in `<url|label>` and JSON, or None."""
    if not url or not isinstance(url, str):
        return None
    url = url.strip()
    if _CONTROL.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(url, safe=":/?#[]@!$&'()*+,;=%-._~")  # encodes < > | " space and non-ASCII


def link(url: Any, label: Any) -> str:
    safe = safe_url(url)
    text = mrkdwn(label) or (mrkdwn(safe) if safe else "")
    if not safe:
        return text
    return f"<{safe.replace('&', '&amp;')}|{text}>"


# --- shared wording --------------------------------------------------------------------------


def release_title(data: dict[str, Any]) -> str:
    title = str(data.get("title") or data.get("series") or data.get("id") or "untitled")
    volume = data.get("volume")
    if volume and str(volume) not in title:
        title = f"{title} {volume}"
    return title
