"""The clone flow's guardrails: policy, self-approval, races, refusals, failures, expiry."""

from __future__ import annotations

import threading
from collections.abc import Callable

from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, BOB, CAROL, DAVE, OPS_CHANNEL
from bot.sandbox.stack import Stack
from bot.store import audit
from bot.workflow import decisions
from tests.e2e.flows import DEV_MYSQL, PROD_MYSQL, approval_message, approve_fully, final_reply, request_clone, request_id_of


def _events(stack: Stack, request_id: str) -> list[str]:
    with stack.runtime.db.session() as session:
        return [e.event for e in audit.events(session, request_id=request_id)]


def _ok_clones(stack: Stack) -> list[object]:
    return [c for c in stack.rds.calls_for("CloneDBInstance") if c.status == 200]


def test_policy_deny_is_explained_recorded_and_never_reaches_approval(stack: Stack) -> None:
    view, submitted = request_clone(stack, user=DAVE)
    assert submitted.status == 200
    modal_text = str(submitted.json)
    assert "not allowed" in modal_text and "rds:CloneDBInstance" in modal_text
    note = stack.slack.wait_for_ephemeral(DAVE, timeout=5)
    assert "rds:CloneDBInstance" in note["text"] and "policy.csv:" in note["text"], note["text"]
    assert "acs:rds:cn-hangzhou:" in note["text"] and PROD_MYSQL in note["text"]
    assert stack.slack.messages(APPROVALS_CHANNEL) == []
    assert not stack.rds.calls_for("CloneDBInstance")
    denied = stack.requests.recent(DAVE)
    assert [r.state for r in denied] == ["denied"]
    with stack.runtime.db.session() as session:
        first = next(audit.events(session, request_id=denied[0].id))
    assert first.state == "denied" and first.detail["decision"]["rule"]["line"] > 0


def test_requester_cannot_approve_their_own_clone(stack: Stack) -> None:
    request_clone(stack)
    card = approval_message(stack)
    stack.driver.click(ALICE, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
    note = stack.slack.wait_for_ephemeral(ALICE, timeout=5)
    assert "own request" in note["text"]
    request_id = request_id_of(card)
    assert stack.requests.get(request_id).state == "pending_approval"
    assert "self_approval_refused" in _events(stack, request_id)
    assert not stack.rds.calls_for("CloneDBInstance")


def test_two_approvers_clicking_at_once_start_exactly_one_clone(stack: Stack) -> None:
    request_clone(stack)
    card = approval_message(stack)
    barrier = threading.Barrier(4)

    def click(user: str) -> None:
        barrier.wait()
        stack.driver.click(user, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")

    threads = [threading.Thread(target=click, args=(u,)) for u in (BOB, CAROL, BOB, CAROL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = final_reply(stack, APPROVALS_CHANNEL, card["ts"])
    assert final["metadata"]["event_payload"]["state"] == "succeeded"
    assert len(_ok_clones(stack)) == 1
    events = _events(stack, request_id_of(card))
    assert events.count("approved") == 1 and events.count("submitted") == 1 and events.count("started") == 1


def test_a_rejection_asks_why_and_tells_the_requester(stack: Stack) -> None:
    request_clone(stack)
    card = approval_message(stack)
    stack.driver.click(CAROL, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="reject")
    view = stack.slack.wait_for_view(CAROL, callback_id="rds_reject", timeout=5)
    empty = stack.driver.submit_view(CAROL, view["id"], {"reason": ""}, validate=False)
    assert "reason" in (empty.errors or {})
    stack.driver.submit_view(CAROL, view["id"], {"reason": "use the staging snapshot <!channel>"})
    request_id = request_id_of(card)
    dm = stack.slack.wait_for_message("D0ALICE", timeout=5)
    assert "rejected" in dm["text"] and "staging snapshot" in dm["text"]
    assert "<!channel>" not in dm["text"], "user text is escaped"
    stack.slack.wait_for(lambda: not any(b.get("type") == "actions"
                                         for b in stack.slack.message(APPROVALS_CHANNEL, card["ts"])["blocks"]), 5)
    assert stack.requests.get(request_id).state == "rejected"
    assert not stack.rds.calls_for("CloneDBInstance")


def test_the_requester_can_cancel_and_a_late_approval_does_nothing(stack: Stack) -> None:
    request_clone(stack)
    card = approval_message(stack)
    stack.driver.click(ALICE, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="cancel")
    stack.slack.wait_for_ephemeral(ALICE, where=lambda m: "cancelled" in m["text"], timeout=5)
    request_id = request_id_of(card)
    assert stack.requests.get(request_id).state == "cancelled"
    assert decisions.vote(stack.runtime.deps, request_id, user=BOB, approve=True).status == "not_pending"
    assert not stack.rds.calls_for("CloneDBInstance")


def test_an_unanswered_request_expires_and_the_requester_is_told(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(RDSBOT_APPROVAL_TTL_S="1")
    request_clone(stack)
    card = approval_message(stack)
    dm = stack.slack.wait_for_message("D0ALICE", timeout=15)
    assert "expired" in dm["text"]
    request_id = request_id_of(card)
    assert stack.requests.get(request_id).state == "expired"
    assert decisions.vote(stack.runtime.deps, request_id, user=BOB, approve=True).status == "not_pending"
    stack.slack.wait_for(lambda: not any(b.get("type") == "actions"
                                         for b in stack.slack.message(APPROVALS_CHANNEL, card["ts"])["blocks"]), 5)
    assert not stack.rds.calls_for("CloneDBInstance")


def test_an_api_refusal_ends_in_a_plain_failure_reply_with_the_code(stack: Stack) -> None:
    stack.rds.inject(action="CloneDBInstance", code="OperationDenied.ZoneResource", status=403)
    request_clone(stack)
    card = approval_message(stack)
    approve_fully(stack, card)
    final = final_reply(stack, APPROVALS_CHANNEL, card["ts"])
    assert final["metadata"]["event_payload"]["state"] == "failed"
    assert "OperationDenied.ZoneResource" in final["text"] and "stock" in final["text"]
    assert stack.requests.get(request_id_of(card)).error_code == "OperationDenied.ZoneResource"


def test_throttling_is_retried_and_still_starts_one_clone(stack: Stack) -> None:
    stack.rds.inject(action="CloneDBInstance", code="Throttling.User", status=400, times=2, retry_after_ms=100)
    request_clone(stack)
    card = approval_message(stack)
    approve_fully(stack, card)
    final = final_reply(stack, APPROVALS_CHANNEL, card["ts"])
    assert final["metadata"]["event_payload"]["state"] == "succeeded"
    calls = stack.rds.calls_for("CloneDBInstance")
    assert [c.code for c in calls] == ["Throttling.User", "Throttling.User", None]
    assert len({c.client_token for c in calls}) == 1


def test_field_errors_land_on_the_modal_and_nothing_is_recorded(stack: Stack) -> None:
    view = stack.driver.open_modal(ALICE, f"clone {PROD_MYSQL}", channel=OPS_CHANNEL)
    response = stack.driver.submit_view(ALICE, view["id"], {
        "DBInstanceId": PROD_MYSQL, "PayType": "Prepaid", "reason": "x", "DBInstanceStorage": "7",
        "DBInstanceDescription": "http://phish",
    })
    assert response.response_action == "errors"
    assert set(response.errors) >= {"BackupId", "Period", "UsedTime", "DBInstanceStorage", "DBInstanceDescription"}
    assert stack.requests.recent(ALICE) == []


def test_status_shows_the_timeline_to_the_requester_only(stack: Stack) -> None:
    request_clone(stack)
    card = approval_message(stack)
    request_id = request_id_of(card)
    mine = stack.driver.slash_command(ALICE, "status", channel=OPS_CHANNEL)
    assert request_id in mine.text
    timeline = stack.driver.slash_command(ALICE, f"status {request_id}", channel=OPS_CHANNEL)
    assert "requested" in timeline.text
    stranger = stack.driver.slash_command(DAVE, f"status {request_id}", channel=OPS_CHANNEL)
    assert request_id in stranger.text and "requested" not in stranger.text
    approver = stack.driver.slash_command(BOB, f"status {request_id}", channel=OPS_CHANNEL)
    assert "requested" in approver.text


def test_with_one_approver_needed_two_simultaneous_clicks_run_one_clone(stack: Stack) -> None:
    request_clone(stack, instance=DEV_MYSQL)
    card = approval_message(stack)
    barrier = threading.Barrier(2)

    def click(user: str) -> None:
        barrier.wait()
        stack.driver.click(user, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")

    threads = [threading.Thread(target=click, args=(u,)) for u in (BOB, CAROL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final_reply(stack, APPROVALS_CHANNEL, card["ts"])
    assert len(_ok_clones(stack)) == 1
    late = stack.slack.wait_for_ephemeral(BOB, timeout=5) if stack.slack.ephemerals(BOB) else \
        stack.slack.wait_for_ephemeral(CAROL, timeout=5)
    assert "already" in late["text"]


def test_a_prod_clone_needs_two_distinct_dbas_and_never_the_requester(stack: Stack) -> None:
    request_clone(stack)
    card = approval_message(stack)
    request_id = request_id_of(card)
    for user in (BOB, BOB, ALICE):
        stack.driver.click(user, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
    stack.slack.wait_for(lambda: len(stack.slack.ephemerals(BOB)) == 2 and stack.slack.ephemerals(ALICE), 5)
    # The two clicks are handled concurrently: either may be the one that counted.
    assert any("counts once" in e["text"] for e in stack.slack.ephemerals(BOB))
    assert stack.requests.get(request_id).state == "pending_approval"
    assert stack.requests.approvers_of(request_id) == [BOB]
    stack.slack.wait_for(lambda: "1/2 approvals" in str(stack.slack.message(APPROVALS_CHANNEL, card["ts"])["blocks"]), 5)
    assert not stack.rds.calls_for("CloneDBInstance")
    stack.driver.click(CAROL, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
    final = final_reply(stack, APPROVALS_CHANNEL, card["ts"])
    assert final["metadata"]["event_payload"]["state"] == "succeeded"
    assert stack.requests.approvers_of(request_id) == [BOB, CAROL]
    assert stack.requests.get(request_id).approvals_needed == 2
