"""Slack's per-channel rate, kept by the sender: a burst of three, then one post a second per channel."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.pacing import ChannelPace
from bot.slack.sender import SlackSender
from bot.store.models import OutboxMessage, Request
from bot.workflow import notices as n


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_post_a_second_per_channel() -> None:
    assert ChannelPace().rate <= 1.0, "never faster than Slack's one post a second per channel"
    clock = Clock()
    pace = ChannelPace(rate=1.0, clock=clock)
    for _ in range(3):
        assert pace.wait_s("C1") == 0
        pace.posted("C1")
    assert pace.wait_s("C1") == pytest.approx(1.0)
    assert pace.wait_s("C2") == 0, "another channel has its own allowance"
    clock.now += 0.4
    assert pace.wait_s("C1") == pytest.approx(0.6)
    clock.now += 0.6
    assert pace.wait_s("C1") == 0
    pace.posted("C1")
    assert pace.wait_s("C1") == pytest.approx(1.0), "a steady backlog goes out at one a second"
    clock.now += 60
    assert pace.wait_s("C1") == 0 and pace.wait_s(None) == 0


def _row(notice: n.Notice, request_id: str | None = "clone-1") -> OutboxMessage:
    return OutboxMessage(id=1, request_id=request_id, kind=notice.kind, dedupe_key="k", data=notice.data(),
                         state="pending", created_at=None)  # type: ignore[arg-type]


def _request(**kwargs: Any) -> Request:
    fields = {"id": "clone-1", "operation": "clone", "state": "running", "requester": "U0ALICE", "channel_id": "C0OPS",
              "region_id": "cn-hangzhou", "instance_id": "rm-1", "resource": "acs:rds:*:*:dbinstance/rm-1",
              "thread_channel": "C0APPROVALS", "thread_ts": "1.000100", "approvals_needed": 1}
    return Request(**{**fields, **kwargs})


def test_the_sender_paces_posts_by_the_channel_they_land_in_and_never_edits() -> None:
    pace = ChannelPace(clock=Clock())
    sender = SlackSender(None, approval_channel="C0APPROVALS", requests=None, retry_in_s=0, pace=pace)  # type: ignore[arg-type]
    for _ in range(3):
        pace.posted("C0APPROVALS")
    request = _request()
    assert sender.wait_s(_row(n.Final()), request) > 0, "the thread is in the busy channel"
    assert sender.wait_s(_row(n.ProgressReply(status="Creating")), request) > 0
    assert sender.wait_s(_row(n.Anchor()), request) > 0, "a card needing approval goes to the approvals channel"
    assert sender.wait_s(_row(n.AnchorUpdate()), request) == 0, "an edit is no post"
    assert sender.wait_s(_row(n.ProgressEdit(percent=5)), _request(progress_ts="1.000200")) == 0
    assert sender.wait_s(_row(n.ProgressEdit(percent=5)), request) > 0, "the first progress line is a post"
    assert sender.wait_s(_row(n.DirectMessage(to="U0ALICE")), request) == 0, "a DM channel not opened yet"
    assert sender.wait_s(_row(n.Anchor()), _request(approvals_needed=0)) == 0, "its card goes where it was asked"
