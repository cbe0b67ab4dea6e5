"""Accessibility rules the renderers keep (axe-core and the Nu checker run on the real pages in
tests/e2e/test_pages_a11y.py): a text alternative and a non-colour cue for the 90-day bars, no
self-reload, headings and labelled landmarks, lang="ja", contrast-picked badge text, dark mode."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import pytest
from bs4 import BeautifulSoup

from chalicelib.pages import badges, releases_page, status_page, template

NOW = datetime(2026, 11, 22, 23, 30, tzinfo=timezone.utc)
TODAY = NOW.date()
SVG = "{http://www.w3.org/2000/svg}"


def hour(sk: str, passes: int, fails: int = 0) -> dict:
    return {"sk": sk, "checks": passes + fails, "passes": passes, "fails": fails, "maint": 0}


def status_html(name: str = "api") -> BeautifulSoup:
    hourly = [hour("2026-11-22T01", 60), hour("2026-11-21T01", 50, 10), hour("2026-11-20T01", 59, 1),
              hour("2026-11-19T01", 1000, 0)]
    row = {"name": name, "group": "local", "state": "MAINTENANCE", "latency_ms": 3, "uptime_24h": 1.0,
           "days": status_page.daily_bars(hourly, [], TODAY), "incidents": []}
    return BeautifulSoup(status_page.render([row], NOW), "html.parser")


def test_bars_have_a_text_alternative_with_the_bad_days_worst_first():
    soup = status_html()
    bars = soup.select_one(".bars")
    assert bars["role"] == "img"
    label = bars["aria-label"]
    assert "90 days" in label and "2 below" in label and "2 days at or above 99.9%" in label and "86 without data" in label
    bad = soup.select(".bad-days li")
    assert [li["data-day"] for li in bad] == ["2026-11-21", "2026-11-20"]  # 83.3 % before 98.3 %
    assert bad[0].get_text() == "2026-11-21: 83.33%"
    assert "2 days below 99.9%" in soup.select_one(".bad-days summary").get_text()


def test_no_bad_day_says_so():
    row = {"name": "web", "state": "UP", "days": status_page.daily_bars([hour("2026-11-22T01", 60)], [], TODAY)}
    soup = BeautifulSoup(status_page.render([row], NOW), "html.parser")
    assert soup.select(".bad-days li") == [] and "No day below" in soup.select_one(".bad-days").get_text()


def test_bars_differ_by_height_not_only_colour():
    heights = {}
    for css in ("up", "minor", "major", "bad", "down", "none"):
        found = re.search(r"\.bar\." + css + r"\{[^}]*height:(\d+)%", template.STYLE) if css != "none" else \
            re.search(r"\.bar\{[^}]*height:(\d+)%", template.STYLE)
        assert found, css
        heights[css] = int(found.group(1))
    assert heights["up"] > heights["minor"] > heights["major"] > heights["bad"] > heights["down"] > heights["none"]


def test_status_page_never_reloads_itself_and_refresh_is_opt_in():
    soup = status_html()
    assert soup.select('meta[http-equiv="refresh"]') == []
    control = soup.select_one("#refresh-control")
    assert control.has_attr("hidden")  # shown by the script only, so it never shows without JavaScript
    box = control.select_one("input[type=checkbox]")
    assert box is not None and not box.has_attr("checked") and box.find_parent("label") is not None
    assert control.select_one('[role="status"]') is not None  # says when it refreshed, politely
    script = soup.select("script")[-1].get_text()
    assert "fetch(location.pathname" in script and "localStorage" in script and "location.reload" not in script


def test_headings_and_labelled_landmarks():
    soup = status_html("サイト")
    assert [h.name for h in soup.select("h1")] == ["h1"]
    section = soup.select_one("section.target")
    heading = section.select_one("h2")
    assert section["aria-labelledby"] == heading["id"] and "サイト" in heading.get_text()
    assert heading.select_one(".target-name")["lang"] == "ja"
    releases = BeautifulSoup(releases_page.render([{"id": "a", "title": "ワンピース 110", "publisher": "集英社"}], [], [],
                                                  start=TODAY, today=TODAY, generated_at=NOW), "html.parser")
    for soup_ in (soup, releases):
        navs = soup_.select("nav")
        labels = [n.get("aria-label") for n in navs]
        assert all(labels) and len(set(labels)) == len(labels), labels
        assert soup_.select_one("header nav a[aria-current=page]") is not None
    card = releases.select_one("#this-week article.card")
    assert card.select_one("h3").get_text() == "ワンピース 110" and card.select_one("h3")["lang"] == "ja"
    assert card.select_one('.muted[lang="ja"]').get_text() == "集英社"
    assert [h.name for h in releases.select("h1, h2")][:3] == ["h1", "h2", "h2"]


@pytest.mark.parametrize(("text", "lang"), [("ワンピース", ' lang="ja"'), ("進撃の巨人", ' lang="ja"'),
                                            ("ｶﾀｶﾅ", ' lang="ja"'), ("Saga #12", ""), ("", "")])
def test_lang_attr(text, lang):
    assert template.lang_attr(text) == lang


def test_layout_has_dark_mode_favicon_and_no_refresh():
    html = template.layout("t", "<h1>t</h1>")
    assert "@media (prefers-color-scheme:dark)" in html and 'name="color-scheme"' in html
    assert '<link rel="icon" href="/favicon.ico"' in html and "http-equiv" not in html
    assert ET.fromstring(template.FAVICON).tag == f"{SVG}svg"


def test_error_page():
    soup = BeautifulSoup(template.error_page(400, "Bad week", "'week' <must> be"), "html.parser")
    assert soup.select_one("h1").get_text() == "Bad week" and "'week' <must> be" in soup.select_one("main").get_text()


ALL_COLOURS = sorted({*badges.STATE_COLOURS.values(), *(c for _, c in badges.UPTIME_COLOURS), badges.GREY, badges.LABEL})


@pytest.mark.parametrize("colour", ALL_COLOURS)
def test_badge_text_reaches_4_5_to_1_on_every_colour(colour):
    assert badges.contrast(badges.text_colour(colour), colour) >= 4.5


def test_contrast_and_text_choice():
    assert badges.contrast("#fff", "#000") == pytest.approx(21.0)
    assert badges.contrast("#fff", "#4c1") == pytest.approx(2.12, abs=0.01)  # what the issue measured
    assert badges.text_colour("#4c1") == badges.DARK_TEXT and badges.text_colour("#555") == badges.LIGHT_TEXT


def test_badge_uses_the_picked_text_colour():
    root = ET.fromstring(badges.uptime_badge("api", 1.0))
    texts = [t for t in root.iter(f"{SVG}text") if t.get("aria-hidden") != "true"]
    assert [t.get("fill") for t in texts] == [badges.LIGHT_TEXT, badges.DARK_TEXT]  # label on grey, value on green
    assert ET.fromstring(badges.error_badge("api uptime", "window: 24h")).get("aria-label") == "api uptime: window: 24h"


def test_badges_for_long_or_odd_names_stay_small():
    svg = ET.fromstring(badges.not_found_badge("x" * 5000))
    assert int(svg.get("width")) < 600
    assert int(ET.fromstring(badges.error_badge("y" * 5000 + " uptime", "window: 24h")).get("width")) < 700


def test_coloured_bars_reach_3_to_1_against_the_card_in_both_schemes():
    light = dict(re.findall(r"--(\w+):(#[0-9a-f]{3,6})", template.STYLE.split("@media")[0]))
    dark = {**light, **dict(re.findall(r"--(\w+):(#[0-9a-f]{3,6})", template.STYLE.split("prefers-color-scheme:dark")[1].split("}}")[0]))}
    for scheme in (light, dark):
        for name in ("up", "minor", "major", "bad", "down"):
            assert badges.contrast(scheme[name], scheme["card"]) >= 3.0, (name, scheme[name], scheme["card"])
