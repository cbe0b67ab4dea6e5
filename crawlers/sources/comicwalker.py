"""KADOKAWA ComicWalker title page: back-number list `ul.acBacknumber-list li` (episode + viewer cid).
Only the latest episode carries a date (`.comicIndex-date` "2021/09/24 更新"); others have none."""
from __future__ import annotations

import re
from datetime import date

from .._text import absolute, attr, opt, soup, text_of
from ..contract import Options
from ..errors import ParseError
from ..model import Release, dedupe
from ..normalize import nfkc, parse_date
from ._episodes import episode

NAME = "comicwalker"
DESCRIPTION = "KADOKAWA ComicWalker web-manga episode list (title page HTML)"
BASE = "https://comic-walker.com"
_CID = re.compile(r"cid=([A-Za-z0-9_]+)")


def parse(body: bytes, *, url: str | None = None, crawl_date: date | None = None,
          options: Options | None = None) -> list[Release]:
    doc = soup(body)
    index = doc.select_one("#detailIndex")
    if index is None:
        raise ParseError(NAME, "no #detailIndex block")
    series = nfkc(opt(options, "series")) or text_of(index.select_one("h1"))
    latest_date: dict[str, str | None] = {}
    # Recommendation blocks reuse .comicIndex-rightBox for other series; keyed by cid, they never match.
    for box in doc.select(".comicIndex-rightBox"):
        link = box.select_one("a[href*='cid=']")
        if link and (m := _CID.search(attr(link, "href") or "")):
            latest_date[m[1]] = parse_date(text_of(box.select_one(".comicIndex-date")), today=crawl_date)
    cover = doc.select_one("img.detail_image")
    out = []
    # html.parser closes #detailIndex before the list on this markup, so search the whole document.
    for li in doc.select("ul.acBacknumber-list li"):
        link = li.select_one("a[href*='cid=']")
        if link is None or not (m := _CID.search(attr(link, "href") or "")):
            continue
        out.append(episode(
            NAME, code=m[1], series=series, episode_title=text_of(li.select_one(".acBacknumber-title")),
            released=latest_date.get(m[1]), url=absolute(attr(link, "href"), url or BASE),
            cover=attr(cover, "src") if cover else None, publisher="KADOKAWA",
        ))
    if not out:
        raise ParseError(NAME, "no back-number episodes (ul.acBacknumber-list li a[href*=cid=])")
    return dedupe(out)


def plan(options: Options) -> list[str]:
    """`{"content_id": "KDCW_KS13202228010000_68"}` -> the title page."""
    if opt(options, "url"):
        return [options["url"]]
    if not opt(options, "content_id"):
        raise ValueError("comicwalker needs options.content_id or options.url")
    return [f"{BASE}/jp/contents/detail/{options['content_id']}/"]
