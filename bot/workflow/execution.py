"""Sending a request to RDS, exactly once, and recording what RDS answered.

:func:`release` is the only way in: it asks :mod:`bot.workflow.gate` whether the
request may go, claims it (``approved -> submitted``, a conditional update only
one caller wins) and calls RDS with the request ID as ClientToken. An unknown
outcome (a time-out) keeps it ``submitted`` for :mod:`bot.workflow.recovery`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from bot import crashpoints, logs, operations
from bot.operations.base import Operation
from bot.rds.errors import ErrorKind, RdsError
from bot.store.models import Approval, Request
from bot.timeutil import utcnow
from bot.workflow import gate, identity
from bot.workflow.access import decision_record
from bot.workflow import notices as n
from bot.workflow import routing
from bot.workflow import transitions as tx
from bot.workflow.deps import Deps
from bot.workflow.freezes import Frozen
from bot.workflow.queries import approvers_in
from bot.workflow.states import State

log = logging.getLogger(__name__)

MAX_SUBMIT_ATTEMPTS = 5


def release(deps: Deps, request_id: str) -> gate.Verdict | None:
    """Send an approved request to RDS if the gate says so; act on its answer otherwise."""
    with logs.bound(request_id):
        with deps.db.reader() as session:
            request = session.get(Request, request_id)
        if request is None or request.state != State.APPROVED:
            return None
        verdict = gate.verdict(deps, request)
        if isinstance(verdict, gate.Send):
            _send(deps, request_id)
        elif isinstance(verdict, gate.Refuse):
            _refuse(deps, request, verdict)
        elif isinstance(verdict, gate.NeedsApprovers):
            _reopen(deps, request, verdict)
        else:
            _hold(deps, request, verdict)
        return verdict


def _send(deps: Deps, request_id: str) -> None:
    with deps.db.session() as session:
        claimed = tx.move(session, request_id, State.SUBMITTED, actor="rdsbot", event="submitted",
                          sources={State.APPROVED}, submitted_at=utcnow(), attempts=Request.attempts + 1,
                          error_code=None, error_message=None)
    if claimed is not None:
        call_rds(deps, claimed)


def _refuse(deps: Deps, request: Request, verdict: gate.Refuse) -> None:
    detail: dict[str, Any] = {"why": verdict.why}
    if verdict.decision is not None:
        detail["decision"] = decision_record(verdict.decision)
    with deps.db.session() as session:
        moved = tx.move(session, request.id, State.DENIED, actor="rdsbot", event="denied_before_call",
                        sources={State.APPROVED}, error_code="DeniedBeforeCall", error_message=verdict.why[:2000],
                        detail=detail)
        if moved is not None:
            n.announce(session, moved)
    deps.kick()


def _reopen(deps: Deps, request: Request, verdict: gate.NeedsApprovers) -> None:
    """Back to ``pending_approval``: approvals that no longer count are marked revoked, the card
    shows what is needed now, and it reaches the approvals channel if it never had a card there."""
    now = utcnow()
    resources = list(verdict.resources)
    valid = set(gate.valid_approvers(deps, request, resources, pool=verdict.pool))
    with deps.db.session() as session:
        revoked = [a for a in approvers_in(session, request.id) if a not in valid]
        moved = tx.move(session, request.id, State.PENDING_APPROVAL, actor="rdsbot", event="needs_more_approvers",
                        sources={State.APPROVED}, approvals_needed=verdict.needed, approver_pool=verdict.pool or "",
                        expires_at=now + timedelta(seconds=deps.settings.approval_ttl_s),
                        resources=[r.record() for r in resources] or request.resources,
                        tags=dict((resources[0].tags or {}) if resources else request.tags),
                        detail={"needed": verdict.needed, "have": verdict.have, "pool": verdict.pool,
                                "rule": verdict.rule, "revoked_approvals": revoked,
                                "resources": [r.record() for r in resources]})
        if moved is None:
            return
        if revoked:
            session.execute(update(Approval).where(Approval.request_id == request.id,  # type: ignore[arg-type]
                                                   Approval.approver.in_(revoked))  # type: ignore[attr-defined]
                            .values(decision="revoked").execution_options(synchronize_session=False))
        n.announce(session, moved)
        if request.approvals_needed == 0 and moved.own_thread:
            # It ran without approval until now: its card was never in the approvals channel.
            n.post(session, n.Anchor(), request_id=request.id, key=f"{request.id}:anchor:reopened:{moved.version}")
    deps.kick()
    deps.later(routing.notify, deps, request.id)  # anyone not asked before, when configured


def _hold(deps: Deps, request: Request, verdict: gate.HoldUntil) -> None:
    """Stays approved; recovery asks the gate again on its next round. Audited once per reason.
    A change freeze instead moves it to ``held`` until the window ends (:func:`freeze_ended`)."""
    if verdict.frozen is not None:
        _freeze(deps, request, verdict.frozen)
        return
    if request.error_message == verdict.why[:2000]:
        return
    with deps.db.session() as session:
        if tx.touch(session, request, expect_version=request.version, error_code="Held",
                    error_message=verdict.why[:2000]):
            tx.note(session, request.id, "held", actor="rdsbot", state=State.APPROVED,
                    detail={"until": verdict.until.isoformat(), "why": verdict.why})


def _freeze(deps: Deps, request: Request, frozen: Frozen) -> None:
    """``approved -> held`` until the window ends (kept in ``expires_at``); the card and the thread say so."""
    with deps.db.session() as session:
        moved = tx.move(session, request.id, State.HELD, actor="rdsbot", event="held", sources={State.APPROVED},
                        expires_at=frozen.until, error_code="Frozen", error_message=frozen.why()[:2000],
                        detail=frozen.record())
        if moved is None:
            return
        if moved.own_thread:
            n.post(session, n.AnchorUpdate(), request_id=request.id, key=f"{request.id}:anchor:held:{moved.version}")
        n.post(session, n.Held(window=frozen.window, until=frozen.until.isoformat()), request_id=request.id,
               key=f"{request.id}:held:{moved.version}")
    deps.kick()


def freeze_ended(deps: Deps, request_id: str) -> gate.Verdict | None:
    """A held request whose window has ended: approved again, then the whole decision is made again."""
    with deps.db.session() as session:
        moved = tx.move(session, request_id, State.APPROVED, actor="rdsbot", event="freeze_ended",
                        sources={State.HELD}, expires_at=None, error_code=None, error_message=None)
        if moved is not None and moved.own_thread:
            n.post(session, n.AnchorUpdate(), request_id=request_id, key=f"{request_id}:anchor:unheld:{moved.version}")
    if moved is None:
        return None
    deps.kick()
    return release(deps, request_id)


def call_rds(deps: Deps, request: Request) -> None:
    """The RDS call of a claimed (``submitted``) request."""
    op = operations.require(request.operation)
    try:
        body = op.start(identity.gateway_for(deps, request, op), request.id, request.params)
    except RdsError as error:
        call_failed(deps, request, op, error)
        return
    crashpoints.reached("after_rds_call")
    started(deps, request, op, body)


def started(deps: Deps, request: Request, op: Operation, body: Mapping[str, Any]) -> None:
    """RDS took the job: ``running``, with what it answered."""
    result = {k: v for k, v in body.items() if k != "RequestId"}
    result["ApiRequestId"] = body.get("RequestId")
    with deps.db.session() as session:
        moved = tx.move(session, request.id, State.RUNNING, actor="rdsbot", event="started",
                        sources={State.SUBMITTED}, result=result, progress={}, error_code=None, error_message=None,
                        detail={"api": op.api_action, "response": result})
        if moved is not None:
            n.announce(session, moved)
            n.post(session, n.Started(), request_id=request.id, key=f"{request.id}:started")
    deps.directory.forget(request.instance_id)
    deps.kick()


def call_failed(deps: Deps, request: Request, op: Operation, error: RdsError) -> None:
    """RDS refused, or left the outcome unknown (then recovery asks again later)."""
    transient = error.transient and error.kind is not ErrorKind.AUTH
    with deps.db.session() as session:
        if transient and request.attempts < MAX_SUBMIT_ATTEMPTS:
            # Unknown outcome: keep `submitted`; recovery asks again later with
            # the same ClientToken (or looks for the job first, without one).
            fresh = session.get(Request, request.id)
            if fresh is not None and fresh.state == State.SUBMITTED:
                tx.touch(session, fresh, expect_version=fresh.version, error_code=error.code,
                         error_message=error.message[:2000])
            tx.note(session, request.id, "submit_retry_scheduled", actor="rdsbot", state=State.SUBMITTED,
                    detail={"code": error.code, "kind": error.kind, "attempt": request.attempts})
            n.post(session, n.Retrying(code=error.code, plain=error.plain(), attempt=request.attempts,
                                       safe=op.takes_client_token, message=error.message[:2000],
                                       error_kind=error.kind.value),
                   request_id=request.id, key=f"{request.id}:retry:{request.attempts}")
        else:
            moved = tx.move(session, request.id, State.FAILED, actor="rdsbot", event="failed",
                            sources={State.SUBMITTED}, error_code=error.code, error_message=error.message[:2000],
                            detail={"code": error.code, "message": error.message, "status": error.status,
                                    "api_request_id": error.request_id})
            if moved is not None:
                n.announce(session, moved)
    deps.kick()


def retry_delay_s(deps: Deps) -> float:
    """How long until recovery resends a job whose outcome RDS left unknown."""
    if deps.settings.resubmit_after_s is not None:
        return deps.settings.resubmit_after_s
    return deps.settings.rds_timeout_s * deps.settings.rds_max_attempts + 20
