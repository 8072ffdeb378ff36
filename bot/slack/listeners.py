"""Bolt listeners: every Slack entry point, wired to the flow that handles it.

Acknowledging is kept apart from working: slash commands and clicks ack at once
(help and status answer inside the ack, from the database and the policy, with
no RDS call) and do their work in the background (clicks in lazy listeners, a
command handed to ``deps.later``), so an ack never waits on RDS. Acks run in the
request's own thread (``process_before_response``, see ``bolt_app``).
"""

from __future__ import annotations

import re
from concurrent.futures import Executor
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import operations
from bot.i18n import _
from bot.operations.rules import INSTANCE_ID
from bot.slack import messages
from bot.slack.approval_buttons import ApprovalButtons
from bot.slack.cancel_command import cancel_text
from bot.slack.commands import OPERATIONS, REQUEST_ID, parse
from bot.slack.form_flow import FormFlow
from bot.slack.home import HomeTab
from bot.slack.ids import CALLBACK_PREFIX, COMMAND, Action, Callback
from bot.slack.listing import BackupListing
from bot.slack.modal_open import TIME_ACTIONS, ModalOpener
from bot.slack.pending import pending_text
from bot.slack.people import People
from bot.slack.pickers import Pickers
from bot.slack.reminder_flow import ReminderFlow
from bot.slack.replies import acting_user, just_ack
from bot.slack.resubmit import Resubmit
from bot.slack.text import escape
from bot.slack.verdict import VERDICT, Verdict, go_ahead
from bot.workflow.access import may_view
from bot.workflow.background import Background, Foreground
from bot.workflow.deps import Deps
from bot.workflow.queries import Requests
from bot.workflow.reminders import Reminders

OP_CALLBACKS = re.compile("^" + re.escape(CALLBACK_PREFIX) + "(" + "|".join(map(re.escape, OPERATIONS)) + ")$")
LAZY_COMMANDS = {*OPERATIONS, "remind", "pending", "cancel"}


class Listeners:
    """Routes Slack requests to the form, listing, approval and reminder flows."""

    def __init__(self, *, deps: Deps, executor: Executor, reminders: Reminders, people: People,
                 reads: Background | None = None, foreground: Foreground | None = None) -> None:
        self.deps = deps
        self.people = people  # the one users.info cache: zones and languages
        self.requests = Requests(deps.db)
        # reads: where an instance's facts are read for its modal (a pool that may wait on a slow RDS);
        # foreground: what those reads let pass first (requests being answered, modals being opened).
        self.opener = ModalOpener(deps, people, reads, foreground)
        self.pickers = Pickers(deps, executor)
        self.listing = BackupListing(deps, executor, self.opener)
        self.forms = FormFlow(deps, executor, self.listing)
        self.home = HomeTab(deps)
        self.approvals = ApprovalButtons(deps, self.home)
        self.resubmit = Resubmit(deps, self.opener, self.home)
        self.reminders = ReminderFlow(reminders, people)

    def register(self, app: App) -> None:
        app.command(COMMAND)(self.ack_command)
        app.view(OP_CALLBACKS)(self.forms.submit)
        app.view(Callback.REJECT)(self.approvals.submit_reason)
        app.view_closed(OP_CALLBACKS)(just_ack)
        app.action(Action.APPROVE)(ack=just_ack, lazy=[self.approvals.approve])
        app.action(Action.REJECT)(ack=just_ack, lazy=[self.approvals.ask_reason])
        app.action(Action.CANCEL)(ack=just_ack, lazy=[self.approvals.cancel])
        app.action(Action.REVIEW)(ack=just_ack, lazy=[self.approvals.review])
        app.action(Action.RESUBMIT)(ack=just_ack, lazy=[self.resubmit.click])
        app.event("app_home_opened")(ack=just_ack, lazy=[self.home.opened])
        app.action(Action.PAGE_NEXT)(ack=just_ack, lazy=[self.listing.page])
        app.action(Action.PAGE_PREV)(ack=just_ack, lazy=[self.listing.page])
        app.action(Action.RESTORE_FROM_BACKUP)(ack=just_ack, lazy=[self.listing.restore_from])
        app.action(Action.BACKUP_NOW)(ack=just_ack, lazy=[self.reminders.backup_now])
        app.action("DBInstanceId")(ack=just_ack, lazy=[self.opener.source_picked])
        app.action(TIME_ACTIONS)(ack=just_ack, lazy=[self.opener.time_picked])
        app.options(re.compile(r".*"))(self.pickers.suggest)

    def ack_command(self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond,
                    context: BoltContext) -> None:
        """Answer at once: help and status inline; everything else after the ack, in the background
        (handed over directly: a Bolt lazy listener would copy the whole request and build its
        context again, on the request's own thread, before the answer goes out). Whether this is
        the command's first delivery is for that work to ask (:class:`~bot.slack.verdict.Verdict`)."""
        command = parse(body.get("text"))
        user = acting_user(body) or ""
        if command.name == "help":
            prefix = _("I don't know `{command}`.", command=escape(command.unknown)) + "\n" if command.unknown else ""
            ack(text=prefix + messages.help_text())
        elif command.name == "status":
            ack(text=self._status_text(user, command.first))
        elif command.name in LAZY_COMMANDS:
            ack()
            verdict = context.get(VERDICT)
            verdict = verdict if isinstance(verdict, Verdict) else None
            self.deps.later(self.run_command, body, client, respond, verdict)
        else:
            ack(text=messages.help_text())

    def run_command(self, body: dict[str, Any], client: WebClient, respond: Respond,
                    verdict: Verdict | None = None) -> None:
        command = parse(body.get("text"))
        op = operations.get(command.name)
        if op is None and not go_ahead(verdict, respond):
            return  # an operation's modal opens first: its trigger_id is Slack's own guard (ModalOpener.open)
        if command.name == "remind":
            self.reminders.command(body, client, respond, command.args)
        elif command.name == "pending":
            respond(text=pending_text(self.deps, client, acting_user(body) or ""), response_type="ephemeral")
        elif command.name == "cancel":
            respond(text=cancel_text(self.deps, acting_user(body) or "", command.first), response_type="ephemeral")
        elif command.name == operations.LISTING.name:
            self.listing.command(body, client, respond, command.first)
        elif op is not None:
            instance = command.first if command.first and INSTANCE_ID.match(command.first) else None
            notes = []
            if command.first and instance is None:
                notes.append(":warning: " + _("`{instance}` is not an instance ID; pick the instance below.",
                                              instance=escape(command.first[:64])))
            self.opener.open(op, body=body, client=client, respond=respond, initial={"DBInstanceId": instance},
                             notes=notes, verdict=verdict)

    def _status_text(self, user: str, request_id: str | None) -> str:
        if not request_id:
            return messages.status_list(self.requests.recent(user))
        if not REQUEST_ID.match(request_id):
            return _("`{request_id}` is not a request ID (like clone-20261129-9f3a1c2b).", request_id=escape(request_id[:64]))
        timeline = self.requests.timeline(request_id)
        # Unknown and not-yours look the same, so IDs cannot be probed.
        if timeline is None or not may_view(self.deps, timeline.request, user):
            return _("No request {request_id} that you can see.", request_id=escape(request_id))
        return messages.timeline(timeline.request, timeline.events)
