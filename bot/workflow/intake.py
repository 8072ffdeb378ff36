"""A new request: validate the form, ask the policy, record it, and hand it on.

A request the policy refuses is recorded as ``denied``; one that needs approval
waits in ``pending_approval``; one that needs none is ``approved`` and goes to
:func:`bot.workflow.execution.release` after the caller has answered Slack.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot import operations
from bot.operations.base import Context, FieldError, FieldErrors, Form, Operation, Plan
from bot.store.models import Request
from bot.timeutil import utcnow
from bot.workflow import notices as n
from bot.workflow import transitions as tx
from bot.workflow.access import (Resource, decide_all, decision_record, requirement, resource_of, resources_of,
                                 rules_version, stored_resources)
from bot.workflow.deps import Deps
from bot.workflow.execution import release
from bot.workflow.limits import Limit
from bot.workflow.outcomes import Denied, Submitted
from bot.workflow.states import State


# Form fields that only steer the modal; never validated again, never kept.
EPHEMERAL_FIELDS = frozenset({"dry_run", "break_glass"})


def context(deps: Deps, user: str) -> Context:
    """What validation may consult: the live estate, the clock and the default region."""
    return Context(directory=deps.directory, now=utcnow(), region_id=deps.settings.region_id, user=user)


def submit(deps: Deps, op_name: str, *, user: str, channel: str, form: Form,
           submission_key: str | None = None) -> Submitted | Denied:
    """Validate, check policy, and record the request (raises FieldErrors).

    ``submission_key`` (the modal's view id) makes a duplicated submission
    return the request the first one made instead of making a second.
    """
    op = operations.require(op_name)
    if submission_key is not None:
        earlier = submitted_before(deps, submission_key, user)
        if earlier is not None:
            return earlier
    limited = deps.limits.check(Limit.SUBMISSIONS, user) if deps.limits is not None else None
    if limited is not None:
        raise FieldErrors({"DBInstanceId": FieldError.of("rate_limited", "{message}", message=limited)})
    plan = op.validate(form, context(deps, user))
    reason = str(form.get("reason") or "").strip()
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
    region = (plan.instance.region_id if plan.instance is not None else "") or deps.settings.region_id
    resource = resource_of(deps, plan.instance_id, region)
    tags = plan.instance.tags if plan.instance is not None else None
    resources = resources_of(deps, plan.touched) or [Resource("instance", plan.instance_id, region, resource, tags)]
    decision = decide_all(deps, user, op.ram_action, resources)
    needed = requirement(deps, op, resources)
    now = utcnow()
    if not decision.allowed:
        state = State.DENIED
    elif needed is not None:
        state = State.PENDING_APPROVAL
    else:
        state = State.APPROVED
    request = Request(
        id=tx.new_request_id(op.name), operation=op.name, state=state.value, requester=user, channel_id=channel,
        region_id=region, instance_id=plan.instance_id, resource=resource, params=plan.params,
        tags=dict(tags or {}), reason=reason, resources=[r.record() for r in resources],
        form={k: v for k, v in form.items() if k not in EPHEMERAL_FIELDS},
        approvals_needed=needed.approvers if needed else 0,
        approver_pool=(needed.pool or "") if needed else "",
        policy_version=decision.policy_version, decision=decision_record(decision),
        created_at=now, updated_at=now,
        expires_at=now + timedelta(seconds=deps.settings.approval_ttl_s) if state is State.PENDING_APPROVAL else None,
        exclusive_key=f"{op.name}:{plan.instance_id}" if op.exclusive and state is not State.DENIED else None,
        thread_channel=thread[0] if thread else None, thread_ts=thread[1] if thread else None,
        own_thread=thread is None, submission_key=submission_key,
    )
    detail: dict[str, Any] = {"operation": op.name, "action": op.ram_action, "resource": resource,
                              "resources": [r.record() for r in resources], "params": plan.params,
                              "reason": reason, "tags": tags, "decision": decision_record(decision)}
    if needed is not None:
        detail["approval_rule"] = {"approvers": needed.approvers, "pool": needed.pool, "rule": needed.rule}
    try:
        with deps.db.session() as session:
            tx.create(session, request, actor=user, detail=detail)
            if state is State.APPROVED:
                why = ("this operation needs no approval" if op.approval == "never"
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
    return Submitted(request=request, decision=decision, requirement=needed)


def _key_taken(deps: Deps, submission_key: str) -> bool:
    with deps.db.reader() as session:
        return session.exec(select(Request.id).where(Request.submission_key == submission_key)).first() is not None


def busy(deps: Deps, op: Operation, instance_id: str, key: str | None) -> FieldErrors:
    """The instance already has an active exclusive request (a second backup click)."""
    with deps.db.reader() as session:
        other = session.exec(select(Request).where(Request.exclusive_key == key)).first()
    if other is None:
        error = FieldError.of("busy", "A {operation} of {instance} is already under way; wait for it to finish.",
                              operation=op.name, instance=instance_id)
    else:
        error = FieldError.of("busy_by", "A {operation} of {instance} is already under way by {requester} "
                              "({request_id}, {state}); wait for it to finish.", operation=op.name,
                              instance=instance_id, requester=f"<@{other.requester}>", request_id=other.id,
                              state=other.state.replace("_", " "))
    return FieldErrors({"DBInstanceId": error})
