"""Parser throughput on the real sample bodies.

Method: for each source, parse every one of its sample bodies in a loop until ~0.5 s have passed
(time.perf_counter around N full passes), then report records/s and pages/s. The baseline, measured
the same way in the same run, only decodes each body and splits it into lines: the floor any parser
pays, so `pages_per_s / baseline.pages_per_s` is the cost ratio of real parsing.

Run: .venv/bin/python bench/parse.py   (last line of output is one JSON object)
"""
from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawlers import SOURCES
from devstack.samples import samples_dir

BUDGET_S = 0.5
# source -> (folder, file-name filter, parse kwargs)
CASES: dict[str, tuple[str, tuple[str, ...], dict]] = {
    "previewsworld": ("previewsworld-newreleases-txt", (".txt",), {}),
    "previewsworld_csv": ("previewsworld-newreleases-csv", (".csv",), {}),
    "imagecomics": ("publisher-release-html", (".html",), {}),
    "ndl": ("ndl-opensearch", (".xml",), {}),
    "openbd": ("openbd", (".json",), {}),
    "rakuten": ("rakuten-books-api", (".json",), {}),
    "newtype": ("jp-publisher-web-manga-html", ("newtype",), {"crawl_date": date(2022, 8, 12)}),
    "sundaywebry": ("jp-publisher-web-manga-html", ("sunday_webry",), {"crawl_date": date(2021, 7, 23)}),
    "comicwalker": ("jp-publisher-web-manga-html", ("comic_walker",), {"crawl_date": date(2021, 10, 1)}),
    "feed": ("ndl-opensearch", (".xml",), {}),
    "feed_gigaviewer": ("gigaviewer-rss", (".xml",), {"options": {"series_from": "channel", "episodes": True}}),
    "json_metron": ("metron-api", (".json",), {"options": {
        "source_name": "metron", "items": "results",
        "fields": {"title": "issue", "series": "series.name", "volume": "number", "code": "to_string(id)",
                   "release_date": "store_date", "cover_url": "image"}}}),
}


def _timed(fn, bodies: list[bytes]) -> tuple[int, int, float]:
    """Run fn over all bodies until the budget is spent; returns (passes, items per pass, seconds)."""
    items = sum(fn(b) for b in bodies)  # warm-up pass (imports, regex caches)
    passes, start = 0, time.perf_counter()
    while True:
        for b in bodies:
            fn(b)
        passes += 1
        elapsed = time.perf_counter() - start
        if elapsed >= BUDGET_S:
            return passes, items, elapsed


def _baseline(body: bytes) -> int:
    return len(body.decode("utf-8", "replace").splitlines())


def main() -> int:
    base = samples_dir()
    results: dict[str, dict] = {}
    baseline: dict[str, dict] = {}
    rows = []
    if base is None:
        print("samples not found (set NEWBOOKS_SAMPLES); nothing to measure")
    for key, (folder, needles, kwargs) in CASES.items():
        module = SOURCES[key.split("_")[0]]
        paths = sorted(p for p in (base / folder).glob("*") if base and p.suffix != ".md"
                       and any(n in p.name for n in needles)) if base else []
        bodies = [p.read_bytes() for p in paths]
        if not bodies:
            continue
        passes, records, secs = _timed(lambda b, module=module, kwargs=kwargs: len(module.parse(b, **kwargs)), bodies)
        b_passes, _, b_secs = _timed(_baseline, bodies)
        pages = len(bodies)
        results[key] = {"records_per_s": round(records * passes / secs, 1), "pages_per_s": round(pages * passes / secs, 1),
                        "pages": pages, "records_per_pass": records, "passes": passes}
        baseline[key] = {"pages_per_s": round(pages * b_passes / b_secs, 1)}
        rows.append((key, pages, records, passes, secs, results[key], baseline[key]))

    print(f"{'source':<18}{'pages':>6}{'records':>9}{'passes':>8}{'secs':>7}{'records/s':>12}{'pages/s':>10}"
          f"{'base pages/s':>14}{'ratio':>8}")
    for key, pages, records, passes, secs, res, bl in rows:
        ratio = bl["pages_per_s"] / res["pages_per_s"] if res["pages_per_s"] else float("nan")
        print(f"{key:<18}{pages:>6}{records:>9}{passes:>8}{secs:>7.2f}{res['records_per_s']:>12.0f}"
              f"{res['pages_per_s']:>10.1f}{bl['pages_per_s']:>14.0f}{ratio:>7.0f}x")
    print("method: time.perf_counter over N full passes of each source's sample bodies (~0.5 s each); "
          "baseline = utf-8 decode + splitlines of the same bodies; ratio = baseline pages/s / parser pages/s")
    print(json.dumps({"bench": "parse", "sources": {k: {"records_per_s": v["records_per_s"],
                                                        "pages_per_s": v["pages_per_s"]} for k, v in results.items()},
                      "baseline": baseline}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
