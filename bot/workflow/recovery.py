"""Finishing what a crash interrupted, on the leader's schedule.

- ``approved`` but never claimed: handed to :func:`bot.workflow.execution.release`,
  which asks the gate again like any first send.
- ``held`` by a change freeze whose window has ended: approved again and released, so the
  whole decision is made again (another window may hold it again).
- ``submitted`` with no answer from RDS: never decided again. Asked again with
  the same ClientToken; for operations that take none, the instance's jobs are
  searched first, so a job that did start is adopted instead of started twice.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot import operations
from bot.i18n import _
from bot.rds.errors import ErrorKind, RdsError
from bot.store.models import Request
from bot.timeutil import utcnow
from bot.workflow import identity
from bot.workflow import transitions as tx
from bot.workflow.deps import Deps
from bot.workflow.execution import (MAX_SUBMIT_ATTEMPTS, call_failed, call_rds, freeze_ended, release, retry_delay_s,
                                    started)
from bot.workflow.states import State

# An approved request younger than this is still in its releaser's hands.
APPROVED_GRACE_S = 5


def recover(deps: Deps) -> int:
    """One recovery round; returns how many requests it picked up."""
    now = utcnow()
    lease = timedelta(seconds=retry_delay_s(deps))
    with deps.db.reader() as session:
        approved = list(session.exec(
            select(Request.id).where(Request.state == State.APPROVED,
                                     Request.updated_at < now - timedelta(seconds=APPROVED_GRACE_S))  # type: ignore[operator]
        ))
        thawed = list(session.exec(
            select(Request.id).where(Request.state == State.HELD, Request.expires_at <= now)  # type: ignore[operator]
        ))
        stuck = list(session.exec(
            select(Request).where(Request.state == State.SUBMITTED, Request.updated_at < now - lease)  # type: ignore[operator]
        ))
    for request_id in approved:
        release(deps, request_id)
    for request_id in thawed:
        freeze_ended(deps, request_id)
    for request in stuck:
        resubmit(deps, request)
    return len(approved) + len(thawed) + len(stuck)


def resubmit(deps: Deps, request: Request) -> None:
    """Ask RDS again about a request sent without an answer (one replica wins the claim)."""
    op = operations.require(request.operation)
    with deps.db.session() as session:
        fresh = session.get(Request, request.id)
        if fresh is None or fresh.state != State.SUBMITTED:
            return
        if not tx.touch(session, fresh, expect_version=fresh.version, attempts=fresh.attempts + 1):
            return
        tx.note(session, request.id, "resubmitted", actor="rdsbot", state=State.SUBMITTED,
                detail={"attempt": fresh.attempts + 1, "client_token": op.takes_client_token})
        claimed = session.get(Request, request.id)
    assert claimed is not None
    if claimed.attempts > MAX_SUBMIT_ATTEMPTS:
        call_failed(deps, claimed, op, RdsError(claimed.error_code or "SubmitAbandoned",
                                                claimed.error_message or _("RDS never confirmed the job."),
                                                ErrorKind.API))
        return
    if not op.takes_client_token:
        found = op.find_started(identity.directory_for(deps, claimed), claimed.id, claimed.params,
                                claimed.submitted_at or claimed.created_at)
        if found is not None:
            started(deps, claimed, op, found)
            return
    call_rds(deps, claimed)
