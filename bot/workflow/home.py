"""What a person's App Home shows, as plain data: their requests, what waits for their approval, the
backup reminders of their channels, and what the policy lets them do.

Only the person's own requests and those they may approve now appear
(:func:`bot.workflow.routing.pending_for`, the same list as ``/rds pending``):
a request's details go to its requester and its approvers, nobody else.
Which channels the person is in is the Slack layer's to say; it is asked
only when some reminder is active.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from sqlmodel import col, select

from bot.store.models import Reminder, Request
from bot.workflow.deps import Deps
from bot.workflow.own import mine
from bot.workflow.rights import Rights, rights_of
from bot.workflow.routing import pending_for

REMINDER_SCAN = 500  # active reminders read at most


@dataclass(frozen=True)
class Home:
    """Everything one person's home tab lists (the Slack layer decides how much fits)."""

    user: str
    mine: list[Request]
    waiting: list[Request]
    reminders: list[Reminder]
    rights: Rights
    channels_unknown: bool = False  # Slack could not say which channels the person is in


def active_reminders(deps: Deps) -> list[Reminder]:
    with deps.db.reader() as session:
        return list(session.exec(
            select(Reminder).where(col(Reminder.active)).order_by(col(Reminder.next_run_at)).limit(REMINDER_SCAN)
        ))


def home_of(deps: Deps, user: str, *, channels_of: Callable[[str], Collection[str] | None]) -> Home:
    """The home of ``user``; ``channels_of(user)`` names their channels (None: Slack could not say)."""
    reminders = active_reminders(deps)
    channels = channels_of(user) if reminders else ()
    in_mine = [r for r in reminders if channels is not None and r.channel_id in channels]
    return Home(user=user, mine=mine(deps, user), waiting=pending_for(deps, user), reminders=in_mine,
                rights=rights_of(deps, user), channels_unknown=channels is None)
