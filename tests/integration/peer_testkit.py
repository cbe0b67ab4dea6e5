"""The one HTTP peer of the integration tests (issue 15): a real ThreadingHTTPServer on 127.0.0.1,
port 0, that records every request and answers what the test scripted. Release sites, monitoring
targets, Slack, X and webhook receivers are all this server with a different script.
Import as `from tests.integration.peer_testkit import Peer, Reply, Request`.

A request is answered by the first of:
  1. `responder(request)`, when set and it returns a Reply (a test's own logic: by path, method, body);
  2. `routes[path]` (the path without its query), set with `route()`: Replies given in turn, the
     last one repeating, or a function of the raw handler for what a Reply cannot say (a stream,
     a hang, a cut connection);
  3. the `script`: Replies queued with `reply()`, each used once;
  4. `default` (404 "not found" unless given).
"""
from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

RawRoute = Callable[[BaseHTTPRequestHandler], None]


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # path and query, as sent
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""

    @property
    def route(self) -> str:
        return urlsplit(self.path).path

    @property
    def query(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode() or "null")

    @property
    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


@dataclass
class Reply:
    status: int = 200
    body: Any = b""  # dict/list -> JSON, str -> UTF-8 text, bytes as they are
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0

    def payload(self) -> tuple[bytes, str | None]:
        """The body bytes and the Content-Type they get when the headers name none."""
        if isinstance(self.body, (dict, list)):
            return json.dumps(self.body).encode(), "application/json; charset=utf-8"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return self.body or b"", None


NOT_FOUND = Reply(404, b"not found")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5: a burst of clients would see dropped SYNs and 1 s retries.
    request_queue_size = 128


class Peer:
    """A recording HTTP server on 127.0.0.1:<ephemeral>; `start()` serves it, `close()` stops it."""

    def __init__(self, responder: Callable[[Request], Reply | None] | None = None, default: Reply | None = None,
                 protocol_version: str = "HTTP/1.0") -> None:
        self.requests: list[Request] = []
        self.script: list[Reply] = []
        self.routes: dict[str, list[Reply] | RawRoute] = {}
        self.responder = responder
        self.default = default or NOT_FOUND
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), self._handler_class(protocol_version))
        self.port: int = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> Peer:
        if not self.thread.is_alive():
            self.thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Peer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        """The base URL, no trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    def at(self, path: str, host: str = "127.0.0.1") -> str:
        """A full URL; "127.0.0.1" and "localhost" are the same socket but two hosts to a client."""
        return f"http://{host}:{self.port}{path}"

    # -- scripting
    def reply(self, *replies: Reply) -> None:
        """Queue replies for the next requests no responder or route answers, each used once."""
        with self.lock:
            self.script.extend(replies)

    def route(self, path: str, *answers: Reply | RawRoute) -> None:
        """Answer `path` with these Replies in turn (the last one repeats), or with a raw handler function."""
        if len(answers) == 1 and callable(answers[0]):
            self.routes[path] = answers[0]
        else:
            self.routes[path] = [a for a in answers if isinstance(a, Reply)]

    # -- inspection
    def paths(self) -> list[str]:
        with self.lock:
            return [r.path for r in self.requests]

    def hits(self, path: str) -> list[Request]:
        """Requests for `path` (without the query)."""
        with self.lock:
            return [r for r in self.requests if r.route == path]

    def posts(self, path: str | None = None) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.method == "POST" and (path is None or r.path == path)]

    # -- serving
    def _answer(self, request: Request) -> Reply | RawRoute:
        with self.lock:
            self.requests.append(request)
            reply = self.responder(request) if self.responder else None
            if reply is not None:
                return reply
            route = self.routes.get(request.route)
            if callable(route):
                return route
            if route:
                return route.pop(0) if len(route) > 1 else route[0]
            return self.script.pop(0) if self.script else self.default

    def _handler_class(self, protocol: str) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = protocol

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                answer = peer._answer(Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                if callable(answer):
                    answer(self)
                    return
                if answer.delay_s:
                    time.sleep(answer.delay_s)
                try:
                    send(self, answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing to tell it

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

            def log_message(self, *args: Any) -> None:
                pass  # keep test output clean

        return Handler


ALLOW_ALL = b"User-agent: *\nAllow: /\n"


class Site:
    """A release site on the shared peer whose one page (`url`) the test swaps through `body`
    and `content_type`; robots.txt allows all."""

    def __init__(self, path: str = "/list.txt") -> None:
        self.body = b""
        self.content_type = "text/plain"
        self.peer = Peer(responder=self._answer).start()
        self.url = self.peer.url + path

    def _answer(self, request: Request) -> Reply:
        if request.route == "/robots.txt":
            return Reply(200, ALLOW_ALL, {"Content-Type": "text/plain"})
        return Reply(200, self.body, {"Content-Type": self.content_type})

    def close(self) -> None:
        self.peer.close()


def send(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
    """Write `reply` on a raw handler (also for raw routes that answer after some logic of their own)."""
    body, content_type = reply.payload()
    if "Date" in reply.headers:
        handler.send_response_only(reply.status)  # send_response() would add a second Date
    else:
        handler.send_response(reply.status)
    if content_type and not any(k.lower() == "content-type" for k in reply.headers):
        handler.send_header("Content-Type", content_type)
    for name, value in reply.headers.items():
        handler.send_header(name, value)
    bodiless = reply.status in (204, 304) or handler.command == "HEAD"
    if reply.status not in (204, 304):
        handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if not bodiless:
        handler.wfile.write(body)


def record_connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every outgoing socket connect the process makes from now on, as (host, port): a claim that
    nothing was contacted is checked here, independent of the client (asyncio transports call
    `socket.connect` on a non-blocking socket too)."""
    seen: list[tuple[str, int]] = []
    original_connect, original_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(sock: socket.socket, address: Any) -> None:
        seen.append(tuple(address[:2]))
        return original_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        seen.append(tuple(address[:2]))
        return original_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return seen
