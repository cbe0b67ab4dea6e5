"""Fixtures for notification tests (helpers in notify_testkit.py): a recording HTTP peer on
127.0.0.1 and the notify pieces wired against moto."""
from __future__ import annotations

import json

import pytest

from tests.integration.notify.notify_testkit import SLACK_OK, NotifyStack, Peer, Reply


@pytest.fixture
def peer():
    server = Peer()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def slack_peer(peer):
    """A Slack Web API stand-in answering with the documented chat.postMessage success example
    (from the shared samples when present)."""
    body = dict(SLACK_OK)
    try:
        from devstack.samples import samples_dir

        base = samples_dir()
        if base is not None:
            spec = json.loads((base / "slack" / "slack-api-specs__chat.postMessage_path.DERIVED.json").read_text())
            body = spec["/chat.postMessage"]["post"]["responses"]["200"]["examples"]["application/json"]
    except (OSError, KeyError, ValueError):
        pass
    peer.default = Reply(200, body)
    return peer


@pytest.fixture
def stack(aws):
    return NotifyStack(aws)
