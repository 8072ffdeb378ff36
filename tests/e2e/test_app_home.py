"""App Home, `/rds cancel` and "Edit and resubmit" over signed HTTP (issue 14, deliverable 4)."""

from __future__ import annotations

import json
from typing import Any

from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, BOB, DAVE, OPS_CHANNEL, payloads
from bot.sandbox.stack import Stack
from tests.e2e.flows import DEV_MYSQL, PROD_MYSQL, approval_message, request_clone, request_id_of
from tests.e2e.flows_ops import answer, events

REASON = "restore test for INC-4211"


def _home(stack: Stack, user: str, *, where: Any = None) -> list[dict[str, Any]]:
    """Open the user's Home tab and return the blocks the bot publishes there (``where`` holds)."""
    before = stack.slack.state.views.home(user)
    stack.driver.event({"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": "home"})

    def published() -> list[dict[str, Any]] | None:
        record = stack.slack.state.views.home(user)
        fresh = record is not None and (before is None or record.hash != before.hash)
        return record.blocks if fresh and (where is None or where(record.blocks)) else None

    return stack.slack.wait_for(published, timeout=10, what=f"{user}'s home")


def _buttons(blocks: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(action_id, value) of every button in the blocks."""
    found = set()
    for block in blocks:
        for element in [block.get("accessory") or {}, *(block.get("elements") or [])]:
            if element.get("type") == "button":
                found.add((element["action_id"], element.get("value", "")))
    return found


def _text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks)


def _pending_dev_clone(stack: Stack) -> str:
    request_clone(stack, instance=DEV_MYSQL, values={"reason": REASON})
    request_id = request_id_of(approval_message(stack))
    stack.drain()  # the card's ts is recorded once Slack answered the post
    return request_id


def test_home_lists_my_request_with_cancel_and_what_waits_for_me_approved_from_the_home(stack: Stack) -> None:
    request_id = _pending_dev_clone(stack)
    assert "rem-" in answer(stack, BOB, f"remind {PROD_MYSQL} daily 09:00")["text"]  # in #ops, where Alice is
    alice = _home(stack, ALICE)
    assert ("cancel", request_id) in _buttons(alice) and ("approve", request_id) not in _buttons(alice)
    assert f"/archives/{APPROVALS_CHANNEL}/p" in _text(alice)  # a link to the request's thread
    assert PROD_MYSQL in _text(alice) and f"<#{OPS_CHANNEL}>" in _text(alice)  # the reminder of her channel
    dave = _home(stack, DAVE)  # an intern: may approve nothing, asked nothing
    assert request_id not in _text(dave) and REASON not in _text(dave) and DEV_MYSQL not in _text(dave)
    assert "Clone" in _text(dave) and "denied" in _text(dave)  # what may I do: his roles' denies

    bob = _home(stack, BOB)
    assert {("approve", request_id), ("reject", request_id)} <= _buttons(bob) and REASON in _text(bob)
    stack.driver.click_in_home(BOB, "approve", request_id)
    moved = stack.slack.wait_for(lambda: (stack.requests.get(request_id).state != "pending_approval") or None)
    assert moved and stack.requests.get(request_id).state in {"approved", "submitted", "running", "succeeded"}
    refreshed = stack.slack.wait_for(lambda: (b := stack.slack.state.views.home(BOB).blocks)
                                     and ("approve", request_id) not in _buttons(b) and b)
    assert "You approved" in _text(refreshed)  # the click's answer tops the home published again


def test_rds_cancel_withdraws_ones_own_request_and_tells_nothing_about_anothers(stack: Stack) -> None:
    request_id = _pending_dev_clone(stack)
    refused = answer(stack, BOB, f"cancel {request_id}")["text"]
    assert refused == f"You have no request {request_id}." or f"no request {request_id}" in refused
    assert DEV_MYSQL not in refused and stack.requests.get(request_id).state == "pending_approval"
    assert "cancel_refused" in events(stack, request_id)
    assert "/rds cancel <request-id>" in answer(stack, ALICE, "cancel")["text"]
    assert "cancelled" in answer(stack, ALICE, f"cancel {request_id}")["text"]
    assert stack.requests.get(request_id).state == "cancelled"
    again = answer(stack, ALICE, f"cancel {request_id}")["text"]
    assert "already cancelled" in again


def _initial(view: dict[str, Any]) -> dict[str, Any]:
    """block_id -> the value the modal opens with, whatever element holds it."""
    found: dict[str, Any] = {}
    for block in view["blocks"]:
        element = block.get("element") or {}
        if "initial_option" in element:
            found[block["block_id"]] = element["initial_option"]["value"]
        elif "initial_value" in element:
            found[block["block_id"]] = element["initial_value"]
        elif "initial_options" in element and block["block_id"] not in {"dry_run", "break_glass"}:
            found[block["block_id"]] = [o["value"] for o in element["initial_options"]]
    return found


def _forged_resubmit(stack: Stack, user: str, request_id: str) -> Any:
    """A signed click on a ``resubmit`` button the bot never showed ``user``: someone else's request ID."""
    who = stack.slack.workspace.user(user)
    action = {"action_id": "resubmit", "block_id": "forged", "type": "button", "value": request_id,
              "text": {"type": "plain_text", "text": "Edit and resubmit"}, "action_ts": "1700000000.000001"}
    container = {"type": "message", "message_ts": "1700000000.000100", "channel_id": OPS_CHANNEL,
                 "is_ephemeral": False}
    payload = payloads.message_block_actions(
        stack.slack.workspace, who, container=container, message=None, actions=[action],
        response_url=stack.slack.issue_response_url("block_actions", user=user, channel=OPS_CHANNEL),
        trigger_id=stack.slack.issue_trigger(user, "block_actions"))
    return stack.driver.send_raw(payloads.interactive_body(payload))


def test_a_rejected_request_reopens_prefilled_as_a_new_request_and_a_forged_resubmit_opens_nothing(
        stack: Stack) -> None:
    request_id = _pending_dev_clone(stack)
    _home(stack, BOB)
    stack.driver.click_in_home(BOB, "reject", request_id)  # from the home, as from the card: the reason modal
    reject = stack.slack.wait_for_view(BOB, callback_id="rds_reject", timeout=5)
    stack.driver.submit_view(BOB, reject["id"], {"reason": "use the staging snapshot"})
    assert stack.requests.get(request_id).state == "rejected"
    stack.slack.wait_for(lambda: ("reject", request_id) not in _buttons(stack.slack.state.views.home(BOB).blocks)
                         or None, what="Bob's home published again")

    assert _forged_resubmit(stack, DAVE, request_id).status == 200
    refusal = stack.slack.wait_for_ephemeral(DAVE, timeout=5)["text"]
    assert request_id in refusal and DEV_MYSQL not in refusal and REASON not in refusal
    assert stack.slack.open_view(DAVE) is None and "resubmit_refused" in events(stack, request_id)

    dm = stack.slack.wait_for_message("D0ALICE", where=lambda m: ("resubmit", request_id) in _buttons(m["blocks"]))
    stack.driver.click(ALICE, channel="D0ALICE", ts=dm["ts"], action_id="resubmit", value=request_id)
    view = stack.slack.wait_for_view(ALICE, callback_id="rds_clone", timeout=5)
    old = stack.requests.get(request_id)
    typed = {k: v for k, v in old.form.items() if v not in (None, "", [])}
    assert typed["reason"] == REASON and typed["DBInstanceId"] == DEV_MYSQL
    assert _initial(view) == typed  # every value the requester typed, and nothing else (no dry run)
    stack.driver.submit_view(ALICE, view["id"], {})
    again = stack.slack.wait_for(lambda: next((r for r in stack.requests.recent(ALICE) if r.id != request_id), None))
    assert again.id != request_id and again.state == "pending_approval" and again.form == old.form
    assert stack.requests.get(request_id).state == "rejected"  # the old one stays as it was
