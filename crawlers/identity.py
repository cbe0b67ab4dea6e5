"""Issue identity: which releases are editions of one work (issue 12, point 1).

A work is a series identity + its number + its format. Variants (cover letters, ratio/incentive,
virgin, foil, blank, printings, 特装版/限定版) are editions of one work: each stays a stored release
with its own id (ids and exactly-once are untouched), and carries `work` so that notifications,
pages, feeds and the API show one item with its editions listed.

Across sources (no shared ISBN) two releases are the same work when their work keys are equal, their
dates lie within a window and their publishers are compatible; `same_work` says why, or why not.
A wrong merge is undone by configuration: release ids listed in NEWBOOKS_UNMERGED_RELEASES get a
work of their own.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Any

from crawlers import settings

DEFAULT_WINDOW_DAYS = 14
# Flags that make a separate format (a TP is not the HC of the same volume); the rest are editions.
_FORMAT_FLAGS = ("tp", "hc", "gn", "omnibus", "deluxe", "box-set", "value-pack")
# What an edition's label is made of: the title after the number, minus notes every edition shares.
_SHARED_NOTES = re.compile(r"\((?:of \d+|mr|net|res|o/a|c:[^)]*)\)|\(N(?:et)?$|\(", re.I)


_VARIANT_TAIL = re.compile(r"\s(?:[A-Z] )?CVR\b|\s(?:VAR|VARIANT|VIRGIN|FOC|INCV|\d+(?:ST|ND|RD|TH) PTG)\b", re.I)


def unmerged() -> frozenset[str]:
    """Release ids an operator split off (NEWBOOKS_UNMERGED_RELEASES, comma-separated)."""
    return settings.unmerged_releases()


def _get(release: Any, name: str) -> Any:
    if isinstance(release, dict):  # the common cases first: ABC checks are slow on hot paths
        return release.get(name)
    return release.get(name) if isinstance(release, Mapping) else getattr(release, name, None)


def work_key(release: Any) -> str | None:
    """`<series key>|<number>|<format>` ("amalgamaspacezombie|3|comic", "nailbiter|6|collected-tp"),
    or None when the release has no series to speak of. Unmerged ids get `id:<release id>`."""
    from .normalize import series_key

    rid = _get(release, "id")
    if rid and rid in unmerged():
        return f"id:{rid}"
    if stored := _get(release, "work"):  # computed when it was crawled
        return str(stored)
    volume, issue = _get(release, "volume"), _get(release, "issue")
    if volume or issue:
        key = series_key(_get(release, "series") or "")
        number = f"{volume}#{issue}" if volume and issue and volume != issue else (issue or volume)
    else:  # no number: the title up to its cover/variant words names the work
        title = unicodedata.normalize("NFKC", str(_get(release, "title") or _get(release, "series") or ""))
        key, number = series_key(_VARIANT_TAIL.split(title, 1)[0]), "-"
    if not key:
        return None
    flags = tuple(_get(release, "flags") or ())
    fmt = next((f for f in _FORMAT_FLAGS if f in flags), None)
    category = _get(release, "category") or "comic"
    return f"{key}|{number}|{category}{'-' + fmt if fmt else ''}"


def edition_label(release: Any) -> str:
    """What tells this edition apart: "CVR B YOUNG RISQUE", "特装版", "2ND PTG"; "" for the plain one."""
    title = unicodedata.normalize("NFKC", str(_get(release, "title") or ""))
    number = _get(release, "issue") or _get(release, "volume")
    tail = ""
    if number:
        m = re.search(rf"(?:#\s*|\b)({re.escape(str(number))})(?:\s*\(of \d+\))?\b", title, re.I)
        tail = title[m.end():] if m else ""
    tail = _SHARED_NOTES.sub(" ", tail)
    return re.sub(r"\s+", " ", tail).strip(" ,.-")


def _publisher_key(text: Any) -> str:
    t = unicodedata.normalize("NFKC", str(text or "")).casefold().replace("株式会社", "")
    t = re.sub(r"\b(?:comics?|publishing|inc|llc|ltd|entertainment|studios?)\b", " ", t)
    return re.sub(r"[\W_]+", "", t)


def compatible_publishers(a: Any, b: Any) -> bool:
    """Unknown on either side, equal after normalization ("IMAGE COMICS" ~ "Image Comics"), or one
    containing the other ("BOOM! STUDIOS" ~ "BOOM! Box")."""
    ka, kb = _publisher_key(a), _publisher_key(b)
    return not ka or not kb or ka == kb or ka in kb or kb in ka


def _day(value: Any) -> date | None:
    text = str(value or "")
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 else date.fromisoformat(text[:7] + "-01")
    except ValueError:
        return None


def same_work(a: Any, b: Any, window_days: int = DEFAULT_WINDOW_DAYS) -> tuple[bool, str]:
    """Whether b is an edition of a's work, and the reason either way (recorded with a merge)."""
    ka, kb = work_key(a), work_key(b)
    if ka is None or ka != kb:
        return False, f"different works ({ka} / {kb})"
    da, db = _day(_get(a, "release_date")), _day(_get(b, "release_date"))
    if da and db and abs((da - db).days) > window_days:
        return False, f"same key {ka} but dates {da} and {db} are more than {window_days} days apart"
    if not compatible_publishers(_get(a, "publisher"), _get(b, "publisher")):
        return False, f"same key {ka} but publishers differ ({_get(a, 'publisher')} / {_get(b, 'publisher')})"
    same_source = _get(a, "source") == _get(b, "source")
    return True, (f"same work {ka}: " + ("another edition in the same source" if same_source else
                  f"{_get(a, 'source')} and {_get(b, 'source')} agree on series and number")
                  + f", dates {da or '?'} / {db or '?'} within {window_days} days, publishers "
                  f"{_get(a, 'publisher') or '?'} / {_get(b, 'publisher') or '?'}")


def group_editions(releases: list[Any], window_days: int = DEFAULT_WINDOW_DAYS) -> list[list[Any]]:
    """Releases grouped into works (first-seen order kept); each group's first is its main edition:
    the one without a variant/printing flag when there is one."""
    groups: list[list[Any]] = []
    by_key: dict[str, list[list[Any]]] = {}
    for r in releases:
        key = work_key(r)
        target = next((g for g in by_key.get(key, []) if same_work(g[0], r, window_days)[0]), None) if key else None
        if target is None:
            target = []
            groups.append(target)
            if key:
                by_key.setdefault(key, []).append(target)
        target.append(r)
    return [sorted(g, key=_main_first) for g in groups]


def _main_first(release: Any) -> tuple[int, int]:
    flags = tuple(_get(release, "flags") or ())
    label = edition_label(release)
    plain = not ({"variant", "printing"} & set(flags))
    return (0 if plain else 1, 0 if re.match(r"^(?:CVR A\b|A CVR\b|$)", label, re.I) else 1)
