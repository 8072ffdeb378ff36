"""A person's own requests: their list, withdrawing one by ID, and editing one to send it again.

Only the requester hears anything about a request here. An ID that is someone
else's gets the same answer as one that does not exist, so IDs cannot be probed
(DESIGN.md: a request's details go to its requester and those who may approve
it); the refused attempt is audited on that request all the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from bot import operations
from bot.i18n import _
from bot.operations.base import FieldKind, FormValue, Operation
from bot.store.models import Request
from bot.workflow import decisions
from bot.workflow import transitions as tx
from bot.workflow.deps import Deps
from bot.workflow.intake import EPHEMERAL_FIELDS
from bot.workflow.outcomes import Answer, CancelOutcome
from bot.workflow.states import LABELS, State, sources_of

#: Requests still on their way: always listed, however old.
OPEN: frozenset[State] = frozenset({State.PENDING_APPROVAL, State.APPROVED, State.HELD, State.SUBMITTED,
                                    State.RUNNING})
#: What the requester may still withdraw (the state machine's ways into ``cancelled``).
CANCELLABLE: frozenset[State] = sources_of(State.CANCELLED)
#: What may be edited and sent again as a new request.
RESUBMITTABLE: frozenset[State] = frozenset({State.REJECTED, State.FAILED})
RECENT = 20
OPEN_SCAN = 200  # open requests of one person read at most (a runaway script cannot flood the home)


def mine(deps: Deps, user: str, *, recent: int = RECENT) -> list[Request]:
    """The person's open requests, then their ``recent`` latest others; newest first in each."""
    with deps.db.reader() as session:
        latest = list(session.exec(
            select(Request).where(Request.requester == user)
            .order_by(col(Request.created_at).desc()).limit(recent)
        ))
        live = list(session.exec(
            select(Request).where(Request.requester == user, col(Request.state).in_([s.value for s in OPEN]))
            .order_by(col(Request.created_at).desc()).limit(OPEN_SCAN)
        ))
    by_id = {r.id: r for r in [*live, *latest]}
    return sorted(by_id.values(), key=lambda r: (State(r.state) not in OPEN, -r.created_at.timestamp()))


def not_yours(request_id: str) -> str:
    """The one answer for an ID that does not exist and an ID that is someone else's."""
    return _("You have no request {request_id}.", request_id=request_id[:64])


def withdraw(deps: Deps, request_id: str, *, user: str) -> CancelOutcome:
    """``/rds cancel <id>``: the Cancel button's own step (:func:`decisions.cancel`), answered without
    saying whether someone else's request exists."""
    outcome = decisions.cancel(deps, request_id, user=user)
    if not outcome.ok and (outcome.request is None or outcome.request.requester != user):
        return CancelOutcome(False, not_yours(request_id))
    return outcome


@dataclass(frozen=True)
class Prefill:
    """A request's form, to open its operation's modal again: what the requester typed."""

    source: str  # the request it comes from; it stays as it was
    op: Operation
    values: dict[str, FormValue]
    channel: str  # where the first one was asked for: answers go there again


def resubmission(deps: Deps, request_id: str, *, user: str) -> Prefill | Answer:
    """What "Edit and resubmit" opens for ``user``: only their own rejected or failed request.

    The new submission is a new request, validated, decided and approved like
    any other; nothing here changes the old one.
    """
    request_id = request_id[:64]
    with deps.db.session() as session:
        request = session.get(Request, request_id)
        if request is not None and request.requester != user:
            tx.note(session, request.id, "resubmit_refused", actor=user, state=request.state,
                    detail={"why": "only the requester can resubmit"})
    if request is None or request.requester != user:
        return Answer(False, not_yours(request_id))
    state = State(request.state)
    op = operations.get(request.operation)
    if state not in RESUBMITTABLE:
        return Answer(False, _("{request_id} is {state}: only a rejected or failed request can be edited and "
                               "sent again.", request_id=request.id, state=LABELS[state]))
    if op is None:
        return Answer(False, _("{request_id} is for an operation this bot no longer offers.", request_id=request.id))
    return Prefill(source=request.id, op=op, values=prefill_values(op, request), channel=request.channel_id)


def prefill_values(op: Operation, request: Request) -> dict[str, FormValue]:
    """The stored form by field (block_id = API parameter), each value in its field's shape; rows from
    before forms were stored fall back to the API parameters. Never dry run or break glass."""
    stored = request.form or {**request.params, "reason": request.reason}
    values: dict[str, FormValue] = {}
    for spec in op.fields:
        value = stored.get(spec.name)
        if spec.name in EPHEMERAL_FIELDS or value is None:
            continue
        if spec.kind is FieldKind.DATABASES:
            items = value if isinstance(value, list) else str(value).split(",")
            values[spec.name] = [str(v).strip() for v in items if str(v).strip()][:100]
        elif spec.kind is FieldKind.CHECKBOX:
            # A ticked box is stored as its option values (form) or the API value (params).
            values[spec.name] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            values[spec.name] = str(value)
    return values
