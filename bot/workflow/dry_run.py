"""A dry run: a submission checked and decided exactly like a real one, then only reported.

:func:`bot.workflow.intake.submit` validates and assesses it on the same path
as a real request; :func:`record` makes it one audit event under its own ID
(``dry-<the request ID a real submission would get>``, state ``dry_run``) and
nothing else: no request row, no Slack card, no RDS call. :func:`lines` says
what was found, for the modal and for ``rdsbot plan``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.i18n import _
from bot.operations.base import Form, role_name
from bot.policy import Decision
from bot.store.models import Request
from bot.workflow import transitions as tx
from bot.workflow.access import Resource, decide, decision_record
from bot.workflow.assess import Assessment
from bot.workflow.deps import Deps
from bot.workflow.routing import approvers_for
from bot.workflow.states import State

FIELD = "dry_run"  # the modal's checkboxes block (DESIGN.md)
CHECKED = "yes"
PREFIX = "dry-"
MENTIONS = 10  # as on a card (DESIGN.md)
STATE = "dry_run"  # the audit trail's state for a dry run; never a request's state


def wanted(form: Form) -> bool:
    """Whether the form asks for a dry run (the checkbox ticked, or ``dry_run=yes`` from the CLI)."""
    value = form.get(FIELD)
    return CHECKED in value if isinstance(value, list) else value == CHECKED


@dataclass(frozen=True)
class DryRun:
    """What a real submission would have done, and the ID the dry run is audited under."""

    id: str
    request_id: str  # the ID, and ClientToken, a real submission would get
    found: Assessment
    api_params: dict[str, str]  # as RDS would receive them (lists flattened to Name.N.Field)
    decisions: tuple[tuple[Resource, Decision], ...]  # each instance's own decision
    could_approve: tuple[str, ...] = ()  # who could approve it now (never the requester)

    @property
    def allowed(self) -> bool:
        return self.found.decision.allowed and self.found.frozen is None


def wire(params: Mapping[str, Any]) -> dict[str, str]:
    """Parameters as they go over the wire: ``Tag: [{"Key": k}]`` becomes ``Tag.1.Key = k``."""
    out: dict[str, str] = {}
    for name, value in params.items():
        if isinstance(value, list) and all(isinstance(item, Mapping) for item in value):
            for index, item in enumerate(value, start=1):
                out.update({f"{name}.{index}.{key}": str(v) for key, v in item.items()})
        elif isinstance(value, list):
            out.update({f"{name}.{index}": str(v) for index, v in enumerate(value, start=1)})
        else:
            out[name] = str(value)
    return out


def record(deps: Deps, found: Assessment, *, user: str, reason: str, via: str) -> DryRun:
    """Audit the dry run (one event, its own ID) and return what it found; nothing else is written."""
    op = found.op
    request_id = tx.new_request_id(op.name)
    result = DryRun(id=PREFIX + request_id, request_id=request_id, found=found,
                    api_params=wire(op.api_params(request_id, found.plan.params)),
                    decisions=tuple((r, decide(deps, user, op.ram_action, r.arn, r.tags)) for r in found.resources),
                    could_approve=_could_approve(deps, found, user, request_id))
    detail = found.detail(reason) | {
        "via": via, "would_be": found.state.value, "request_id_would_be": request_id, "api_action": op.api_action,
        "api_params": result.api_params, "decisions": [{"role": r.role, "instance_id": r.instance_id,
                                                         **decision_record(d)} for r, d in result.decisions],
        "could_approve": list(result.could_approve),
    }
    with deps.db.session() as session:
        tx.note(session, result.id, "dry_run", actor=user, state=STATE, detail=detail)
    return result


def _could_approve(deps: Deps, found: Assessment, user: str, request_id: str) -> tuple[str, ...]:
    """The people the card would name: computed like a real request's, from a request that is never stored."""
    if found.needed is None or not found.decision.allowed:
        return ()
    unsaved = Request(id=request_id, requester=user, resources=[r.record() for r in found.resources],
                      approver_pool=found.needed.pool or "")
    return approvers_for(deps, unsaved, voted=()).people


def lines(result: DryRun, code: Callable[[str], str] = str,
          explain: Callable[[Decision], str] = Decision.explain, mention: Callable[[str], str] = str) -> list[str]:
    """The facts of a dry run in words, one line each; ``code`` marks up a value (Slack: `value`),
    ``explain`` words a policy decision with its rule, ``mention`` names a person."""
    found, op = result.found, result.found.op
    out = [_("Dry run {dry_id}: nothing was sent to RDS and no request was made.", dry_id=code(result.id)),
           _("Would call {action} with:", action=code(op.api_action))]
    out += [f"  {code(name)} = {code(value)}" for name, value in result.api_params.items()]
    if op.takes_client_token:
        out.append(_("ClientToken {token} is the request ID a real submission would get (each gets its own).",
                     token=code(result.request_id)))
    else:
        out.append(_("No ClientToken: {action} takes none, so a resend is found among the instance's jobs instead.",
                     action=code(op.api_action)))
    out.append(_("Policy, {action} for {user}:", action=code(op.ram_action), user=code(found.decision.subject)))
    for resource, decision in result.decisions:
        tags = ", ".join(f"{k}={v}" for k, v in sorted((resource.tags or {}).items())) or _("no tags")
        out.append(_("  {role} {instance} ({tags}): {explanation}", role=role_name(resource.role),
                     instance=code(resource.instance_id), tags=code(tags), explanation=explain(decision)))
    out.append(_approval(found, code))
    if found.frozen is not None:
        out.append(_("Change freeze: {window} is in force until {until}.", window=code(found.frozen.window),
                     until=code(found.frozen.local_end())))
    if found.needed is not None and found.decision.allowed:
        named = result.could_approve[:MENTIONS]
        more = len(result.could_approve) - len(named)
        people = ", ".join(mention(p) for p in named) or _("nobody, as the policy stands")
        out.append(_("Could approve it: {people}.", people=people) if not more
                   else _("Could approve it: {people} and {more} more.", people=people, more=more))
    out.append(_("Pre-flight: the form passed every check, against RDS as it is now."))
    out.append(_verdict(found))
    return out


def _approval(found: Assessment, code: Callable[[str], str]) -> str:
    needed = found.needed
    if needed is None:
        if found.op.approval == "never":
            return _("Approval: none, this operation needs no approval.")
        return _("Approval: none, the approval rules waive it here.")
    if needed.pool:
        return _("Approval: {approvers} approvers from {pool}, by rule {rule} (the strictest over every instance).",
                 approvers=needed.approvers, pool=needed.pool, rule=code(needed.rule))
    return _("Approval: {approvers} approvers, by rule {rule} (the strictest over every instance).",
             approvers=needed.approvers, rule=code(needed.rule))


def _verdict(found: Assessment) -> str:
    if found.state is State.DENIED:
        return _("Verdict: a real submission would be denied, and nothing sent.")
    if found.frozen is not None:
        return _("Verdict: a real submission would be refused until the change freeze ends, and nothing sent.")
    if found.state is State.PENDING_APPROVAL:
        return _("Verdict: a real submission would wait for approval, then be sent.")
    return _("Verdict: a real submission would be sent to RDS right away.")
