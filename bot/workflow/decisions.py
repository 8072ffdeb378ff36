"""People deciding on a pending request: approve, reject, cancel; and time running out.

A vote counts once per person, never the requester's, and only from someone
the policy lets approve (and, when the approval rule names a role, who holds
it). The vote that completes the count approves the request and hands it to
:func:`bot.workflow.execution.release`; every refused click is audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot import crashpoints
from bot.i18n import _
from bot.store.models import Approval, Request
from bot.timeutil import utcnow
from bot.workflow import gate
from bot.workflow import notices as n
from bot.workflow import transitions as tx
from bot.workflow.access import approver_decision, decision_record, in_pool
from bot.workflow.deps import Deps
from bot.workflow.execution import release
from bot.workflow.outcomes import CancelOutcome, VoteOutcome
from bot.workflow.queries import approvers_in
from bot.workflow.states import LABELS, State


def _label(state: str) -> str:
    return LABELS[State(state)]


def vote(deps: Deps, request_id: str, *, user: str, approve: bool, reason: str = "") -> VoteOutcome:
    """One approver's click. Counts once per person; never the requester's."""
    reason = reason.strip()
    with deps.db.session() as session:
        request = tx.lock(session, request_id)
        refused = _refusal(deps, session, request, request_id, user=user, approve=approve)
        if refused is not None:
            return refused
        assert request is not None
        decision = approver_decision(deps, request, user)
        recorded = _record(session, request, user=user, approve=approve, reason=reason,
                           policy_version=decision.policy_version)
        if recorded is not None:
            return recorded
        if not approve:
            moved = tx.move(session, request.id, State.REJECTED, actor=user, event="rejected",
                            detail={"reason": reason, "decision": decision_record(decision)})
            assert moved is not None  # the row lock guarantees it
            n.announce(session, moved)
            outcome = VoteOutcome("rejected", _("You rejected {request_id}.", request_id=moved.id), moved, decision)
        else:
            outcome = _count(session, request, user=user, decision=decision)
    deps.kick()
    if outcome.status == "approved" and outcome.request is not None:
        crashpoints.reached("after_approval")
        return _after_release(outcome, release(deps, outcome.request.id))
    return outcome


def _after_release(outcome: VoteOutcome, verdict: gate.Verdict | None) -> VoteOutcome:
    """The last approver hears what the decision made again just before the call concluded."""
    assert outcome.request is not None
    rid = outcome.request.id
    if isinstance(verdict, gate.Refuse):
        return VoteOutcome("refused_at_send", _("You approved {request_id}, but it was not sent to RDS: {why}",
                                                request_id=rid, why=verdict.why), outcome.request, verdict.decision)
    if isinstance(verdict, gate.NeedsApprovers):
        return VoteOutcome("counted", _("Your approval is counted, but {request_id} now needs {needed} approvals "
                                        "({rule}); {left} more needed.", request_id=rid, needed=verdict.needed,
                                        rule=verdict.rule or "", left=max(verdict.needed - verdict.have, 1)),
                           outcome.request, outcome.decision)
    if isinstance(verdict, gate.HoldUntil):
        return VoteOutcome("approved", _("You approved {request_id}; it is held: {why}", request_id=rid,
                                         why=verdict.why), outcome.request, outcome.decision)
    return outcome


def _refusal(deps: Deps, session: Any, request: Request | None, request_id: str, *, user: str,
             approve: bool) -> VoteOutcome | None:
    """Why this click cannot count (audited), or None when it may."""
    if request is None:
        return VoteOutcome("not_found", _("There is no request {request_id}.", request_id=request_id[:64]))
    if request.state != State.PENDING_APPROVAL:
        tx.note(session, request.id, "vote_ignored", actor=user, state=request.state,
                detail={"approve": approve, "why": f"request is {request.state}"})
        return VoteOutcome("not_pending", _("Request {request_id} is already {state}.", request_id=request.id,
                                            state=_label(request.state)), request)
    if request.expires_at is not None and request.expires_at <= utcnow():
        tx.note(session, request.id, "vote_ignored", actor=user, state=request.state,
                detail={"approve": approve, "why": "the approval window has passed"})
        return VoteOutcome("not_pending", _("Request {request_id} has expired; nobody decided in time.",
                                            request_id=request.id), request)
    if user == request.requester:
        tx.note(session, request.id, "self_approval_refused", actor=user, state=request.state,
                detail={"approve": approve})
        message = (_("You cannot approve your own request.") if approve
                   else _("You cannot reject your own request. Use Cancel to withdraw it."))
        return VoteOutcome("self", message, request)
    decision = approver_decision(deps, request, user)
    if not decision.allowed:
        tx.note(session, request.id, "approval_denied", actor=user, state=request.state,
                detail={"approve": approve, "decision": decision_record(decision)})
        return VoteOutcome("denied", _("You may not decide on this request."), request, decision)
    if approve and request.approver_pool and not in_pool(deps, user, request.approver_pool):
        tx.note(session, request.id, "approval_denied", actor=user, state=request.state,
                detail={"why": f"approvers must hold {request.approver_pool}"})
        return VoteOutcome("not_in_pool", _("This request needs approvers from {pool}.", pool=request.approver_pool),
                           request, decision)
    return None


def _record(session: Any, request: Request, *, user: str, approve: bool, reason: str,
            policy_version: str) -> VoteOutcome | None:
    """Store the vote; a VoteOutcome when it was already stored (it counts once)."""
    already = session.exec(
        select(Approval).where(Approval.request_id == request.id, Approval.approver == user)
    ).first()
    if already is not None and already.decision == "revoked":
        # Their earlier approval stopped counting when their rights changed; checked again above, it counts anew.
        already.decision, already.reason = "approve" if approve else "reject", reason
        already.policy_version, already.created_at = policy_version, utcnow()
        session.add(already)
        return None
    if already is not None and (approve or already.decision == "reject"):
        message = (_("You already approved this request; it counts once.") if already.decision == "approve"
                   else _("You already rejected this request; it counts once."))
        return VoteOutcome("duplicate", message, request)
    if already is not None:
        # An approver may change their mind towards safety: approve, then reject.
        already.decision, already.reason, already.created_at = "reject", reason, utcnow()
        session.add(already)
        return None
    try:
        with session.begin_nested():
            session.add(Approval(request_id=request.id, approver=user, decision="approve" if approve else "reject",
                                 reason=reason, policy_version=policy_version, created_at=utcnow()))
    except IntegrityError:
        return VoteOutcome("duplicate", _("Your decision was already recorded; it counts once."), request)
    return None


def _count(session: Any, request: Request, *, user: str, decision: Any) -> VoteOutcome:
    approvers = approvers_in(session, request.id)
    tx.note(session, request.id, "approval", actor=user, state=request.state,
            detail={"count": len(approvers), "needed": request.approvals_needed,
                    "decision": decision_record(decision)})
    if len(approvers) >= max(request.approvals_needed, 1):
        moved = tx.move(session, request.id, State.APPROVED, actor=user, event="approved",
                        detail={"approvers": approvers})
        assert moved is not None
        n.announce(session, moved)
        return VoteOutcome("approved", _("You approved {request_id}; it is being sent to RDS.", request_id=moved.id),
                           moved, decision)
    if request.own_thread:
        n.post(session, n.AnchorUpdate(), request_id=request.id, key=f"{request.id}:anchor:votes{len(approvers)}")
    left = request.approvals_needed - len(approvers)
    return VoteOutcome("counted", _("Your approval is counted; {left} more needed.", left=left), request, decision)


def cancel(deps: Deps, request_id: str, *, user: str) -> CancelOutcome:
    """The requester withdraws a request that has not reached RDS yet."""
    with deps.db.session() as session:
        request = tx.lock(session, request_id)
        if request is None:
            return CancelOutcome(False, _("There is no request {request_id}.", request_id=request_id[:64]))
        if request.requester != user:
            tx.note(session, request.id, "cancel_refused", actor=user, state=request.state,
                    detail={"why": "only the requester can cancel"})
            return CancelOutcome(False, _("Only the requester can cancel a request."), request=request)
        moved = tx.move(session, request.id, State.CANCELLED, actor=user, event="cancelled",
                        sources={State.PENDING_APPROVAL, State.APPROVED, State.HELD})
        if moved is None:
            return CancelOutcome(False, _("{request_id} is already {state}; it can no longer be cancelled.",
                                          request_id=request.id, state=_label(request.state)), request=request)
        n.announce(session, moved)
    deps.kick()
    return CancelOutcome(True, _("{request_id} is cancelled.", request_id=moved.id), request=moved)


def expire_due(deps: Deps) -> int:
    """Expire approvals nobody answered in time; tell the requester."""
    now = utcnow()
    with deps.db.reader() as session:
        due = list(session.exec(
            select(Request.id).where(Request.state == State.PENDING_APPROVAL, Request.expires_at < now)  # type: ignore[operator]
        ))
    expired = 0
    for request_id in due:
        with deps.db.session() as session:
            moved = tx.move(session, request_id, State.EXPIRED, actor="rdsbot", event="expired",
                            sources={State.PENDING_APPROVAL}, detail={"ttl_s": deps.settings.approval_ttl_s})
            if moved is not None:
                n.announce(session, moved)
                expired += 1
    if expired:
        deps.kick()
    return expired
