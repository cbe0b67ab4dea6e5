"""One release from a mapped record: the generic kinds whose options name a field for each
release attribute (`json` through JMESPath, `table` through columns) build it the same way."""
from __future__ import annotations

from collections.abc import Callable

from ..model import Release
from ..normalize import extract_volume, normalize_isbn, normalize_jan, parse_price
from ._build import build_release


def mapped_release(source: str, field: Callable[[str], str | None], *, release_date: str | None,
                   default_currency: str | None, cover_url: str | None = None) -> Release | None:
    """`field(name)` is the record's text for a release attribute (title, code, isbn, jan, series,
    volume, publisher, price, url). None when the record has no identity at all (no ISBN, JAN,
    code, series or title): the caller decides whether that is a blank row or a shape change."""
    title, code = field("title"), field("code")
    isbn, jan = normalize_isbn(field("isbn")), normalize_jan(field("jan"))
    series, volume = field("series"), field("volume")
    if not series or not volume:
        guessed_series, guessed_volume = extract_volume(title or "")
        series, volume = series or guessed_series or None, volume or guessed_volume
    if not (isbn or jan or code or series):
        return None
    price, currency = parse_price(field("price"), default_currency=default_currency)
    return build_release(
        source, title=title, isbn=isbn, jan=None if isbn else jan, code=code, series=series, volume=volume,
        publisher=field("publisher"), release_date=release_date, price=price, currency=currency,
        url=field("url"), cover_url=cover_url, ref=code,
    )
