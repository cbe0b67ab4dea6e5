"""The shipped Slack app manifest agrees with the code: command name, route, scopes, usage."""
from __future__ import annotations

from pathlib import Path

import yaml

from chalicelib.slackbot import blocks
from chalicelib.slackbot.commands import ALIASES

ROOT = Path(__file__).resolve().parents[3]


def test_manifest_matches_the_route_and_the_commands():
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yaml").read_text(encoding="utf-8"))
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == blocks.COMMAND
    assert command["url"].startswith("https://") and command["url"].endswith("/api/slack/commands")
    assert command["should_escape"] is False  # the parser expects raw text, not <@U..> escapes
    assert '"/slack/commands"' in (ROOT / "app.py").read_text(encoding="utf-8")
    for name in set(ALIASES.values()) - {"help"}:
        assert name in command["usage_hint"], name
    assert {"commands", "chat:write"} <= set(manifest["oauth_config"]["scopes"]["bot"])
    assert len(manifest["display_information"]["description"]) <= 140
    assert manifest["settings"]["socket_mode_enabled"] is False  # HTTP request URL mode


def test_manifest_declares_interactivity_events_home_and_the_scopes_the_code_calls():
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yaml").read_text(encoding="utf-8"))
    app_py = (ROOT / "app.py").read_text(encoding="utf-8")
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["interactivity"]["request_url"].endswith("/api/slack/interactions")
    assert '"/slack/interactions"' in app_py and '"/slack/events"' in app_py
    assert settings["event_subscriptions"]["request_url"].endswith("/api/slack/events")
    assert settings["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    # conversations.open (slack-user:) and the reconciliation reads in channels and DMs
    assert {"im:write", "im:history", "channels:history", "groups:history"} <= set(manifest["oauth_config"]["scopes"]["bot"])
