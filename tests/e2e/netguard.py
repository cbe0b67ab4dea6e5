"""Keeps a test browser on this machine: every request Chromium makes to a host other than
127.0.0.1 goes to this recording proxy, which refuses it (403, nothing forwarded) and remembers it.

Chromium sends loopback requests direct (its implicit proxy bypass) and everything else, HTTP or
HTTPS (as CONNECT), to `--proxy-server`; `--host-resolver-rules` also keeps DNS prefetch from
resolving any other name. A test asserts `page_attempts() == []` after loading a page.

Chromium 156 (Debian) still calls its own Google services at start-up (component updater,
account probe) whatever flags it gets; those are refused here too, counted apart as
`browser_attempts()`, and never come from our pages."""
from __future__ import annotations

import socketserver
import threading

# Chromium's own start-up traffic, refused like everything else (see the module docstring).
BROWSER_SERVICE_HOSTS = frozenset({"accounts.google.com", "update.googleapis.com", "clients2.google.com"})


def _host(attempt: str) -> str:
    rest = attempt.split("://", 1)[-1]
    return rest.split("/", 1)[0].rsplit(":", 1)[0].lower()


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        line = self.rfile.readline(8192).decode("latin-1").strip()
        if line:
            parts = line.split()
            self.server.attempts.append(parts[1] if len(parts) > 1 else line)  # type: ignore[attr-defined]
        self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class NetGuard:
    """A refusing proxy on 127.0.0.1; `chromium_args()` routes a browser through it."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.attempts = []  # type: ignore[attr-defined]
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def attempts(self) -> list[str]:
        """Every outside URL (or CONNECT host:port) a browser tried, in order."""
        return list(self._server.attempts)  # type: ignore[attr-defined]

    def page_attempts(self) -> list[str]:
        """Outside requests not made by Chromium's own services: what a page tried."""
        return [a for a in self.attempts if _host(a) not in BROWSER_SERVICE_HOSTS]

    def browser_attempts(self) -> list[str]:
        return [a for a in self.attempts if _host(a) in BROWSER_SERVICE_HOSTS]

    def clear(self) -> None:
        self._server.attempts.clear()  # type: ignore[attr-defined]

    def chromium_args(self) -> list[str]:
        return [f"--proxy-server=http://127.0.0.1:{self.port}",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,Translate,MediaRouter"]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
