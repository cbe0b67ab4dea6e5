"""The pages, badges and feeds through `chalice.test.Client(app)` on in-process moto (`aws`):
people get their own format for every answer (HTML page, SVG badge), parameters a page does not
use are ignored, HEAD works, /favicon.ico exists."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from bs4 import BeautifulSoup

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def client(aws, tmp_path, monkeypatch):
    from chalice.test import Client

    from app import app
    from chalicelib import bootstrap

    targets = tmp_path / "targets.yaml"  # one target; never checked here (port 9 on loopback)
    targets.write_text("endpoints:\n  - name: api\n    url: http://127.0.0.1:9/health\n")
    monkeypatch.setenv("NEWBOOKS_TARGETS_FILE", str(targets))
    monkeypatch.setenv("NEWBOOKS_ALLOW_PRIVATE_TARGETS", "1")
    bootstrap.reset()
    with Client(app) as test_client:
        yield test_client
    bootstrap.reset()


def _header(response, name: str) -> str:
    return {k.lower(): v for k, v in response.headers.items()}.get(name.lower(), "")


@pytest.mark.parametrize("query", ["?utm_source=newsletter&utm_medium=email", "?fbclid=IwAR0xyz", "?v=2",
                                   "?week=2026-11-25&utm_source=x"])
def test_releases_page_ignores_unused_parameters(client, query):
    response = client.http.get("/pages/releases" + query)
    assert response.status_code == 200, response.body[:300]
    assert _header(response, "content-type").startswith("text/html")
    assert BeautifulSoup(response.body, "html.parser").select_one("h1").get_text() == "Releases"


@pytest.mark.parametrize("week", ["9999-12-31", "0001-01-01", "next", "2026-02-30"])
def test_bad_week_is_a_400_html_page_never_json_or_500(client, week):
    response = client.http.get(f"/pages/releases?week={week}")
    assert response.status_code == 400
    assert _header(response, "content-type").startswith("text/html")
    soup = BeautifulSoup(response.body, "html.parser")
    assert soup.select_one("html")["lang"] == "en" and "week" in soup.select_one("main").get_text()


@pytest.mark.parametrize("page", ["0", "abc", "2"])  # "2": the (empty) week has one page
def test_bad_page_is_a_400_html_page_never_json_or_500(client, page):
    response = client.http.get(f"/pages/releases?page={page}")
    assert response.status_code == 400
    assert _header(response, "content-type").startswith("text/html")
    soup = BeautifulSoup(response.body, "html.parser")
    assert soup.select_one("h1").get_text() == "Bad page" and "'page'" in soup.select_one("main").get_text()
    assert client.http.get("/pages/releases?page=1").status_code == 200


@pytest.mark.parametrize("path", ["/badges/api/uptime.svg?v=2", "/badges/api/status.svg?v=2&utm_source=readme",
                                  "/badges/api/uptime.svg?window=7d&cachebust=1"])
def test_badges_ignore_unused_parameters(client, path):
    response = client.http.get(path)
    assert response.status_code == 200, response.body[:300]
    assert _header(response, "content-type").startswith("image/svg+xml")
    assert ET.fromstring(response.body).tag == f"{SVG}svg"


def test_bad_badge_window_is_an_svg_badge_saying_so(client):
    response = client.http.get("/badges/api/uptime.svg?window=1y")
    assert response.status_code == 400 and _header(response, "content-type").startswith("image/svg+xml")
    assert "window" in ET.fromstring(response.body).get("aria-label")


def test_status_page_ignores_parameters(client):
    response = client.http.get("/pages/status?utm_source=x&fbclid=y")
    assert response.status_code == 200 and _header(response, "content-type").startswith("text/html")
    assert BeautifulSoup(response.body, "html.parser").select_one('section.target[data-target="api"]') is not None


@pytest.mark.parametrize("path", ["/pages/status", "/pages/releases", "/badges/api/status.svg",
                                  "/badges/api/uptime.svg", "/feeds/releases.atom", "/feeds/releases.rss",
                                  "/favicon.ico"])
def test_head_answers_like_get_without_a_body(client, path):
    got = client.http.get(path)
    head = client.http.request("HEAD", path)
    assert got.status_code == 200 and got.body
    assert head.status_code == 200 and head.body in (b"", "")
    for name in ("content-type", "cache-control"):
        assert _header(head, name) == _header(got, name), name


def test_favicon(client):
    response = client.http.get("/favicon.ico")
    assert response.status_code == 200 and _header(response, "content-type") == "image/svg+xml"
    assert ET.fromstring(response.body).tag == f"{SVG}svg"
    assert "max-age=86400" in _header(response, "cache-control")


@pytest.mark.parametrize("name", ["x" * 3000, "%00", "..%2F..", "%E2%9C%93"])
def test_odd_badge_targets_get_a_not_found_badge(client, name):
    for kind in ("status", "uptime"):
        response = client.http.get(f"/badges/{name}/{kind}.svg")
        assert response.status_code == 404 and _header(response, "content-type").startswith("image/svg+xml")
        assert ET.fromstring(response.body).get("aria-label").endswith("not found")
