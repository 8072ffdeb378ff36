"""Conditional state changes, each with its audit event, and the outbox's raw insert.

Every change of a request's state goes through :func:`move`: an ``UPDATE ...
WHERE state IN (allowed sources)`` whose row count says whether this caller won,
and the audit event is appended in the same transaction. The caller records the
change's Slack notices (:func:`bot.workflow.notices.post`, which uses
:func:`enqueue`) in that transaction too, so a state change, its record and its
notifications are committed together or not at all.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from bot import metrics
from bot.store import audit
from bot.store.models import OutboxMessage, Request
from bot.timeutil import utcnow
from bot.workflow.states import INITIAL, TERMINAL, State, sources_of

MAX_REQUEST_ID = 64
# The dialect's INSERT, which knows ON CONFLICT DO NOTHING.
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


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
    # One read of the row as it is now, over whatever this session held of it before the update.
    request = session.exec(select(Request).where(Request.id == request_id)
                           .execution_options(populate_existing=True)).one()
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
    return enqueue_many(session, [(request_id, kind, dedupe_key, data or {})]) == 1


def enqueue_many(session: Session, messages: Sequence[tuple[str | None, str, str, dict[str, Any]]]) -> int:
    """Record Slack messages, each ``(request_id, kind, dedupe_key, data)``, in order; returns how many
    were new (a key recorded before is skipped).

    One ``INSERT ... ON CONFLICT (dedupe_key) DO NOTHING`` for them all (SQLite and PostgreSQL alike):
    a polling round records hundreds, and a look-up, a savepoint and an ORM flush for each would
    cost several times the insert itself.
    """
    if not messages:
        return 0
    now = utcnow()
    # One statement whatever the count (compiled once, then reused): the rows go as its parameters.
    result = session.execute(_insert_new(session.get_bind().dialect.name),
                             [{"request_id": request_id, "kind": kind, "dedupe_key": key, "data": data,
                               "state": "pending", "attempts": 0, "created_at": now}
                              for request_id, kind, key, data in messages])
    return len(result.all())


@functools.cache
def _insert_new(dialect: str) -> Any:
    """INSERT of an outbox row unless its dedupe_key is there already, returning the new row's id."""
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    return _INSERTS[dialect](table).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(table.c.id)


def lock(session: Session, request_id: str) -> Request | None:
    """Read a request and hold its row until commit (serialises votes on PostgreSQL)."""
    return session.exec(select(Request).where(Request.id == request_id).with_for_update()).first()
