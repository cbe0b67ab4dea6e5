"""The local peers serve sample lists dated in the current weeks (issue 12, point 9): a real HTTP
peer on 127.0.0.1, its bodies read by the real parsers."""
from __future__ import annotations

import time
import urllib.request
from datetime import date, timedelta

import pytest

import crawlers
from devstack.peers import ROTATING_WEEKS, Peers
from devstack.samples import read_sample, sample_path
from devstack.shift import shift_dates, weeks_to_shift

PW = ("previewsworld-newreleases-txt", "slem1_comicspreviews-parser__catalog-2020-02-19__23c5b25.txt")
IMAGE = ("publisher-release-html", "exqir__imagecomics_series_nailbiter__396e9c8.html")
TODAY = date.today()
MONDAY = TODAY - timedelta(days=TODAY.weekday())


@pytest.fixture
def peers():
    sample_path(*PW)  # skips when the samples are absent
    p = Peers(rotate_s=60, started=time.time() - 90).start()  # rotation index 1
    yield p
    p.stop()


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as resp:  # 127.0.0.1 only
        return resp.read()


def test_shifted_week_lands_in_this_week_with_every_row(peers):
    raw = crawlers.parse("previewsworld", read_sample(*PW))
    got = crawlers.parse("previewsworld", get(f"{peers.url}/shifted/{'/'.join(PW)}"))
    assert [r.id for r in got] == [r.id for r in raw] and [r.title for r in got] == [r.title for r in raw]
    ship = date.fromisoformat(got[0].release_date)
    assert MONDAY <= ship < MONDAY + timedelta(days=7) and ship.weekday() == 2  # Diamond's Wednesday


def test_shifted_image_page_keeps_its_order_and_ends_this_week(peers):
    raw = crawlers.parse("imagecomics", read_sample(*IMAGE))
    got = crawlers.parse("imagecomics", get(f"{peers.url}/shifted/{'/'.join(IMAGE)}"))
    weeks = weeks_to_shift(read_sample(*IMAGE), TODAY)
    for a, b in zip(raw, got, strict=True):
        assert a.id == b.id
        if a.release_date:
            assert date.fromisoformat(b.release_date) - date.fromisoformat(a.release_date) == timedelta(weeks=weeks)
    newest = max(date.fromisoformat(r.release_date) for r in got if r.release_date)
    assert MONDAY <= newest < MONDAY + timedelta(days=7)


def test_rotating_shifted_list_is_next_week_after_one_rotation(peers):
    got = crawlers.parse("previewsworld", get(f"{peers.url}/rotating-shifted/previewsworld.txt"))
    expected = crawlers.parse("previewsworld", read_sample(*ROTATING_WEEKS[1].split("/")))
    assert {r.id for r in got} == {r.id for r in expected}
    ship = date.fromisoformat(got[0].release_date)
    assert MONDAY + timedelta(days=7) <= ship < MONDAY + timedelta(days=14)


def test_shift_leaves_impossible_dates_alone():
    body = b"New Releases For 2/19/2020\nsee 13/45/2017 and February 30, 2017\n"
    out = shift_dates(body, date(2026, 12, 3))
    assert out.startswith(b"New Releases For 12/2/2026") and b"13/45/2017" in out and b"February 30, 2017" in out
