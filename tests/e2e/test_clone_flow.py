"""`/rds clone` end to end: engineer asks, a DBA approves, one clone runs, the thread says so."""

from __future__ import annotations

from bot.sandbox.slack import APPROVALS_CHANNEL, BOB, CAROL
from bot.sandbox.stack import Stack
from bot.store import audit
from tests.e2e.flows import FINAL, approval_message, final_reply, request_clone, request_id_of


def test_clone_from_request_to_new_instance(stack: Stack) -> None:
    view, submitted = request_clone(stack)
    assert submitted.status == 200 and not submitted.errors, submitted.text
    card = approval_message(stack)
    request_id = request_id_of(card)
    assert request_id.startswith("clone-")
    assert not stack.rds.calls_for("CloneDBInstance"), "nothing runs before approval"

    stack.driver.click(BOB, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
    counted = stack.slack.wait_for_ephemeral(BOB, timeout=5)
    assert "1 more needed" in counted["text"], "a production clone needs two approvers"
    assert not stack.rds.calls_for("CloneDBInstance")
    stack.driver.click(CAROL, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")

    final = final_reply(stack, APPROVALS_CHANNEL, card["ts"])
    assert final["metadata"]["event_payload"] == {"request_id": request_id, "state": "succeeded"}
    clones = [c for c in stack.rds.calls_for("CloneDBInstance") if c.status == 200]
    assert len(clones) == 1 and clones[0].client_token == request_id
    thread = stack.slack.thread(APPROVALS_CHANNEL, card["ts"])
    finals = [m for m in thread if (m.get("metadata") or {}).get("event_type") == FINAL]
    assert len(finals) == 1 and thread[-1]["ts"] == final["ts"]
    new_id = stack.requests.get(request_id).result["DBInstanceId"]
    assert new_id in final["text"]
    with stack.runtime.db.session() as session:
        assert audit.verify(session).ok
        events = [e.event for e in audit.events(session, request_id=request_id)]
    assert events[:5] == ["requested", "approval", "approval", "approved", "submitted"]
    assert "started" in events and "succeeded" in events
    card_now = stack.slack.message(APPROVALS_CHANNEL, card["ts"])
    assert not any(b.get("type") == "actions" for b in card_now["blocks"]), "buttons gone after the decision"
