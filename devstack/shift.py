"""Sample lists with their dates moved to the current weeks, for the local stack (issue 12, point 9).

The shared samples are dated 2012-2022, so `today`, `week`, `next`, the feeds and the releases page
would be empty locally. The peers serve `/shifted/...` copies whose dates are moved by a whole
number of weeks (weekdays stay: Diamond ships on Wednesdays), so that the newest date of the body
lands in the target week: this week (offset 0) or later. Only the date spellings the release lists
use are rewritten: Diamond's `M/D/YYYY` header and Image Comics' `Month D, YYYY`. Pure.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_SLASH = re.compile(rb"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_WORDS = re.compile(rb"\b(" + b"|".join(m.encode() for m in _MONTHS) + rb") (\d{1,2}), (\d{4})\b")


def _dates(body: bytes) -> list[date]:
    found = []
    for m in _SLASH.finditer(body):
        try:
            found.append(date(int(m[3]), int(m[1]), int(m[2])))
        except ValueError:
            pass
    for m in _WORDS.finditer(body):
        try:
            found.append(date(int(m[3]), _MONTHS.index(m[1].decode()) + 1, int(m[2])))
        except ValueError:
            pass
    return found


def weeks_to_shift(body: bytes, today: date, offset_weeks: int = 0) -> int:
    """Whole weeks that move the body's newest date into the week `offset_weeks` after today's."""
    found = _dates(body)
    if not found:
        return 0
    newest = max(found)
    target = today - timedelta(days=today.weekday()) + timedelta(days=newest.weekday(), weeks=offset_weeks)
    return (target - newest).days // 7


def shift_dates(body: bytes, today: date, offset_weeks: int = 0) -> bytes:
    """The body with every `M/D/YYYY` and `Month D, YYYY` date moved by the same whole weeks."""
    delta = timedelta(weeks=weeks_to_shift(body, today, offset_weeks))

    def slash(m: re.Match[bytes]) -> bytes:
        try:
            d = date(int(m[3]), int(m[1]), int(m[2])) + delta
        except ValueError:
            return m[0]
        return f"{d.month}/{d.day}/{d.year}".encode()

    def words(m: re.Match[bytes]) -> bytes:
        try:
            d = date(int(m[3]), _MONTHS.index(m[1].decode()) + 1, int(m[2])) + delta
        except ValueError:
            return m[0]
        return f"{_MONTHS[d.month - 1]} {d.day}, {d.year}".encode()

    return _WORDS.sub(words, _SLASH.sub(slash, body))
