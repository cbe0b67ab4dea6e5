"""Image Comics release pages (BeautifulSoup, stdlib html.parser backend).

Upcoming-by-month, release archive, series pages and the search page's "New Releases" widget all
use one card markup: `div.book` > `.book__content` with a title link and an English date
("Published: March 1, 2017" or just "April 12, 2017"). A release detail page (`h2.header__title`,
"Diamond ID: JAN170746") gives one record. A page with neither is a ParseError.
"""
from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from .._text import absolute, attr, opt, soup, text_of
from ..contract import Options
from ..errors import ParseError
from ..model import Release, dedupe
from ..normalize import nfkc, parse_date, parse_price
from ._build import titled_release

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

NAME = "imagecomics"
DESCRIPTION = "Image Comics upcoming/archive/series/release HTML pages"
BASE = "https://imagecomics.com"
_SLUG = re.compile(r"/comics/releases/([^/?#]+)")
_DIAMOND = re.compile(r"Diamond ID:\s*([A-Z]{3}\d{6})")
_PRINT_PRICE = re.compile(r"Print:\s*(\$[\d.]+)")


def slugify(title: str) -> str:
    """Image's own slug rule (as seen on its URLs): lowercase, drop ',:#()', spaces to '-'."""
    t = re.sub(r"[,:#()!?'\"&]", "", (nfkc(title) or "").lower())
    return re.sub(r"\s+", "-", t.strip())


def parse(body: bytes, *, url: str | None = None, crawl_date: date | None = None,
          options: Options | None = None) -> list[Release]:
    doc = soup(body)
    base = url or BASE
    cards = doc.select("div.book")
    if cards:
        out = [r for card in cards if (r := _card(card, base))]
        if not out:
            raise ParseError(NAME, f"{len(cards)} div.book cards but none has a title link")
        return dedupe(out)
    detail = doc.select_one("h2.header__title")
    if detail is not None:
        return [_detail(doc, detail, base)]
    raise ParseError(NAME, "no release cards (div.book) and no release detail header")


def _card(card: Tag, base: str) -> Release | None:
    content = card.select_one(".book__content") or card
    link = content.select_one(".book__headline a[href]") or content.select_one("a[href]")
    if link is None:
        return None
    title = nfkc(link.get_text(" ", strip=True))
    if not title:
        return None
    date_text = text_of(content.select_one(".book__text"))
    # News cards share the markup; a release links to /comics/releases/ or says "Published:".
    if not _SLUG.search(attr(link, "href") or "") and not (date_text or "").startswith("Published"):
        return None
    if date_text is None:  # search widget: the date is the next plain paragraph
        date_text = " ".join(p.get_text(" ", strip=True) for p in content.select("p"))
    price_m = _PRINT_PRICE.search(content.get_text(" ", strip=True))
    img = card.select_one("img[src]")
    return _release(title, attr(link, "href"), parse_date(date_text), price_m[1] if price_m else None,
                    attr(img, "src") if img else None, None, base)


def _detail(doc: BeautifulSoup, header: Tag, base: str) -> Release:
    title = nfkc(header.get_text(" ", strip=True)) or ""
    info = header.find_next("p")
    info_text = info.get_text(" ", strip=True) if info else ""
    canonical = doc.select_one('link[rel="canonical"]')
    img = doc.select_one("figure.book-cover img[src]")
    m = _DIAMOND.search(info_text)
    return _release(title, attr(canonical, "href") if canonical else None, parse_date(info_text), None,
                    attr(img, "src") if img else None, m[1] if m else None, base)


def _release(title: str, href: str | None, released: str | None, price_text: str | None,
             cover: str | None, diamond: str | None, base: str) -> Release:
    m = _SLUG.search(href or "")
    # The archive page rewrote its links to "/issue"; fall back to Image's slug rule on the title.
    slug = m[1] if m else slugify(title)
    price, currency = parse_price(price_text)
    link = absolute(href, base) if m else f"{BASE}/comics/releases/{slug}"
    return titled_release(
        NAME, title=title, code=slug, ref=slug, diamond_code=diamond, publisher="Image Comics",
        release_date=released, price=price, currency=currency, url=link, cover_url=absolute(cover, base),
    )


def plan(options: Options) -> list[str]:
    """`{"month": "2017-02"}` -> upcoming list; `{"series": "nailbiter"}` -> series + archive pages."""
    if opt(options, "urls"):
        return list(options["urls"])
    if opt(options, "url"):
        return [options["url"]]
    urls = []
    if month := opt(options, "month"):
        y, m = str(month).split("-")[:2]
        urls.append(f"{BASE}/comics/upcoming-releases/{int(y)}/{int(m)}")
    if series := opt(options, "series"):
        urls += [f"{BASE}/comics/series/{series}", f"{BASE}/comics/release-archive/series/{series}"]
    return urls or [f"{BASE}/comics/upcoming-releases"]


