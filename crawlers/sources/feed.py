"""Generic RSS 2.0 / Atom feeds (defusedxml). Each entry is a release; an ISBN in the title,
link or summary keys it by ISBN, else by the entry's guid/id/link."""
from __future__ import annotations

from datetime import date
from email.utils import parsedate_to_datetime

from .._text import opt
from ..errors import ParseError
from ..model import Release, dedupe
from ..normalize import edition_flags, extract_numbering, find_isbn, nfkc, parse_date, release_id, text_or_none
from ._xml import local, parse_xml

NAME = "feed"
DESCRIPTION = "Any RSS 2.0 or Atom feed of releases (options: source name, publisher)"
ATOM = "{http://www.w3.org/2005/Atom}"


def _date(text: str | None, crawl_date: date | None) -> str | None:
    if not text:
        return None
    try:  # RFC 822 (RSS pubDate)
        return parsedate_to_datetime(text.strip()).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return parse_date(text, today=crawl_date)


def _child(el, name: str) -> str | None:
    for c in el:
        if local(c.tag) == name and c.text:
            return c.text.strip()
    return None


def parse(body: bytes, *, url: str | None = None, crawl_date: date | None = None,
          options: dict | None = None) -> list[Release]:
    root = parse_xml(body, NAME)
    if local(root.tag) == "rss" and root.find("channel") is not None:
        entries = [_rss(it, crawl_date) for it in root.find("channel").findall("item")]
    elif root.tag == f"{ATOM}feed":
        entries = [_atom(e, crawl_date) for e in root.findall(f"{ATOM}entry")]
    else:
        raise ParseError(NAME, f"not RSS 2.0 or Atom: root <{local(root.tag)}>")
    source = opt(options, "source_name", NAME)
    publisher = nfkc(opt(options, "publisher"))
    return dedupe([_record(source, publisher, *e) for e in entries])


def _rss(item, crawl_date):
    link = _child(item, "link")
    guid = _child(item, "guid") or link
    return (_child(item, "title"), link, guid, _child(item, "description"),
            _date(_child(item, "pubDate") or _child(item, "date"), crawl_date))


def _atom(entry, crawl_date):
    links = [ln for ln in entry.findall(f"{ATOM}link") if ln.get("rel", "alternate") == "alternate"]
    link = links[0].get("href") if links else None
    return (_child(entry, "title"), link, _child(entry, "id") or link, _child(entry, "summary"),
            _date(_child(entry, "published") or _child(entry, "updated"), crawl_date))


def _record(source, publisher, title, link, guid, summary, released) -> Release:
    title = text_or_none(title)
    isbn = find_isbn(" ".join(x for x in (title, link, summary) if x))
    if not (isbn or guid or title):
        raise ParseError(NAME, "entry without title, id or link")
    series, volume, issue = extract_numbering(title or "")
    return Release(
        id=release_id(source, isbn=isbn, item_code=guid, series=series, volume=volume, issue=issue),
        source=source,
        title=title,
        series=series or None,
        volume=volume,
        issue=issue,
        flags=edition_flags(title),
        isbn13=isbn,
        publisher=publisher,
        release_date=released,
        url=link,
        source_refs=(f"{source}:{guid or isbn}",),
    )


def plan(options: dict) -> list[str]:
    urls = opt(options, "urls") or ([options["url"]] if opt(options, "url") else [])
    if not urls:
        raise ValueError("feed needs options.url")
    return list(urls)
