"""Shared record building for web-manga episode lists (each episode is a release of the series)."""
from __future__ import annotations

from datetime import date

from ..dates import day_after
from ..model import Release
from ..normalize import extract_volume, nfkc, parse_date
from ._build import build_release


def resolve_dates(texts: list[str | None], crawl_date: date | None) -> list[str | None]:
    """Dates of a newest-first episode list. Year-less dates ("3月25日配信") take the latest year that
    keeps the list in order: the first is not after the crawl date, each next not after the previous.
    """
    bound = crawl_date or date.today()
    out: list[str | None] = []
    for t in texts:
        iso = parse_date(t, latest=bound)
        out.append(iso)
        if iso:
            bound = day_after(iso)
    return out


def episode(source: str, *, code: str, series: str | None, episode_title: str | None,
            released: str | None, url: str | None, cover: str | None, publisher: str | None) -> Release:
    ep = nfkc(episode_title) or ""
    _, number = extract_volume(ep)
    title = " ".join(x for x in (series, ep) if x) or code
    return build_release(source, title=title, code=code, ref=code, series=series, volume=number, flags=("episode",),
                         publisher=publisher, release_date=released, url=url, cover_url=cover)
