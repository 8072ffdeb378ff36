"""Typed Slack notices: one small dataclass per kind of message the workflow sends.

A notice is recorded in the outbox in the same transaction as the change it
announces (:func:`post`); the Slack layer finds its renderer from the type. A
notice's class says where it goes (``placement``), so the sender needs no
per-message branches: adding a message is a dataclass here and a renderer
registered for it in :mod:`bot.slack.notice_views`.

Stored rows keep ``kind`` (the class's name for it) and the fields as JSON;
:func:`decode` turns a row back into its notice, ignoring fields a newer or
older writer added, so rows stay readable across releases.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from sqlmodel import Session

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


@dataclass(frozen=True)
class Notice:
    """Base of every notice; subclasses set ``kind`` and ``placement``."""

    kind: ClassVar[str] = ""
    placement: ClassVar[Placement] = Placement.REPLY

    def data(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Anchor(Notice):
    kind: ClassVar[str] = "anchor"
    placement: ClassVar[Placement] = Placement.ANCHOR


@dataclass(frozen=True)
class AnchorUpdate(Notice):
    kind: ClassVar[str] = "anchor_update"
    placement: ClassVar[Placement] = Placement.ANCHOR_UPDATE


@dataclass(frozen=True)
class Opened(Notice):
    """First reply when a request runs under someone else's message (a reminder's button)."""

    kind: ClassVar[str] = "opened"


@dataclass(frozen=True)
class Started(Notice):
    kind: ClassVar[str] = "started"


@dataclass(frozen=True)
class ProgressReply(Notice):
    """A job's status changed: one reply per state (instance Creating, Running...)."""

    kind: ClassVar[str] = "progress"
    status: str = ""
    percent: int | None = None


@dataclass(frozen=True)
class ProgressEdit(Notice):
    """A job's percentage moved: the single progress reply, edited in place."""

    kind: ClassVar[str] = "progress_edit"
    placement: ClassVar[Placement] = Placement.PROGRESS_EDIT
    status: str = ""
    percent: int | None = None


@dataclass(frozen=True)
class Retrying(Notice):
    """RDS left the outcome of a call unknown; recovery will ask again."""

    kind: ClassVar[str] = "retrying"
    code: str = ""
    plain: str = ""
    attempt: int = 0
    safe: bool = False  # the retry reuses the ClientToken


@dataclass(frozen=True)
class Final(Notice):
    kind: ClassVar[str] = "final"
    placement: ClassVar[Placement] = Placement.FINAL


@dataclass(frozen=True)
class DirectMessage(Notice):
    """The requester (``to``) is told how their request ended."""

    kind: ClassVar[str] = "dm"
    placement: ClassVar[Placement] = Placement.DM
    to: str = ""


@dataclass(frozen=True)
class ReminderPost(Notice):
    """A reminder firing in its channel, with "Back up now"."""

    kind: ClassVar[str] = "reminder"
    placement: ClassVar[Placement] = Placement.CHANNEL
    channel: str = ""
    reminder_id: str = ""
    instance: str = ""
    due: str = ""
    schedule: str = ""
    last_backup: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class AuditSealPost(Notice):
    """The audit trail's anchor, or the alarm that the chain broke."""

    kind: ClassVar[str] = "audit_seal"
    placement: ClassVar[Placement] = Placement.CHANNEL
    channel: str = ""
    ok: bool = True
    count: int = 0
    anchor: str | None = None
    previous: str | None = None
    bad_seq: int | None = None
    reason: str | None = None


KINDS: dict[str, type[Notice]] = {
    cls.kind: cls
    for cls in (Anchor, AnchorUpdate, Opened, Started, ProgressReply, ProgressEdit, Retrying, Final, DirectMessage,
                ReminderPost, AuditSealPost)
}


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
    if ended_elsewhere or state in {State.REJECTED, State.EXPIRED, State.CANCELLED}:
        post(session, DirectMessage(to=request.requester), request_id=request.id, key=f"{request.id}:dm:{state}")
