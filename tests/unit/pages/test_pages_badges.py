from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from chalicelib.pages import badges

SVG = "{http://www.w3.org/2000/svg}"


def _fill_and_texts(svg: str) -> tuple[str, list[str]]:
    root = ET.fromstring(svg)
    rects = root.findall(f"{SVG}g/{SVG}rect")
    return rects[1].get("fill"), [t.text for t in root.iter(f"{SVG}text")]


@pytest.mark.parametrize(("ratio", "colour"), [
    (1.0, "#4c1"), (0.999, "#4c1"), (0.9989, "#97ca00"), (0.99, "#97ca00"), (0.98, "#dfb317"),
    (0.96, "#fe7d37"), (0.5, "#e05d44"), (0.0, "#e05d44"), (None, "#9f9f9f"),
])
def test_uptime_colour_thresholds(ratio, colour):
    assert badges.uptime_colour(ratio) == colour
    fill, _texts = _fill_and_texts(badges.uptime_badge("api", ratio))
    assert fill == colour


def test_uptime_text():
    assert badges.format_uptime(1.0) == "100%"
    assert badges.format_uptime(0.99995) == "99.99%"  # never rounds up to a false 100%
    assert badges.format_uptime(0.9512) == "95.1%"
    assert badges.format_uptime(None) == "no data"


@pytest.mark.parametrize(("state", "colour"), [("UP", "#4c1"), ("DOWN", "#e05d44"), ("DEGRADED", "#dfb317"),
                                              ("MAINTENANCE", "#0550ae"), ("UNKNOWN", "#9f9f9f"), (None, "#9f9f9f")])
def test_status_badge_colours(state, colour):
    fill, texts = _fill_and_texts(badges.status_badge("peers-healthy", state))
    assert fill == colour
    assert texts[0] == "peers-healthy" and texts[-1] == (state or "UNKNOWN").lower()


def test_badge_escapes_text_and_rejects_odd_colours():
    svg = badges.badge('<script>"&', "a&b", 'red"/><script>')
    assert "<script>" not in svg
    root = ET.fromstring(svg)
    assert [t.text for t in root.iter(f"{SVG}text")][1] == '<script>"&'
    assert root.findall(f"{SVG}g/{SVG}rect")[1].get("fill") == badges.GREY


def test_width_grows_with_text():
    assert badges.text_width("") == 0
    assert badges.text_width("iiii") < badges.text_width("mmmm")
    assert badges.text_width("ワンピース") > badges.text_width("abcde")
    short = ET.fromstring(badges.badge("a", "b", "#4c1"))
    long = ET.fromstring(badges.badge("a much longer label", "b", "#4c1"))
    assert int(long.get("width")) > int(short.get("width"))
