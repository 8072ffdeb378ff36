"""Where, and with which cloud identity, a request's RDS calls are made.

Every call of a request goes to the account and region its instance lives in
(:func:`place_of`, stored with the request). The mutating call uses that account's
per-request STS session when it has a session role (``RDSBOT_RAM_ROLE_ARN``, or the
account's ``role_arn`` in accounts.toml; :meth:`bot.rds.pool.Gateways.for_request`):
named after the requester and the request, allowed only the request's RAM action on
its resources, or on ``*`` where RAM has no resource-level permission for the action
(RestoreDdrTable); otherwise the account's own identity. Progress reads
(:func:`directory_for`) never use a session.
"""

from __future__ import annotations

from bot.operations.base import Operation
from bot.policy.actions import RAM_SCOPES, ResourceScope
from bot.rds.directory import RdsDirectory
from bot.rds.gateway import RdsGateway
from bot.rds.places import Place
from bot.store.models import Request
from bot.workflow.deps import Deps


def session_resources(action: str, request: Request) -> list[str]:
    """The resources a request's session policy names for ``action``."""
    if RAM_SCOPES.get(action, ResourceScope.ANY) is ResourceScope.ANY:
        return ["*"]
    arns = [str(r["arn"]) for r in request.resources or () if r.get("arn")]
    return sorted(set(arns)) or [request.resource]


def place_of(request: Request) -> Place:
    """Where the request's instance lives: its account and region, as recorded when it was made."""
    return Place(request.account or "", request.region_id)


def gateway_for(deps: Deps, request: Request, op: Operation) -> RdsGateway:
    """The gateway ``request``'s mutating call goes through (raises RdsError when STS refuses, or when
    its account is no longer in accounts.toml)."""
    return deps.directory.gateways.for_request(place_of(request), request.id, request.requester, op.ram_action,
                                               session_resources(op.ram_action, request))


def directory_for(deps: Deps, request: Request) -> RdsDirectory:
    """The reads of a request's progress and recovery, in its own account and region."""
    return deps.directory.at(place_of(request))
