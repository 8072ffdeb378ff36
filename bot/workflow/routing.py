"""Approval routing: who may approve a request now, and telling them.

Computed on demand from the current policy, the request's approval rule (its
``from`` role) and Slack user-group membership (through the :class:`GroupResolver`
port, so no Slack code here): a person is listed when they hold ``rdsbot:Approve``
on every instance the request touches, hold the rule's role when it names one,
are not the requester and have not approved it already. The same checks a vote
makes (:func:`bot.workflow.decisions.vote`), asked for everyone at once: the engine
decides once per distinct set of applicable policy lines, not once per person.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import select

from bot.policy import PolicyEngine
from bot.policy.rules import GROUP_PREFIX
from bot.policy.subjects import is_user_id
from bot.store.models import Request
from bot.timeutil import utcnow
from bot.workflow import notices as n
from bot.workflow import transitions as tx
from bot.workflow.access import APPROVE_ACTION, approver_decision, in_pool, stored_resources
from bot.workflow.deps import Deps
from bot.workflow.queries import approvers_in
from bot.workflow.states import State

log = logging.getLogger(__name__)

#: People named on a card before "and N more" (DESIGN.md).
MENTION_LIMIT = 10
#: Requests one ``/rds pending`` looks through (oldest first).
PENDING_SCAN = 200

People = dict[str, tuple[list[str], list[str]]]  # user -> (their user groups, groups Slack could not read)


@dataclass(frozen=True)
class Approvers:
    """Who may still approve a request: sorted user IDs, the rule's role, unreadable groups."""

    people: tuple[str, ...] = ()
    pool: str | None = None
    unknown_groups: tuple[str, ...] = ()

    def cut(self, limit: int = MENTION_LIMIT) -> tuple[tuple[str, ...], int]:
        """The first ``limit`` people to name, and how many more there are."""
        limit = max(limit, 0)
        return self.people[:limit], max(len(self.people) - limit, 0)


def everyone(deps: Deps, engine: PolicyEngine) -> tuple[People, list[str]]:
    """Every person the policy could concern: users it names and members of the groups it names,
    each with their groups; and the groups whose members Slack could not give (fail closed)."""
    groups_of: dict[str, list[str]] = {}
    unknown: list[str] = []
    for group in sorted(engine.referenced_usergroups()):
        members = deps.groups.members(group)
        if members is None:
            unknown.append(GROUP_PREFIX + group)
            continue
        for member in members:
            if is_user_id(member):
                groups_of.setdefault(member, []).append(GROUP_PREFIX + group)
    for subject in engine.named_users():
        groups_of.setdefault(subject, [])
    return {user: (groups, unknown) for user, groups in groups_of.items()}, unknown


def approvers_for(deps: Deps, request: Request, *, voted: Sequence[str] | None = None) -> Approvers:
    """Who may approve ``request`` now (never its requester, nobody who already approved)."""
    engine = deps.policy.current()
    people, unknown = everyone(deps, engine)
    if voted is None:
        with deps.db.reader() as session:
            voted = approvers_in(session, request.id)
    for user in (request.requester, *voted):
        people.pop(user, None)
    for resource in stored_resources(request):
        allowed = engine.allowed_rules(APPROVE_ACTION, resource.arn, tags=resource.tags, people=people)
        people = {user: people[user] for user in allowed}
    pool = request.approver_pool or None
    if pool:  # the rule's role, held directly or through a group Slack confirmed (as in_pool)
        holders = engine.graph.members_of(pool)
        people = {user: g for user, g in people.items() if user in holders or not holders.isdisjoint(g[0])}
    return Approvers(tuple(sorted(people)), pool, tuple(unknown))


def may_approve_now(deps: Deps, request: Request, user: str, voted: Sequence[str]) -> bool:
    """The checks a vote makes, for ``/rds pending``: pending, not expired, not theirs, not yet voted."""
    if request.state != State.PENDING_APPROVAL or user == request.requester or user in voted:
        return False
    if request.expires_at is not None and request.expires_at <= utcnow():
        return False
    if not approver_decision(deps, request, user).allowed:
        return False
    return not request.approver_pool or in_pool(deps, user, request.approver_pool)


def pending_for(deps: Deps, user: str) -> list[Request]:
    """The requests waiting for approval that ``user`` may approve now, oldest first."""
    with deps.db.reader() as session:
        waiting = list(session.exec(
            select(Request).where(Request.state == State.PENDING_APPROVAL)
            .order_by(Request.created_at).limit(PENDING_SCAN)  # type: ignore[arg-type]
        ))
        votes = {r.id: approvers_in(session, r.id) for r in waiting}
    return [r for r in waiting if may_approve_now(deps, r, user, votes[r.id])]


def notify(deps: Deps, request_id: str) -> None:
    """With ``RDSBOT_NOTIFY_APPROVERS=dm``: a DM with the buttons to each person who may approve.

    Runs after the submission was answered (``deps.later``); once per person and request.
    """
    if deps.settings.notify_approvers != "dm":
        return
    with deps.db.reader() as session:
        request = session.get(Request, request_id)
    if request is None or request.state != State.PENDING_APPROVAL:
        return
    approvers = approvers_for(deps, request)
    with deps.db.session() as session:
        fresh = [user for user in approvers.people
                 if n.post(session, n.ApproverDM(to=user), request_id=request.id, key=f"{request.id}:ask:{user}")]
        if fresh:
            tx.note(session, request.id, "approvers_notified", actor="rdsbot", state=request.state,
                    detail={"people": fresh, "unknown_groups": list(approvers.unknown_groups)})
    log.info("approvers notified", extra={"request_id": request.id, "people": len(fresh)})
    deps.kick()
