"""Who may do what: the policy asked the same way by every step.

:func:`resource_of` is the only place an instance's ARN is made, so requests,
the modal's preview, the listing, reminders and pickers all name an instance
the same way (its own region and account). A request's resources
are every instance it touches (:class:`Resource`); the requester needs the
operation's action on each, an approver ``rdsbot:Approve`` on each, and the
strictest approval rule among them applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.i18n import in_english
from bot.operations.base import Context, Operation, Touched
from bot.policy import Decision
from bot.policy.arn import instance_arn
from bot.policy.subjects import is_user_id
from bot.rds.directory import InstanceInfo
from bot.store.models import Request
from bot.timeutil import utcnow
from bot.workflow import transitions as tx
from bot.workflow.approvals import DEFAULT, Requirement
from bot.workflow.deps import Deps
from bot.workflow.freezes import Frozen

APPROVE_ACTION = "rdsbot:Approve"


def resource_of(deps: Deps, instance: InstanceInfo | str, region: str | None = None, account: str | None = None) -> str:
    """The ARN of an instance: in its own region and account when known (a DR instance lives elsewhere;
    with accounts.toml, the ID of the account it was found in; a bare ID: the default account's)."""
    if isinstance(instance, InstanceInfo):
        instance_id, region, account = instance.id, instance.region_id or region, instance.account or account
    else:
        instance_id = instance
    return instance_arn(region or deps.settings.region_id, account_id_of(deps, account), instance_id)


def account_id_of(deps: Deps, alias: str | None) -> str:
    """The account ID ARNs carry for an alias (RDSBOT_ACCOUNT_ID without accounts.toml)."""
    return deps.directory.accounts().account_id(alias)


def any_instance(deps: Deps) -> str:
    """The ARN pattern of every instance of the default account in the default region (nothing named yet)."""
    return f"acs:rds:{deps.settings.region_id}:{account_id_of(deps, None)}:dbinstance/*"


def validation_context(deps: Deps, user: str) -> Context:
    """What validation may consult: the live estate (every account and region), the clock, the default
    region, and where an instance is looked for as a not-found error says it (``cn-hangzhou, prod · cn-shanghai``)."""
    where = ", ".join(place.label() for place in deps.directory.gateways.places())
    return Context(directory=deps.directory, now=utcnow(), region_id=deps.settings.region_id, user=user, where=where)


@dataclass(frozen=True)
class Resource:
    """One instance a request touches, as the policy sees it: its role, place, ARN and tags (None: unknown)."""

    role: str
    instance_id: str
    region_id: str
    arn: str
    tags: dict[str, str] | None
    account: str = ""  # the alias of its account (accounts.toml); "" = the one account

    def record(self) -> dict[str, Any]:
        return {"role": self.role, "instance_id": self.instance_id, "region_id": self.region_id, "arn": self.arn,
                "tags": self.tags, "account": self.account}


def resources_of(deps: Deps, touched: Sequence[Touched]) -> list[Resource]:
    """The policy resources of a plan: every instance it touches, in its own region and account."""
    return [Resource(t.role, t.instance.id, t.instance.region_id or deps.settings.region_id,
                     resource_of(deps, t.instance), t.instance.tags, t.instance.account) for t in touched]


def stored_resources(request: Request) -> list[Resource]:
    """The resources recorded with a request (one, for rows older than the resources column)."""
    rows = request.resources or [{"role": "instance", "instance_id": request.instance_id,
                                  "region_id": request.region_id, "arn": request.resource, "tags": request.tags,
                                  "account": request.account}]
    return [Resource(str(r.get("role") or "instance"), str(r.get("instance_id") or ""), str(r.get("region_id") or ""),
                     str(r.get("arn") or ""), r.get("tags") if isinstance(r.get("tags"), dict) else None,
                     str(r.get("account") or ""))
            for r in rows]


def decide(deps: Deps, user: str, action: str, resource: str, tags: Mapping[str, str] | None) -> Decision:
    """The policy's answer for a person (never a role or group posing as one)."""
    engine = deps.policy.current()
    if not is_user_id(user):
        return Decision(allowed=False, subject=str(user)[:64], action=action, resource=resource,
                        tags=dict(tags) if tags is not None else None, policy_version=engine.version, rule=None)
    candidates = sorted(engine.referenced_usergroups())
    groups, unknown = deps.groups.membership(user, candidates) if candidates else ([], [])
    return engine.decide(user, action, resource, tags=tags, groups=groups, unknown_groups=unknown)


def decide_all(deps: Deps, user: str, action: str, resources: Sequence[Resource]) -> Decision:
    """``action`` on every resource: the first refusal (it names its resource), else the main one's allow."""
    decisions = [decide(deps, user, action, r.arn, r.tags) for r in resources]
    if not decisions:
        return decide(deps, user, action, "", None)
    return next((d for d in decisions if not d.allowed), decisions[0])


def approver_decision(deps: Deps, request: Request, user: str,
                      resources: Sequence[Resource] | None = None) -> Decision:
    """Whether ``user`` holds ``rdsbot:Approve`` on every instance the request touches."""
    return decide_all(deps, user, APPROVE_ACTION, resources if resources is not None else stored_resources(request))


def may_decide(deps: Deps, request: Request, user: str) -> bool:
    """Whether ``user`` may approve or reject this request (never its requester)."""
    return user != request.requester and approver_decision(deps, request, user).allowed


def may_view(deps: Deps, request: Request, user: str) -> bool:
    """Details go to the requester and to those who may decide on it, nobody else."""
    return user == request.requester or may_decide(deps, request, user)


def in_pool(deps: Deps, user: str, pool: str) -> bool:
    """Whether ``user`` holds the role an approval rule asks approvers to have."""
    engine = deps.policy.current()
    groups, _unknown = deps.groups.membership(user, sorted(engine.referenced_usergroups()))
    return pool in engine.roles_of(user, groups)  # a role held only through an unreadable group does not count


def requirement(deps: Deps, op: Operation, resources: Sequence[Resource]) -> Requirement | None:
    """Who must approve, or None when the request runs without approval: the strictest rule over
    every instance it touches (a dev target does not waive what a production source needs)."""
    if op.approval == "never":
        return None
    floor = 1 if op.approval == "always" else 0
    if deps.rules is None:
        needed = DEFAULT
    else:
        rules = deps.rules.current()
        each = [rules.requirement(op.ram_action, r.arn, r.tags, floor=floor, role=r.role) for r in resources] or [DEFAULT]
        needed = max(each, key=lambda req: (req.approvers, req.pool is not None))
    return needed if needed.approvers > 0 else None


def freeze_of(deps: Deps, action: str, resources: Sequence[Resource], at: datetime | None = None) -> Frozen | None:
    """The change freeze in force for ``action`` on any instance the request touches, now or ``at``."""
    if deps.freezes is None:
        return None
    return deps.freezes.current().frozen(action, [(r.arn, r.tags) for r in resources], at or utcnow())


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
        "explanation": in_english(decision.explain),  # the audit trail is one language
    }


def record_reload(deps: Deps, what: str, *, ok: bool, version: str, previous: str, error: str | None) -> None:
    """Audit a policy or approval-rules reload (or a refused one)."""
    event = f"{what}_reloaded" if ok else f"{what}_reload_refused"
    with deps.db.session() as session:
        tx.note(session, None, event, actor="rdsbot",
                detail={"version": version, "previous_version": previous, "error": error})
