"""Submissions of the operation modals.

A submission gets a time budget for its checks (validation reads RDS); past it
the modal shows "checking" and is updated when the answer is ready. The
workflow decides what happens to the request; this module only shows it.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.i18n import _
from bot.operations.base import FieldErrors, Operation
from bot.slack import messages, modals
from bot.slack.forms import errors_for, form_values
from bot.slack.listing import BackupListing
from bot.slack.modal_open import spec_of_view
from bot.slack.replies import CHANNEL_ID, acting_user, answer_late, metadata, tell
from bot.workflow import intake
from bot.workflow.deps import Deps
from bot.workflow import break_glass, dry_run
from bot.workflow.dry_run import DryRun
from bot.workflow.outcomes import Denied, Submitted

log = logging.getLogger(__name__)

SUBMIT_BUDGET_S = 2.2  # what a view_submission may spend before answering "checking..."


class FormFlow:
    """Takes operation modal submissions (the listing's modal goes to the listing)."""

    def __init__(self, deps: Deps, executor: Executor, listing: BackupListing) -> None:
        self.deps = deps
        self.executor = executor
        self.listing = listing

    def submit(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        view = body.get("view") or {}
        spec = spec_of_view(view)
        user = acting_user(body) or ""
        if spec is None:
            ack(response_action="update", view=modals.message_modal(_("Not available"), _("This operation is not available.")))
            return
        channel = str(metadata(view).get("channel") or "")
        channel = channel if CHANNEL_ID.match(channel) else ""
        form = form_values(view)
        if not isinstance(spec, Operation):
            self.listing.submit(ack=ack, client=client, user=user, channel=channel, form=form)
            return
        view_id = str(view.get("id") or "")[:100] or None
        future = self.executor.submit(intake.submit, self.deps, spec.name, user=user, channel=channel or user,
                                      form=form, submission_key=f"view:{user}:{view_id}" if view_id else None)
        try:
            outcome = future.result(timeout=SUBMIT_BUDGET_S)
        except FieldErrors as errors:
            ack(response_action="errors", errors=errors_for(view, errors.errors))
            return
        except FutureTimeout:
            ack(response_action="update", view=modals.message_modal(spec.title, ":hourglass: " + _("Checking with RDS…")))
            future.add_done_callback(lambda f: self._finish_late(client, view, spec, user, channel, f))
            return
        except Exception:  # noqa: BLE001 - the user must get an answer whatever broke
            log.exception("submission failed", extra={"operation": spec.name, "user": user})
            ack(response_action="update", view=modals.message_modal(spec.title, ":warning: " + _(
                "Something went wrong on the bot's side; nothing was sent to RDS. Try again.")))
            return
        ack(response_action="update", view=self._result_view(spec, outcome))
        # After the answer (Bolt answers Slack when this listener returns): the modal never waits on this post.
        self.deps.later(self._tell_denied, client, spec, user, channel, outcome)

    def _finish_late(self, client: WebClient, view: dict[str, Any], op: Operation, user: str, channel: str,
                     future: Any) -> None:
        def done(outcome: Submitted | Denied | DryRun) -> None:
            self._update_view(client, view, self._result_view(op, outcome))
            self._tell_denied(client, op, user, channel, outcome)

        def invalid(errors: FieldErrors) -> None:
            values = form_values(view)
            initial = {k: v for k, v in values.items() if isinstance(v, str)}
            if dry_run.wanted(values):
                initial[dry_run.FIELD] = dry_run.CHECKED
            glass = any(b.get("block_id") == break_glass.FIELD for b in view.get("blocks", []))
            if break_glass.wanted(values):
                initial[break_glass.FIELD] = break_glass.CHECKED
            again = modals.operation_modal(op, initial=initial, break_glass=glass,
                                           metadata=metadata(view), notes=modals.error_notes(errors.errors))
            self._update_view(client, view, again)

        answer_late(future, done=done, invalid=invalid, what=op.name,
                    broken=lambda: self._update_view(client, view, modals.message_modal(op.title, ":warning: " + _(
                        "Something went wrong; nothing was sent to RDS."))))

    @staticmethod
    def _update_view(client: WebClient, view: dict[str, Any], new: dict[str, Any]) -> None:
        try:
            client.views_update(view_id=view.get("id"), view=new)
        except SlackApiError as error:
            log.warning("view update failed", extra={"error": error.response.get("error")})

    def _result_view(self, op: Operation, outcome: Submitted | Denied | DryRun) -> dict[str, Any]:
        if isinstance(outcome, DryRun):
            return modals.message_modal(_("Dry run"), messages.dry_run(outcome))
        if isinstance(outcome, Denied):
            rid = outcome.request.id if outcome.request else None
            return modals.message_modal(_("Not allowed"), messages.denied(op, outcome.decision, rid, outcome.request))
        return modals.message_modal(op.title, messages.submitted(outcome.request, op, self.deps.settings.approval_channel))

    @staticmethod
    def _tell_denied(client: WebClient, op: Operation, user: str, channel: str,
                     outcome: Submitted | Denied | DryRun) -> None:
        """A denial also lands where the command was typed: the modal closes, the message stays."""
        if isinstance(outcome, Denied):
            rid = outcome.request.id if outcome.request else None
            tell(client, channel, user, messages.denied(op, outcome.decision, rid, outcome.request))

