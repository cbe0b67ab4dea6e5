"""Hostile monitoring targets on 127.0.0.1: an HTTP(S) server that answers with the shapes that
broke the checker (issue 13) and a DNS server with slow and failing names. Used by
tests/integration/uptime/test_uptime_hostile.py, bench/ping_fanout.py and the chaos suite.

HTTP paths (the first path segment picks the shape; everything is raw bytes on the socket):

    /ok            200 {"status":"up"} (a healthy answer from the same server)
    /cl-super      Content-Length: ² (a Unicode digit: str.isdigit() is True, int() raises)
    /deep-json     200, a JSON array nested 100,000 deep (json.loads -> RecursionError)
    /tiny-chunks   chunked body, 1-byte chunks, each written on its own
    /many-1xx      10,000 interim "100 Continue" responses, then 200
    /trailers      chunked body followed by 100,000 trailer lines
    /drip          the response head one byte every 50 ms, forever (slowloris)
    /garbage       4 KB of random bytes, then close
    /huge-head     a 1 MB header section
    /short-body    Content-Length: 100, 10 bytes, then silence
    /bad-status    "HTTP/1.1 2000 OK"
    /gzip-bomb     Content-Encoding: gzip, 16 MB of zeros compressed to ~16 KB
    /redos         200 "aaaa...a!" (for `[BODY] == re(^(a+)+$)`)
    /reset         closes the connection at once

DNS (UDP): `<anything>.ok.test` and the IDNA name `xn--r8jz45g.test` (例え.test) -> A 127.0.0.1;
`nx.test` -> NXDOMAIN; `servfail.test` -> SERVFAIL; `slow*.test` -> never answered;
`private.test` -> A 10.0.0.1 (for the address policy).
"""
from __future__ import annotations

import asyncio
import gzip
import os
import random
import socket
import ssl
import threading
from typing import Any

OK_BODY = b'{"status":"up"}'
SHAPES = ("cl-super", "deep-json", "tiny-chunks", "many-1xx", "trailers", "drip", "garbage", "huge-head",
          "short-body", "bad-status", "gzip-bomb", "redos", "reset")
_BOMB = gzip.compress(b"\0" * (16 * 1024 * 1024), 9)


def _head(status: str, *headers: str) -> bytes:
    return (f"HTTP/1.1 {status}\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n").encode("utf-8")


async def _answer(shape: str, writer: asyncio.StreamWriter) -> None:
    w = writer.write
    if shape == "ok":
        w(_head("200 OK", "Content-Type: application/json", f"Content-Length: {len(OK_BODY)}") + OK_BODY)
    elif shape == "cl-super":
        w(_head("200 OK", "Content-Length: ²") + b"xx")
    elif shape == "deep-json":
        body = b"[" * 100_000 + b"]" * 100_000
        w(_head("200 OK", "Content-Type: application/json", f"Content-Length: {len(body)}") + body)
    elif shape == "tiny-chunks":
        w(_head("200 OK", "Transfer-Encoding: chunked"))
        for i in range(20_000):
            w(b"1\r\nx\r\n")
            await writer.drain()
            if i % 50 == 0:
                await asyncio.sleep(0)  # drain() does not yield below the high-water mark
        w(b"0\r\n\r\n")
    elif shape == "many-1xx":
        w(b"HTTP/1.1 100 Continue\r\n\r\n" * 10_000 + _head("200 OK", "Content-Length: 2") + b"ok")
    elif shape == "trailers":
        w(_head("200 OK", "Transfer-Encoding: chunked") + b"2\r\nok\r\n0\r\n")
        w(b"".join(b"X-T%d: y\r\n" % i for i in range(100_000)) + b"\r\n")
    elif shape == "drip":
        for byte in b"HTTP/1.1 200 OK\r\n" + b"X-Drip: " + b"d" * 10**6:
            w(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.05)
    elif shape == "garbage":
        w(random.Random(7).randbytes(4096))
    elif shape == "huge-head":
        w(b"HTTP/1.1 200 OK\r\n" + b"X-Big: " + b"h" * (1024 * 1024) + b"\r\n\r\n")
    elif shape == "short-body":
        w(_head("200 OK", "Content-Length: 100") + b"0123456789")
        await writer.drain()
        await asyncio.sleep(3600)
    elif shape == "bad-status":
        w(b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n")
    elif shape == "gzip-bomb":
        w(_head("200 OK", "Content-Encoding: gzip", f"Content-Length: {len(_BOMB)}") + _BOMB)
    elif shape == "redos":
        body = b"a" * 40 + b"!"
        w(_head("200 OK", f"Content-Length: {len(body)}") + body)
    elif shape == "reset":
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    else:
        w(_head("404 Not Found", "Content-Length: 0"))
    await writer.drain()


async def _serve_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        head = await reader.readuntil(b"\r\n\r\n")
        path = head.split(b" ", 2)[1].decode("latin-1") if head.count(b" ") >= 2 else "/"
        await _answer(path.strip("/").split("/", 1)[0].split("?", 1)[0], writer)
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ssl.SSLError):
        pass
    finally:
        writer.close()


class _DNS(asyncio.DatagramProtocol):
    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        import dns.message
        import dns.rcode
        import dns.rrset

        try:
            query = dns.message.from_wire(data)
        except Exception:
            return
        question = query.question[0]
        name = question.name.to_text().rstrip(".").lower()
        if name.startswith("slow"):
            return  # never answered: the client's deadline decides
        response = dns.message.make_response(query)
        if name == "nx.test":
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif name == "servfail.test":
            response.set_rcode(dns.rcode.SERVFAIL)
        elif question.rdtype == 1 and (name.endswith(".ok.test") or name in ("xn--r8jz45g.test", "private.test")):
            address = "10.0.0.1" if name == "private.test" else "127.0.0.1"
            response.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", address))
        self.transport.sendto(response.to_wire(), addr)


class HostilePeer:
    """HTTP(S) on one event loop, DNS on another (so the hostile HTTP shapes cannot slow the
    name server the healthy named targets use), each in a daemon thread; `url`, `tls_url`,
    `dns_server`."""

    def __init__(self, tls_context: ssl.SSLContext | None = None):
        self.tls_context = tls_context
        self.loop = asyncio.new_event_loop()
        self.dns_loop = asyncio.new_event_loop()
        self.port = self.tls_port = self.dns_port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._dns_thread = threading.Thread(target=self._run_dns, daemon=True)
        self._dns_ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def tls_url(self) -> str:
        return f"https://localhost:{self.tls_port}"

    @property
    def dns_server(self) -> str:
        return f"127.0.0.1:{self.dns_port}"

    def start(self) -> HostilePeer:
        self._thread.start()
        self._dns_thread.start()
        if not self._ready.wait(10) or not self._dns_ready.wait(10):
            raise RuntimeError("hostile peer did not start")
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.dns_loop.call_soon_threadsafe(self.dns_loop.stop)
        self._thread.join(5)
        self._dns_thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def boot() -> None:
            server = await asyncio.start_server(_serve_http, "127.0.0.1", 0, backlog=4096, limit=1 << 16)
            self.port = server.sockets[0].getsockname()[1]
            if self.tls_context is not None:
                tls = await asyncio.start_server(_serve_http, "127.0.0.1", 0, ssl=self.tls_context, backlog=1024)
                self.tls_port = tls.sockets[0].getsockname()[1]

        self.loop.run_until_complete(boot())
        self._ready.set()
        self.loop.run_forever()

    def _run_dns(self) -> None:
        asyncio.set_event_loop(self.dns_loop)
        transport, _ = self.dns_loop.run_until_complete(
            self.dns_loop.create_datagram_endpoint(_DNS, local_addr=("127.0.0.1", 0)))
        self.dns_port = transport.get_extra_info("sockname")[1]
        self._dns_ready.set()
        self.dns_loop.run_forever()


def _child(queue: Any, tls: bool) -> None:
    context, ca_pem = None, None
    if tls:
        import trustme

        ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
        ca_pem = ca.cert_pem.bytes()
    peer = HostilePeer(context).start()
    queue.put({"port": peer.port, "tls_port": peer.tls_port, "dns_port": peer.dns_port, "ca_pem": ca_pem})
    threading.Event().wait()


class HostileProcess:
    """The peer in a child process, so the CPU its hostile shapes cost (20,000 one-byte TLS
    records, ...) is not spent under the checker's GIL: tests and benchmarks then measure the
    checker, not the peer. `ca_pem`: the test CA when started with tls=True."""

    def __init__(self, tls: bool = False):
        import multiprocessing

        queue = multiprocessing.Queue()
        self.process = multiprocessing.Process(target=_child, args=(queue, tls), daemon=True)
        self.process.start()
        info = queue.get(timeout=20)
        self.port, self.tls_port, self.dns_port, self.ca_pem = (
            info["port"], info["tls_port"], info["dns_port"], info["ca_pem"])

    url = HostilePeer.url
    tls_url = HostilePeer.tls_url
    dns_server = HostilePeer.dns_server

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        context.load_verify_locations(cadata=self.ca_pem.decode())
        return context

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(5)


if __name__ == "__main__":  # manual poking: python -m devstack.hostile_peer
    p = HostilePeer().start()
    print(f"http {p.url}  dns {p.dns_server}  shapes: {', '.join(SHAPES)}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        os._exit(0)
