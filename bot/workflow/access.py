"""Who may do what: the policy asked the same way by every step.

:func:`resource_of` is the only place an instance's ARN is made, so requests,
the modal's preview, the listing, reminders and pickers all name an instance
the same way (its own region, the deployment's account).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.operations.base import Operation
from bot.policy import Decision
from bot.policy.arn import instance_arn
from bot.policy.subjects import is_user_id
from bot.rds.directory import InstanceInfo
from bot.store.models import Request
from bot.workflow import transitions as tx
from bot.workflow.approvals import DEFAULT, Requirement
from bot.workflow.deps import Deps

APPROVE_ACTION = "rdsbot:Approve"


def resource_of(deps: Deps, instance: InstanceInfo | str, region: str | None = None) -> str:
    """The ARN of an instance: in its own region when known (a DR instance lives elsewhere)."""
    if isinstance(instance, InstanceInfo):
        instance_id, region = instance.id, instance.region_id or region
    else:
        instance_id = instance
    return instance_arn(region or deps.settings.region_id, deps.settings.account_id, instance_id)


def decide(deps: Deps, user: str, action: str, resource: str, tags: Mapping[str, str] | None) -> Decision:
    """The policy's answer for a person (never a role or group posing as one)."""
    engine = deps.policy.current()
    if not is_user_id(user):
        return Decision(allowed=False, subject=str(user)[:64], action=action, resource=resource,
                        tags=dict(tags) if tags is not None else None, policy_version=engine.version, rule=None)
    candidates = sorted(engine.referenced_usergroups())
    groups = deps.groups.groups_of(user, candidates) if candidates else []
    return engine.decide(user, action, resource, tags=tags, groups=groups)


def approver_decision(deps: Deps, request: Request, user: str) -> Decision:
    """Whether ``user`` holds ``rdsbot:Approve`` on the request's resource."""
    return decide(deps, user, APPROVE_ACTION, request.resource, request.tags or None)


def may_decide(deps: Deps, request: Request, user: str) -> bool:
    """Whether ``user`` may approve or reject this request (never its requester)."""
    return user != request.requester and approver_decision(deps, request, user).allowed


def may_view(deps: Deps, request: Request, user: str) -> bool:
    """Details go to the requester and to those who may decide on it, nobody else."""
    return user == request.requester or may_decide(deps, request, user)


def in_pool(deps: Deps, user: str, pool: str) -> bool:
    """Whether ``user`` holds the role an approval rule asks approvers to have."""
    engine = deps.policy.current()
    groups = deps.groups.groups_of(user, sorted(engine.referenced_usergroups()))
    return pool in engine.roles_of(user, groups)


def requirement(deps: Deps, op: Operation, resource: str, tags: Mapping[str, str] | None) -> Requirement | None:
    """Who must approve, or None when the request runs without approval."""
    if op.approval == "never":
        return None
    floor = 1 if op.approval == "always" else 0
    needed = DEFAULT if deps.rules is None else deps.rules.current().requirement(op.ram_action, resource, tags,
                                                                                 floor=floor)
    return needed if needed.approvers > 0 else None


def rules_version(deps: Deps) -> str | None:
    return deps.rules.current().version if deps.rules is not None else None


def decision_record(decision: Decision) -> dict[str, Any]:
    """What the audit trail keeps of a policy decision (DESIGN: action, resource, version, rule)."""
    rule = decision.rule
    return {
        "allowed": decision.allowed,
        "subject": decision.subject,
        "action": decision.action,
        "resource": decision.resource,
        "policy_version": decision.policy_version,
        "rule": None if rule is None else {"path": rule.path, "line": rule.line, "text": rule.text},
        "via": decision.via,
        "explanation": decision.explain(),
    }


def record_reload(deps: Deps, what: str, *, ok: bool, version: str, previous: str, error: str | None) -> None:
    """Audit a policy or approval-rules reload (or a refused one)."""
    event = f"{what}_reloaded" if ok else f"{what}_reload_refused"
    with deps.db.session() as session:
        tx.note(session, None, event, actor="rdsbot",
                detail={"version": version, "previous_version": previous, "error": error})
