"""SHOGAKUKAN Sunday Webry (サンデーうぇぶり) title page: `a.detail-block__item` per episode,
"5. 第5話" titles and "配信日：2021/07/22" dates."""
from __future__ import annotations

import re
from datetime import date

from .._text import absolute, attr, opt, soup, text_of
from ..contract import Options
from ..errors import ParseError
from ..model import Release, dedupe
from ..normalize import nfkc
from ._episodes import episode, resolve_dates

NAME = "sundaywebry"
DESCRIPTION = "SHOGAKUKAN Sunday Webry web-manga episode list (title page HTML)"
BASE = "https://www.sunday-webry.com/"
_CHAPTER = re.compile(r"chapter_id=(\d+)")
_LEADING_NO = re.compile(r"^\d+\.\s*")


def parse(body: bytes, *, url: str | None = None, crawl_date: date | None = None,
          options: Options | None = None) -> list[Release]:
    doc = soup(body)
    items = [(a, m) for a in doc.select("a.detail-block__item[href]") if (m := _CHAPTER.search(attr(a, "href") or ""))]
    if not items:
        raise ParseError(NAME, "no episode entries (a.detail-block__item with chapter_id)")
    series = nfkc(opt(options, "series")) or text_of(doc.select_one(".detail-block__image--title")) \
        or text_of(doc.select_one("title"))
    dates = resolve_dates([text_of(a.select_one(".detail-block__item--date")) for a, _ in items], crawl_date)
    out = []
    for (a, m), released in zip(items, dates, strict=True):
        ep = _LEADING_NO.sub("", text_of(a.select_one(".detail-block__item--title")) or "")
        img = a.select_one("img[src]")
        out.append(episode(
            NAME, code=m[1], series=series, episode_title=ep or None, released=released,
            url=absolute(attr(a, "href"), url or BASE), cover=attr(img, "src") if img else None, publisher="小学館",
        ))
    return dedupe(out)


def plan(options: Options) -> list[str]:
    """`{"title_id": 5743}` -> the title page."""
    if opt(options, "url"):
        return [options["url"]]
    if not opt(options, "title_id"):
        raise ValueError("sundaywebry needs options.title_id or options.url")
    return [f"{BASE}detail.php?title_id={int(options['title_id'])}"]
