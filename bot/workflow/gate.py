"""The one decision that a request is sent to RDS now.

Every path that sends a request for the first time — the last approval, a
submission that needs none, a reminder's "Back up now", recovery of an
approved request a crash left behind — goes through :func:`verdict` (via
:func:`bot.workflow.execution.release`), and acts on its answer:

- :class:`Send`: claim the request and call RDS;
- :class:`Refuse`: it no longer holds; nothing is sent, the request is denied;
- :class:`HoldUntil`: not now; it stays approved and is asked again later;
- :class:`NeedsApprovers`: it now needs more approvals than it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.i18n import _
from bot.policy import Decision
from bot.store.models import Request
from bot.workflow.deps import Deps
from bot.workflow.states import State


@dataclass(frozen=True)
class Send:
    """Everything still holds: send it."""


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


@dataclass(frozen=True)
class NeedsApprovers:
    """The approval rule in force now asks for more approvers than the request has."""

    needed: int
    have: int
    pool: str | None = None
    rule: str | None = None


Verdict = Send | Refuse | HoldUntil | NeedsApprovers


def verdict(deps: Deps, request: Request) -> Verdict:
    """May ``request`` be sent to RDS now?"""
    if request.state != State.APPROVED:
        return Refuse(_("the request is {state}, not approved", state=request.state.replace('_', ' ')))
    return Send()
