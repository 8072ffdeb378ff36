"""The envelope check that runs before Bolt routes a payload: real shapes pass, crashing shapes are named."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.sandbox.slack import ALICE, payloads
from bot.sandbox.slack.workspace import default_workspace
from bot.slack import envelope

WS = default_workspace()
USER = WS.user(ALICE)
VIEW = {"id": "V1", "type": "modal", "callback_id": "rds_clone", "private_metadata": "{}", "hash": "1.a",
        "state": {"values": {}}}
BUTTON = {"action_id": "approve", "block_id": "b", "type": "button", "value": "clone-1", "action_ts": "1.2"}


def _good() -> dict[str, dict[str, Any]]:
    return {
        "slash command": payloads.slash_command(WS, USER, channel="C0OPS", command="/rds", text="clone", trigger_id="1.2.3",
                                                response_url="https://x/r"),
        "view_submission": payloads.view_submission(WS, USER, view=VIEW, trigger_id="1.2", response_urls=[]),
        "view_closed": payloads.view_closed(WS, USER, view=VIEW, is_cleared=False),
        "block_suggestion": payloads.block_suggestion(WS, USER, view=VIEW, block_id="BackupId",
                                                      action_id="BackupId", value=""),
        "block_actions": {**payloads.view_block_actions(WS, USER, view=VIEW, trigger_id="1.2", actions=[BUTTON]),
                          "channel": {"id": "C0OPS", "name": "ops"}},
        "event_callback": payloads.event_callback(WS, {"type": "app_mention", "user": ALICE, "text": "hi",
                                                       "channel": "C0OPS", "ts": "1.1"}),
        "url_verification": payloads.url_verification(WS, "c"),
        "empty form": {},
    }


@pytest.mark.parametrize("name", list(_good()))
def test_real_payload_shapes_pass(name: str) -> None:
    assert envelope.problem(_good()[name]) is None


def _mutated(name: str, path: str, value: Any) -> dict[str, Any]:
    payload = json.loads(json.dumps(_good()[name]))
    *parents, last = path.split(".")
    target = payload
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return payload


@pytest.mark.parametrize(("name", "path", "value", "said"), [
    ("view_submission", "view.callback_id", 7, "view.callback_id must be a string"),
    ("view_submission", "view.callback_id", ["rds_clone"], "view.callback_id must be a string"),
    ("view_closed", "view.callback_id", False, "view.callback_id must be a string"),
    ("view_submission", "view", "V1", "view must be an object"),
    ("view_submission", "view.private_metadata", {"request_id": "x"}, "view.private_metadata must be a string"),
    ("block_suggestion", "action_id", 3, "action_id must be a string"),
    ("block_suggestion", "value", ["a"], "value must be a string"),
    ("block_actions", "actions", [], "actions must be a non-empty list"),
    ("block_actions", "actions", "approve", "actions must be a non-empty list"),
    ("block_actions", "actions.0", "approve", "actions[0] must be an object"),
    ("block_actions", "actions.0.action_id", None, "actions[0].action_id must be a string"),
    ("block_actions", "actions.0.value", {"$gt": ""}, "actions[0].value must be a string"),
    ("block_actions", "user", 42, "user must be a string or an object with a string id"),
    ("block_actions", "user.id", ["U0ALICE"], "user must be a string or an object with a string id"),
    ("block_actions", "channel", 5, "channel must be a string or an object with a string id"),
    ("event_callback", "event", "app_mention", "event must be an object with a string type"),
    ("event_callback", "event.user", 1.5, "event.user must be a string or an object with a string id"),
    ("event_callback", "event.channel", [1], "event.channel must be a string or an object with a string id"),
    ("event_callback", "event_id", 9, "event_id must be a string"),
    ("slash command", "text", 3, "text must be a string"),
    ("view_submission", "type", ["view_submission"], "type must be a string"),
])
def test_shapes_that_would_crash_routing_are_named(name: str, path: str, value: Any, said: str) -> None:
    assert envelope.problem(_mutated(name, path, value)) == said


@pytest.mark.parametrize("body", [[], "payload", 3, None])
def test_a_body_that_is_not_an_object(body: Any) -> None:
    assert envelope.problem(body) == "the payload is not an object"
