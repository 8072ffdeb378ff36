"""Conditional state changes, each with its audit event, and the outbox's raw insert.

Every change of a request's state goes through :func:`move`: an ``UPDATE ...
WHERE state IN (allowed sources)`` whose row count says whether this caller won,
and the audit event is appended in the same transaction. The caller records the
change's Slack notices (:func:`bot.workflow.notices.post`, which uses
:func:`enqueue`) in that transaction too, so a state change, its record and its
notifications are committed together or not at all.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot import metrics
from bot.store import audit
from bot.store.models import OutboxMessage, Request
from bot.timeutil import utcnow
from bot.workflow.states import INITIAL, TERMINAL, State, sources_of

MAX_REQUEST_ID = 64


def new_request_id(operation: str) -> str:
    """'clone-20261129-9f3a1c2b': readable, unique, and a valid ClientToken (<= 64 ASCII)."""
    rid = f"{operation}-{utcnow():%Y%m%d}-{secrets.token_hex(4)}"
    assert len(rid) <= MAX_REQUEST_ID and rid.isascii()
    return rid


def create(session: Session, request: Request, *, actor: str, detail: dict[str, Any]) -> Request:
    """Insert a new request in one of the initial states, with its first audit event."""
    state = State(request.state)
    if state not in INITIAL:
        raise ValueError(f"a request cannot start in {state}")
    session.add(request)
    session.flush()
    audit.append(session, request_id=request.id, event="requested", state=state, actor=actor, detail=detail)
    metrics.REQUESTS.labels(request.operation, state).inc()
    return request


def move(
    session: Session,
    request_id: str,
    target: State,
    *,
    actor: str,
    event: str | None = None,
    detail: dict[str, Any] | None = None,
    sources: Iterable[State] | None = None,
    **changes: Any,
) -> Request | None:
    """Move the request to ``target`` if it is still in an allowed source state.

    Returns the updated request, or None when another click, thread or replica
    moved it first (the caller then does nothing: that is the exactly-once rule).
    """
    allowed = sources_of(target) if sources is None else frozenset(sources)
    if not allowed <= sources_of(target):
        raise ValueError(f"{sorted(allowed - sources_of(target))} -> {target} is not a transition")
    now = utcnow()
    values: dict[str, Any] = {"state": target.value, "updated_at": now, "version": Request.version + 1, **changes}
    if target in TERMINAL:
        values.setdefault("finished_at", now)
        values["exclusive_key"] = None  # the instance is free for the next exclusive job
    result = session.execute(
        update(Request)
        .where(Request.id == request_id, Request.state.in_([s.value for s in allowed]))  # type: ignore[attr-defined]
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    request = session.exec(select(Request).where(Request.id == request_id)).one()
    session.refresh(request)
    audit.append(session, request_id=request_id, event=event or target.value, state=target, actor=actor, detail=detail or {})
    metrics.REQUESTS.labels(request.operation, target).inc()
    return request


def touch(session: Session, request: Request, *, expect_version: int, **changes: Any) -> bool:
    """Change non-state fields if nobody else changed the request since we read it."""
    result = session.execute(
        update(Request)
        .where(Request.id == request.id, Request.version == expect_version)  # type: ignore[arg-type]
        .values(updated_at=utcnow(), version=Request.version + 1, **changes)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def note(session: Session, request_id: str | None, event: str, *, actor: str, state: str | None = None,
         detail: dict[str, Any] | None = None) -> None:
    """An audit event that is not a state change (a refused click, a progress step)."""
    audit.append(session, request_id=request_id, event=event, state=state, actor=actor, detail=detail or {})


def enqueue(
    session: Session,
    *,
    request_id: str | None,
    kind: str,
    dedupe_key: str,
    data: dict[str, Any] | None = None,
) -> bool:
    """Record a Slack message to send after commit; False if it was already recorded."""
    exists = session.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)).first()
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                OutboxMessage(
                    request_id=request_id,
                    kind=kind,
                    dedupe_key=dedupe_key,
                    data=data or {},
                    state="pending",
                    created_at=utcnow(),
                )
            )
    except IntegrityError:
        return False
    return True


def lock(session: Session, request_id: str) -> Request | None:
    """Read a request and hold its row until commit (serialises votes on PostgreSQL)."""
    return session.exec(select(Request).where(Request.id == request_id).with_for_update()).first()
