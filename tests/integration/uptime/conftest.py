"""Real HTTP/TLS/TCP peers on 127.0.0.1 (port 0), started in threads by the tests (the peer's
handler lives in uptime_testkit.py)."""
from __future__ import annotations

import socket
import ssl
from datetime import datetime, timedelta, timezone

import pytest

from tests.integration.uptime.uptime_testkit import Handler, Server, serve_in_thread


@pytest.fixture(scope="session")
def peer():
    server = Server(("127.0.0.1", 0), Handler)
    serve_in_thread(server)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def tls_peer():
    """HTTPS on 127.0.0.1 with a certificate expiring in 2 days; yields (url, client context)."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost", not_after=datetime.now(timezone.utc) + timedelta(days=2))
    server = Server(("127.0.0.1", 0), Handler)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_context)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    serve_in_thread(server)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    yield f"https://localhost:{server.server_address[1]}", client_context
    server.shutdown()
    server.server_close()


@pytest.fixture
def refused_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port
