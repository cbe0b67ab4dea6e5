"""Status and releases page renderers: escaping, 90 bars, state classes, cover rules, and the
daily aggregator over hourly rollups + live ticks."""
from __future__ import annotations

from datetime import date, datetime, timezone

from bs4 import BeautifulSoup

from chalicelib.pages import releases_page, status_page
from chalicelib.uptime.rollup import hourly_history
from chalicelib.uptime.tickrow import TickRow
from tests.unit.pages.pages_testkit import hours_of

NOW = datetime(2026, 11, 22, 23, 30, tzinfo=timezone.utc)
TODAY = NOW.date()


def hour(sk: str, passes: int, fails: int = 0, maint: int = 0) -> dict:
    return {"sk": sk, "checks": passes + fails + maint, "passes": passes, "fails": fails, "maint": maint,
            "lat_sum": 0, "lat_max": 0, "hist": [], "expected": 60}


def test_daily_bars_aggregates_hours_into_days_and_adds_unrolled_live_ticks():
    hourly = [hour("2026-11-22T10", 60), hour("2026-11-22T11", 30, 30), hour("2026-11-21T05", 0, 0, 60),
              hour("2026-08-24T00", 60),  # one day before the 90-day window: ignored
              hour("2026-08-25T00", 59, 1)]
    live = [("2026-11-22T11:10", ["f", 5]),  # hour 11 is rolled up already: not counted twice
            ("2026-11-22T23:01", ["o", 5]), ("2026-11-22T23:02", ["f", 5]), ("2026-11-22T23:03", ["m", 0])]
    days = status_page.daily_bars(hours_of(hourly, live), TODAY)
    assert len(days) == 90 and days[0].day == date(2026, 8, 25) and days[-1].day == TODAY
    today = days[-1]
    assert (today.passes, today.fails, today.maintenance) == (91, 31, 1)
    assert today.css == "down"  # 91/122 = 74.6 %
    assert days[-2].uptime is None and days[-2].css == "maint"  # maintenance only: grey
    assert days[-3].css == "none"
    assert days[0].uptime == 59 / 60 and days[0].css == "major"


def test_bar_classes_by_threshold():
    def css(passes, fails):
        d = status_page.Day(TODAY, passes=passes, fails=fails)
        return d.css

    assert css(1000, 0) == "up" and css(999, 1) == "up" and css(995, 5) == "minor"
    assert css(96, 4) == "major" and css(91, 9) == "bad" and css(1, 1) == "down" and css(0, 0) == "none"


def row(name: str, state: str, **extra) -> dict:
    days = status_page.daily_bars(hours_of([hour("2026-11-22T01", 60)]), TODAY)
    return {"name": name, "group": "local", "state": state, "latency_ms": 12, "uptime_24h": 1.0,
            "last_check": "2026-11-22T23:29", "days": days, "incidents": [], **extra}


def test_status_page_rows_bars_states_and_escaping():
    incidents = [{"start": "2026-11-20T01:00", "end": "2026-11-20T01:30", "duration_s": 1800},
                 {"start": "2026-11-22T23:00", "end": None, "duration_s": None}]
    html = status_page.render([row("api", "UP"), row("<script>x</script>&", "DOWN", incidents=incidents)], NOW)
    assert "<script>x" not in html
    soup = BeautifulSoup(html, "html.parser")
    sections = soup.select("section.target")
    assert [s["data-target"] for s in sections] == ["api", "<script>x</script>&"]
    for section in sections:
        assert len(section.select(".bars .bar")) == 90
        assert section.select(".bars .bar")[-1]["class"] == ["bar", "up"]
    down = sections[1]
    assert down["data-state"] == "DOWN" and "state-DOWN" in down.select_one(".state")["class"]
    assert down.select_one(".state").get_text() == "DOWN"
    assert down.select_one(".incident.ongoing") is not None
    assert "30 min" in down.select_one(".incident.resolved").get_text()
    assert soup.select_one("#headline").get_text() == "1 of 2 targets down"
    assert soup.select_one('meta[name="viewport"]') is not None


def test_status_page_without_targets():
    soup = BeautifulSoup(status_page.render([], NOW), "html.parser")
    assert soup.select("section.target") == [] and "No monitoring" in soup.select_one("#headline").get_text()


RELEASE = {"id": "a:1", "title": "<script>alert(1)</script> & Co", "publisher": "P&P", "release_date": "2026-11-25",
           "price": "3.99", "currency": "USD", "url": "https://example.com/x?a=1&b=2",
           "cover_url": "https://img.example.com/c.jpg", "source": "src"}


def test_release_cards_escape_and_cover_only_for_web_urls():
    # five different works (the same title five times would be five editions of one work: one card)
    covers = [RELEASE, dict(RELEASE, id="a:2", cover_url="javascript:alert(1)", work="w2"),
              dict(RELEASE, id="a:3", cover_url="data:image/png;base64,AAAA", work="w3"),
              dict(RELEASE, id="a:4", cover_url=None, work="w4"),
              dict(RELEASE, id="a:5", cover_url='https://x/"onerror="alert(1)', work="w5")]
    html = releases_page.render(covers, [], [], start=date(2026, 11, 23), today=TODAY, generated_at=NOW)
    assert "<script>alert" not in html and "javascript:" not in html
    soup = BeautifulSoup(html, "html.parser")
    cards = soup.select("#this-week article.card")
    assert len(cards) == 5
    imgs = soup.select("img")
    assert len(imgs) == 1 and imgs[0]["loading"] == "lazy" and imgs[0]["src"] == "https://img.example.com/c.jpg"
    assert cards[0].select_one(".card-title").get_text() == "<script>alert(1)</script> & Co"
    assert cards[0].select_one("a.card-title")["href"] == "https://example.com/x?a=1&b=2"
    assert soup.select_one("#next-week .empty") is not None


def test_release_cards_without_cover_images_show_placeholders():
    html = releases_page.render([RELEASE], [], [RELEASE], start=date(2026, 11, 23), today=TODAY, generated_at=NOW,
                                covers=False)
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.select("img") and "img.example.com" not in html
    assert len(soup.select(".cover.placeholder span")) == 2


def test_releases_page_weeks_and_navigation():
    assert releases_page.week_start(date(2026, 11, 22)) == date(2026, 11, 16)  # a Sunday -> its Monday
    html = releases_page.render([], [RELEASE], [RELEASE], start=date(2026, 11, 25), today=TODAY, generated_at=NOW)
    soup = BeautifulSoup(html, "html.parser")
    assert "Nov 23" in soup.select_one("#this-week h2").get_text()
    assert "Nov 30" in soup.select_one("#next-week h2").get_text()
    hrefs = [a["href"] for a in soup.select("nav.weeknav a")]
    assert "?week=2026-11-16" in hrefs and "?week=2026-11-30" in hrefs
    assert len(soup.select("#recent article.card")) == 1


def test_releases_page_pages_the_week_in_html():
    many = [dict(RELEASE, id=f"a:{n}", work=f"w{n}") for n in range(releases_page.MAX_CARDS + 5)]
    first = BeautifulSoup(releases_page.render(many, many, [], start=TODAY, today=TODAY, generated_at=NOW), "html.parser")
    assert len(first.select("#this-week article.card")) == releases_page.MAX_CARDS
    pager = first.select_one("#this-week nav.pager")
    assert pager["aria-label"].startswith("Pages of This week")
    assert pager.select_one("[aria-current=page]").get_text() == "1"
    assert pager.select_one("a[rel=next]")["href"] == "?week=2026-11-16&page=2"
    assert "page 1 of 2" in first.select_one("#this-week h2").get_text()
    # next week shows one page and links to its own week, in HTML (no JSON detour)
    assert len(first.select("#next-week article.card")) == releases_page.MAX_CARDS
    rest = first.select_one("#next-week p.muted a")
    assert "and 5 more" in first.select_one("#next-week").get_text() and rest["href"] == "?week=2026-11-23&page=2"

    second = BeautifulSoup(releases_page.render(many, [], [], start=TODAY, today=TODAY, generated_at=NOW, page=2,
                                                extra={"category": "all"}), "html.parser")
    ids = [c["data-id"] for c in second.select("#this-week article.card")]
    assert len(ids) == 5 and not set(ids) & {c["data-id"] for c in first.select("#this-week article.card")}
    assert second.select_one("#this-week a[rel=prev]")["href"] == "?week=2026-11-16&category=all"
    assert second.select_one("nav.weeknav a")["href"] == "?week=2026-11-09&category=all"  # category kept


def test_a_real_week_pages_by_publisher_and_every_card_once():
    import crawlers
    from devstack.samples import read_sample

    week = [r.to_dict() for r in crawlers.parse("previewsworld", read_sample(
        "previewsworld-newreleases-txt", "slem1_comicspreviews-parser__catalog-2020-02-19__23c5b25.txt"))
        if r.category != "merchandise"]
    works = releases_page.collapse(week)
    last = releases_page.pages_of(len(works))
    assert last == 3  # 225 cards, 96 a page
    seen, publishers = [], []
    for n in range(1, last + 1):
        soup = BeautifulSoup(releases_page.render(week, [], [], start=TODAY, today=TODAY, generated_at=NOW, page=n),
                             "html.parser")
        seen += [c["data-id"] for c in soup.select("#this-week article.card")]
        publishers += [h.contents[0].strip() for h in soup.select("#this-week h3.publisher")]
        for h in soup.select("#this-week h3.publisher"):
            group = h.find_next_sibling("div", class_="cards")
            assert int(h.select_one(".muted").get_text().strip("()")) == len(group.select("article.card"))
    assert sorted(seen) == sorted(str(w["id"]) for w in works)  # every card on exactly one page
    # publishers stay in one run across pages (a group may continue at the top of the next page)
    runs = [p for i, p in enumerate(publishers) if i == 0 or publishers[i - 1] != p]
    assert len(runs) == len(set(runs))


def test_variants_of_one_issue_are_one_card_listing_its_editions():
    import crawlers
    from devstack.samples import read_sample

    week = [r.to_dict() for r in crawlers.parse("previewsworld", read_sample(
        "previewsworld-newreleases-txt", "slem1_comicspreviews-parser__catalog-2020-02-19__23c5b25.txt"))
        if r.category != "merchandise"]
    soup = BeautifulSoup(releases_page.render(week, [], [], start=TODAY, today=TODAY, generated_at=NOW), "html.parser")
    count = int(soup.select_one("#this-week h2 .muted").get_text().strip("()"))
    assert count < 0.7 * len(week)  # one card per work
    pages = [BeautifulSoup(releases_page.render(week, [], [], start=TODAY, today=TODAY, generated_at=NOW, page=n),
                           "html.parser") for n in range(1, releases_page.pages_of(count) + 1)]
    amalgama = [c for p in pages for c in p.select("#this-week article.card") if "AMALGAMA SPACE ZOMBIE #3" in c.get_text()]
    assert len(amalgama) == 1
    labels = [li.get_text() for li in amalgama[0].select("details.editions li")]
    assert labels[0] == "CVR A YOUNG" and "CVR F STANLEY RISQUE" in labels and len(labels) == 6
    # grouped by publisher, biggest first; every card sits under its publisher's heading
    headings = [h.contents[0].strip() for h in soup.select("#this-week h3.publisher")]
    assert len(headings) == len(set(headings)) and headings[:2] == ["MARVEL COMICS", "DC COMICS"]
    assert len({h.contents[0].strip() for p in pages for h in p.select("#this-week h3.publisher")}) > 5
    for h in soup.select("#this-week h3.publisher"):
        group = h.find_next_sibling("div", class_="cards")
        assert int(h.select_one(".muted").get_text().strip("()")) == len(group.select("article.card"))


def test_day_items_give_the_same_bars_as_hourly_items():
    day_items = [{"pk": "DAY#api", "sk": "2026-11-22", "h10": [60, 0, 0, 60], "h11": [30, 30, 0, 60], "expires_at": 1},
                 {"pk": "DAY#api", "sk": "2026-11-21", "h05": [0, 0, 60, 60]}]
    hourly = [hour("2026-11-22T10", 60), hour("2026-11-22T11", 30, 30), hour("2026-11-21T05", 0, 0, 60)]
    live = [("2026-11-22T11:10", ["f", 5]), ("2026-11-22T23:01", ["o", 5])]
    from_days = status_page.daily_bars(hourly_history(day_items, [(m, TickRow.from_stored(r)) for m, r in live]), TODAY)
    assert from_days == status_page.daily_bars(hours_of(hourly, live), TODAY)
    assert from_days[-1].passes == 91 and from_days[-2].css == "maint"
