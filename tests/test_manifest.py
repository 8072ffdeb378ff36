"""The Slack app manifest a Slack admin imports must match what the bot serves."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.slack.ids import COMMAND

ROOT = Path(__file__).resolve().parents[1]


def test_manifest_points_every_url_at_the_events_endpoint_and_asks_only_needed_scopes() -> None:
    manifest = yaml.safe_load((ROOT / "app_manifest.yaml").read_text())
    commands = manifest["features"]["slash_commands"]
    assert [c["command"] for c in commands] == [COMMAND]
    interactivity = manifest["settings"]["interactivity"]
    events = manifest["settings"]["event_subscriptions"]
    urls = [commands[0]["url"], interactivity["request_url"], interactivity["message_menu_options_url"],
            events["request_url"]]
    assert all(u.endswith("/slack/events") for u in urls)
    assert interactivity["is_enabled"] is True
    assert events["bot_events"] == ["app_home_opened"] and manifest["features"]["app_home"]["home_tab_enabled"] is True
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    used = {"commands", "chat:write", "chat:write.public", "im:write", "usergroups:read", "users:read",
            "channels:history", "groups:history", "im:history", "channels:read", "groups:read"}
    assert scopes == used
    # Every method the bot calls needs one of these scopes; admin scopes never.
    assert not any(re.match(r"admin|files:|channels:manage", s) for s in scopes)
