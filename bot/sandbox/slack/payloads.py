"""The requests Slack's servers send an app, built field by field as Slack builds them.

Shapes follow Slack's documentation and the real payloads in slack-bolt's
scenario tests: slash commands are form fields; interactions are a form field
``payload`` holding JSON; Events API callbacks are a JSON body.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from . import ids
from .workspace import User, Workspace

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def channel_name(workspace: Workspace, channel_id: str) -> str:
    """The ``channel_name`` Slack reports: the name, or its placeholders for DMs and private channels."""
    seeded = workspace.channel(channel_id)
    if seeded is None:
        return "directmessage"
    return "privategroup" if seeded.is_private else seeded.name


def slash_command(
    workspace: Workspace,
    user: User,
    *,
    channel: str,
    command: str,
    text: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    """The form fields of a slash command invocation, in Slack's order."""
    return {
        "token": workspace.verification_token,
        "team_id": workspace.team_id,
        "team_domain": workspace.domain,
        "channel_id": channel,
        "channel_name": channel_name(workspace, channel),
        "user_id": user.id,
        "user_name": user.name,
        "command": command,
        "text": text,
        "api_app_id": workspace.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def _envelope(kind: str, workspace: Workspace, user: User) -> dict[str, Any]:
    """Fields every interaction payload starts with."""
    return {
        "type": kind,
        "user": user.payload_user(workspace.team_id),
        "api_app_id": workspace.app_id,
        "token": workspace.verification_token,
        "team": {"id": workspace.team_id, "domain": workspace.domain},
        "enterprise": None,
        "is_enterprise_install": False,
    }


def button_action(block: dict[str, Any], element: dict[str, Any]) -> dict[str, Any]:
    """One ``actions[]`` entry for a clicked button."""
    action = {
        "action_id": element.get("action_id"),
        "block_id": block.get("block_id"),
        "text": element.get("text"),
        "type": "button",
        "action_ts": ids.action_ts(),
    }
    for optional in ("value", "style", "url"):
        if optional in element:
            action[optional] = element[optional]
    return action


def element_action(block: dict[str, Any], element: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """One ``actions[]`` entry for a changed input/select: its state entry plus ids and time."""
    action = {
        "type": element["type"],
        "action_id": element.get("action_id"),
        "block_id": block.get("block_id"),
        **{k: v for k, v in entry.items() if k != "type"},
        "action_ts": ids.action_ts(),
    }
    if "placeholder" in element:
        action["placeholder"] = element["placeholder"]
    return action


def message_block_actions(
    workspace: Workspace,
    user: User,
    *,
    container: dict[str, Any],
    message: dict[str, Any] | None,
    actions: list[dict[str, Any]],
    response_url: str,
    trigger_id: str,
) -> dict[str, Any]:
    """A ``block_actions`` payload for a click in a message (``message`` is absent for ephemerals)."""
    payload = _envelope("block_actions", workspace, user)
    channel_id = container["channel_id"]
    payload.update(
        container=container,
        trigger_id=trigger_id,
        channel={"id": channel_id, "name": channel_name(workspace, channel_id)},
    )
    if message is not None:
        payload["message"] = message
    payload.update(state={"values": {}}, response_url=response_url, actions=actions)
    return payload


def view_block_actions(
    workspace: Workspace, user: User, *, view: dict[str, Any], actions: list[dict[str, Any]], trigger_id: str
) -> dict[str, Any]:
    """A ``block_actions`` payload for an interaction inside a modal."""
    payload = _envelope("block_actions", workspace, user)
    payload.update(
        container={"type": "view", "view_id": view["id"]}, trigger_id=trigger_id, view=view, actions=actions
    )
    return payload


def view_submission(
    workspace: Workspace,
    user: User,
    *,
    view: dict[str, Any],
    trigger_id: str,
    response_urls: list[dict[str, Any]],
) -> dict[str, Any]:
    """A ``view_submission`` payload."""
    payload = _envelope("view_submission", workspace, user)
    payload.update(trigger_id=trigger_id, view=view, response_urls=response_urls)
    return payload


def view_closed(
    workspace: Workspace, user: User, *, view: dict[str, Any], is_cleared: bool
) -> dict[str, Any]:
    """A ``view_closed`` payload (only for views with ``notify_on_close``)."""
    payload = _envelope("view_closed", workspace, user)
    payload.update(view=view, is_cleared=is_cleared)
    return payload


def block_suggestion(
    workspace: Workspace, user: User, *, view: dict[str, Any], block_id: str, action_id: str, value: str
) -> dict[str, Any]:
    """A ``block_suggestion`` (options load) payload for an external select in a modal."""
    payload = _envelope("block_suggestion", workspace, user)
    payload.update(
        container={"type": "view", "view_id": view["id"]},
        action_id=action_id,
        block_id=block_id,
        value=value,
        view=view,
    )
    return payload


def event_callback(workspace: Workspace, event: dict[str, Any]) -> dict[str, Any]:
    """An Events API ``event_callback`` envelope around ``event``."""
    now = time.time()
    inner = {"event_ts": f"{now:.6f}", **event}
    return {
        "token": workspace.verification_token,
        "team_id": workspace.team_id,
        "api_app_id": workspace.app_id,
        "event": inner,
        "type": "event_callback",
        "event_id": ids.event_id(),
        "event_time": int(now),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": workspace.team_id,
                "user_id": workspace.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }


def url_verification(workspace: Workspace, challenge: str) -> dict[str, Any]:
    """The ``url_verification`` handshake Slack sends when the request URL is saved."""
    return {"token": workspace.verification_token, "challenge": challenge, "type": "url_verification"}


def form_body(fields: dict[str, str]) -> bytes:
    """Form-encode fields the way Slack does."""
    return urlencode(fields).encode()


def interactive_body(payload: dict[str, Any]) -> bytes:
    """An interaction as Slack posts it: ``payload=<url-encoded JSON>``."""
    return form_body({"payload": json.dumps(payload)})


def json_body(payload: dict[str, Any]) -> bytes:
    """An Events API body."""
    return json.dumps(payload).encode()
