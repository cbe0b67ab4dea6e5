"""Shields-like flat SVG badges: `label | value`, the value's background by state or uptime.
Pure; text widths are estimated from per-character Verdana 11px widths (no font metrics)."""
from __future__ import annotations

from html import escape

SVG_TYPE = "image/svg+xml; charset=utf-8"
GREY = "#9f9f9f"
LABEL = "#555"
STATE_COLOURS = {
    "UP": "#4c1", "DEGRADED": "#dfb317", "DOWN": "#e05d44", "MAINTENANCE": "#007ec6", "UNKNOWN": GREY,
}
# (minimum uptime ratio, colour), first match wins
UPTIME_COLOURS = ((0.999, "#4c1"), (0.99, "#97ca00"), (0.97, "#dfb317"), (0.95, "#fe7d37"), (0.0, "#e05d44"))

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
    return int(round(total))


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


def badge(label: str, value: str, colour: str) -> str:
    """A flat badge; label, value and colour are escaped (colour must be `#hex` or a name)."""
    left, right = text_width(label) + 10, text_width(value) + 10
    total = left + right
    colour = colour if all(c.isalnum() or c == "#" for c in colour) else GREY
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
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{left / 2:.1f}" y="15" fill="#010101" fill-opacity=".3">{lab}</text>'
        f'<text x="{left / 2:.1f}" y="14">{lab}</text>'
        f'<text x="{left + right / 2:.1f}" y="15" fill="#010101" fill-opacity=".3">{val}</text>'
        f'<text x="{left + right / 2:.1f}" y="14">{val}</text></g></svg>'
    )


def status_badge(name: str, state: str | None) -> str:
    state = (state or "UNKNOWN").upper()
    return badge(name, state.lower(), STATE_COLOURS.get(state, GREY))


def uptime_badge(name: str, ratio: float | None, window: str = "30d") -> str:
    return badge(f"{name} {window}", format_uptime(ratio), uptime_colour(ratio))


def not_found_badge(name: str) -> str:
    return badge(name, "not found", GREY)
