"""The status and releases pages in a real browser: the local stack runs as a subprocess,
headless Chromium (Debian's `chromium`, installed by `make test`) loads the pages, the test checks
the rendered DOM (rows, 90 bars, states matching /status, release cards) and saves screenshots to
artifacts/screenshots/ (phone 390x844 and desktop 1280x900) for CI to keep.

Every Chromium run goes through `NetGuard` (tests/e2e/netguard.py): requests to any host but
127.0.0.1 are refused and counted, and each page test asserts the count is 0.

Accessibility: Playwright drives the same Debian Chromium (no browser download) to run axe-core
on the status page, the busiest releases week (hundreds of items), an error page, the badges and
the favicon at phone and desktop sizes in light and dark mode; the Nu HTML checker (vnu.jar, Java)
reads the same bodies as served. Both tools come from npm into .tools/ (`make test`, target a11y).

Without Chromium the test skips locally and FAILS under CI=true."""
from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.e2e.netguard import NetGuard
from tests.e2e.stack import BOOTING, PAGES_ROTATE_S, REPORT, wait_for

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
PHONE, DESKTOP = (390, 844), (1280, 900)
COLOURED = {"up", "minor", "major", "bad", "down"}
pytestmark = [pytest.mark.e2e, BOOTING]  # may wait for a stack to boot (tests/e2e/stack.py)


def _chromium() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    message = "chromium not found: `make test` installs it (apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # a loaded machine answers slowly
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _json(url: str) -> dict:
    status, _, body = _get(url)
    assert status == 200, (url, status, body[:300])
    return json.loads(body)


class Browser:
    def __init__(self, binary: str, profile: Path, guard: NetGuard):
        self.binary, self.profile, self.guard = binary, profile, guard

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        self.profile.mkdir(parents=True, exist_ok=True)
        command = [self.binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   "--hide-scrollbars", f"--user-data-dir={self.profile}", *self.guard.chromium_args(), *args]
        return subprocess.run(command, capture_output=True, timeout=90, env={**os.environ, "HOME": str(self.profile)})

    def dom(self, url: str) -> BeautifulSoup:
        done = self._run("--dump-dom", url)
        assert done.returncode == 0 and done.stdout, done.stderr.decode(errors="replace")[-2000:]
        return BeautifulSoup(done.stdout.decode(), "html.parser")

    def screenshot(self, url: str, path: Path, size: tuple[int, int]) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        done = self._run(f"--screenshot={path}", f"--window-size={size[0]},{size[1]}", url)
        assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"no PNG written to {path}"
        return path


@pytest.fixture(scope="module")
def guard():
    running = NetGuard()
    yield running
    running.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory, guard) -> Browser:
    return Browser(_chromium(), tmp_path_factory.mktemp("chromium") / "profile", guard)


@pytest.fixture
def offline(guard):
    """Fails the test if the browser tried to reach anything but 127.0.0.1."""
    guard.clear()
    yield guard
    tried = guard.page_attempts()
    REPORT["browser-offline"] = (f"browser requests off 127.0.0.1 (all refused): pages {len(tried)}, "
                                 f"Chromium's own services {len(guard.browser_attempts())}")
    assert tried == [], f"a page tried {len(tried)} request(s) off this machine: {tried}"


def test_browser_cannot_leave_this_machine(browser, guard, tmp_path):
    """The guard bites: a local page that links images on outside hosts (reserved .invalid names,
    which no resolver answers) gets them refused and counted, and the loopback page still loads."""
    import http.server
    import threading

    page = (b'<!doctype html><title>t</title><p id="here">local</p>'
            b'<img src="http://covers.example.invalid/a.png" alt="a"><img src="https://cdn.example.invalid/b.png" alt="b">')

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    guard.clear()
    try:
        soup = browser.dom(f"http://127.0.0.1:{server.server_address[1]}/")
    finally:
        server.shutdown()
    assert soup.select_one("#here").get_text() == "local"
    tried = guard.page_attempts()
    assert any("covers.example.invalid" in a for a in tried) and any("cdn.example.invalid" in a for a in tried), tried
    guard.clear()


@pytest.fixture
def stack(shared_stack) -> str:
    """The session's local stack (tests/e2e/conftest.py: up, releases crawled, every target
    checked). Read per test: test_local_stack restarts it on a new port."""
    if shared_stack.stack.proc.poll() is not None:  # a failed test_local_stack left it stopped
        shared_stack.restart()
    elif shared_stack.rotate_s != PAGES_ROTATE_S:  # one week an hour so far: a restart moves it on
        assert shared_stack.stop() == 0
        shared_stack.restart()
    return shared_stack.base


def _states(url: str) -> dict[str, str]:
    return {t["name"]: t["state"] for t in _json(url + "/status")["targets"]}


def test_status_page_in_chromium(stack, browser, offline):
    # states move while the stack runs (peers-down turns DOWN after its failure threshold): the
    # rendered page must match a /status snapshot taken right before or right after it
    today = _json(stack + "/status")["generated_at"][:10]
    for _attempt in range(5):
        before = _states(stack)
        soup = browser.dom(stack + "/pages/status")
        after = _states(stack)
        rows = soup.select("section.target")
        rendered = {row["data-target"]: row["data-state"] for row in rows}
        if rendered in (before, after):
            break
    assert rendered in (before, after), (rendered, before, after)
    assert len(rows) == len(before) >= 4
    assert {"peers-healthy", "peers-down", "peers-slow", "peers-flaky"} <= set(rendered)
    for row in rows:
        name = row["data-target"]
        bars = row.select(".bars > .bar")
        assert len(bars) == 90, name
        days = [bar["data-day"] for bar in bars]
        assert days == sorted(days) and days[-1] >= today, (name, days[-1], today)  # oldest first, ends today (UTC)
        assert date.fromisoformat(days[-1]) - date.fromisoformat(days[0]) == timedelta(days=89)
        state = row.select_one(".state")
        assert state.get_text(strip=True) == rendered[name]
        assert f"state-{rendered[name]}" in state["class"]
        assert row.select_one(".latency b").get_text(strip=True).endswith("ms"), name
        if rendered[name] != "MAINTENANCE":  # today's bar comes from the live ticks
            assert set(bars[-1]["class"]) & COLOURED, (name, bars[-1]["class"])
        assert row.select_one(".incidents, .incidents-none") is not None
    headline = soup.select_one("#headline").get_text()
    assert headline and soup.select_one('meta[name="viewport"]') is not None

    browser.screenshot(stack + "/pages/status", SCREENSHOTS / "status-phone.png", PHONE)
    browser.screenshot(stack + "/pages/status", SCREENSHOTS / "status-desktop.png", DESKTOP)


def test_releases_page_in_chromium(stack, browser, offline):
    seen = _json(stack + "/releases?limit=50")["releases"]
    dated = next(r for r in seen if len(r.get("release_date") or "") == 10)
    day = date.fromisoformat(dated["release_date"])
    monday = day - timedelta(days=day.weekday())
    url = f"{stack}/pages/releases?week={monday.isoformat()}"

    soup = browser.dom(url)
    cards = soup.select("#this-week article.card")
    assert cards, soup.select_one("#this-week")
    for card in cards:
        assert card["data-id"]
        assert card.select_one(".card-title").get_text(strip=True)
        assert card.select_one(".cover img, .cover span") is not None
        shown = next(s.get_text() for s in card.select(".card-body span") if s.get_text()[:4].isdigit())
        assert monday.isoformat() <= shown[:10] <= (monday + timedelta(days=6)).isoformat()
    # the local stack sets NEWBOOKS_COVER_IMAGES=off: sample covers live on publishers' CDNs
    assert not soup.select("img"), [img.get("src") for img in soup.select("img")][:3]
    assert soup.select_one("#next-week") is not None
    assert soup.select("#recent article.card"), "the last 7 days' releases (by_seen) are listed"
    assert len(soup.select("nav.weeknav a")) >= 2  # previous, (this week,) next

    this_week = browser.dom(stack + "/pages/releases")
    assert this_week.select("#recent article.card") and this_week.select_one("#this-week h2")

    browser.screenshot(url, SCREENSHOTS / "releases-phone.png", PHONE)
    browser.screenshot(url, SCREENSHOTS / "releases-desktop.png", DESKTOP)


def test_feeds_and_badges_over_http(stack):
    status, headers, body = _get(stack + "/feeds/releases.atom")
    assert status == 200 and headers["Content-Type"].startswith("application/atom+xml")
    entries = ET.fromstring(body).findall("{http://www.w3.org/2005/Atom}entry")
    assert entries
    again = _get(stack + "/feeds/releases.atom", {"If-None-Match": headers["ETag"]})
    assert again[0] in (200, 304)  # 304 unless a crawl landed in between
    status, headers, body = _get(stack + "/feeds/releases.rss")
    assert status == 200 and ET.fromstring(body).find("channel/item") is not None
    status, headers, body = _get(stack + "/feeds/console:/upcoming.ics")
    assert status == 200 and headers["Content-Type"].startswith("text/calendar")
    assert body.startswith(b"BEGIN:VCALENDAR\r\n")
    status, headers, body = _get(stack + "/feeds/console:/releases.atom")
    assert status == 200 and ET.fromstring(body).tag == "{http://www.w3.org/2005/Atom}feed"
    assert _get(stack + "/feeds/nowhere/releases.atom")[0] == 400
    for kind in ("status", "uptime"):
        status, headers, body = _get(f"{stack}/badges/peers-healthy/{kind}.svg")
        assert status == 200 and headers["Content-Type"].startswith("image/svg+xml"), (kind, status)
        assert ET.fromstring(body).tag == "{http://www.w3.org/2000/svg}svg"
        assert "max-age" in headers["Cache-Control"] and headers["ETag"]
    assert _get(stack + "/badges/no-such-target/status.svg")[0] == 404
    # HEAD through `chalice local`: same status and type as GET, no body
    for path in ("/pages/status", "/pages/releases?fbclid=x", "/badges/peers-healthy/uptime.svg?v=2",
                 "/feeds/releases.atom", "/favicon.ico"):
        request = urllib.request.Request(stack + path, method="HEAD")
        with urllib.request.urlopen(request, timeout=20) as response:
            assert response.status == 200 and response.read() == b"", path
            assert response.headers["Content-Type"] == _get(stack + path)[1]["Content-Type"], path


# --- accessibility: axe-core in Chromium and the Nu HTML checker, on real pages --------------

TOOLS = ROOT / ".tools" / "node_modules"
AXE = TOOLS / "axe-core" / "axe.min.js"
VNU = TOOLS / "vnu-jar" / "build" / "dist" / "vnu.jar"
# WCAG 2.0/2.1/2.2 A and AA rules plus axe's best practices (landmarks, headings, region)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return {passes: result.passes.length, violations: result.violations.map(v => ({
    id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + ": " + (n.failureSummary || ""))}))};
}"""
BUSY_WEEK_MIN = 200  # "a releases week with hundreds of items"


def _tool(path: Path) -> Path:
    if path.exists():
        return path
    message = f"{path.relative_to(ROOT)} missing: `make test` installs it (Makefile target a11y)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def pw_browser(guard):
    """Playwright drives Debian's Chromium (executable_path: Playwright downloads no browser),
    through the same refusing proxy as every other browser here."""
    playwright = pytest.importorskip("playwright.sync_api")
    binary = _chromium()
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=binary, args=["--no-sandbox", "--disable-gpu", "--disable-quic",
                                                                       "--disable-component-update", *guard.chromium_args()])
        yield browser
        browser.close()


def _busy_week(stack: str) -> tuple[str, int]:
    """The Monday of the week with the most releases in the local stack (every release, paged)."""
    counts: dict[str, int] = {}
    cursor = ""
    for _ in range(50):
        page = _json(f"{stack}/releases?limit=200" + (f"&cursor={cursor}" if cursor else ""))
        for release in page["releases"]:
            text = str(release.get("release_date") or "")
            if len(text) == 10:
                day = date.fromisoformat(text)
                monday = (day - timedelta(days=day.weekday())).isoformat()
                counts[monday] = counts.get(monday, 0) + 1
        cursor = page.get("next_cursor") or ""
        if not cursor:
            break
    return max(counts.items(), key=lambda kv: kv[1])


@functools.cache  # once settled it stays the busiest: three tests share one wait (each took ~20-60 s)
def _full_week(stack: str) -> tuple[str, int]:
    """The busiest week once it has hundreds of releases and stopped growing for 5 s (the crawl
    may still be storing a big sample)."""
    seen: list[tuple[str, int]] = []

    def settled() -> tuple[str, int] | None:
        seen.append(_busy_week(stack))
        if len(seen) >= 2 and seen[-1] == seen[-2] and seen[-1][1] >= BUSY_WEEK_MIN:
            return seen[-1]
        time.sleep(4)
        return None

    return wait_for(settled, 240, f"a week with {BUSY_WEEK_MIN}+ releases, no longer growing")


def _checked_urls(stack: str) -> list[tuple[str, int]]:
    week, count = _full_week(stack)
    REPORT["a11y-week"] = f"releases week checked: {week} with {count} releases"
    return [("/pages/status", 200), (f"/pages/releases?week={week}", 200), ("/pages/releases", 200),
            ("/pages/releases?week=9999-12-31&utm_source=x", 400),
            ("/badges/peers-healthy/status.svg", 200), ("/badges/peers-down/uptime.svg?v=2", 200),
            ("/badges/peers-healthy/uptime.svg?window=1y", 400), ("/badges/no-such-target/status.svg", 404)]


def test_pages_and_badges_pass_axe_core_at_phone_and_desktop_sizes_light_and_dark(stack, pw_browser, offline):
    axe = _tool(AXE)
    urls = _checked_urls(stack)
    checked, violations, failed_loads = 0, [], []
    # Every page at both sizes and in both schemes, not the full cross product: the stylesheet's
    # two media queries are independent (chalicelib/pages/template.py: `max-width` changes layout
    # only, `prefers-color-scheme` colours only; the badges have neither), so phone+light and
    # desktop+dark load each page under each layout and each palette once, half the loads of 2x2.
    for (width, height), scheme in ((PHONE, "light"), (DESKTOP, "dark")):
        context = pw_browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
        context.add_init_script(path=str(axe))  # before any page script; works in SVG documents too
        page = context.new_page()
        page.set_default_navigation_timeout(90_000)  # Playwright's 30 s: a busy week on moto under load takes longer
        page.on("response", lambda r: r.status >= 400 and r.request.resource_type != "document"
                and failed_loads.append(f"{r.status} {r.url}"))
        for path, status in urls:
            answer = page.goto(stack + path)
            assert answer.status == status, (path, answer.status)
            result = page.evaluate(AXE_RUN, AXE_TAGS)
            assert result["passes"] > 5, (path, result)  # axe really ran on the document
            violations += [(f"{width}x{height} {scheme} {path}", v) for v in result["violations"]]
            checked += 1
        context.close()
    REPORT["a11y-axe"] = f"axe-core {len(violations)} violations on {checked} page loads (phone+desktop, light+dark)"
    assert violations == [], json.dumps(violations, indent=1, ensure_ascii=False)[:6000]
    assert failed_loads == []  # no missing favicon, script or image


def test_pages_and_badges_pass_the_nu_html_checker(stack, tmp_path):
    """vnu.jar (the W3C Nu checker) on the HTML and SVG bodies exactly as served: 0 errors and 0
    warnings."""
    vnu = _tool(VNU)
    java = shutil.which("java") or pytest.fail("java not found: `make test` installs default-jre-headless")
    files = []
    for n, (path, status) in enumerate([*_checked_urls(stack), ("/favicon.ico", 200)]):
        got, headers, body = _get(stack + path)
        assert got == status, (path, got)
        suffix = ".svg" if headers["Content-Type"].startswith("image/svg+xml") else ".html"
        files.append(tmp_path / f"{n:02d}{suffix}")
        files[-1].write_bytes(body)
    done = subprocess.run([java, "-jar", str(vnu), "--format", "json", "--also-check-svg", *map(str, files)],
                          capture_output=True, timeout=240)
    messages = json.loads(done.stderr or done.stdout)["messages"]
    problems = [m for m in messages if m.get("type") != "info" or m.get("subType") == "warning"]
    REPORT["a11y-vnu"] = f"Nu HTML checker: {len(problems)} errors/warnings in {len(files)} documents"
    assert problems == [], json.dumps(problems, indent=1, ensure_ascii=False)[:6000]
    assert {f.suffix for f in files} == {".html", ".svg"}


def test_status_refresh_is_opt_in_and_keeps_the_page(stack, pw_browser, offline):
    """Ticking the box refreshes the targets in place (no navigation: a marker on `window`
    survives) and says so in the polite live region; nothing refreshes without it."""
    context = pw_browser.new_context(viewport={"width": DESKTOP[0], "height": DESKTOP[1]})
    page = context.new_page()
    page.goto(stack + "/pages/status")
    page.evaluate("window.__kept = 1")
    box = page.get_by_label("Refresh every minute")
    assert box.is_visible() and not box.is_checked()
    box.check()
    page.wait_for_function("document.getElementById('refreshed').textContent.startsWith('Updated')", timeout=20000)
    assert page.evaluate("window.__kept") == 1
    assert page.locator("section.target").count() >= 4
    page.reload()
    assert page.get_by_label("Refresh every minute").is_checked()  # the choice is remembered
    context.close()


def test_page_weight_raw_and_gzipped(stack):
    """What a person downloads, raw and gzip -6 (API Gateway compresses bodies >= 1 KiB,
    .chalice/config.json minimum_compression_size); quoted in the README."""
    import gzip

    week, count = _full_week(stack)
    figures = []
    for label, path in (("status page", "/pages/status"), (f"releases week ({count} releases)", f"/pages/releases?week={week}")):
        status, _, body = _get(stack + path)
        assert status == 200
        packed = len(gzip.compress(body, compresslevel=6))
        assert packed < len(body) / 4, (path, len(body), packed)
        figures.append(f"{label} {len(body) / 1024:.1f} KiB raw, {packed / 1024:.1f} KiB gzip")
    REPORT["page-weight"] = "page weight: " + "; ".join(figures)
