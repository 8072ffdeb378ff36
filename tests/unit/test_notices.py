"""Typed notices: every kind has a renderer, and each renders for a request in every state it can be sent in."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import operations
from bot.slack import notice_views
from bot.slack.notice_views import Facts, NoRenderer
from bot.store.models import Request
from bot.timeutil import utcnow
from bot.workflow import notices as n
from bot.workflow.states import State


def _request(state: State, **changes: object) -> Request:
    now = utcnow()
    fields = dict(id="clone-20261207-0badc0de", operation="clone", state=state.value, requester="U0ALICE",
                  channel_id="C0OPS", region_id="cn-hangzhou", instance_id="rm-bp1prod", resource="acs:rds:x",
                  params={"DBInstanceId": "rm-bp1prod", "PayType": "Postpaid", "BackupId": "1"}, tags={"env": "prod"},
                  reason="<!channel> please", approvals_needed=2, approver_pool="role:dba", policy_version="abc",
                  decision={}, created_at=now, updated_at=now, submitted_at=now - timedelta(minutes=3),
                  finished_at=now, result={"DBInstanceId": "rm-new"}, progress={})
    fields.update(changes)
    return Request(**fields)


def test_every_notice_kind_has_a_renderer() -> None:
    assert notice_views.missing_renderers() == []


@pytest.mark.parametrize("kind", sorted(n.KINDS))
def test_each_notice_renders_with_text_and_blocks(kind: str) -> None:
    notice = n.KINDS[kind]()
    request = _request(State.SUCCEEDED)
    facts = Facts(request=request, op=operations.require("clone"), approvers=["U0BOB"], retry_in_s=60)
    message = notice_views.render(notice, facts)
    assert message.text and message.blocks
    assert "<!channel>" not in str(message.blocks)  # user text is escaped wherever it shows


def test_a_request_notice_without_its_request_is_refused_not_guessed() -> None:
    with pytest.raises(NoRenderer):
        notice_views.render(n.Final(), Facts())


def test_final_reply_carries_the_contract_metadata_for_each_end_state() -> None:
    op = operations.require("clone")
    for state in (State.SUCCEEDED, State.FAILED, State.DENIED):
        message = notice_views.render(n.Final(), Facts(request=_request(state, error_message="a deny was added"), op=op))
        assert message.metadata == {"event_type": "rdsbot_request_final",
                                    "event_payload": {"request_id": "clone-20261207-0badc0de", "state": state.value}}
    denied = notice_views.render(n.Final(), Facts(request=_request(State.DENIED, error_message="a deny was added"), op=op))
    assert "Not sent to RDS" in denied.text and "a deny was added" in denied.text


def test_the_card_counts_votes_and_names_the_pool() -> None:
    request = _request(State.PENDING_APPROVAL, expires_at=utcnow() + timedelta(hours=1))
    message = notice_views.render(n.Anchor(), Facts(request=request, op=operations.require("clone"),
                                                    approvers=["U0BOB"]))
    text = str(message.blocks)
    assert "1/2 approvals from role:dba" in text and "<@U0BOB>" in text
    assert [e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]] == [
        "approve", "reject", "cancel"]
