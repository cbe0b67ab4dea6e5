"""Local HTTP peers for the dev stack (this machine has no internet): the shared real sample
bodies served as release sources, a weekly list that advances so new releases keep appearing,
and a few monitoring targets with known behaviour.

    /robots.txt                          allow all
    /samples/<folder>/<file>             a sample file, with ETag and Last-Modified
    /rotating/previewsworld.txt          every real sample week in turn, advancing every `rotate_s`
    /shifted/<folder>/<file>             a sample with its dates moved to this week (devstack/shift.py)
    /rotating-shifted/previewsworld.txt  the rotating weeks, dated this week, next week, ...
    /healthy  /flaky  /down  /slow       monitoring targets
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from devstack.samples import samples_dir

# Every PREVIEWSworld week in the shared samples (issue 16: the rotation covers them
# all; the .rubydump twins of the 2012 lists are the same weeks, the "with-C-codes" files the same
# 2020 weeks with another code column).
# The short 2012-06-06 "upcoming" list (94 items) goes first: after any other week it would shrink
# the source by more than half, a `source.degraded` alert the demo does not deserve.
ROTATING_WEEKS = (
    "previewsworld-newreleases-txt/ngsmrk_comix_scraper__upcoming_releases_2012-06-06.undumped.DERIVED.txt",
    "previewsworld-newreleases-txt/ngsmrk_comix_scraper__new_releases_2012-05-30.undumped.DERIVED.txt",
    "previewsworld-newreleases-txt/ngsmrk_comix_scraper__new_releases_2018-10-03.txt",
    "previewsworld-newreleases-txt/slem1_comicspreviews-parser__catalog-2020-02-19__23c5b25.txt",
    "previewsworld-newreleases-txt/slem1_comicspreviews-parser__catalog-2020-02-26__23c5b25.txt",
    "previewsworld-newreleases-txt/slem1_comicspreviews-parser__catalog-2020-03-04__23c5b25.txt",
    "previewsworld-newreleases-txt/slem1_comicspreviews-parser__catalog-2020-03-11__23c5b25.txt",
    "previewsworld-newreleases-txt/theymightbetim_eris__comics_2022-11-02.CRonly.txt",
    "previewsworld-newreleases-txt/theymightbetim_eris__comics_2022-11-09.CRonly.txt",
)


def rotation_index(elapsed_s: float, rotate_s: float) -> int:
    """Which sample week is served after `elapsed_s`: one after the other, then the last one stays
    (starting over would shrink the list below half: a `source.degraded` alert, and nothing new)."""
    return min(int(max(0.0, elapsed_s) // rotate_s), len(ROTATING_WEEKS) - 1)


def series_arriving(week: int) -> str | None:
    """A series with a release that first appears in rotating week `week` (none of its releases
    in an earlier week): following it before that week is served gets a notification. For the
    banner and the newcomer test."""
    from crawlers.sources import previewsworld

    base = samples_dir()
    if base is None:
        return None
    seen: set[str] = set()
    for index, relative in enumerate(ROTATING_WEEKS[:week + 1]):
        rows = previewsworld.parse((base / relative).read_bytes())
        if index < week:
            seen |= {r.series for r in rows}
            continue
        for row in rows:
            if row.series and row.series not in seen and row.category in ("comic", "collected") and row.series.isascii():
                return row.series
    return None


class Peers:
    def __init__(self, port: int = 0, rotate_s: float = 120.0, started: float | None = None):
        self.rotate_s = rotate_s
        self.started = started or time.time()
        self.samples = samples_dir()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        # A TCP check connects and hangs up without a request: not worth a traceback.
        self.server.handle_error = lambda request, client_address: None
        self.thread = threading.Thread(target=self.server.serve_forever, name="peers", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Peers:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def rotating_week(self) -> str:
        return ROTATING_WEEKS[self.rotation_index()]

    def rotation_index(self) -> int:
        return rotation_index(time.time() - self.started, self.rotate_s)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        peers = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep the console for notifications
                pass

            def do_GET(self) -> None:
                path = unquote(urlsplit(self.path).path)
                if path == "/robots.txt":
                    return self.send(200, b"User-agent: *\nAllow: /\n", "text/plain")
                if path == "/healthy":
                    return self.send(200, json.dumps({"status": "up"}).encode(), "application/json")
                if path == "/down":
                    return self.send(500, b"internal error", "text/plain")
                if path == "/slow":
                    time.sleep(1.5)
                    return self.send(200, b"slow but fine", "text/plain")
                if path == "/flaky":
                    minute = int(time.time() // 60)
                    return self.send(503 if minute % 4 == 3 else 200, b"flaky", "text/plain")
                if path == "/rotating/previewsworld.txt":
                    return self.send_file(peers.rotating_week())
                if path.startswith("/samples/"):
                    return self.send_file(path[len("/samples/"):])
                if path.startswith("/shifted/"):  # issue 12: dates moved to the current weeks
                    return self.send_file(path[len("/shifted/"):], shift_weeks=0)
                if path == "/rotating-shifted/previewsworld.txt":
                    return self.send_file(peers.rotating_week(), shift_weeks=peers.rotation_index())
                return self.send(404, b"not found", "text/plain")

            def send_file(self, relative: str, shift_weeks: int | None = None) -> None:
                if peers.samples is None:
                    return self.send(404, b"samples folder not found", "text/plain")
                target = (peers.samples / relative).resolve()
                if peers.samples.resolve() not in target.parents or not target.is_file():
                    return self.send(404, b"not found", "text/plain")
                body = target.read_bytes()
                if shift_weeks is not None:
                    from datetime import date

                    from devstack.shift import shift_dates

                    body = shift_dates(body, date.today(), shift_weeks)
                etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
                if self.headers.get("If-None-Match") == etag:
                    return self.send(304, b"", None, {"ETag": etag})
                content_type = {".json": "application/json", ".xml": "application/xml", ".html": "text/html",
                                ".csv": "text/csv"}.get(target.suffix, "text/plain")
                self.send(200, body, content_type, {"ETag": etag, "Last-Modified": formatdate(target.stat().st_mtime, usegmt=True)})

            def send(self, status: int, body: bytes, content_type: str | None, headers: dict | None = None) -> None:
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body and self.command != "HEAD":
                    self.wfile.write(body)

        return Handler


def sample_exists(relative: str) -> bool:
    base = samples_dir()
    return base is not None and (base / relative).is_file()


__all__ = ["Path", "Peers", "sample_exists"]
