"""Atom 1.0 (RFC 4287), RSS 2.0 and iCalendar (RFC 5545) renderers for releases. Pure.

Releases are the public dicts of `chalicelib.queries` (id, title, series, volume, publisher,
release_date, price, currency, url, cover_url, source, first_seen). Every scraped string goes
through ElementTree's escaping (XML) or `ical_text` (iCalendar); characters XML 1.0 forbids are
dropped. Ids are stable: an Atom entry id is `urn:newbooks:release:<release id>`, an iCalendar
UID `<release id>@newbooks`, so readers and calendars update entries instead of duplicating them.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
RSS_TYPE = "application/rss+xml; charset=utf-8"
ICAL_TYPE = "text/calendar; charset=utf-8"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def clean(value: Any) -> str:
    """Text safe for XML 1.0 (escaping itself is ElementTree's job)."""
    return _XML_FORBIDDEN.sub("", "" if value is None else str(value))


def is_web_url(value: Any) -> bool:
    text = str(value or "")
    return text.lower().startswith(("http://", "https://")) and not re.search(r"[\s<>\"'\x00-\x1f]", text)


def parse_time(value: Any) -> datetime | None:
    """`2026-11-22T23:00Z`, `2026-11-22T23:00:05+00:00`, `2026-11-22` -> aware UTC datetime."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def title_of(release: dict[str, Any]) -> str:
    title = clean(release.get("title") or release.get("series") or release.get("id"))
    volume = release.get("volume")
    if volume not in (None, "") and str(volume) not in title:
        title = f"{title} #{volume}"
    return title


def summary_of(release: dict[str, Any]) -> str:
    parts = []
    if release.get("publisher"):
        parts.append(clean(release["publisher"]))
    if release.get("release_date"):
        parts.append(f"on sale {clean(release['release_date'])}")
    if release.get("price") not in (None, ""):
        parts.append(f"{clean(release.get('currency') or '')} {clean(release['price'])}".strip())
    if release.get("source"):
        parts.append(f"seen on {clean(release['source'])}")
    return " · ".join(parts)


def release_link(release: dict[str, Any], base_url: str) -> str:
    if is_web_url(release.get("url")):
        return str(release["url"])
    return f"{base_url}/releases/{quote(str(release.get('id', '')), safe=':')}"


def _seen(release: dict[str, Any]) -> datetime:
    return parse_time(release.get("first_seen")) or parse_time(release.get("release_date")) or EPOCH


def _updated(releases: list[dict[str, Any]], fallback: datetime) -> datetime:
    return max((_seen(r) for r in releases), default=fallback)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def atom(releases: Iterable[dict[str, Any]], *, feed_id: str, title: str, self_url: str, base_url: str,
         alternate_url: str | None = None, generated_at: datetime = EPOCH) -> str:
    """An Atom feed, newest first as given. `updated` is the newest entry's first sighting (the
    body only changes when the entries do, so ETags stay stable)."""
    rows = list(releases)
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _sub(feed, "id", feed_id)
    _sub(feed, "title", clean(title))
    _sub(feed, "updated", rfc3339(_updated(rows, generated_at)))
    _sub(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    _sub(feed, "link", rel="alternate", href=alternate_url or f"{base_url}/pages/releases", type="text/html")
    author = _sub(feed, "author")
    _sub(author, "name", "newbooks")
    _sub(feed, "generator", "newbooks")
    for release in rows:
        entry = _sub(feed, "entry")
        _sub(entry, "id", f"urn:newbooks:release:{clean(release.get('id'))}")
        _sub(entry, "title", title_of(release))
        _sub(entry, "updated", rfc3339(_seen(release)))
        _sub(entry, "link", rel="alternate", href=release_link(release, base_url))
        if release.get("publisher"):
            _sub(_sub(entry, "author"), "name", clean(release["publisher"]))
        if release.get("series"):
            _sub(entry, "category", term=clean(release["series"]))
        _sub(entry, "summary", summary_of(release), type="text")
    return "<?xml version='1.0' encoding='utf-8'?>\n" + ET.tostring(feed, encoding="unicode") + "\n"


def rss(releases: Iterable[dict[str, Any]], *, title: str, self_url: str, base_url: str,
        description: str = "New comic and manga releases", generated_at: datetime = EPOCH) -> str:
    rows = list(releases)
    root = ET.Element("rss", {"version": "2.0", "xmlns:atom": ATOM_NS})
    channel = _sub(root, "channel")
    _sub(channel, "title", clean(title))
    _sub(channel, "link", f"{base_url}/pages/releases")
    _sub(channel, "description", clean(description))
    _sub(channel, "atom:link", rel="self", href=self_url, type="application/rss+xml")
    _sub(channel, "lastBuildDate", format_datetime(_updated(rows, generated_at), usegmt=True))
    _sub(channel, "generator", "newbooks")
    for release in rows:
        item = _sub(channel, "item")
        _sub(item, "title", title_of(release))
        _sub(item, "link", release_link(release, base_url))
        _sub(item, "guid", f"urn:newbooks:release:{clean(release.get('id'))}", isPermaLink="false")
        _sub(item, "pubDate", format_datetime(_seen(release), usegmt=True))
        _sub(item, "description", summary_of(release))
        if release.get("series"):
            _sub(item, "category", clean(release["series"]))
    return "<?xml version='1.0' encoding='utf-8'?>\n" + ET.tostring(root, encoding="unicode") + "\n"


# --- iCalendar --------------------------------------------------------------------------------


def ical_text(value: Any) -> str:
    """RFC 5545 3.3.11 TEXT: backslash, semicolon, comma escaped; newlines as \\n."""
    text = "" if value is None else str(value)
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    text = text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")
    return re.sub("[\x00-\x08\x0b-\x1f\x7f]", "", text)


def fold(line: str, limit: int = 75) -> str:
    """RFC 5545 3.1: lines longer than 75 octets are split with CRLF + one space, never inside
    a UTF-8 sequence."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append("".join(current))
            current, size = [" "], 1
        current.append(char)
        size += width
    out.append("".join(current))
    return "\r\n".join(out)


def ical(releases: Iterable[dict[str, Any]], *, name: str, base_url: str, generated_at: datetime = EPOCH) -> str:
    """A VCALENDAR with one all-day VEVENT per release that has a full release date."""
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//newbooks//upcoming releases//EN", "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH", f"X-WR-CALNAME:{ical_text(name)}", "X-PUBLISHED-TTL:PT6H",
    ]
    seen: set[Any] = set()  # release ids as stored
    for release in sorted(releases, key=lambda r: (str(r.get("release_date") or ""), str(r.get("id") or ""))):
        day_text = str(release.get("release_date") or "")
        if not _FULL_DATE.match(day_text) or release.get("id") in seen:
            continue
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            continue
        seen.add(release.get("id"))
        stamp = parse_time(release.get("first_seen")) or generated_at
        lines += [
            "BEGIN:VEVENT",
            f"UID:{ical_text(release.get('id'))}@newbooks",
            f"DTSTAMP:{stamp.strftime('%Y%m%dT%H%M%SZ')}",
            f"DTSTART;VALUE=DATE:{day.strftime('%Y%m%d')}",
            f"DTEND;VALUE=DATE:{(day + timedelta(days=1)).strftime('%Y%m%d')}",
            f"SUMMARY:{ical_text(title_of(release))}",
            f"DESCRIPTION:{ical_text(summary_of(release))}",
            "TRANSP:TRANSPARENT",
        ]
        if release.get("series"):
            lines.append(f"CATEGORIES:{ical_text(release['series'])}")
        link = release_link(release, base_url)
        if is_web_url(link):
            lines.append(f"URL:{link}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
