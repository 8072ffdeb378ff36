"""What a validated submission gets, decided once for a real request and a dry run alike.

:func:`assess` asks the policy about every instance the plan touches and finds
the approval rule in force; :mod:`bot.workflow.intake` records a request from
it, and a dry run (:mod:`bot.workflow.dry_run`) only reports and audits it, so
the two can never decide differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.operations.base import Operation, Plan
from bot.policy import Decision
from bot.workflow.access import (Resource, decide_all, decision_record, freeze_of, requirement, resource_of,
                                 resources_of)
from bot.workflow.approvals import Requirement
from bot.workflow.deps import Deps
from bot.workflow.freezes import Frozen
from bot.workflow.states import State


@dataclass(frozen=True)
class Assessment:
    """A plan as the policy and the approval rules see it, and the state a request would start in."""

    op: Operation
    plan: Plan
    region: str
    resource: str  # the main instance's ARN
    resources: list[Resource]
    decision: Decision
    needed: Requirement | None
    frozen: Frozen | None = None  # a change freeze in force now: a real submission is refused up front
    account: str = ""  # the main instance's account alias (accounts.toml): with ``region``, where it runs

    @property
    def tags(self) -> dict[str, str] | None:
        return self.plan.instance.tags if self.plan.instance is not None else None

    @property
    def state(self) -> State:
        if not self.decision.allowed:
            return State.DENIED
        return State.PENDING_APPROVAL if self.needed is not None else State.APPROVED

    def detail(self, reason: str) -> dict[str, Any]:
        """What the audit trail keeps of the submission (a request's first event, or a dry run's only one)."""
        detail: dict[str, Any] = {"operation": self.op.name, "action": self.op.ram_action, "resource": self.resource,
                                  "resources": [r.record() for r in self.resources], "params": self.plan.params,
                                  "reason": reason, "tags": self.tags, "decision": decision_record(self.decision)}
        if self.frozen is not None:
            detail["freeze"] = self.frozen.record()
        if self.needed is not None:
            detail["approval_rule"] = {"approvers": self.needed.approvers, "pool": self.needed.pool,
                                       "rule": self.needed.rule}
        return detail


def assess(deps: Deps, op: Operation, plan: Plan, user: str) -> Assessment:
    """The policy on every instance the plan touches, in its own region and account, and the strictest approval rule."""
    region = (plan.instance.region_id if plan.instance is not None else "") or deps.settings.region_id
    account = plan.instance.account if plan.instance is not None else ""
    resource = resource_of(deps, plan.instance_id, region, account)
    tags = plan.instance.tags if plan.instance is not None else None
    resources = (resources_of(deps, plan.touched)
                 or [Resource("instance", plan.instance_id, region, resource, tags, account)])
    return Assessment(op=op, plan=plan, region=region, resource=resource, resources=resources,
                      decision=decide_all(deps, user, op.ram_action, resources),
                      needed=requirement(deps, op, resources), frozen=freeze_of(deps, op.ram_action, resources),
                      account=account)
