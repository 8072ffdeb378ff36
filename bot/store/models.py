"""SQLModel tables: requests, approvals, the hash-chained audit log, the Slack outbox.

The schema itself is owned by Alembic (``bot/store/migrations``); these classes
must match the newest revision, which ``tests/store`` checks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime


def _json_column() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


def _time_column(*, nullable: bool) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class _AboutAnInstance(SQLModel):
    """The columns of a row about one instance, asked for in one Slack channel."""

    channel_id: str = Field(max_length=64)
    region_id: str = Field(max_length=64)
    instance_id: str = Field(max_length=128)


class Request(_AboutAnInstance, table=True):
    """One user request for one RDS operation, from submission to its end state.

    ``state`` only ever changes through conditional updates in
    :mod:`bot.workflow.transitions`, so two clicks or two replicas cannot both win.
    ``params`` are the API parameters as approved: what is sent, never rebuilt.
    ``resource``/``tags`` are the main instance's; ``resources`` lists every
    instance the request touches (role, instance, region, ARN, tags), each of
    which the requester and every approver must be allowed on.
    """

    __tablename__ = "requests"
    __table_args__ = (
        Index("ix_requests_state", "state"),
        Index("ix_requests_requester", "requester", "created_at"),
        UniqueConstraint("exclusive_key", name="uq_requests_exclusive_key"),
        UniqueConstraint("submission_key", name="uq_requests_submission_key"),
    )

    id: str = Field(primary_key=True, max_length=64)
    operation: str = Field(max_length=32)
    state: str = Field(max_length=32)
    requester: str = Field(max_length=64)
    # Where its instance lives, with region_id: the alias of its account in accounts.toml ("": the one
    # account). Every call of the request (the job, its progress) goes to this account and region.
    account: str = Field(default="", max_length=64)
    resource: str = Field(max_length=512)
    params: dict[str, Any] = _json_column()
    tags: dict[str, Any] = _json_column()
    reason: str = Field(default="", max_length=3000)
    approvals_needed: int = Field(default=0)
    approver_pool: str = Field(default="", max_length=256)
    policy_version: str = Field(default="", max_length=64)
    decision: dict[str, Any] = _json_column()
    resources: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The form as submitted: validated again, against the estate as it is then, just before the call.
    form: dict[str, Any] = _json_column()
    # What the requester was checked against (bot.workflow.checked): shown on the approver's card.
    checked: dict[str, Any] = _json_column()

    thread_channel: str | None = Field(default=None, max_length=64)
    thread_ts: str | None = Field(default=None, max_length=32)
    progress_ts: str | None = Field(default=None, max_length=32)

    result: dict[str, Any] = _json_column()
    progress: dict[str, Any] = _json_column()
    error_code: str | None = Field(default=None, max_length=128)
    error_message: str | None = Field(default=None, max_length=2000)
    attempts: int = Field(default=0)

    created_at: datetime = _time_column(nullable=False)
    updated_at: datetime = _time_column(nullable=False)
    expires_at: datetime | None = _time_column(nullable=True)
    submitted_at: datetime | None = _time_column(nullable=True)
    finished_at: datetime | None = _time_column(nullable=True)
    version: int = Field(default=1)
    # Set while an exclusive operation (a backup) is active on the instance; unique,
    # so two replicas cannot both start one. Cleared when the request ends.
    exclusive_key: str | None = Field(default=None, max_length=200)
    # False when progress is threaded under someone else's message (a reminder),
    # which the bot must then never rewrite as a request card.
    own_thread: bool = Field(default=True)
    # The modal (view id) the request came from: a duplicated submission finds it.
    submission_key: str | None = Field(default=None, max_length=200)
    # Run with rdsbot:BreakGlass (approvals and freezes waived): a review is owed until reviewed_by is set.
    break_glass: bool = Field(default=False)
    review_due_at: datetime | None = _time_column(nullable=True)
    reviewed_by: str | None = Field(default=None, max_length=64)
    reviewed_at: datetime | None = _time_column(nullable=True)


class RateCount(SQLModel, table=True):
    """How many times one person did one limited thing in one time window (shared by replicas)."""

    __tablename__ = "rate_counts"

    key: str = Field(primary_key=True, max_length=200)  # "<what>:<user>:<window start, epoch s>"
    count: int = Field(default=0)
    window_end: datetime = _time_column(nullable=False)


class Approval(SQLModel, table=True):
    """One person's decision on one request; one row per (request, person)."""

    __tablename__ = "approvals"
    __table_args__ = (UniqueConstraint("request_id", "approver", name="uq_approval_person"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(foreign_key="requests.id", max_length=64, index=True)
    approver: str = Field(max_length=64)
    decision: str = Field(max_length=16)
    reason: str = Field(default="", max_length=3000)
    policy_version: str = Field(default="", max_length=64)
    created_at: datetime = _time_column(nullable=False)


class AuditEvent(SQLModel, table=True):
    """An append-only, hash-chained audit record.

    ``hash`` covers every other column and ``prev_hash``, so editing, deleting or
    reordering any row breaks the chain that ``rdsbot audit verify`` walks.
    """

    __tablename__ = "audit_events"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    request_id: str | None = Field(default=None, max_length=64, index=True)
    event: str = Field(max_length=64)
    state: str | None = Field(default=None, max_length=32)
    actor: str = Field(max_length=128)
    ts: datetime = _time_column(nullable=False)
    detail: dict[str, Any] = _json_column()
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The chain's single head row; locking it serialises appends on every database."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int = Field(default=0)
    hash: str = Field(default="0" * 64, max_length=64)


class OutboxMessage(SQLModel, table=True):
    """A Slack message the workflow decided to send, stored in the same transaction.

    Delivery happens after commit; ``dedupe_key`` makes "post the final reply" a
    fact recorded once, and ``state`` + ``claimed_at`` let exactly one sender
    deliver it, even across replicas and restarts.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_outbox_dedupe"),
        Index("ix_outbox_pending", "state", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: str | None = Field(default=None, max_length=64, index=True)
    kind: str = Field(max_length=32)
    dedupe_key: str = Field(max_length=160)
    data: dict[str, Any] = _json_column()
    state: str = Field(default="pending", max_length=16)
    attempts: int = Field(default=0)
    claimed_at: datetime | None = _time_column(nullable=True)
    claimed_by: str | None = Field(default=None, max_length=64)
    slack_channel: str | None = Field(default=None, max_length=64)
    slack_ts: str | None = Field(default=None, max_length=32)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = _time_column(nullable=False)
    sent_at: datetime | None = _time_column(nullable=True)
    not_before: datetime | None = _time_column(nullable=True)  # after a failure: backoff or Retry-After


class Reminder(_AboutAnInstance, table=True):
    """A scheduled backup reminder in a channel, restored from here after a restart.

    ``next_run_at`` is claimed with a conditional update when it fires, so a
    reminder fires once per due time whichever replica or restart sees it first.
    """

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_due", "active", "next_run_at"),)

    id: str = Field(primary_key=True, max_length=32)
    schedule: str = Field(max_length=200)
    timezone: str = Field(max_length=64)
    created_by: str = Field(max_length=64)
    created_at: datetime = _time_column(nullable=False)
    next_run_at: datetime | None = _time_column(nullable=True)
    last_run_at: datetime | None = _time_column(nullable=True)
    fired: int = Field(default=0)
    active: bool = Field(default=True)


class Delivery(SQLModel, table=True):
    """A Slack delivery (event id or request signature) already acted on, by any replica."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_seen_at", "seen_at"),)

    key: str = Field(primary_key=True, max_length=200)
    seen_at: datetime = _time_column(nullable=False)
