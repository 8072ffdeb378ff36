"""What the workflow's steps answer, for the Slack layer to render.

Plain data: the Slack layer shows these, it never decides from them whether a
request moves on (that is :mod:`bot.workflow.gate`'s and the steps' job).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.operations.backups import ListingQuery
from bot.policy import Decision
from bot.rds.directory import CrossRegionPage, InstanceInfo
from bot.store.models import AuditEvent, Reminder, Request
from bot.workflow.approvals import Requirement


@dataclass
class Submitted:
    """The request exists; it waits for approval or is already on its way."""

    request: Request
    decision: Decision
    requirement: Requirement | None


@dataclass
class Denied:
    """Policy said no; the request (if one was made) is recorded as denied."""

    request: Request | None
    decision: Decision


@dataclass
class Listing:
    """One page of cross-region backups."""

    query: ListingQuery
    page: CrossRegionPage
    instance: InstanceInfo


VoteStatus = Literal[
    "approved", "counted", "rejected", "duplicate", "self", "denied", "not_in_pool", "not_pending", "not_found",
    "refused_at_send",
]


@dataclass
class VoteOutcome:
    """What a click on Approve/Reject did, with a sentence for the clicker."""

    status: VoteStatus
    message: str
    request: Request | None = None
    decision: Decision | None = None


@dataclass
class Answer:
    """Whether a person's command took, with a sentence for them and the policy decision behind it."""

    ok: bool
    message: str
    decision: Decision | None = None


@dataclass
class CancelOutcome(Answer):
    """Whether the requester's Cancel took."""

    request: Request | None = None


@dataclass
class ReminderResult(Answer):
    """What a reminder command did."""

    reminder: Reminder | None = None


@dataclass
class Timeline:
    """A request and its audit events, for `/rds status <id>`."""

    request: Request
    events: list[AuditEvent] = field(default_factory=list)
