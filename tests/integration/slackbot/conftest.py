"""Fixtures for the slash command: the Chalice app with moto resources, real signed form bodies,
a recording HTTP server on 127.0.0.1 standing in for Slack's response_url, and the
slack-jobs queue drained into the `slack_worker` Lambda handler."""
from __future__ import annotations

import pytest

from tests.integration.slackbot.slackbot_testkit import (  # noqa: F401  (used by the fixtures)
    SECRET,
    ResponseUrlServer,
    SlackApiPeer,
    SlackApp,
    block_actions,
    checkbox_values,
    interaction_body,
    select_value,
    sign,
    text_value,
    validate_blocks,
    validate_view,
    view_submission,
)


@pytest.fixture
def response_url():
    server = ResponseUrlServer()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def slack(aws, response_url, monkeypatch):
    from chalicelib import bootstrap

    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("NEWBOOKS_ALLOW_PRIVATE_TARGETS", "true")  # lets the worker answer a 127.0.0.1 URL
    bootstrap.reset()
    yield SlackApp(aws, response_url)
    bootstrap.reset()


@pytest.fixture
def slack_api(monkeypatch):
    server = SlackApiPeer()
    monkeypatch.setenv("SLACK_API_URL", server.url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-not-real")
    yield server
    server.server.shutdown()
    server.server.server_close()
