"""Test kit for the fetcher tests: the shared HTTP peer on 127.0.0.1, a hanging server, fake time.

Every server binds 127.0.0.1 on port 0 and records what it received; nothing in these tests
reaches any other address. Time is faked (``FakeTime``) so delays and backoff are asserted on
the recorded sleeps instead of being slept.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

from tests.integration.peer_testkit import Peer, RawRoute, Reply, Request
from tests.integration.peer_testkit import send as send_reply

CONTACT_URL = "https://newbooks.example/bot"  # only ever a string in a header
EXPECTED_UA = f"newbooks/1.0 (+{CONTACT_URL})"


class LocalServer:
    """The shared peer (tests/integration/peer_testkit.py) as the fetcher tests script it: replies
    by path, raw routes, URLs on either loopback name. Unrouted paths answer 404, so a missing
    robots.txt means "allow all" by default."""

    def __init__(self) -> None:
        self.peer = Peer().start()
        self.port = self.peer.port
        self.requests = self.peer.requests

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return self.peer.at(path, host)

    def reply(self, path: str, status: int = 200, body: bytes = b"", **headers: str) -> None:
        self.peer.route(path, Reply(status, body, _header_names(headers)))

    def replies(self, path: str, replies: list[Reply]) -> None:
        """Successive requests get successive replies; the last one repeats."""
        self.peer.route(path, *replies)

    def route(self, path: str, fn: RawRoute) -> None:
        self.peer.route(path, fn)

    def paths(self) -> list[str]:
        return self.peer.paths()

    def hits(self, path: str) -> list[Request]:
        return self.peer.hits(path)

    def close(self) -> None:
        self.peer.close()


def _header_names(kw: dict[str, str]) -> dict[str, str]:
    # Python kwargs can't contain "-": etag=..., retry_after=... -> ETag, Retry-After
    return {k.replace("_", "-"): v for k, v in kw.items()}


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
    send_reply(handler, Reply(status, body, headers or {}))


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
