"""Typed Slack notices: one small dataclass per kind of message the workflow sends.

A notice is recorded in the outbox in the same transaction as the change it
announces (:func:`post`); the Slack layer finds its renderer from the type. A
notice's class says where it goes (``placement``), so the sender needs no
per-message branches: adding a message is a class here and a renderer
registered for its type in :mod:`bot.slack.notice_views` (a test fails while
one is missing).

Stored rows keep ``kind`` (the class's name for it) and the fields as JSON;
:func:`decode` turns a row back into its notice, ignoring fields a newer or
older writer added, so rows stay readable across releases.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from sqlmodel import Session
from typing_extensions import dataclass_transform

from bot.store.models import OutboxMessage, Request
from bot.workflow import transitions as tx
from bot.workflow.states import State


class Placement(StrEnum):
    """Where a notice lands in Slack."""

    ANCHOR = "anchor"  # the request's own message: the approval card or the thread's start
    ANCHOR_UPDATE = "anchor_update"  # that message, edited
    REPLY = "reply"  # a reply in the request's thread
    PROGRESS_EDIT = "progress_edit"  # the one progress reply edited in place
    FINAL = "final"  # the thread's last reply, with the contract's metadata
    DM = "dm"  # a direct message to a person
    CHANNEL = "channel"  # a post in a named channel, belonging to no request


KINDS: dict[str, type[Notice]] = {}


@dataclass_transform(frozen_default=True)
@dataclass(frozen=True)
class Notice:
    """Base of every notice. A subclass names its stored ``kind`` and its ``placement``
    as class keywords; it becomes a frozen dataclass and is registered in :data:`KINDS`."""

    kind: ClassVar[str] = ""
    placement: ClassVar[Placement] = Placement.REPLY

    def __init_subclass__(cls, *, kind: str, placement: Placement = Placement.REPLY, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if kind in KINDS:
            raise TypeError(f"two notice types are stored as {kind!r}")
        cls.kind, cls.placement = kind, placement
        dataclass(frozen=True)(cls)
        KINDS[kind] = cls

    def data(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class Anchor(Notice, kind="anchor", placement=Placement.ANCHOR):
    """The request's own message is posted."""


class AnchorUpdate(Notice, kind="anchor_update", placement=Placement.ANCHOR_UPDATE):
    """The request's own message is edited to show its new state."""


class Opened(Notice, kind="opened"):
    """First reply when a request runs under someone else's message (a reminder's button)."""


class Started(Notice, kind="started"):
    """RDS took the job."""


class ProgressReply(Notice, kind="progress"):
    """A job's status changed: one reply per state (instance Creating, Running...)."""

    status: str = ""
    percent: int | None = None


class ProgressEdit(Notice, kind="progress_edit", placement=Placement.PROGRESS_EDIT):
    """A job's percentage moved: the single progress reply, edited in place."""

    status: str = ""
    percent: int | None = None


class Retrying(Notice, kind="retrying"):
    """RDS left the outcome of a call unknown; recovery will ask again."""

    code: str = ""
    plain: str = ""  # the error in English words, for rows written before ``message`` and ``error_kind``
    attempt: int = 0
    safe: bool = False  # the retry reuses the ClientToken
    message: str = ""  # the API's own message: with code and kind, the words are rendered for the reader
    error_kind: str = ""


class Held(Notice, kind="held"):
    """A change freeze holds an approved request: sent when the window ends (ISO ``until``)."""

    window: str = ""
    until: str = ""


class ReviewOverdue(Notice, kind="review_overdue", placement=Placement.CHANNEL):
    """A break-glass request's review is overdue: posted again in ``channel``, with the review button.

    Recorded with its request: the renderer reads who ran what, and why, from it.
    """

    channel: str = ""


class Final(Notice, kind="final", placement=Placement.FINAL):
    """The thread's last reply: how the request ended."""


class DirectMessage(Notice, kind="dm", placement=Placement.DM):
    """The requester (``to``) is told how their request ended."""

    to: str = ""


class ApproverDM(Notice, kind="approver_dm", placement=Placement.DM):
    """A person who may approve (``to``) is asked directly, with the card's buttons."""

    to: str = ""


class ReminderPost(Notice, kind="reminder", placement=Placement.CHANNEL):
    """A reminder firing in its channel, with "Back up now"."""

    channel: str = ""
    reminder_id: str = ""
    instance: str = ""
    due: str = ""
    schedule: str = ""
    last_backup: dict[str, Any] = dataclasses.field(default_factory=dict)


class AuditSealPost(Notice, kind="audit_seal", placement=Placement.CHANNEL):
    """The audit trail's anchor, or the alarm that the chain broke."""

    channel: str = ""
    ok: bool = True
    count: int = 0
    anchor: str | None = None
    previous: str | None = None
    bad_seq: int | None = None
    reason: str | None = None


class UnknownNotice(ValueError):
    """An outbox row whose kind no notice class claims."""


def decode(row: OutboxMessage) -> Notice:
    """The notice an outbox row holds."""
    cls = KINDS.get(row.kind)
    if cls is None:
        raise UnknownNotice(f"unknown outbox kind {row.kind!r}")
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in (row.data or {}).items() if k in names})


def post(session: Session, notice: Notice, *, request_id: str | None, key: str) -> bool:
    """Record ``notice`` to be sent after commit; False when ``key`` was recorded before."""
    return tx.enqueue(session, request_id=request_id, kind=notice.kind, dedupe_key=key, data=notice.data())


def post_many(session: Session, notices: Sequence[tuple[Notice, str | None, str]]) -> int:
    """Record many ``(notice, request_id, key)`` at once, in order; returns how many were new."""
    return tx.enqueue_many(session, [(request_id, notice.kind, key, notice.data()) for notice, request_id, key in notices])


def announce(session: Session, request: Request) -> None:
    """The Slack side of a state change, recorded with it: card, final reply, DM."""
    state = State(request.state)
    if request.own_thread:
        post(session, AnchorUpdate(), request_id=request.id, key=f"{request.id}:anchor:{state}")
    # Only ever announced as `denied` when the decision made again before the call refused.
    finished = state in {State.SUCCEEDED, State.FAILED, State.DENIED}
    if finished:
        post(session, Final(), request_id=request.id, key=f"{request.id}:final")
    # The requester may not watch the approvals channel: tell them how it ended.
    ended_elsewhere = finished and request.approvals_needed > 0
    if ended_elsewhere or state in {State.REJECTED, State.EXPIRED, State.CANCELLED, State.DENIED}:
        post(session, DirectMessage(to=request.requester), request_id=request.id, key=f"{request.id}:dm:{state}")
