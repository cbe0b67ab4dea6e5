"""Shields-like flat SVG badges: `label | value`, the value's background by state or uptime.
Pure; text widths are estimated from per-character Verdana 11px widths (no font metrics). The
value's text is white or near-black, whichever contrasts more with its background (WCAG 2.2
relative luminance; every colour here reaches 4.5:1, tests/unit/pages/test_pages_badges.py)."""
from __future__ import annotations

import re
from html import escape

SVG_TYPE = "image/svg+xml; charset=utf-8"
GREY = "#9f9f9f"
LABEL = "#555"
STATE_COLOURS = {
    "UP": "#4c1", "DEGRADED": "#dfb317", "DOWN": "#e05d44", "MAINTENANCE": "#0550ae", "UNKNOWN": GREY, "PENDING": GREY,
}
# (minimum uptime ratio, colour), first match wins
UPTIME_COLOURS = ((0.999, "#4c1"), (0.99, "#97ca00"), (0.97, "#dfb317"), (0.95, "#fe7d37"), (0.0, "#e05d44"))

LIGHT_TEXT, DARK_TEXT = "#fff", "#111"
_HEX = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")

_NARROW = set("iljI.,:;!|'` ")
_SEMI = set("frt()[]{}1/\\-\"")
_WIDE = set("mwMW%@")


def text_width(text: str) -> int:
    """Estimated width in px of `text` at 11px Verdana (wide characters such as CJK count double)."""
    total = 0.0
    for char in text:
        if ord(char) > 0x2E7F:
            total += 11.0
        elif char in _NARROW:
            total += 3.6
        elif char in _SEMI:
            total += 4.9
        elif char in _WIDE:
            total += 10.5
        elif char.isupper():
            total += 7.6
        elif char.isdigit():
            total += 7.0
        else:
            total += 6.8
    return round(total)


def uptime_colour(ratio: float | None) -> str:
    if ratio is None:
        return GREY
    return next(colour for floor, colour in UPTIME_COLOURS if ratio >= floor)


def format_uptime(ratio: float | None) -> str:
    if ratio is None:
        return "no data"
    percent = ratio * 100
    if percent >= 100:
        return "100%"
    return f"{min(percent, 99.99):.2f}%" if percent >= 99 else f"{percent:.1f}%"


def luminance(colour: str) -> float:
    """WCAG 2.2 relative luminance of `#rgb` or `#rrggbb`."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio (1 to 21) of two colours."""
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def text_colour(background: str) -> str:
    """White or near-black text, whichever reads better on `background`."""
    return max((LIGHT_TEXT, DARK_TEXT), key=lambda text: contrast(text, background))


def _texts(x: float, text: str, fill: str) -> str:
    """The text, with shields' 1px drop shadow only under white text (it would blur dark text)."""
    shadow = f'<text x="{x:.1f}" y="15" fill="#010101" fill-opacity=".3" aria-hidden="true">{text}</text>' \
        if fill == LIGHT_TEXT else ""
    return f'{shadow}<text x="{x:.1f}" y="14" fill="{fill}">{text}</text>'


def badge(label: str, value: str, colour: str) -> str:
    """A flat badge; label and value are escaped; `colour` must be `#rgb`/`#rrggbb` (else grey)."""
    left, right = text_width(label) + 10, text_width(value) + 10
    total = left + right
    colour = colour if _HEX.fullmatch(colour) else GREY
    lab, val = escape(label), escape(value)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" aria-label="{lab}: {val}">'
        f"<title>{lab}: {val}</title>"
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="{LABEL}"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{colour}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        '<g text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
        f"{_texts(left / 2, lab, text_colour(LABEL))}{_texts(left + right / 2, val, text_colour(colour))}</g></svg>"
    )


def status_badge(name: str, state: str | None) -> str:
    state = (state or "UNKNOWN").upper()
    return badge(name, state.lower(), STATE_COLOURS.get(state, GREY))


def uptime_badge(name: str, ratio: float | None, window: str = "30d") -> str:
    return badge(f"{name} {window}", format_uptime(ratio), uptime_colour(ratio))


def not_found_badge(name: str) -> str:
    return badge(name[:60], "not found", GREY)  # a path can be long: the badge need not be


def error_badge(label: str, message: str) -> str:
    """A bad request answered in the badge's own format, so an `<img>` shows why."""
    return badge(label[:60], message, "#e05d44")
