"""`python -m crawlers` end to end, as a subprocess from the repo root."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from devstack.samples import sample_path

REPO = Path(__file__).resolve().parents[3]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crawlers", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60)


def test_list():
    proc = run("--list")
    assert proc.returncode == 0
    names = [line.split("\t")[0] for line in proc.stdout.splitlines()]
    assert names == sorted(["comicwalker", "feed", "html", "imagecomics", "ndl", "newtype", "openbd",
                            "json", "previewsworld", "rakuten", "sundaywebry", "table"])
    assert all("\t" in line and line.split("\t")[1] for line in proc.stdout.splitlines())


def test_file_prints_records():
    path = sample_path("previewsworld-newreleases-csv", "vokurka_comics__raw_Export_csv_releaseDate_2017-03-01.csv")
    proc = run("previewsworld", "--file", str(path))
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)
    assert len(records) == 454
    assert list(records[0]) == ["id", "source", "title", "series", "volume", "flags", "isbn13", "jan",
                                "diamond_code", "publisher", "release_date", "price", "currency", "url",
                                "cover_url", "source_refs", "issue", "category", "work"]
    assert records[0]["id"] == "previewsworld:JAN170105" and records[0]["isbn13"] is None


def test_japanese_is_not_escaped_and_crawl_date_is_used():
    path = sample_path("jp-publisher-web-manga-html", "rssfly__newtype.fuzoroi__3d3eedb_2022-03.json")
    proc = run("newtype", "--file", str(path), "--crawl-date", "2022-03-26")
    assert proc.returncode == 0, proc.stderr
    assert "第十七話" in proc.stdout
    assert json.loads(proc.stdout)[3]["release_date"] == "2021-12-24"


def test_html_with_yaml_config(tmp_path):
    config = tmp_path / "image.yaml"
    config.write_text("item: div.book\ntitle: .book__headline a\ndate: .book__text\nlink: .book__headline a\n"
                      "url: https://imagecomics.com/comics/series/nailbiter\n", encoding="utf-8")
    path = sample_path("publisher-release-html", "exqir__imagecomics_series_nailbiter__396e9c8.html")
    proc = run("html", "--file", str(path), "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)
    assert len(records) == 12  # the selector also matches the page's 4 news cards: config, not code, decides
    assert records[0]["url"] == "https://imagecomics.com/comics/releases/nailbiter-vol.-6-the-bloody-truth-tp"


def test_errors_exit_2_without_traceback(tmp_path):
    html = sample_path("publisher-release-html", "exqir__imagecomics_releases_nailbiter-30__396e9c8.html")
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("item: [unclosed\n", encoding="utf-8")
    cases = [
        ("ndl", "--file", str(html)),                                  # ParseError
        ("ndl", "--file", str(tmp_path / "missing.xml")),              # unreadable file
        ("nope", "--file", str(html)),                                 # unknown source
        ("ndl",),                                                      # neither --file nor --url
        ("ndl", "--file", str(html), "--crawl-date", "yesterday"),     # bad date
        ("html", "--file", str(html), "--config", str(bad_yaml)),      # bad YAML
        ("ndl", "--file", str(html), "--url", "http://x"),             # mutually exclusive
        ("--bogus",),
        ("ndl", "--url", "http://127.0.0.1:9/nothing-listens-here"),   # fetch failure
    ]
    for args in cases:
        proc = run(*args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr and proc.stderr.strip(), args
        assert proc.stdout == ""
