"""Read-only questions about requests: one, a person's recent ones, a timeline, counts.

No policy here: callers decide who may see what (:mod:`bot.workflow.access`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import select

from bot.store.db import Database
from bot.store.models import Approval, AuditEvent, Request
from bot.workflow.outcomes import Timeline


def approvers_in(session: Any, request_id: str) -> list[str]:
    """Who approved the request, in the order they clicked (inside a caller's transaction)."""
    rows = session.exec(
        select(Approval.approver).where(Approval.request_id == request_id, Approval.decision == "approve")
        .order_by(Approval.id)  # type: ignore[arg-type]
    )
    return list(rows)


class Requests:
    """Reads of the request table and its audit events."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, request_id: str) -> Request | None:
        with self.db.reader() as session:
            return session.get(Request, request_id)

    def recent(self, user: str, *, limit: int = 10) -> list[Request]:
        with self.db.reader() as session:
            return list(session.exec(
                select(Request).where(Request.requester == user)
                .order_by(Request.created_at.desc()).limit(limit)  # type: ignore[attr-defined]
            ))

    def timeline(self, request_id: str) -> Timeline | None:
        with self.db.reader() as session:
            request = session.get(Request, request_id)
            if request is None:
                return None
            events = list(session.exec(
                select(AuditEvent).where(AuditEvent.request_id == request_id).order_by(AuditEvent.seq)  # type: ignore[arg-type]
            ))
        return Timeline(request=request, events=events)

    def approvers_of(self, request_id: str) -> list[str]:
        with self.db.reader() as session:
            return approvers_in(session, request_id)

    def rejection_of(self, request_id: str) -> tuple[str, str] | None:
        """(who, why) of the rejection, if the request was rejected."""
        with self.db.reader() as session:
            row = session.exec(
                select(Approval).where(Approval.request_id == request_id, Approval.decision == "reject")
            ).first()
            return (row.approver, row.reason) if row is not None else None

    def counts_by_state(self) -> list[tuple[str, str, int]]:
        """(operation, state, count) for the metrics gauge."""
        with self.db.reader() as session:
            rows = session.exec(
                select(Request.operation, Request.state, func.count()).group_by(Request.operation, Request.state)
            ).all()
        return [(str(op), str(state), int(n)) for op, state, n in rows]
