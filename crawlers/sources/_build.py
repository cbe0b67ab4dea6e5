"""The one way a parser turns normalized pieces into a `Release` (issue 15: the same 15 lines stood
in every parser). Parsers still decide what a record's title, identifiers, series and number are;
here is what they all did the same way with them:

- the id from the strongest identifier (`release_id`: ISBN > JAN > the source's code > series + number);
- an empty series is no series; flags from the title unless the parser read better ones;
- a currency only beside a price;
- `source_refs` is `<source>:<ref>` when the parser names a ref.
"""
from __future__ import annotations

from ..model import Release
from ..normalize import edition_flags, extract_numbering, release_id


def build_release(source: str, *, title: str | None, isbn: str | None = None, jan: str | None = None,
                  code: str | None = None, series: str | None = None, volume: str | None = None,
                  issue: str | None = None, flags: tuple[str, ...] | None = None, ref: str | None = None,
                  price: str | None = None, currency: str | None = None, diamond_code: str | None = None,
                  publisher: str | None = None, release_date: str | None = None, url: str | None = None,
                  cover_url: str | None = None, category: str | None = None) -> Release:
    """`isbn`/`jan` are already normalized (None when invalid); `code` is the source's own item id.
    ValueError (from `release_id`) when there is no ISBN, JAN, code or series."""
    return Release(
        id=release_id(source, isbn=isbn, jan=jan, item_code=code, series=series, volume=volume, issue=issue),
        source=source,
        title=title,
        series=series or None,
        volume=volume,
        issue=issue,
        flags=edition_flags(title) if flags is None else flags,
        isbn13=isbn,
        jan=jan,
        diamond_code=diamond_code,
        publisher=publisher,
        release_date=release_date,
        price=price,
        currency=currency if price else None,
        url=url,
        cover_url=cover_url,
        source_refs=(f"{source}:{ref}",) if ref is not None else (),
        category=category,
    )


def titled_release(source: str, *, title: str | None, isbn: str | None = None, jan: str | None = None,
                   code: str | None = None, ref: str | None = None, price: str | None = None,
                   currency: str | None = None, diamond_code: str | None = None, publisher: str | None = None,
                   release_date: str | None = None, url: str | None = None, cover_url: str | None = None,
                   category: str | None = None) -> Release:
    """A release whose series, volume and issue are read from its title (crawlers.volumes):
    list pages that print only a title ("SAGA #66", "ONE PIECE 108").
    (Keywords are spelled out, not **kwargs: mypy --strict checks every caller.)"""
    series, volume, issue = extract_numbering(title)
    return build_release(source, title=title, isbn=isbn, jan=jan, code=code, series=series, volume=volume,
                         issue=issue, ref=ref, price=price, currency=currency, diamond_code=diamond_code,
                         publisher=publisher, release_date=release_date, url=url, cover_url=cover_url,
                         category=category)
