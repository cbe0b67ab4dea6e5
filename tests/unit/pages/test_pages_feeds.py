"""Atom/RSS validity (parsed back with ElementTree), escaping, and iCalendar folding/escaping."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from chalicelib.pages import feeds

A = "{http://www.w3.org/2005/Atom}"
BASE = "http://127.0.0.1:8000"
EVIL = {
    "id": "previewsworld:SEP198873", "source": "previewsworld", "title": "<script>alert(1)</script> Rick & Morty",
    "series": "Rick & Morty", "volume": "3", "publisher": "Oni <Press> & Co", "release_date": "2026-11-25",
    "price": "3.99", "currency": "USD", "url": "https://example.com/a?b=1&c=2", "cover_url": None,
    "first_seen": "2026-11-22T23:00Z",
}
PLAIN = {"id": "isbn:9784088845678", "title": "ワンピース 108", "series": "ワンピース", "release_date": "2026-12-04",
         "url": "javascript:alert(1)", "first_seen": "2026-11-20T10:00Z"}


def test_atom_parses_back_with_escaped_text_and_stable_ids():
    body = feeds.atom([EVIL, PLAIN], feed_id="urn:newbooks:feed:releases", title="new & <hot>",
                      self_url=BASE + "/feeds/releases.atom", base_url=BASE)
    assert "<script>" not in body and "&lt;script&gt;" in body
    root = ET.fromstring(body.encode())
    assert root.tag == A + "feed"
    assert root.find(A + "title").text == "new & <hot>"
    assert root.find(A + "updated").text == "2026-11-22T23:00:00Z"  # newest entry, not the wall clock
    entries = root.findall(A + "entry")
    assert [e.find(A + "id").text for e in entries] == ["urn:newbooks:release:previewsworld:SEP198873",
                                                        "urn:newbooks:release:isbn:9784088845678"]
    first = entries[0]
    assert first.find(A + "title").text == "<script>alert(1)</script> Rick & Morty #3"
    assert first.find(A + "link").get("href") == "https://example.com/a?b=1&c=2"
    assert "Oni <Press> & Co" in first.find(A + "summary").text
    # a non-web URL never becomes a link: the API URL is used instead
    assert entries[1].find(A + "link").get("href") == BASE + "/releases/isbn:9784088845678"
    for entry in entries:
        assert entry.find(A + "updated").text.endswith("Z")


def test_atom_is_deterministic_and_drops_xml_forbidden_characters():
    bad = dict(EVIL, title="bell\x07 and form\x0c feed")
    one = feeds.atom([bad], feed_id="x", title="t", self_url="s", base_url=BASE)
    assert one == feeds.atom([bad], feed_id="x", title="t", self_url="s", base_url=BASE)
    assert ET.fromstring(one.encode()).find(f"{A}entry/{A}title").text == "bell and form feed #3"


def test_empty_atom_feed_is_valid():
    root = ET.fromstring(feeds.atom([], feed_id="x", title="t", self_url="s", base_url=BASE,
                                    generated_at=datetime(2026, 1, 2, tzinfo=timezone.utc)).encode())
    assert root.find(A + "updated").text == "2026-01-02T00:00:00Z" and root.find(A + "entry") is None


def test_rss_parses_back():
    root = ET.fromstring(feeds.rss([EVIL, PLAIN], title="T & T", self_url=BASE + "/feeds/releases.rss", base_url=BASE).encode())
    assert root.tag == "rss" and root.get("version") == "2.0"
    items = root.findall("channel/item")
    assert len(items) == 2
    assert items[0].find("title").text.startswith("<script>")
    guid = items[0].find("guid")
    assert guid.text == "urn:newbooks:release:previewsworld:SEP198873" and guid.get("isPermaLink") == "false"
    assert items[0].find("pubDate").text == "Sun, 22 Nov 2026 23:00:00 GMT"
    assert root.find("channel/{http://www.w3.org/2005/Atom}link").get("rel") == "self"


def test_ical_text_escaping():
    assert feeds.ical_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_fold_splits_at_75_octets_without_breaking_utf8():
    line = "SUMMARY:" + "ワンピース" * 20
    folded = feeds.fold(line)
    parts = folded.split("\r\n")
    assert len(parts) > 1
    assert all(len(p.encode()) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == line  # unfolds to the original
    assert feeds.fold("short") == "short"
    ascii_line = "X" * 200
    assert [len(p) for p in feeds.fold(ascii_line).split("\r\n")] == [75, 75, 52]


def test_ical_calendar_events():
    body = feeds.ical([PLAIN, EVIL, dict(EVIL, id="month-only", release_date="2026-12")], name="newbooks: console:",
                      base_url=BASE)
    assert body.endswith("END:VCALENDAR\r\n")
    assert "\n" not in body.replace("\r\n", "")
    lines = body.replace("\r\n ", "").split("\r\n")  # unfold
    assert lines[0] == "BEGIN:VCALENDAR" and "VERSION:2.0" in lines
    assert lines.count("BEGIN:VEVENT") == 2  # the month-only release has no day to put it on
    assert "UID:previewsworld:SEP198873@newbooks" in lines
    assert "DTSTART;VALUE=DATE:20261125" in lines and "DTEND;VALUE=DATE:20261126" in lines
    assert "DTSTAMP:20261122T230000Z" in lines
    summary = next(line for line in lines if line.startswith("SUMMARY:<script>"))
    assert summary == "SUMMARY:<script>alert(1)</script> Rick & Morty #3"
    description = next(line for line in lines if line.startswith("DESCRIPTION:Oni"))
    assert "USD 3.99" in description and "\\;" not in description
    assert "URL:https://example.com/a?b=1&c=2" in lines
    assert not any(line.startswith("URL:javascript") for line in lines)
    # events are in date order: 2026-11-25 before 2026-12-04
    starts = [line for line in lines if line.startswith("DTSTART")]
    assert starts == sorted(starts)
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))


def test_ical_escapes_commas_and_semicolons_in_series():
    body = feeds.ical([dict(PLAIN, title="Spy, Family; vol\\1", series="Spy, Family")], name="n", base_url=BASE)
    unfolded = body.replace("\r\n ", "")
    assert "CATEGORIES:Spy\\, Family" in unfolded
    assert "SUMMARY:Spy\\, Family\\; vol\\\\1" in unfolded
