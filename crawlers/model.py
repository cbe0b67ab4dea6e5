"""The normalized release record every parser returns.

`price` is a decimal *string* ("3.99", "660") or None: exact, JSON-safe, no float rounding.
`currency` is an ISO 4217 code ("USD", "JPY") set only when the price is known.
`release_date` is ISO `YYYY-MM-DD` or `YYYY-MM` (month precision) or None.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

# The 15 CLI keys, in contract order; `source_refs` is emitted after them.
KEYS: tuple[str, ...] = (
    "id", "source", "title", "series", "volume", "flags", "isbn13", "jan", "diamond_code",
    "publisher", "release_date", "price", "currency", "url", "cover_url",
)
# Keys added after the contract (issue 12), emitted after `source_refs`: older readers ignore them.
EXTRA_KEYS: tuple[str, ...] = ("issue", "category", "work")


@dataclass(frozen=True)
class Release:
    id: str
    source: str
    title: str | None = None
    series: str | None = None
    volume: str | None = None
    flags: tuple[str, ...] = ()
    isbn13: str | None = None
    jan: str | None = None
    diamond_code: str | None = None
    publisher: str | None = None
    release_date: str | None = None
    price: str | None = None
    currency: str | None = None
    url: str | None = None
    cover_url: str | None = None
    source_refs: tuple[str, ...] = field(default=())
    issue: str | None = None  # "#3" of "VOL 2 #3" (see crawlers.volumes.Numbering)
    category: str | None = None  # comic | collected | magazine | merchandise (crawlers.categories)
    work: str | None = None  # editions of one issue share it (crawlers.identity.work_key)

    def __post_init__(self) -> None:
        if self.category is None:  # parsers without a better hint: classify the title
            from .categories import classify

            object.__setattr__(self, "category", classify(self.title))
        if self.work is None:
            from .identity import work_key

            object.__setattr__(self, "work", work_key(self))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: getattr(self, k) for k in KEYS}
        out["flags"] = list(self.flags)
        out["source_refs"] = list(self.source_refs)
        out.update({k: getattr(self, k) for k in EXTRA_KEYS})
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Release:
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in data.items() if k in names}
        kw["flags"] = tuple(kw.get("flags") or ())
        kw["source_refs"] = tuple(kw.get("source_refs") or ())
        if kw.get("price") is not None:
            kw["price"] = str(kw["price"])
        return cls(**kw)


def _union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    return a + tuple(x for x in b if x not in a)


def merge(a: Release, b: Release) -> Release:
    """Combine two records of the same release; `a` is the earlier-seen one and wins on conflicts.

    Nulls in `a` are filled from `b`; flags and source_refs are unioned (order kept, `a` first).
    """
    if a.id != b.id:
        raise ValueError(f"cannot merge different releases: {a.id} != {b.id}")
    filled = {
        k: getattr(b, k)
        for k in (*KEYS, *EXTRA_KEYS)
        if k not in ("id", "flags") and getattr(a, k) is None and getattr(b, k) is not None
    }
    return replace(a, **filled, flags=_union(a.flags, b.flags), source_refs=_union(a.source_refs, b.source_refs))


def dedupe(records: list[Release]) -> list[Release]:
    """Merge records sharing an id, keeping first-seen order (one page can list a book twice)."""
    by_id: dict[str, Release] = {}
    for r in records:
        by_id[r.id] = merge(by_id[r.id], r) if r.id in by_id else r
    return list(by_id.values())
