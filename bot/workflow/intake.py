"""A new request: validate the form, ask the policy, record it, and hand it on.

A request the policy refuses is recorded as ``denied``; one that needs approval
waits in ``pending_approval``; one that needs none is ``approved`` and goes to
:func:`bot.workflow.execution.release` after the caller has answered Slack.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot import operations
from bot.operations.base import Context, FieldError, FieldErrors, Form, Operation, Plan
from bot.store.models import Request
from bot.timeutil import utcnow
from bot.workflow import break_glass, checked, dry_run
from bot.workflow import notices as n
from bot.workflow import routing
from bot.workflow import transitions as tx
from bot.workflow.access import decide_all, decision_record, rules_version, stored_resources, validation_context
from bot.workflow.assess import Assessment, assess
from bot.workflow.deps import Deps
from bot.workflow.dry_run import DryRun
from bot.workflow.execution import release
from bot.workflow.limits import Limit
from bot.workflow.outcomes import Denied, Submitted
from bot.workflow.states import LABELS, State


# Form fields that only steer the modal; never validated again, never kept.
EPHEMERAL_FIELDS = frozenset({"dry_run", "break_glass"})


def context(deps: Deps, user: str) -> Context:
    """What validation may consult: the live estate (every account and region), the clock, the default region."""
    return validation_context(deps, user)


def submit(deps: Deps, op_name: str, *, user: str, channel: str, form: Form,
           submission_key: str | None = None, via: str = "slack") -> Submitted | Denied | DryRun:
    """Validate, check policy, and record the request (raises FieldErrors).

    ``submission_key`` (the modal's view id) makes a duplicated submission
    return the request the first one made instead of making a second. A form
    asking for a dry run (:mod:`bot.workflow.dry_run`) is validated and decided
    the same way, then only audited: no request, nothing sent.
    """
    op = operations.require(op_name)
    dry = dry_run.wanted(form)
    if submission_key is not None and not dry:
        earlier = submitted_before(deps, submission_key, user)
        if earlier is not None:
            return earlier
    limited = deps.limits.check(Limit.SUBMISSIONS, user) if deps.limits is not None else None
    if limited is not None:
        raise FieldErrors({"DBInstanceId": FieldError.of("rate_limited", "{message}", message=limited)})
    plan = op.validate(form, context(deps, user))
    reason = str(form.get("reason") or "").strip()
    if dry:
        found = _assess(deps, op, plan, user, form, reason)
        if op.exclusive and found.state is not State.DENIED and _key_active(deps, op, plan.instance_id):
            raise busy(deps, op, plan.instance_id, _exclusive_key(op, plan.instance_id))
        return dry_run.record(deps, found, user=user, reason=reason, via=via)
    return open_request(deps, op, plan, user=user, channel=channel, reason=reason, form=form,
                        submission_key=submission_key)


def submitted_before(deps: Deps, submission_key: str, user: str) -> Submitted | Denied | None:
    """The outcome of an earlier submission of the same modal by the same person, if there was one.

    Matched per person: a view ID someone else submitted never hands them that request.
    """
    with deps.db.reader() as session:
        request = session.exec(select(Request).where(Request.submission_key == submission_key)).first()
    if request is None or request.requester != user:
        return None
    decision = decide_all(deps, request.requester, operations.require(request.operation).ram_action,
                          stored_resources(request))
    if request.state == State.DENIED:
        return Denied(request=request, decision=decision)
    return Submitted(request=request, decision=decision, requirement=None)


def open_request(deps: Deps, op: Operation, plan: Plan, *, user: str, channel: str, reason: str,
                 form: Form, thread: tuple[str, str] | None = None,
                 submission_key: str | None = None) -> Submitted | Denied:
    """Record a validated plan as a request, after the policy check on every instance it touches.

    ``form`` is kept to be validated again just before the call. ``thread`` puts
    the request's progress under an existing message (a reminder's "Back up
    now") instead of a new one.
    """
    found = _assess(deps, op, plan, user, form, reason)
    glass = break_glass.wanted(form)
    if found.frozen is not None and found.decision.allowed:
        raise refuse_frozen(deps, found, user=user, reason=reason)
    region, resource, tags, resources = found.region, found.resource, found.tags, found.resources
    decision, needed, state = found.decision, found.needed, found.state
    facts = checked.gather(deps, found) if state is not State.DENIED else {}
    now = utcnow()
    request = Request(
        id=tx.new_request_id(op.name), operation=op.name, state=state.value, requester=user, channel_id=channel,
        region_id=region, account=found.account, instance_id=plan.instance_id, resource=resource, params=plan.params,
        tags=dict(tags or {}), reason=reason, resources=[r.record() for r in resources],
        form={k: v for k, v in form.items() if k not in EPHEMERAL_FIELDS},
        approvals_needed=needed.approvers if needed else 0,
        approver_pool=(needed.pool or "") if needed else "",
        policy_version=decision.policy_version, decision=decision_record(decision), checked=facts,
        created_at=now, updated_at=now,
        expires_at=now + timedelta(seconds=deps.settings.approval_ttl_s) if state is State.PENDING_APPROVAL else None,
        exclusive_key=_exclusive_key(op, plan.instance_id) if op.exclusive and state is not State.DENIED else None,
        thread_channel=thread[0] if thread else None, thread_ts=thread[1] if thread else None,
        own_thread=thread is None, submission_key=submission_key, break_glass=glass and state is not State.DENIED,
        review_due_at=now + timedelta(seconds=deps.settings.breakglass_review_s) if glass else None,
    )
    detail = found.detail(reason)
    try:
        with deps.db.session() as session:
            tx.create(session, request, actor=user, detail=detail)
            if request.break_glass:
                tx.note(session, request.id, "break_glass", actor=user, state=state,
                        detail={"reason": reason, "review_due_at": request.review_due_at.isoformat()
                                if request.review_due_at else None})
            if state is State.APPROVED:
                why = ("this operation needs no approval" if op.approval == "never"
                       else "break-glass: approvals and change freezes waived" if request.break_glass
                       else "the approval rules waive approval here")
                tx.note(session, request.id, "approved", actor="policy", state=State.APPROVED,
                        detail={"why": why, "rules_version": rules_version(deps)})
            if state is not State.DENIED and thread is None:
                n.post(session, n.Anchor(), request_id=request.id, key=f"{request.id}:anchor")
            elif state is not State.DENIED:
                n.post(session, n.Opened(), request_id=request.id, key=f"{request.id}:opened")
    except IntegrityError:
        if submission_key is not None:
            earlier = submitted_before(deps, submission_key, user)
            if earlier is not None:
                return earlier  # the same modal submitted twice at once: one request
            if _key_taken(deps, submission_key):
                raise FieldErrors({"DBInstanceId": FieldError.of(
                    "form_reused", "This form was already submitted; open a new one.")}) from None
        raise busy(deps, op, plan.instance_id, request.exclusive_key) from None
    deps.kick()
    if state is State.DENIED:
        return Denied(request=request, decision=decision)
    if state is State.APPROVED:
        deps.later(release, deps, request.id)  # after the caller has answered Slack
    elif state is State.PENDING_APPROVAL:
        deps.later(routing.notify, deps, request.id)  # DMs to the approvers, when configured
    return Submitted(request=request, decision=decision, requirement=needed)


def _assess(deps: Deps, op: Operation, plan: Plan, user: str, form: Form, reason: str) -> Assessment:
    """:func:`assess`, with approvals and freezes waived for a break-glass its requester may use (refused
    and audited otherwise). The requester's own permission is decided all the same."""
    found = assess(deps, op, plan, user)
    if not break_glass.wanted(form):
        return found
    break_glass.require(deps, user, found.resources, operation=op.name, reason=reason)
    return dataclasses.replace(found, needed=None, frozen=None)


def refuse_frozen(deps: Deps, found: Assessment, *, user: str, reason: str) -> FieldErrors:
    """A submission inside a change freeze: audited (with the window and its end), then refused on the form."""
    frozen = found.frozen
    assert frozen is not None
    with deps.db.session() as session:
        tx.note(session, None, "freeze_refused", actor=user, detail=found.detail(reason))
    return FieldErrors({"DBInstanceId": FieldError.of(
        "frozen", "Change freeze {window} is in force until {until}: {action} on these instances waits until then.",
        window=frozen.window, until=frozen.local_end(), action=found.op.ram_action)})


def _exclusive_key(op: Operation, instance_id: str) -> str:
    """At most one active request holds this key (operations marked ``exclusive``: backups)."""
    return f"{op.name}:{instance_id}"


def _key_active(deps: Deps, op: Operation, instance_id: str) -> bool:
    """Whether an exclusive request of ``op`` on the instance is under way (a real one would be refused)."""
    key = _exclusive_key(op, instance_id)
    with deps.db.reader() as session:
        return session.exec(select(Request.id).where(Request.exclusive_key == key)).first() is not None


def _key_taken(deps: Deps, submission_key: str) -> bool:
    with deps.db.reader() as session:
        return session.exec(select(Request.id).where(Request.submission_key == submission_key)).first() is not None


def busy(deps: Deps, op: Operation, instance_id: str, key: str | None) -> FieldErrors:
    """The instance already has an active exclusive request (a second backup click)."""
    with deps.db.reader() as session:
        other = session.exec(select(Request).where(Request.exclusive_key == key)).first()
    if other is None:
        error = FieldError.of("busy", "A {operation} of {instance} is already under way; wait for it to finish.",
                              operation=operations.noun(op.name), instance=instance_id)
    else:
        error = FieldError.of("busy_by", "A {operation} of {instance} is already under way by {requester} "
                              "({request_id}, {state}); wait for it to finish.", operation=operations.noun(op.name),
                              instance=instance_id, requester="<@" + other.requester + ">", request_id=other.id,
                              state=LABELS[State(other.state)])
    return FieldErrors({"DBInstanceId": error})
