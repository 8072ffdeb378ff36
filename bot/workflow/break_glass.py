"""Break-glass: a person allowed ``rdsbot:BreakGlass`` on every instance a request touches runs it
without approvals and change freezes, with a reason, and owes a review.

Never waived: the requester's own permission for the operation on every instance
(:func:`bot.workflow.assess.assess` decides it as for anyone), nor the form's
checks. A ``break_glass=yes`` from someone not allowed it is refused and audited,
whatever the form says. The review is owed by an approver (``rdsbot:Approve`` on
every instance, never the requester) within ``RDSBOT_BREAKGLASS_REVIEW_S``; an
overdue one is posted again in the approvals channel every such period until
someone reviews it (:func:`remind_overdue`, a leader job), and counted in
``rdsbot_breakglass_reviews_overdue``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, update
from sqlmodel import select

from bot import metrics
from bot.i18n import _, in_english
from bot.operations.base import FieldError, FieldErrors, Form
from bot.store.models import Request
from bot.timeutil import utcnow
from bot.workflow import notices as n
from bot.workflow import transitions as tx
from bot.workflow.access import Resource, approver_decision, decide_all
from bot.workflow.deps import Deps

FIELD = "break_glass"  # the modal's checkboxes block (DESIGN.md)
CHECKED = "yes"
ACTION = "rdsbot:BreakGlass"


def wanted(form: Form) -> bool:
    value = form.get(FIELD)
    return CHECKED in value if isinstance(value, list) else value == CHECKED


def allowed(deps: Deps, user: str, resources: Sequence[Resource]) -> bool:
    """Whether ``user`` may break the glass on every instance a request touches."""
    return decide_all(deps, user, ACTION, resources).allowed


def require(deps: Deps, user: str, resources: Sequence[Resource], *, operation: str, reason: str) -> None:
    """Refuse (audited) a break-glass asked for by someone not allowed it, or without a reason."""
    decision = decide_all(deps, user, ACTION, resources)
    if not decision.allowed:
        with deps.db.session() as session:
            tx.note(session, None, "break_glass_refused", actor=user,
                    detail={"operation": operation, "resources": [r.record() for r in resources],
                            "explanation": in_english(decision.explain)})
        raise FieldErrors({FIELD: FieldError.of(
            "break_glass_denied", "You may not break the glass here: {explanation}", explanation=decision.explain())})
    if not reason:
        raise FieldErrors({"reason": FieldError.of(
            "break_glass_reason", "Say why you break the glass: the reviewer reads it.")})


@dataclass(frozen=True)
class ReviewOutcome:
    ok: bool
    message: str


def review(deps: Deps, request_id: str, *, user: str) -> ReviewOutcome:
    """An approver reviews a break-glass request (once; never its requester)."""
    with deps.db.reader() as session:
        request = session.get(Request, request_id)
    if request is None or not request.break_glass:
        return ReviewOutcome(False, _("There is no break-glass request {request_id}.", request_id=request_id[:64]))
    if request.reviewed_by:
        return ReviewOutcome(False, _("{request_id} was already reviewed by {reviewer}.", request_id=request.id,
                                      reviewer="<@" + request.reviewed_by + ">"))
    decision = approver_decision(deps, request, user)
    if user == request.requester or not decision.allowed:
        why = _("You cannot review your own break-glass request.") if user == request.requester else \
            _("You may not review this request: {explanation}", explanation=decision.explain())
        with deps.db.session() as session:
            tx.note(session, request.id, "break_glass_review_refused", actor=user, state=request.state,
                    detail={"why": why})
        return ReviewOutcome(False, why)
    now = utcnow()
    with deps.db.session() as session:
        done = session.execute(
            update(Request).where(Request.id == request.id, Request.reviewed_by.is_(None))  # type: ignore[union-attr]
            .values(reviewed_by=user, reviewed_at=now, review_due_at=None, version=Request.version + 1)
            .execution_options(synchronize_session=False)).rowcount == 1  # type: ignore[attr-defined]
        if done:
            tx.note(session, request.id, "break_glass_reviewed", actor=user, state=request.state,
                    detail={"overdue": bool(request.review_due_at and request.review_due_at < now)})
            if request.own_thread:
                n.post(session, n.AnchorUpdate(), request_id=request.id, key=f"{request.id}:anchor:reviewed")
    deps.kick()
    if not done:
        return ReviewOutcome(False, _("{request_id} was already reviewed.", request_id=request.id))
    return ReviewOutcome(True, _("Thanks: your review of {request_id} is recorded.", request_id=request.id))


def remind_overdue(deps: Deps) -> int:
    """Post each overdue review again in the approvals channel, and move its due time on one period."""
    now, period = utcnow(), timedelta(seconds=deps.settings.breakglass_review_s)
    with deps.db.reader() as session:
        due = list(session.exec(select(Request).where(
            Request.break_glass == True, Request.reviewed_by.is_(None),  # type: ignore[union-attr]  # noqa: E712
            Request.review_due_at <= now)))  # type: ignore[operator]
    posted = 0
    for request in due:
        assert request.review_due_at is not None
        with deps.db.session() as session:
            moved = session.execute(
                update(Request).where(Request.id == request.id, Request.reviewed_by.is_(None),  # type: ignore[union-attr]
                                      Request.review_due_at == request.review_due_at)
                .values(review_due_at=max(request.review_due_at + period, now + period))
                .execution_options(synchronize_session=False)).rowcount == 1  # type: ignore[attr-defined]
            if not moved:
                continue
            overdue_s = (now - request.review_due_at).total_seconds()
            tx.note(session, request.id, "break_glass_review_overdue", actor="rdsbot", state=request.state,
                    detail={"due_at": request.review_due_at.isoformat(), "overdue_s": int(overdue_s)})
            n.post(session, n.ReviewOverdue(channel=deps.settings.approval_channel or request.channel_id),
                   request_id=request.id, key=f"{request.id}:review_overdue:{request.review_due_at.isoformat()}")
            posted += 1
    deps.kick()
    metrics.BREAKGLASS_OVERDUE.set(count_overdue(deps))
    return posted


def count_overdue(deps: Deps) -> int:
    """Break-glass requests not reviewed within one review period of their start."""
    cutoff = utcnow() - timedelta(seconds=deps.settings.breakglass_review_s)
    with deps.db.reader() as session:
        return int(session.exec(select(func.count()).select_from(Request).where(
            Request.break_glass == True, Request.reviewed_by.is_(None),  # type: ignore[union-attr]  # noqa: E712
            Request.created_at <= cutoff)).one())  # type: ignore[operator]


