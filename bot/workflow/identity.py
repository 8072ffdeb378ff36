"""Which cloud identity a request's mutating RDS call is made with.

With ``RDSBOT_RAM_ROLE_ARN`` unset, the bot's own (the gateway as it is). With it set,
the gateway's per-request STS session (:meth:`bot.rds.gateway.SdkGateway.for_request`):
named after the requester and the request, allowed only the request's RAM action on
its resources, or on ``*`` where RAM has no resource-level permission for the action
(RestoreDdrTable). Progress reads and pickers never come here: they stay on the bot's
own read-only identity.
"""

from __future__ import annotations

from bot.operations.base import Operation
from bot.policy.actions import RAM_SCOPES, ResourceScope
from bot.rds.gateway import RdsGateway
from bot.store.models import Request
from bot.workflow.deps import Deps


def session_resources(action: str, request: Request) -> list[str]:
    """The resources a request's session policy names for ``action``."""
    if RAM_SCOPES.get(action, ResourceScope.ANY) is ResourceScope.ANY:
        return ["*"]
    arns = [str(r["arn"]) for r in request.resources or () if r.get("arn")]
    return sorted(set(arns)) or [request.resource]


def gateway_for(deps: Deps, request: Request, op: Operation) -> RdsGateway:
    """The gateway ``request``'s mutating call goes through (raises RdsError when STS refuses)."""
    for_request = getattr(deps.gateway, "for_request", None)
    if not deps.settings.ram_role_arn or for_request is None:
        return deps.gateway
    gateway: RdsGateway = for_request(request.id, request.requester, op.ram_action,
                                      session_resources(op.ram_action, request))
    return gateway
