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
