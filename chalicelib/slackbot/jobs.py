"""The deferred `/newbooks` commands, computed by the slack_worker: releases today / this week /
next week, the channel's followed series, search, uptime status. Bounded reads only (one
by_series Query per followed series, at most MAX_FOLLOWED_SERIES; by_month lists; one GetItem
for an ISBN). `svc` is the SlackCommands instance (its collaborators and clock)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from chalicelib.slackbot import blocks as b
from chalicelib.slackbot import commands as c
from chalicelib.slackbot.service import (
    MAX_FOLLOWED_SERIES,
    SEARCH_AHEAD_DAYS,
    log,
    week_range,
)

# `search`: text search across all stored dates, bounded: at most SEARCH_LISTS release lists (the
# series list + by_month years going back, each <= queries.MAX_QUERIES Queries); nothing is dated
# before SEARCH_OLDEST (the oldest shared sample list is from 2016)
SEARCH_LISTS = 12
SEARCH_OLDEST = date(2000, 1, 1)


def answer(svc: Any, command: c.Command, channel_id: str) -> dict[str, Any]:
    """The reply for a deferred command (bounded Query/GetItem calls)."""
    today = svc.today()
    if command.name == c.FOLLOWED:
        return _followed(svc, channel_id, *week_range(today))
    if command.name in (c.TODAY, c.WEEK, c.NEXT):
        if command.name == c.TODAY:
            start = end = today.isoformat()
            title = f"Releases today ({start})"
        else:
            start, end = week_range(today, 1 if command.name == c.NEXT else 0)
            title = f"{'Next week' if command.name == c.NEXT else 'This week'}: {start} – {end}"
        asked = {"category": command.arg} if command.arg else {}  # `week merch` (commands.CATEGORY_WORDS)
        if command.arg == "merchandise":
            title += " · merchandise"
        page = svc.releases().list({"from": start, "to": end, "limit": "50", **asked})  # one item per work
        return b.releases_reply(title, page["releases"], empty="No releases dated in this range yet.",
                                more_url=b.releases_url(svc.public_base_url, **{"from": start, "to": end}, **asked),
                                more=page.get("next_cursor") is not None)
    if command.name == c.SEARCH:
        return _search(svc, command.arg, today)
    if command.name == c.STATUS:
        from chalicelib.notify.render import status_url

        return b.status_reply(svc.uptime().status_summary(), status_url(svc.public_base_url),
                              sources=_source_health(svc))
    return b.help_reply(command)


def _source_health(svc: Any) -> list[dict[str, Any]] | None:
    """Release sources' health for `status`; the uptime answer stands even if this part fails."""
    if not getattr(svc, "sources", None):
        return None
    try:
        health: list[dict[str, Any]] = svc.sources().source_health()
        return health
    except Exception:
        log.exception("source health unavailable for status")
        return None

def _followed(svc: Any, channel_id: str, start: str, end: str) -> dict[str, Any]:
    from chalicelib.queries import BadQuery

    subs = [s for s in svc.subscriptions().list(f"slack:{channel_id}") if s.kind == "series"]
    title = f"This week: {start} – {end}"
    if not subs:
        return b.releases_reply(title, [], empty="This channel follows no series yet. "
                                f"Try `{b.COMMAND} follow ONE PIECE`, or `{b.COMMAND} week` for everything.")
    subs.sort(key=lambda s: s.created_at or "")
    read, skipped = subs[:MAX_FOLLOWED_SERIES], subs[MAX_FOLLOWED_SERIES:]
    found: dict[str, dict[str, Any]] = {}
    for sub in read:
        try:
            page = svc.releases().list({"series": sub.key, "from": start, "to": end, "limit": "50"})
        except BadQuery:
            continue
        for release in page["releases"]:
            found.setdefault(str(release.get("id")), release)
    from chalicelib.queries import collapse

    rows = sorted(collapse(list(found.values())),  # one item per work
                  key=lambda r: (str(r.get("release_date") or ""), str(r.get("title") or "")))
    note = f"For the {len(read)} series this channel follows."
    if skipped:
        note += f" {len(skipped)} more followed series were not read (at most {MAX_FOLLOWED_SERIES})."
    return b.releases_reply(title, rows, note=note,
                            empty=f"Nothing this week for the {len(read)} series this channel follows.")

def _search(svc: Any, text: str, today: date) -> dict[str, Any]:
    """ISBN: one GetItem. Otherwise the series by that name on any date (its by_series partition,
    one list) and the text in titles, series and ISBNs over every month from SEARCH_AHEAD_DAYS ahead
    backwards, year by year, at most SEARCH_LISTS release lists (each <= queries.MAX_QUERIES Queries);
    the note says which dates the text search covered."""
    from chalicelib.notify.text import mrkdwn
    from chalicelib.queries import BadQuery, collapse

    isbn = _isbn(text)
    rows: dict[str, dict[str, Any]] = {}
    more = False
    if isbn:
        found = svc.releases().get(f"isbn:{isbn}")
        if found:
            rows[str(found["id"])] = found
        note = f"ISBN {isbn}"
    else:
        lists = 0
        try:  # the whole series by name (one by_series partition, all dates)
            page = svc.releases().list({"series": text, "limit": "200"})
            lists += 1
            rows.update((str(r["id"]), r) for r in page["releases"])
            more = more or page.get("next_cursor") is not None
        except BadQuery:
            pass
        end = today + timedelta(days=SEARCH_AHEAD_DAYS)
        covered, cursor = end, None
        while lists < SEARCH_LISTS and covered > SEARCH_OLDEST and len(rows) < 200:
            first = max(date(covered.year - 1, covered.month, 1) + timedelta(days=32), SEARCH_OLDEST).replace(day=1)
            params = {"q": text, "from": first.isoformat(), "to": covered.isoformat(), "limit": "200"}
            page = svc.releases().list({**params, **({"cursor": cursor} if cursor else {})})
            lists += 1
            for r in page["releases"]:
                rows.setdefault(str(r["id"]), r)
            cursor = page.get("next_cursor")
            if cursor is None:  # this year of months read whole: the next one back
                covered = first - timedelta(days=1)
        searched_from = covered + timedelta(days=1)
        more = more or cursor is not None
        note = (f"“{mrkdwn(text)}” in titles, series and ISBNs of releases dated {searched_from} – {end} "
                f"(at most {SEARCH_LISTS} reads), and the series by that name on any date")
    ordered = sorted(collapse(list(rows.values())), key=lambda r: str(r.get("release_date") or ""), reverse=True)
    return b.releases_reply("Search results", ordered, note=note, more=more,
                            empty="Nothing found. Try fewer words, the series name, or an ISBN.")


def _isbn(text: str) -> str | None:
    import re
    import unicodedata

    compact = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", text)).upper().removeprefix("ISBN").lstrip(":")
    if not re.fullmatch(r"\d{9}[\dX]|\d{13}", compact):
        return None
    from crawlers.normalize import normalize_isbn

    return normalize_isbn(compact)


