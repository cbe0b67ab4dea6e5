"""The uptime tests' HTTP peer (fixtures in conftest.py start it on 127.0.0.1, port 0).
Import as `from tests.integration.uptime.uptime_testkit import ...`."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

HUGE_BYTES = 20 * 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "peer/1"
    flaky_fail = threading.Event()
    hits: ClassVar[dict[str, int]] = {}

    def log_message(self, *args):  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        Handler.hits[path] = Handler.hits.get(path, 0) + 1
        if path == "/healthy":
            return self._send(200, json.dumps({"status": "up", "items": [1, 2]}).encode())
        if path == "/down":
            return self._send(500, b'{"status":"down"}')
        if path == "/slow":
            time.sleep(0.6)
            return self._send(200, b'{"status":"up"}')
        if path == "/hang":
            time.sleep(20)
            return None
        if path == "/keyword":
            return self._send(200, b"everything is terrible", "text/plain")
        if path == "/invalid-json":
            return self._send(200, b"{status: up", "application/json")
        if path == "/gzip":  # sent compressed although the checker asks for identity
            import gzip

            self.send_response(200)
            body = gzip.compress(json.dumps({"status": "up", "pad": "x" * 5000}).encode())
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return None
        if path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b'{"status":', b'"up"}'):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return None
        if path == "/flaky":
            return self._send(500 if Handler.flaky_fail.is_set() else 200, b'{"status":"?"}')
        if path == "/huge":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(HUGE_BYTES))
            self.end_headers()
            chunk = b"x" * 65536
            try:
                for _ in range(HUGE_BYTES // len(chunk)):
                    self.wfile.write(chunk)
            except OSError:
                Handler.hits["/huge-aborted"] = 1
            return None
        return self._send(404, b"{}")

    do_HEAD = do_GET


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # socketserver's default listen backlog is 5: twenty checks connecting in the same
    # millisecond overflow it, the kernel drops SYNs and the client retransmits after 1 s, 3 s...
    request_queue_size = 128


def serve_in_thread(server: Server) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return thread
