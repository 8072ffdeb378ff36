"""The one decision that a request is sent to RDS now.

Every path that sends a request for the first time — the last approval, a
submission that needs none, a reminder's "Back up now", recovery of an
approved request a crash left behind — goes through :func:`verdict` (via
:func:`bot.workflow.execution.release`), and acts on its answer:

- :class:`Send`: claim the request and call RDS;
- :class:`Refuse`: it no longer holds; nothing is sent, the request is denied;
- :class:`HoldUntil`: not now: RDS could not be asked (it stays approved and is asked again
  later), or a change freeze is in force (``frozen``: it is ``held`` until the window ends);
- :class:`NeedsApprovers`: it now needs more approvals than it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import operations
from bot.i18n import _
from bot.operations.base import FieldErrors, Operation
from bot.policy import Decision
from bot.rds.errors import RdsError
from bot.timeutil import utcnow
from bot.workflow.access import (Resource, approver_decision, decide_all, freeze_of, in_pool, requirement,
                                 resources_of, stored_resources, validation_context)
from bot.workflow import break_glass
from bot.workflow.queries import Requests
from bot.store.models import Request
from bot.workflow.deps import Deps
from bot.workflow.freezes import Frozen
from bot.workflow.states import LABELS, State


@dataclass(frozen=True)
class Send:
    """Everything still holds: send it. ``resources`` as read just now."""

    resources: tuple[Resource, ...] = ()


@dataclass(frozen=True)
class Refuse:
    """Something no longer holds; ``why`` says what, in plain words."""

    why: str
    decision: Decision | None = None


@dataclass(frozen=True)
class HoldUntil:
    """Not before ``until`` (a window in which nothing may be sent)."""

    until: datetime
    why: str
    frozen: Frozen | None = None  # a change freeze, not a passing hitch


@dataclass(frozen=True)
class NeedsApprovers:
    """The approval rule in force now asks for more approvers than the request has."""

    needed: int
    have: int
    pool: str | None = None
    rule: str | None = None
    resources: tuple[Resource, ...] = ()


Verdict = Send | Refuse | HoldUntil | NeedsApprovers

RECHECK_AFTER_S = 30  # RDS did not answer the re-check: recovery asks again after this


def verdict(deps: Deps, request: Request) -> Verdict:
    """May ``request`` be sent to RDS now? Decided again from scratch: the policy and approval
    rules as they are now, the instances' tags and state read fresh from RDS, the form
    validated again, and every approval checked against the approver's current rights."""
    if request.state != State.APPROVED:
        return Refuse(_("the request is {state}, not approved", state=LABELS[State(request.state)]))
    _reload(deps)
    op = operations.require(request.operation)
    try:
        resources = _fresh_resources(deps, op, request)
    except FieldErrors as errors:
        return Refuse(_("it no longer passes its checks: {problems}", problems=" ".join(errors.errors.values())))
    except RdsError as error:
        if error.code.endswith("NotFound"):
            return Refuse(_("an instance it touches is gone: {error}", error=error.plain()))
        return HoldUntil(utcnow() + timedelta(seconds=RECHECK_AFTER_S),
                         _("RDS could not be asked again before sending: {error}", error=error.plain()))
    decision = decide_all(deps, request.requester, op.ram_action, resources)
    if not decision.allowed:
        return Refuse(_("the policy no longer allows it: {explanation}", explanation=decision.explain()), decision)
    # Break-glass waives freezes and approvals while its requester may still break the glass here.
    glass = request.break_glass and break_glass.allowed(deps, request.requester, resources)
    frozen = None if glass else freeze_of(deps, op.ram_action, resources)
    if frozen is not None:
        return HoldUntil(frozen.until, frozen.why(), frozen)
    needed = None if glass else requirement(deps, op, resources)
    if needed is None:
        return Send(resources=tuple(resources))
    valid = valid_approvers(deps, request, resources, pool=needed.pool)
    if len(valid) < needed.approvers:
        return NeedsApprovers(needed=needed.approvers, have=len(valid), pool=needed.pool, rule=needed.rule,
                              resources=tuple(resources))
    return Send(resources=tuple(resources))


def valid_approvers(deps: Deps, request: Request, resources: list[Resource], *, pool: str | None) -> list[str]:
    """The approvals that still count: by someone who may still approve every instance (and is in the pool)."""
    approvers = Requests(deps.db).approvers_of(request.id)
    return [a for a in approvers
            if a != request.requester and approver_decision(deps, request, a, resources).allowed
            and (not pool or in_pool(deps, a, pool))]


def _reload(deps: Deps) -> None:
    """A policy or rules edit made seconds ago counts: reload now rather than at the next tick."""
    deps.policy.reload_if_changed()
    if deps.rules is not None:
        deps.rules.reload_if_changed()
    if deps.freezes is not None:
        deps.freezes.reload_if_changed()


def _fresh_resources(deps: Deps, op: Operation, request: Request) -> list[Resource]:
    """Every instance the request touches, read from RDS now (no cache); the form validated again."""
    for resource in stored_resources(request):
        deps.directory.forget(resource.instance_id)
    if request.form:
        plan = op.validate(request.form, validation_context(deps, request.requester))
        fresh = resources_of(deps, plan.touched)
        if fresh:
            return fresh
    # A row from before forms were kept: the same instances, their tags read again.
    return [Resource(r.role, r.instance_id, r.region_id, r.arn,
                     deps.directory.instance(r.instance_id, region=r.region_id or None, fresh=True).tags)
            for r in stored_resources(request)]
