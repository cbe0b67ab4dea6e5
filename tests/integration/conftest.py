"""Fixtures shared by the integration folders (helpers in peer_testkit.py)."""
from __future__ import annotations

import pytest

from tests.integration.peer_testkit import record_connects


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every outgoing socket connect of the test, as (host, port): "nothing was contacted" is
    checked here as well as in a peer's request log."""
    return record_connects(monkeypatch)
