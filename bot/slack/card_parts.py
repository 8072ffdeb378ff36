"""Pieces of a request's card: its headline, vote and review buttons, who may approve, how it ended.

Shared by the card, the approver's DM and the overdue-review post
(:mod:`bot.slack.notice_views`); plain functions of the stored request.
"""

from __future__ import annotations

from typing import Any

from bot.i18n import _
from bot.operations.base import Operation
from bot.store.models import Request
from bot.timeutil import slack_date, slack_date_of
from bot.workflow.routing import Approvers
from bot.workflow.states import State
from bot.slack.blocks import Blocks, section
from bot.slack.ids import Action, Block
from bot.slack.text import escape, user


def headline(request: Request, op: Operation) -> str:
    tags = ", ".join(f"{k}={v}" for k, v in sorted((request.tags or {}).items()))
    tag_text = f" ({escape(tags)})" if tags else ""
    return _("{requester} wants to *{verb}* `{instance}`{tags}", requester=user(request.requester), verb=op.verb,
             instance=escape(request.instance_id), tags=tag_text)


def break_glass_blocks(request: Request) -> Blocks:
    """The mark of a break-glass request, and its Review button while the review is owed."""
    if request.reviewed_by:
        note = ":rotating_light: " + _("*Break-glass*: approvals and change freezes were waived. Reviewed by "
                                       "{reviewer}.", reviewer=user(request.reviewed_by))
        return [section(note, block_id=Block.BREAK_GLASS_NOTE)]
    due = slack_date(request.review_due_at) if request.review_due_at else "—"
    note = ":rotating_light: " + _("*Break-glass*: approvals and change freezes were waived. An approver owes a "
                                   "review, due {due}.", due=due)
    return [section(note, block_id=Block.BREAK_GLASS_NOTE), review_button(request.id)]


def iso_time(text: str) -> str:
    """A time a notice keeps as ISO 8601, in each reader's zone (as stored when it does not parse)."""
    return slack_date_of(text) or escape(text)


def review_button(request_id: str) -> dict[str, Any]:
    return {"type": "actions", "block_id": Block.REVIEW_ACTIONS, "elements": [
        {"type": "button", "action_id": Action.REVIEW, "value": request_id, "style": "primary",
         "text": {"type": "plain_text", "text": _("Review")}}]}


def resubmit_button(request_id: str) -> dict[str, Any]:
    """"Edit and resubmit" on a rejected or failed request: its modal again, prefilled (for its requester only)."""
    return {"type": "button", "action_id": Action.RESUBMIT, "value": request_id,
            "text": {"type": "plain_text", "text": _("Edit and resubmit")}}


def resubmit_actions(request_id: str) -> dict[str, Any]:
    return {"type": "actions", "block_id": Block.RESUBMIT_ACTIONS, "elements": [resubmit_button(request_id)]}


def who_may_approve(eligible: Approvers) -> str:
    """The people who may approve, as mentions: up to ten, then "and N more"."""
    shown, more = eligible.cut()
    if not shown:
        text = ":warning: " + _("Nobody may approve this request now: no one but the requester holds "
                                "rdsbot:Approve on every instance it touches.")
    else:
        names = ", ".join(user(person) for person in shown)
        text = ":busts_in_silhouette: " + (_("*May approve:* {people} and {more} more", people=names, more=more)
                                           if more else _("*May approve:* {people}", people=names))
    if eligible.unknown_groups:
        text += "\n" + _("Slack could not say who is in {groups}; their members are not listed.",
                         groups=escape(", ".join(eligible.unknown_groups)))
    return text


def vote_buttons(request: Request, *, cancel: bool) -> dict[str, Any]:
    """Approve and Reject (and the requester's Cancel on the card) for a pending request."""
    elements = [
        {"type": "button", "action_id": Action.APPROVE, "style": "primary", "value": request.id,
         "text": {"type": "plain_text", "text": _("Approve")}},
        {"type": "button", "action_id": Action.REJECT, "style": "danger", "value": request.id,
         "text": {"type": "plain_text", "text": _("Reject")}},
    ]
    if cancel:
        elements.append({"type": "button", "action_id": Action.CANCEL, "value": request.id,
                         "text": {"type": "plain_text", "text": _("Cancel (requester)")}})
    return {"type": "actions", "block_id": Block.ACTIONS, "elements": elements}


def decided_line(request: Request) -> str:
    state = State(request.state)
    when = slack_date(request.updated_at) if request.updated_at else ""
    lines = {
        State.EXPIRED: ":alarm_clock: " + _("Nobody answered in time; expired {when}.", when=when),
        State.CANCELLED: ":heavy_multiplication_x: " + _("Cancelled by the requester {when}.", when=when),
        State.REJECTED: ":no_entry: " + _("Rejected {when}.", when=when),
        State.SUCCEEDED: ":large_green_circle: " + _("Finished {when}; details in the thread.", when=when),
        State.FAILED: ":red_circle: " + _("Failed {when}; details in the thread.", when=when),
        State.DENIED: ":lock: " + _("Not sent {when}: decided again just before the call, it no longer holds; "
                                    "details in the thread.", when=when),
    }
    return lines.get(state, "")
