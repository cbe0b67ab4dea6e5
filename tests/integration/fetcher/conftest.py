"""Fixtures for the fetcher integration tests (helpers live in fetcher_testkit.py)."""

from __future__ import annotations

import random
import socket
from collections.abc import Callable, Iterator

import pytest

from crawlers.fetcher import Fetcher
from tests.integration.fetcher.fetcher_testkit import CONTACT_URL, FakeTime, HangingServer, LocalServer


@pytest.fixture
def server() -> Iterator[LocalServer]:
    s = LocalServer()
    yield s
    s.close()


@pytest.fixture
def hanging_server() -> Iterator[HangingServer]:
    s = HangingServer()
    yield s
    s.close()


@pytest.fixture
def refused_url() -> str:
    # Bind then close: nothing listens on that port any more, so connecting is refused.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/page"


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_fetcher(fake_time: FakeTime) -> Iterator[Callable[..., Fetcher]]:
    """Fetcher factory with fast test defaults; every fetcher is closed at teardown."""
    made: list[Fetcher] = []

    def make(**overrides: object) -> Fetcher:
        kwargs: dict[str, object] = {
            "user_agent": "newbooks/1.0",
            "contact_url": CONTACT_URL,
            "timeout_s": 2.0,
            "sleep": fake_time.sleep,
            "clock": fake_time.clock,
            "rng": random.Random(1234),
        }
        kwargs.update(overrides)
        f = Fetcher(**kwargs)  # type: ignore[arg-type]
        made.append(f)
        return f

    yield make
    for f in made:
        f.close()
