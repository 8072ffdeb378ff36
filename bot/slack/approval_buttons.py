"""Approve, Reject (with a reason) and Cancel on a request's card, and a break-glass request's Review.

A button's value is only the request ID: the request is loaded server-side and
the clicker checked again by the workflow, whatever the button claims.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import operations
from bot.i18n import _
from bot.slack import messages, modals
from bot.slack.forms import form_values
from bot.slack.home import HomeTab, from_home
from bot.slack.ids import Block
from bot.slack.replies import acting_user, click, metadata, tell
from bot.slack.text import escape
from bot.workflow import break_glass, decisions
from bot.workflow.access import may_decide
from bot.workflow.deps import Deps
from bot.workflow.outcomes import VoteOutcome
from bot.workflow.queries import Requests


class ApprovalButtons:
    """Handlers for the three buttons of a pending request."""

    def __init__(self, deps: Deps, home: HomeTab | None = None) -> None:
        self.deps = deps
        self.requests = Requests(deps.db)
        self.home = home  # a click made in the App Home is answered there, on the home published again

    def _tell(self, body: dict[str, Any], client: WebClient, channel: str, user: str, text: str) -> None:
        if self.home is not None:
            self.home.answer(body, client, user, channel, text)
        else:
            tell(client, channel, user, text)

    def approve(self, body: dict[str, Any], client: WebClient) -> None:
        request_id, user, channel = click(body)
        outcome = decisions.vote(self.deps, request_id, user=user, approve=True)
        if outcome.status != "approved" or from_home(body):  # on a card, the card itself shows it
            self._tell(body, client, channel, user, vote_text(outcome))

    def ask_reason(self, body: dict[str, Any], client: WebClient) -> None:
        request_id, user, channel = click(body)
        request = self.requests.get(request_id)
        if request is None:
            self._tell(body, client, channel, user, _("There is no request {request_id}.",
                                                      request_id=escape(request_id[:64])))
            return
        if request.requester == user:
            self._tell(body, client, channel, user, _("You cannot reject your own request; use Cancel to withdraw it."))
            return
        if request.state != "pending_approval":
            self._tell(body, client, channel, user, _("Request {request_id} is already {state}.", request_id=request.id,
                                                      state=request.state.replace('_', ' ')))
            return
        if not may_decide(self.deps, request, user):
            outcome = decisions.vote(self.deps, request_id, user=user, approve=False)  # records the refusal, explains it
            self._tell(body, client, channel, user, vote_text(outcome))
            return
        mention = f"<@{request.requester}>"
        summary = _("Reject *{request_id}* ({operation} `{instance}`) by {requester}?", request_id=request.id,
                    operation=escape(operations.noun(request.operation)), instance=escape(request.instance_id), requester=mention)
        try:
            client.views_open(trigger_id=body.get("trigger_id"),
                              view=modals.reject_modal(request.id, summary, from_home=from_home(body)))
        except SlackApiError as error:
            why = escape(str(error.response.get('error')))
            self._tell(body, client, channel, user, ":warning: " + _(
                "I could not open the rejection form ({error}). Click Reject again.", error=why))

    def submit_reason(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        view = body.get("view") or {}
        user = acting_user(body) or ""
        request_id = str(metadata(view).get("request_id") or "")[:64]
        reason = str(form_values(view).get(Block.REASON) or "").strip()
        if not reason:
            ack(response_action="errors", errors={Block.REASON: _("Say why, so the requester can act on it.")})
            return
        outcome = decisions.vote(self.deps, request_id, user=user, approve=False, reason=reason[:3000])
        ack(response_action="update", view=modals.message_modal(_("Reject request"), vote_text(outcome)))
        if self.home is not None and metadata(view).get("home"):
            # After the answer (Bolt answers Slack when this listener returns): the modal closes at once.
            self.deps.later(self.home.publish, client, user)

    def cancel(self, body: dict[str, Any], client: WebClient) -> None:
        request_id, user, channel = click(body)
        outcome = decisions.cancel(self.deps, request_id, user=user)
        self._tell(body, client, channel, user, escape(outcome.message))


    def review(self, body: dict[str, Any], client: WebClient) -> None:
        """The review a break-glass request owes (an approver, never its requester)."""
        request_id, user, channel = click(body)
        outcome = break_glass.review(self.deps, request_id, user=user)
        tell(client, channel, user, (":white_check_mark: " if outcome.ok else ":lock: ") + escape(outcome.message))


def vote_text(outcome: VoteOutcome) -> str:
    """What the clicker is told; a policy refusal names the rule that refused."""
    text = escape(outcome.message)
    if outcome.status == "denied" and outcome.decision is not None:
        text = f":lock: {text}\n{messages.decision_text(outcome.decision)}"
    elif outcome.status == "refused_at_send":
        text = f":lock: {text}"
    return text
