"""The releases page: this week's and next week's releases as cards with covers, plus what was
seen most recently. Pure: everything scraped is escaped; covers are `<img loading=lazy>` only for
http(s) URLs (anything else gets a lettered placeholder). In production covers are hotlinked lazily
from the source's URL behind a placeholder (no copy to store, nothing fetched for cards never
scrolled to); `covers=False` (NEWBOOKS_COVER_IMAGES=off, the local stack) shows placeholders only,
so a test browser never reaches a publisher's CDN."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from html import escape
from typing import Any
from urllib.parse import quote

from chalicelib.pages.feeds import is_web_url
from chalicelib.pages.template import lang_attr, layout
from chalicelib.queries import collapse  # one entry per work (also used as releases_page.collapse)

MAX_CARDS = 96  # per section and HTML page (`?page=`); other sections link to the rest


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _initials(text: str) -> str:
    words = [w for w in text.split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def _editions(release: dict[str, Any]) -> str:
    editions = release.get("editions") or []
    if not editions:
        return ""
    items = "".join(
        f'<li><a href="{escape(str(e["url"]))}" rel="noopener nofollow">{escape(str(e["label"]))}</a></li>'
        if is_web_url(e.get("url")) else f'<li>{escape(str(e["label"]))}</li>' for e in editions)
    return f'<details class="editions"><summary>{len(editions)} editions</summary><ul>{items}</ul></details>'


def card(release: dict[str, Any], covers: bool = True) -> str:
    title = str(release.get("title") or release.get("series") or release.get("id") or "")
    volume = release.get("volume")
    if volume not in (None, "") and str(volume) not in title:
        title = f"{title} #{volume}"
    cover_url = release.get("cover_url")
    cover_class = "cover"
    if covers and is_web_url(cover_url):
        cover = (f'<img loading="lazy" decoding="async" referrerpolicy="no-referrer" src="{escape(str(cover_url))}" '
                 'alt="">')  # the title is the card's heading right beside it
    else:
        cover = f'<span aria-hidden="true">{escape(_initials(title))}</span>'
        cover_class = "cover placeholder"
    url = release.get("url")
    lang = lang_attr(title)
    heading = (f'<h3><a class="card-title" href="{escape(str(url))}" rel="noopener nofollow"{lang}>{escape(title)}</a></h3>'
               if is_web_url(url) else f'<h3 class="card-title"{lang}>{escape(title)}</h3>')
    details = []
    if release.get("publisher"):
        publisher = str(release["publisher"])
        details.append(f'<span class="muted"{lang_attr(publisher)}>{escape(publisher)}</span>')
    line = [escape(str(release["release_date"]))] if release.get("release_date") else []
    if release.get("price") not in (None, ""):
        line.append(escape(f"{release.get('currency') or ''} {release['price']}".strip()))
    if line:
        details.append(f"<span>{' · '.join(line)}</span>")
    if release.get("source"):
        details.append(f'<span class="muted">{escape(str(release["source"]))}</span>')
    details.append(_editions(release))
    return (f'<article class="card release" data-id="{escape(str(release.get("id") or ""))}">'
            f'<div class="{cover_class}">{cover}</div><div class="card-body">{heading}{"".join(details)}</div></article>')


def by_publisher(releases: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """A week's releases grouped by publisher, biggest first (ties by name), order kept inside."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in releases:
        groups.setdefault(str(r.get("publisher") or "Other publishers"), []).append(r)
    return sorted(groups.items(), key=lambda kv: (kv[0] == "Other publishers", -len(kv[1]), kv[0].casefold()))


def _grouped(rows: list[dict[str, Any]], covers: bool) -> str:
    """Cards under publisher headings, in the order given (by_publisher already ordered them)."""
    runs: list[tuple[str, list[dict[str, Any]]]] = []
    for r in rows:
        name = str(r.get("publisher") or "Other publishers")
        if not runs or runs[-1][0] != name:
            runs.append((name, []))
        runs[-1][1].append(r)
    return "".join(f'<h3 class="publisher">{escape(name)} <span class="muted">({len(group)})</span></h3>'
                   '<div class="cards">' + "".join(card(r, covers) for r in group) + "</div>" for name, group in runs)


def pages_of(count: int) -> int:
    """How many HTML pages a section of `count` cards takes (at least 1)."""
    return max(1, -(-count // MAX_CARDS))


def _pager(key: str, page: int, last: int, href: Callable[[int], str]) -> str:
    """Labelled page links: previous, every page (the current one marked aria-current), next."""
    if last <= 1:
        return ""
    links = [f'<a href="{escape(href(page - 1))}" rel="prev">← previous</a>'] if page > 1 else []
    for n in range(1, last + 1):
        links.append(f'<span aria-current="page">{n}</span>' if n == page
                     else f'<a href="{escape(href(n))}" aria-label="page {n}">{n}</a>')
    if page < last:
        links.append(f'<a href="{escape(href(page + 1))}" rel="next">next →</a>')
    return f'<nav class="pager" aria-label="Pages of {escape(key)}">{"".join(links)}</nav>'


def section(key: str, heading: str, releases: list[dict[str, Any]], more_href: str | None, empty: str,
            covers: bool = True, grouped: bool = False, *, page: int = 1,
            page_href: Callable[[int], str] | None = None, more_label: str = "all as JSON") -> str:
    """One section of cards. `grouped`: by publisher, biggest first. With `page_href` the cards are
    paged in HTML (MAX_CARDS a page, `page` 1-based); otherwise the first MAX_CARDS are shown and
    the rest is one `more_href` link away."""
    ordered = [r for _, rows in by_publisher(releases) for r in rows] if grouped else releases
    first = (page - 1) * MAX_CARDS if page_href else 0
    shown = ordered[first:first + MAX_CARDS]
    if shown:
        cards = _grouped(shown, covers) if grouped else '<div class="cards">' + "".join(card(r, covers) for r in shown) + "</div>"
    else:
        cards = f'<p class="empty">{escape(empty)}</p>'
    more = ""
    if page_href:
        more = _pager(heading, page, pages_of(len(releases)), page_href)
    elif len(releases) > len(shown) and more_href:
        more = (f'<p class="muted">and {len(releases) - len(shown)} more: '
                f'<a href="{escape(more_href)}">{escape(more_label)}</a></p>')
    count = f' <span class="muted">({len(releases)})</span>' if releases else ""
    where = (f' <span class="muted">· page {page} of {pages_of(len(releases))}</span>'
             if page_href and len(releases) > MAX_CARDS else "")
    return f'<section class="releases" id="{escape(key)}"><h2>{escape(heading)}{count}{where}</h2>{cards}{more}</section>'


def _span(start: date) -> str:
    end = start + timedelta(days=6)
    return f"{start.strftime('%b %d')} – {end.strftime('%b %d, %Y')}"


def render(this_week: list[dict[str, Any]], next_week: list[dict[str, Any]], recent: list[dict[str, Any]], *,
           start: date, today: date, generated_at: datetime, covers: bool = True, page: int = 1,
           extra: dict[str, str] | None = None) -> str:
    """`page` pages the chosen week's cards (MAX_CARDS each, `?page=`); next week shows its first
    MAX_CARDS and links to its own week for the rest. `extra`: parameters the links keep (category)."""
    start = week_start(start)
    nxt = start + timedelta(days=7)
    order = lambda r: (str(r.get("release_date") or ""), str(r.get("title") or ""))  # noqa: E731
    kept = "".join(f"&{quote(k)}={quote(v)}" for k, v in sorted((extra or {}).items()))

    def week_href(day: date, n: int = 1) -> str:
        return f"?week={quote(day.isoformat())}{kept}" + (f"&page={n}" if n > 1 else "")

    heading = "This week" if start == week_start(today) else "Week of"
    nav = (f'<nav class="weeknav" aria-label="Weeks"><a href="{escape(week_href(start - timedelta(days=7)))}">← previous week</a>'
           + ('<a href="/pages/releases">this week</a>' if start != week_start(today) else "")
           + f'<a href="{escape(week_href(nxt))}">next week →</a></nav>')
    body = (
        '<h1>Releases</h1>' + nav
        + section("this-week", f"{heading} · {_span(start)}", sorted(collapse(this_week), key=order), None,
                  "No releases known for this week yet.", covers, grouped=True, page=page,
                  page_href=lambda n: week_href(start, n))
        + section("next-week", f"Next week · {_span(nxt)}", sorted(collapse(next_week), key=order),
                  week_href(nxt, 2), "No releases known for next week yet.", covers, grouped=True,
                  more_label="the rest of next week")
        + section("recent", "Just added", collapse(recent), "/releases", "Nothing new in the last 7 days.", covers)
        + f'<p class="muted">Updated {escape(generated_at.strftime("%Y-%m-%d %H:%M"))} UTC · '
        '<a href="/feeds/releases.atom">Atom</a> · <a href="/feeds/releases.rss">RSS</a></p>'
    )
    return layout("Releases · newbooks", body, current="/pages/releases",
                  head='<link rel="alternate" type="application/atom+xml" title="New releases" href="/feeds/releases.atom">')
