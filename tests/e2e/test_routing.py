"""Approval routing over signed HTTP: the card names who may approve, `/rds pending`, DMs to approvers."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from bot.cli import app as cli_app
from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, BOB, CAROL, DAVE, ERIN
from bot.sandbox.stack import Stack
from tests.e2e.flows import FINAL, approval_message, final_reply, request_clone, request_id_of
from tests.e2e.flows_ops import answer

MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")


def named_on(card: dict[str, Any]) -> set[str]:
    """The people the card's "May approve" block mentions."""
    blocks = [b for b in card.get("blocks") or [] if b.get("block_id") == "approvers"]
    assert len(blocks) == 1, card.get("blocks")
    return set(MENTION.findall(blocks[0]["text"]["text"]))


def who_can(policy_dir: Path, resource: str, tags: dict[str, str]) -> set[str]:
    """The users `rdsbot policy who-can rdsbot:Approve <resource> --tag k=v` prints."""
    args = ["policy", "who-can", "rdsbot:Approve", resource, "--policy-dir", str(policy_dir)]
    for key, value in tags.items():
        args += ["--tag", f"{key}={value}"]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 0, result.output
    return {line.split()[0] for line in result.output.splitlines() if re.match(r"^U[A-Z0-9]+\s", line)}


def test_a_production_clone_card_names_bob_and_carol_as_who_can_says(stack: Stack, policy_dir: Path) -> None:
    request_clone(stack)
    card = approval_message(stack)
    assert named_on(card) == {BOB, CAROL}
    request = stack.runtime.requests.get(request_id_of(card))
    assert request is not None and request.tags.get("env") == "prod"
    assert who_can(policy_dir, request.resource, request.tags) == {BOB, CAROL}


def test_a_dba_requesting_sees_only_the_other_dba_named(stack: Stack) -> None:
    request_clone(stack, user=BOB)
    card = approval_message(stack)
    assert named_on(card) == {CAROL}
    assert BOB not in named_on(card)


def test_an_approval_takes_the_approver_off_the_list(stack: Stack) -> None:
    request_clone(stack)
    card = approval_message(stack)
    stack.driver.click(BOB, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
    stack.drain()
    updated = stack.slack.message(APPROVALS_CHANNEL, card["ts"])
    assert updated is not None and named_on(updated) == {CAROL}


def test_pending_lists_the_request_for_bob_with_a_link_and_nothing_for_dave(stack: Stack) -> None:
    request_clone(stack)
    card = approval_message(stack)
    request_id = request_id_of(card)
    stack.drain()  # the card's ts is recorded once Slack answered the post
    bob = answer(stack, BOB, "pending")["text"]
    assert request_id in bob and "rm-bp1mysqlprod0001" in bob and f"<@{ALICE}>" in bob
    assert f"/archives/{APPROVALS_CHANNEL}/p{card['ts'].replace('.', '')}" in bob  # chat.getPermalink
    assert request_id not in answer(stack, DAVE, "pending")["text"]
    assert request_id not in answer(stack, ALICE, "pending")["text"]  # her own
    assert request_id not in answer(stack, ERIN, "pending")["text"]  # on call, not an approver
    stack.driver.click(BOB, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
    stack.drain()
    assert request_id not in answer(stack, BOB, "pending")["text"]  # already approved
    assert request_id in answer(stack, CAROL, "pending")["text"]


def _asks(stack: Stack, user: str, request_id: str) -> list[dict[str, Any]]:
    channel = "D" + user[1:]
    return [m for m in stack.slack.messages(channel) if request_id in m.get("text", "")
            and any(b.get("type") == "actions" for b in m.get("blocks") or [])]


def test_with_dm_notification_bob_and_carol_are_asked_and_approve_from_the_dm(
        make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(RDSBOT_NOTIFY_APPROVERS="dm")
    request_clone(stack)
    card = approval_message(stack)
    request_id = request_id_of(card)
    stack.drain()
    asked = {user for user in (ALICE, BOB, CAROL, DAVE, ERIN) if _asks(stack, user, request_id)}
    assert asked == {BOB, CAROL}
    for user in (BOB, CAROL):
        dm = _asks(stack, user, request_id)
        assert len(dm) == 1
        response = stack.driver.click(user, channel="D" + user[1:], ts=dm[0]["ts"], action_id="approve")
        assert response.status == 200
        stack.drain()
    done = final_reply(stack, APPROVALS_CHANNEL, card["ts"])
    assert (done.get("metadata") or {}).get("event_type") == FINAL
    assert stack.rds.calls_for("CloneDBInstance")


def test_without_the_setting_nobody_is_sent_a_dm(stack: Stack) -> None:
    request_clone(stack)
    request_id = request_id_of(approval_message(stack))
    stack.drain()
    assert not any(_asks(stack, user, request_id) for user in (BOB, CAROL))
