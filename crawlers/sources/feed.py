"""Generic feeds (defusedxml): RSS 0.9x, RSS 1.0 (RDF), RSS 2.0 and Atom. Each entry is a release.

An ISBN anywhere the entry carries one keys it by ISBN: its id/guid (`urn:isbn:…`), link, title,
summary, or an element named like an identifier (`dc:identifier`, `prism:isbn`…). Else the entry's
guid/id/link is its code. An entry with only a description uses it as the title.

Options:
    source_name: gigaviewer-zenon   # ids become <source_name>:<guid>
    publisher: コアミックス
    series: 少年を飼う               # every entry is of this series (a per-series feed) ...
    series_from: channel            # ... or the channel's title, its last (…)/「…」 part when present
                 description        # ... or each item's <description> (GigaViewer puts the series there)
    episodes: true                  # entries are episodes: 第24話① 決意 is episode 24 of the series

With a series (per-series feeds), the title only gives the number: a GigaViewer item `第24話① 決意`
is episode 24 of the channel's series, not a series called `1 決意`.
"""
from __future__ import annotations

import re
from datetime import date
from email.utils import parsedate_to_datetime
from typing import NamedTuple
from xml.etree.ElementTree import Element

from .._text import opt
from ..contract import Options, PageHints
from ..errors import ParseError
from ..model import Release, dedupe
from ..normalize import (
    edition_flags,
    extract_numbering,
    extract_volume,
    find_isbn,
    nfkc,
    normalize_isbn,
    parse_date,
    text_or_none,
)
from ._build import build_release
from ._xml import local, parse_xml

NAME = "feed"
DESCRIPTION = "Any RSS 0.9x/1.0/2.0 or Atom feed of releases (options: source_name, publisher, series...)"
ATOM = "{http://www.w3.org/2005/Atom}"
RSS1 = "{http://purl.org/rss/1.0/}"
_EPISODE = re.compile(r"第\s*([0-9０-９]+)\s*話|#\s*([0-9]+)|(?:episode|ep\.?)\s*([0-9]+)", re.I)
_BRACKETED = re.compile(r"[（(「『]([^（）()「」『』]+)[）)」』]\s*$")
_ID_NAMES = ("identifier", "isbn", "id", "guid")


def _date(text: str | None, crawl_date: date | None) -> str | None:
    if not text:
        return None
    try:  # RFC 822 (RSS pubDate)
        return parsedate_to_datetime(text.strip()).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return parse_date(text, today=crawl_date)


def _child(el: Element, *names: str) -> str | None:
    for name in names:
        for c in el:
            if local(c.tag) == name and c.text and c.text.strip():
                return c.text.strip()
    return None


def _isbn_anywhere(el: Element, *texts: str | None) -> str | None:
    """An ISBN from the entry's id-like elements first (`urn:isbn:…`), then from its text."""
    for c in el.iter():
        name = local(c.tag).lower()
        if any(n in name for n in _ID_NAMES) and c.text:
            text = c.text.strip()
            if text.lower().startswith("urn:isbn:") and (isbn := normalize_isbn(text[9:])):
                return isbn
            if isbn := find_isbn(text):
                return isbn
    return find_isbn(" ".join(t for t in texts if t))


def parse(body: bytes, *, url: str | None = None, crawl_date: date | None = None,
          options: Options | None = None) -> list[Release]:
    root = parse_xml(body, NAME)
    channel = root.find("channel")
    items: list[Element]
    if local(root.tag) == "rss" and channel is not None:  # RSS 0.91/0.92/2.0
        items = channel.findall("item")
        entries = [_rss(it, crawl_date) for it in items]
        channel_title = _child(channel, "title")
    elif local(root.tag) == "RDF":  # RSS 0.90/1.0: items are siblings of the channel
        channel = next((c for c in root if local(c.tag) == "channel"), None)
        items = [c for c in root if local(c.tag) == "item"]
        entries = [_rss(it, crawl_date) for it in items]
        channel_title = _child(channel, "title") if channel is not None else None
    elif root.tag == f"{ATOM}feed":
        items = root.findall(f"{ATOM}entry")
        entries = [_atom(e, crawl_date) for e in items]
        channel_title = _child(root, "title")
    else:
        raise ParseError(NAME, f"not RSS or Atom: root <{local(root.tag)}>")
    source = opt(options, "source_name", NAME)
    publisher = nfkc(opt(options, "publisher"))
    series = _series_option(options, channel_title)
    episodes = bool(opt(options, "episodes", False))
    from_description = opt(options, "series_from") == "description"
    return dedupe([
        _record(source, publisher, series, episodes, from_description, el, entry)
        for el, entry in zip(items, entries, strict=True)
    ])


def _series_option(options: Options | None, channel_title: str | None) -> str | None:
    if opt(options, "series"):
        return nfkc(opt(options, "series"))
    if opt(options, "series_from") == "channel" and channel_title:
        found = _BRACKETED.search(channel_title)  # ゼノン編集部（少年を飼う） -> 少年を飼う
        return nfkc((found.group(1) if found else channel_title).strip())
    return None


class Entry(NamedTuple):
    """One RSS item or Atom entry, as read before any normalization."""
    title: str | None
    link: str | None
    guid: str | None  # guid / rdf:about / Atom id, else the link
    summary: str | None
    released: str | None


def _rss(item: Element, crawl_date: date | None) -> Entry:
    link = _child(item, "link")
    guid = _child(item, "guid") or item.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about") or link
    return Entry(_child(item, "title"), link, guid, _child(item, "description", "encoded"),
                 _date(_child(item, "pubDate", "date", "issued"), crawl_date))


def _atom(entry: Element, crawl_date: date | None) -> Entry:
    links = [ln for ln in entry.findall(f"{ATOM}link") if ln.get("rel", "alternate") == "alternate"]
    link = links[0].get("href") if links else None
    return Entry(_child(entry, "title"), link, _child(entry, "id") or link, _child(entry, "summary", "content"),
                 _date(_child(entry, "published", "updated"), crawl_date))


def _record(source: str, publisher: str | None, series: str | None, episodes: bool, from_description: bool,
            el: Element, entry: Entry) -> Release:
    link, guid, summary, released = entry.link, entry.guid, entry.summary, entry.released
    title = text_or_none(entry.title) or text_or_none(_plain(summary))  # a description-only item
    isbn = _isbn_anywhere(el, title, link, summary)
    if not (isbn or guid or title):
        raise ParseError(NAME, "entry without title, id or link")
    if from_description and summary:
        series = nfkc(_plain(summary))
    flags = edition_flags(title)
    issue: str | None = None
    volume: str | None
    if series:
        number = _episode_number(title) if episodes else None
        issue = None if number else extract_numbering(title or "").issue
        volume = number or extract_volume(title or "")[1]
        if episodes:
            flags = tuple(dict.fromkeys((*flags, "episode")))
    else:
        series, volume, issue = extract_numbering(title or "")
    return build_release(
        source, title=title, isbn=isbn, code=guid, series=series, volume=volume, issue=issue, flags=flags,
        ref=guid or isbn,  # none for an entry with only a title (it was "<source>:None")
        publisher=publisher, release_date=released, url=link,
    )


def _episode_number(title: str | None) -> str | None:
    found = _EPISODE.search(nfkc(title or "") or "")
    if not found:
        return None
    return str(int(next(g for g in found.groups() if g)))


def _plain(text: str | None) -> str | None:
    """Description text without markup (RSS descriptions are often escaped HTML)."""
    if not text:
        return None
    return text_or_none(re.sub(r"<[^>]+>", " ", text))


def next_page(body: bytes, *, url: str | None = None, options: Options | None = None) -> PageHints:
    """Paging by `<link rel="next">` (RFC 5005 paged feeds, Atom or atom:link in RSS)."""
    root = parse_xml(body, NAME)
    for el in root.iter():
        if local(el.tag) == "link" and el.get("rel") == "next" and el.get("href"):
            return {"next": el.get("href")}
    return {}


def plan(options: Options) -> list[str]:
    urls = opt(options, "urls") or ([options["url"]] if opt(options, "url") else [])
    if not urls:
        raise ValueError("feed needs options.url")
    return list(urls)
