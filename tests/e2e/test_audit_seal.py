"""RDSBOT_AUDIT_SEAL_CHANNEL: the audit anchor is posted to Slack, and a cut trail is announced there."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlmodel import select

from bot.sandbox.slack import APPROVALS_CHANNEL, BOB, OPS_CHANNEL
from bot.sandbox.stack import Stack
from bot.store import audit
from bot.store.models import AuditEvent
from tests.e2e.flows import approval_message, request_clone
from tests.store.conftest import raw

ANCHOR = re.compile(r"--anchor (\d+:[0-9a-f]{64})")


def _seals(stack: Stack) -> list[dict[str, Any]]:
    return [m for m in stack.slack.messages(OPS_CHANNEL) if "Audit trail sealed" in m["text"]
            or "audit trail is broken" in m["text"]]


def test_the_anchor_is_posted_and_a_cut_trail_raises_the_alarm(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(RDSBOT_AUDIT_SEAL_CHANNEL=OPS_CHANNEL, RDSBOT_AUDIT_SEAL_EVERY_S="1")
    request_clone(stack)
    card = approval_message(stack)
    stack.driver.click(BOB, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")  # 1 of 2: more events

    def sealed_request() -> str | None:
        """The newest posted anchor, once it covers the request's events (a seal may come at start-up too)."""
        anchors = [found.group(1) for m in _seals(stack) if (found := ANCHOR.search(m["text"]))]
        return anchors[-1] if anchors and audit.parse_anchor(anchors[-1])[0] >= 2 else None

    anchor = stack.slack.wait_for(sealed_request, 15, what="an audit seal covering the request")
    seq, digest = audit.parse_anchor(anchor)
    with stack.runtime.db.session() as session:
        assert audit.verify(session, [(seq, digest)]).ok  # what Slack holds matches the database
        kept_hash = session.exec(select(AuditEvent.hash).where(AuditEvent.seq == seq - 1)).one()

    # Someone with database access cuts the trail and rewrites the head: the chain alone still verifies.
    raw(stack.runtime.db, "DELETE FROM audit_events WHERE seq >= :seq", seq=seq)
    raw(stack.runtime.db, "UPDATE audit_head SET seq = :seq, hash = :hash", seq=seq - 1, hash=kept_hash)
    with stack.runtime.db.session() as session:
        assert audit.verify(session).ok
    alarm = stack.slack.wait_for(lambda: next((m for m in _seals(stack) if "broken" in m["text"]), None), 15,
                                 what="the broken-trail alarm")
    assert f"event {seq}" in alarm["text"] and "ends at" in alarm["text"], alarm["text"]
    # One alarm, however often the job runs; and no seal ever blesses the cut trail.
    for _ in range(3):
        stack.runtime.jobs.run_now("audit_seal")
        stack.drain()
    later = _seals(stack)
    assert len([m for m in later if "broken" in m["text"]]) == 1
    after_alarm = later[later.index(next(m for m in later if "broken" in m["text"])):]
    assert not [m for m in after_alarm if "sealed" in m["text"]], "a seal blessed the cut trail"


def test_no_channel_no_seal(stack: Stack) -> None:
    request_clone(stack)
    approval_message(stack)
    assert stack.runtime.jobs.scheduler.get_job("audit_seal") is None
    assert _seals(stack) == []
