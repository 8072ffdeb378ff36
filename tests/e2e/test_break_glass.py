"""Issue 13: break-glass. Someone allowed rdsbot:BreakGlass (on call; DBAs are on call too) runs a request
without approvals or change freezes, never without their own permission; the card is marked and owes a review
by an approver, posted again every RDSBOT_BREAKGLASS_REVIEW_S while overdue and counted in /metrics."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot import metrics
from bot.slack import modals
from bot.sandbox.slack import payloads
from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, BOB, CAROL, ERIN
from bot.sandbox.stack import Stack
from bot.timeutil import CLOCK
from tests.e2e.flows import PROD_MYSQL, approval_message, final_reply, first_backup, request_clone
from tests.e2e.flows_ops import audit_ok, audit_rows, events
from tests.e2e.test_freezes import _freeze

GLASS = {"break_glass": ["yes"]}
REVIEW_S = 600


def _block_ids(view: dict[str, Any]) -> list[str]:
    return [str(b.get("block_id")) for b in view.get("blocks", [])]


def _buttons(message: dict[str, Any]) -> list[str]:
    return [e.get("action_id") for b in message.get("blocks", []) if b.get("type") == "actions"
            for e in b.get("elements", [])]


def _overdue_posts(stack: Stack) -> list[dict[str, Any]]:
    return [m for m in stack.slack.messages(APPROVALS_CHANNEL) if "review overdue" in m.get("text", "")]


def _gauge() -> str:
    return next(line for line in metrics.render().decode().splitlines()
                if line.startswith("rdsbot_breakglass_reviews_overdue "))


def _tampered_submission(stack: Stack, user: str, view_id: str, form: dict[str, Any]) -> Any:
    """What a tampered client sends: the modal the bot opened plus a break_glass box it never showed,
    ticked; signed and delivered like any submission (the driver itself refuses unknown inputs)."""
    driver = stack.driver
    who = driver._user(user)  # noqa: SLF001 - the emulator's internals stand in for the attacker's client
    record = driver._visible_view(who, view_id)  # noqa: SLF001
    record.definition["blocks"].append(modals.break_glass_block())
    state = driver._view_state(record, form, validate=False)  # noqa: SLF001
    trigger_id = driver._emu.issue_trigger(who.id, "view_submission", view_id=record.id)  # noqa: SLF001
    payload = payloads.view_submission(driver._ws, who, view=record.to_slack(driver._ws, state=state),  # noqa: SLF001
                                       trigger_id=trigger_id, response_urls=[])
    return driver.send_raw(payloads.interactive_body(payload))


def test_break_glass_runs_without_approval_or_freeze_and_owes_a_review_until_one_is_made(
        make_stack: Callable[..., Stack], policy_dir: Path) -> None:
    _freeze(policy_dir)  # a change freeze covers production clones right now
    stack = make_stack(RDSBOT_BREAKGLASS_REVIEW_S=str(REVIEW_S))
    assert "break_glass" in _block_ids(stack.driver.open_modal(BOB, f"clone {PROD_MYSQL}"))
    assert "break_glass" not in _block_ids(stack.driver.open_modal(ALICE, f"clone {PROD_MYSQL}"))

    _view, submitted = request_clone(stack, user=BOB, values=GLASS)
    assert submitted.status == 200 and not submitted.errors, submitted.text
    stack.drain()
    [request] = stack.requests.recent(BOB)
    card = approval_message(stack, request.id)
    final = final_reply(stack, APPROVALS_CHANNEL, card["ts"], timeout=30)
    assert (final.get("metadata") or {}).get("event_payload", {}).get("state") == "succeeded", final.get("text")
    assert len(stack.rds.calls_for("CloneDBInstance")) == 1, "sent with no approval, inside the freeze"
    card = stack.slack.wait_for_message(APPROVALS_CHANNEL, where=lambda m: m.get("ts") == card["ts"])
    assert "Break-glass" in str(card["blocks"]) and "review" in _buttons(card)
    assert "approve" not in _buttons(card)
    trail = events(stack, request.id)
    assert "break_glass" in trail and "approved" in trail and "held" not in trail, trail

    own = stack.driver.click(BOB, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="review")
    assert own.status == 200
    stack.drain()
    assert stack.requests.get(request.id).reviewed_by is None, "nobody reviews their own break-glass"

    stack.runtime.jobs.run_now("break_glass_reviews")
    stack.drain()
    assert _overdue_posts(stack) == [] and _gauge().endswith(" 0.0"), "not yet due"
    CLOCK.advance(REVIEW_S + 1)
    stack.runtime.jobs.run_now("break_glass_reviews")
    stack.drain()
    stack.runtime.jobs.run_now("break_glass_reviews")  # once per period, not once per run
    stack.drain()
    assert len(_overdue_posts(stack)) == 1 and _gauge().endswith(" 1.0"), _gauge()
    CLOCK.advance(REVIEW_S + 1)
    stack.runtime.jobs.run_now("break_glass_reviews")
    stack.drain()
    reposts = _overdue_posts(stack)
    assert len(reposts) == 2 and request.id in reposts[-1]["text"] and "review" in _buttons(reposts[-1])

    reviewed = stack.driver.click(CAROL, channel=APPROVALS_CHANNEL, ts=reposts[-1]["ts"], action_id="review")
    assert reviewed.status == 200
    stack.drain()
    assert stack.requests.get(request.id).reviewed_by == CAROL
    CLOCK.advance(REVIEW_S + 1)
    stack.runtime.jobs.run_now("break_glass_reviews")
    stack.drain()
    assert len(_overdue_posts(stack)) == 2 and _gauge().endswith(" 0.0"), "a reviewed one is never posted again"
    names = [e.event for e in audit_rows(stack, request.id)]
    assert names.count("break_glass_review_overdue") == 2 and "break_glass_review_refused" in names
    assert names[-1] == "break_glass_reviewed" or "break_glass_reviewed" in names
    assert audit_ok(stack)


def test_a_forged_break_glass_is_refused_and_never_waives_the_requesters_own_permission(stack: Stack) -> None:
    # Alice has no rdsbot:BreakGlass: her form never showed the box; her (tampered) client sends one anyway.
    view = stack.driver.open_modal(ALICE, f"clone {PROD_MYSQL}")
    form = {"DBInstanceId": PROD_MYSQL, "PayType": "Postpaid", "reason": "urgent, trust me",
            "BackupId": first_backup(stack, ALICE, view["id"]), **GLASS}
    stack.drain()  # the source panel's views.update has landed
    forged = _tampered_submission(stack, ALICE, view["id"], form)
    assert forged.response_action == "errors" and "break_glass" in (forged.errors or {}), forged.text
    stack.drain()
    assert stack.requests.recent(ALICE) == [] and stack.slack.messages(APPROVALS_CHANNEL) == []
    [refused] = [e for e in audit_rows(stack) if e.event == "break_glass_refused"]
    assert refused.actor == ALICE

    # Erin (on call) may break the glass, but not clone: break-glass waives approvals, never her own permission.
    _view, erin = request_clone(stack, user=ERIN, values=GLASS)
    assert erin.status == 200
    stack.drain()
    assert not (erin.errors or {}).get("break_glass"), erin.text
    assert all(r.state == "denied" for r in stack.requests.recent(ERIN))
    assert stack.rds.calls_for("CloneDBInstance") == []
    assert audit_ok(stack)
