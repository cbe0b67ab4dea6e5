"""Test kit for the fetcher tests: real HTTP peers on 127.0.0.1, fake time.

Every server binds 127.0.0.1 on port 0 and records what it received; nothing in these tests
reaches any other address. Time is faked (``FakeTime``) so delays and backoff are asserted on
the recorded sleeps instead of being slept.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONTACT_URL = "https://newbooks.example/bot"  # only ever a string in a header
EXPECTED_UA = f"newbooks/1.0 (+{CONTACT_URL})"

RouteFn = Callable[[BaseHTTPRequestHandler], None]


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str  # path + query as sent
    headers: dict[str, str]  # lower-cased names


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class LocalServer:
    """ThreadingHTTPServer on 127.0.0.1:0 with a route table and a request log.

    Unrouted paths answer 404, so a missing robots.txt means "allow all" by default.
    """

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._routes: dict[str, RouteFn] = {}
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    # -- URLs: "127.0.0.1" and "localhost" are the same socket but two hosts to the fetcher
    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    # -- routes
    def reply(self, path: str, status: int = 200, body: bytes = b"", **headers: str) -> None:
        self.replies(path, [Reply(status, body, _header_names(headers))])

    def replies(self, path: str, replies: list[Reply]) -> None:
        """Successive requests get successive replies; the last one repeats."""
        queue = list(replies)

        def route(handler: BaseHTTPRequestHandler) -> None:
            with self._lock:
                r = queue.pop(0) if len(queue) > 1 else queue[0]
            send(handler, r.status, r.body, r.headers)

        self._routes[path] = route

    def route(self, path: str, fn: RouteFn) -> None:
        self._routes[path] = fn

    # -- inspection
    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    def hits(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                rec = Recorded(
                    "GET", self.path, {k.lower(): v for k, v in self.headers.items()}
                )
                with server._lock:
                    server.requests.append(rec)
                route = server._routes.get(self.path.split("?", 1)[0])
                if route is None:
                    send(self, 404, b"not found")
                else:
                    route(self)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep pytest output clean

        return Handler


def _header_names(kw: dict[str, str]) -> dict[str, str]:
    # Python kwargs can't contain "-": etag=..., retry_after=... -> ETag, Retry-After
    return {k.replace("_", "-"): v for k, v in kw.items()}


def send(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> None:
    if headers and "Date" in headers:
        handler.send_response_only(status)  # send_response() would add a second Date
    else:
        handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    if status != 304:
        handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if status != 304:
        handler.wfile.write(body)


class HangingServer:
    """Accepts TCP connections on 127.0.0.1 and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted.append(conn)  # held open, never read or written

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)
        for conn in self.accepted:
            conn.close()
        self.sock.close()


class FakeTime:
    """Injected clock/sleep: sleeping advances the clock and is recorded, never slept."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


def wait_until(predicate: Callable[[], bool], timeout_s: float = 3.0) -> bool:
    """Poll a condition set by a server thread (they finish after the client returns)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
