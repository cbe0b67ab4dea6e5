"""Declarative HTML source: CSS selectors from a YAML config, no code per site.

    url: https://example.com/new-comics
    source_name: examplepub          # optional; ids become examplepub:<link>
    item: div.book                   # one release per match (required)
    title: .book__headline a         # required
    date: .book__text                # text parsed by normalize.parse_date
    link: .book__headline a          # href
    isbn: .isbn                      # optional; also found in text when absent
    publisher: .publisher            # optional selector, or publisher_name: "Fixed Name"
    cover: img                       # optional; src

Selectors are soupsieve (`select`/`select_one`); "@attr" after a selector reads an attribute.

Pages that carry their data as JSON (Next.js, schema.org) are read from that JSON instead, with the
json kind's item path and field mapping (crawlers/sources/jsonapi.py):

    embedded: next_data            # <script id="__NEXT_DATA__">, or
    embedded: ld+json              # every <script type="application/ld+json">, as a list
    items: props.pageProps.work.episodes
    fields: {title: title, code: id, release_date: publishedAt}
"""
from __future__ import annotations

from collections import Counter
from datetime import date
from typing import TYPE_CHECKING

from .._text import absolute, attr, opt, soup
from ..contract import Options, PageHints
from ..errors import ParseError
from ..model import Release, dedupe
from ..normalize import (
    find_isbn,
    nfkc,
    normalize_isbn,
    parse_date,
)
from ._build import titled_release

if TYPE_CHECKING:
    from bs4 import Tag

NAME = "html"
DESCRIPTION = "Declarative HTML list page: CSS selectors from a YAML config (--config)"
REQUIRED = ("item", "title")


def _value(node: Tag, spec: str | None, default_attr: str | None = None) -> str | None:
    if not spec:
        return None
    sel, _, name = spec.partition("@")
    target = node.select_one(sel.strip()) if sel.strip() else node
    if target is None:
        return None
    name = name.strip() or default_attr or ""
    if name:
        return attr(target, name)
    return target.get_text(" ", strip=True) or None


def parse(body: bytes, *, url: str | None = None, crawl_date: date | None = None,
          options: Options | None = None) -> list[Release]:
    options = options or {}
    if options.get("embedded"):
        return _embedded(body, url, crawl_date, options)
    missing = [k for k in REQUIRED if not options.get(k)]
    if missing:
        raise ParseError(NAME, f"config lacks selector(s): {', '.join(missing)}")
    source = options.get("source_name", NAME)
    base = url or options.get("url")
    doc = soup(body)
    try:
        items = doc.select(options["item"])
    except Exception as exc:  # soupsieve raises SelectorSyntaxError
        raise ParseError(NAME, f"bad item selector {options['item']!r}: {exc}") from None
    if not items:
        raise ParseError(NAME, f"no element matches item selector {options['item']!r}")
    rows = [(node, title, absolute(_value(node, options.get("link"), "href"), base))
            for node in items if (title := nfkc(_value(node, options["title"])))]
    # A link shared by several items (e.g. a rewritten "/issue") identifies none of them.
    links = Counter(link for _, _, link in rows)
    out = []
    for node, title, link in rows:
        code = link if link and links[link] == 1 else None
        isbn = normalize_isbn(_value(node, options.get("isbn"))) or find_isbn(node.get_text(" "))
        out.append(titled_release(
            source, title=title, isbn=isbn, code=code, ref=code or isbn or title,
            publisher=nfkc(_value(node, options.get("publisher"))) or nfkc(options.get("publisher_name")),
            release_date=parse_date(_value(node, options.get("date")), today=crawl_date),
            url=link, cover_url=absolute(_value(node, options.get("cover"), "src"), base),
        ))
    if not out:
        raise ParseError(NAME, f"{len(items)} items matched but none has a title ({options['title']!r})")
    return dedupe(out)


def _embedded(body: bytes, url: str | None, crawl_date: date | None, options: Options) -> list[Release]:
    import json

    from . import jsonapi

    doc = soup(body)
    kind = options["embedded"]
    try:
        if kind == "next_data":
            script = doc.select_one("script#__NEXT_DATA__")
            if script is None:
                raise ParseError(NAME, "no <script id=\"__NEXT_DATA__\"> (the page changed shape?)")
            data = json.loads(script.string or "")
        elif kind == "ld+json":
            data = [json.loads(s.string or "null") for s in doc.select('script[type="application/ld+json"]')]
            if not data:
                raise ParseError(NAME, "no application/ld+json script (the page changed shape?)")
        else:
            raise ParseError(NAME, f"unknown embedded {kind!r}; use next_data or ld+json")
    except ValueError as exc:
        raise ParseError(NAME, f"embedded JSON does not parse: {exc}") from None
    return jsonapi.parse(json.dumps(data).encode(), url=url, crawl_date=crawl_date,
                         options={"source_name": options.get("source_name", NAME), **options})


def next_page(body: bytes, *, url: str | None = None, options: Options | None = None) -> PageHints:
    """Paging hint for crawlers/session.py: `next: "a[rel=next]@href"` (default) names the next page."""
    options = options or {}
    if options.get("embedded"):
        return {}  # embedded JSON pages page through their URL (page/offset paging)
    link = _value(soup(body), options.get("next") or "a[rel=next]", "href")
    return {"next": absolute(link, url)} if link else {}


def plan(options: Options) -> list[str]:
    urls = opt(options, "urls") or ([options["url"]] if opt(options, "url") else [])
    if not urls:
        raise ValueError("html needs options.url")
    return list(urls)
