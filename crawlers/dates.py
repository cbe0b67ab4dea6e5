"""Date parsing: many real shapes in, ISO `YYYY-MM-DD` / `YYYY-MM` out (re-exported by normalize)."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}
_MON = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"

# Order matters: most specific first. (?<!\d) keeps "12/21/2016" from matching as Y-M.
_YMD_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_YM_COMPACT = re.compile(r"^(\d{4})(\d{2})$")
_YMD = re.compile(r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)")
_YM = re.compile(r"(?<!\d)(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})(?![\d/])")
_US = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?!\d)")
_NAMED_MDY = re.compile(r"\b" + _MON + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
_NAMED_DMY = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+" + _MON + r",?\s+(\d{4})\b")
_NAMED_MY = re.compile(r"\b" + _MON + r",?\s+(\d{4})\b")
_JP_MD = re.compile(r"(?<!\d)(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_MD = re.compile(r"^(\d{1,2})/(\d{1,2})$")


def _ymd(y: int, m: int, d: int) -> str | None:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def _ym(y: int, m: int) -> str | None:
    return f"{y:04d}-{m:02d}" if 1 <= m <= 12 and y >= 1000 else None


def _yearless(m: int, d: int, today: date | None, latest: date | None) -> str | None:
    if latest is not None:
        # Lists of past items (episodes): the latest date not after `latest`.
        for y in (latest.year, latest.year - 1):
            if (s := _ymd(y, m, d)) and date.fromisoformat(s) <= latest:
                return s
        return _ymd(latest.year - 2, m, d)  # 29 Feb
    ref = today or date.today()
    candidates = [c for y in (ref.year - 1, ref.year, ref.year + 1) if (c := _ymd(y, m, d))]
    if not candidates:
        return None
    return min(candidates, key=lambda c: abs((date.fromisoformat(c) - ref).days))


def parse_date(s: str | None, *, today: date | None = None, latest: date | None = None) -> str | None:
    """Parse a release date into `YYYY-MM-DD` or `YYYY-MM`; None when there is no usable date.

    Year-less dates (`3/5`, `3月5日`) take the year that puts them nearest to `today`
    (default: the current date, the only clock read here). With `latest`, they instead take the
    most recent date not after `latest`, which is right for lists of already-published episodes.
    A year alone ("2012") is not a release date and gives None.
    """
    if not s:
        return None
    t = unicodedata.normalize("NFKC", s).strip().strip("[]()").strip().lower()
    if m := _YMD_COMPACT.match(t):
        return _ymd(int(m[1]), int(m[2]), int(m[3]))
    if m := _YM_COMPACT.match(t):
        return _ym(int(m[1]), int(m[2]))
    if m := _YMD.search(t):
        return _ymd(int(m[1]), int(m[2]), int(m[3]))
    if m := _US.search(t):
        y = int(m[3])
        if y < 100:  # MM/DD/YY: Diamond-era lists, pivot at 70
            y += 2000 if y < 70 else 1900
        return _ymd(y, int(m[1]), int(m[2]))
    if m := _NAMED_MDY.search(t):
        return _ymd(int(m[3]), _MONTHS[m[1]], int(m[2]))
    if m := _NAMED_DMY.search(t):
        return _ymd(int(m[3]), _MONTHS[m[2]], int(m[1]))
    if m := _YM.search(t):
        return _ym(int(m[1]), int(m[2]))
    if m := _NAMED_MY.search(t):
        return _ym(int(m[2]), _MONTHS[m[1]])
    if m := _JP_MD.search(t) or _MD.match(t):
        return _yearless(int(m[1]), int(m[2]), today, latest)
    return None


def day_after(iso: str) -> date:
    """Upper bound helper for `latest` chains: the date itself for full dates, month end for YYYY-MM."""
    if len(iso) == 10:
        return date.fromisoformat(iso)
    y, m = int(iso[:4]), int(iso[5:7])
    return date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)
