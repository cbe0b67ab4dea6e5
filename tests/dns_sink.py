"""A name server on 127.0.0.1 that answers every query NXDOMAIN and records the names asked.

The uptime checker resolves with its own DNS client (chalicelib/uptime/resolver.py), which asks
/etc/resolv.conf's servers, not the system resolver. tests/conftest.py points
NEWBOOKS_DNS_SERVERS at one of these for the whole run (local stacks started by e2e tests inherit
it), so no test sends a DNS query off this machine."""
from __future__ import annotations

import socket
import threading

import dns.flags
import dns.message
import dns.rcode


class DnsSink:
    def __init__(self) -> None:
        self.names: list[str] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True, name="dns-sink").start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve(self) -> None:
        self._sock.settimeout(0.5)
        while not self._stop.is_set():
            try:
                wire, peer = self._sock.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            try:
                query = dns.message.from_wire(wire)
            except Exception:  # not DNS: nothing to answer
                continue
            if query.question:
                self.names.append(str(query.question[0].name).rstrip(".").lower())
            answer = dns.message.make_response(query)
            answer.set_rcode(dns.rcode.NXDOMAIN)
            answer.flags |= dns.flags.RA
            self._sock.sendto(answer.to_wire(), peer)

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
