"""The request state machine (DESIGN.md): which state may follow which.

::

    pending_approval -> approved -> submitted -> running -> succeeded | failed
    pending_approval -> rejected | expired | cancelled
    (new) -> denied            policy said no
    approved -> denied         the decision made again just before the call said no
    approved -> pending_approval   ... or asked for more approvers than it has
    approved -> held -> approved   ... or found a change freeze in force: sent when it ends
    held -> cancelled          the requester withdrew it while it waited
    submitted -> failed        the API refused
"""

from __future__ import annotations

from enum import StrEnum

from bot.i18n import Translated, _


class State(StrEnum):
    """Where a request is in its life."""

    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    SUBMITTED = "submitted"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    DENIED = "denied"
    HELD = "held"


INITIAL: frozenset[State] = frozenset({State.PENDING_APPROVAL, State.APPROVED, State.DENIED})

TRANSITIONS: dict[State, frozenset[State]] = {
    State.PENDING_APPROVAL: frozenset({State.APPROVED, State.REJECTED, State.EXPIRED, State.CANCELLED}),
    State.APPROVED: frozenset({State.SUBMITTED, State.CANCELLED, State.DENIED, State.PENDING_APPROVAL, State.HELD}),
    State.HELD: frozenset({State.APPROVED, State.CANCELLED}),
    State.SUBMITTED: frozenset({State.RUNNING, State.FAILED}),
    State.RUNNING: frozenset({State.SUCCEEDED, State.FAILED}),
}

TERMINAL: frozenset[State] = frozenset(
    {State.SUCCEEDED, State.FAILED, State.REJECTED, State.EXPIRED, State.CANCELLED, State.DENIED}
)
ACTIVE: frozenset[State] = frozenset({State.APPROVED, State.HELD, State.SUBMITTED, State.RUNNING})

# Wrapped at import (English ids); each read is in the reader's language.
LABELS: Translated[State] = Translated({
    State.PENDING_APPROVAL: _("waiting for approval"),
    State.APPROVED: _("approved"),
    State.SUBMITTED: _("sent to RDS"),
    State.RUNNING: _("running"),
    State.SUCCEEDED: _("succeeded"),
    State.FAILED: _("failed"),
    State.REJECTED: _("rejected"),
    State.EXPIRED: _("expired"),
    State.CANCELLED: _("cancelled"),
    State.DENIED: _("denied by policy"),
    State.HELD: _("held by a change freeze"),
})

EMOJI: dict[State, str] = {
    State.PENDING_APPROVAL: ":hourglass_flowing_sand:",
    State.APPROVED: ":white_check_mark:",
    State.SUBMITTED: ":outbox_tray:",
    State.RUNNING: ":gear:",
    State.SUCCEEDED: ":large_green_circle:",
    State.FAILED: ":red_circle:",
    State.REJECTED: ":no_entry:",
    State.EXPIRED: ":alarm_clock:",
    State.CANCELLED: ":heavy_multiplication_x:",
    State.DENIED: ":lock:",
    State.HELD: ":snowflake:",
}


def can_move(current: State, target: State) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def sources_of(target: State) -> frozenset[State]:
    """Every state from which ``target`` may be entered."""
    return frozenset(s for s, targets in TRANSITIONS.items() if target in targets)
