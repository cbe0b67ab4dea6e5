"""KADOKAWA Comic Newtype episode lists: the title page HTML or its episode-list XHR JSON `{"html": ...}`.

Two markups are live in real captures: 2022-03 `li#<slug>_<n>` with `div.date01` "3月25日配信"
(no year) and 2022-08 `ul.detail__list--comic` with `div.detail__txt--date` "2022/7/29 更新".
"""
from __future__ import annotations

import json
import re
from datetime import date

from .._text import absolute, attr, decode, opt, soup, text_of
from ..contract import Options
from ..errors import ParseError
from ..model import Release, dedupe
from ..normalize import nfkc
from ._episodes import episode, resolve_dates

NAME = "newtype"
DESCRIPTION = "KADOKAWA Comic Newtype web-manga episode list (HTML page or episode JSON)"
BASE = "https://comic.webnewtype.com"
_EP_HREF = re.compile(r"/contents/([^/]+)/(\d+)/?$")
_DATE_SEL = ".date01, .detail__txt--date"
_TITLE_SEL = "p.number, .detail__txt--ttl-sub"


def parse(body: bytes, *, url: str | None = None, crawl_date: date | None = None,
          options: Options | None = None) -> list[Release]:
    text = decode(body, NAME)
    series = nfkc(opt(options, "series"))
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParseError(NAME, f"invalid JSON: {exc}") from None
        except RecursionError:  # hostile nesting must degrade the source, not crash the worker
            raise ParseError(NAME, "invalid JSON: nested too deeply") from None
        if not isinstance(data, dict) or not isinstance(data.get("html"), str):
            raise ParseError(NAME, "episode JSON without an 'html' string")
        if not data["html"].strip():
            return []
        doc = soup(data["html"])
    else:
        doc = soup(text)
        h1 = doc.select_one("h1")
        if series is None and h1 is not None:
            for span in h1.select("span"):
                span.extract()  # author name sits in a span inside the h1
            series = nfkc(h1.get_text(" ", strip=True))
    rows = []
    for a in doc.select("a[href]"):
        m = _EP_HREF.search(attr(a, "href") or "")
        date_el = a.select_one(_DATE_SEL)
        if m and date_el is not None:
            rows.append((m, a, text_of(date_el)))
    if not rows:
        raise ParseError(NAME, "no episode entries (a[href=/contents/<slug>/<n>/] with a date)")
    dates = resolve_dates([r[2] for r in rows], crawl_date)
    out = []
    for (m, a, _), released in zip(rows, dates, strict=True):
        img = a.select_one("img[src]")
        out.append(episode(
            NAME, code=f"{m[1]}/{m[2]}", series=series or m[1],
            episode_title=text_of(a.select_one(_TITLE_SEL)) or (attr(img, "alt") if img else None),
            released=released, url=absolute(attr(a, "href"), url or BASE),
            cover=absolute(attr(img, "src"), url or BASE) if img else None, publisher="KADOKAWA",
        ))
    return dedupe(out)


def plan(options: Options) -> list[str]:
    """`{"slug": "fuzoroi"}` -> the title page; `url` overrides (e.g. the episode JSON endpoint)."""
    if opt(options, "url"):
        return [options["url"]]
    if not opt(options, "slug"):
        raise ValueError("newtype needs options.slug or options.url")
    return [f"{BASE}/contents/{options['slug']}/"]
