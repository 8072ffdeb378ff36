"""`/rds remind ...` and the reminders' "Back up now" button."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot import operations
from bot.i18n import _, tr
from bot.operations.base import FieldErrors
from bot.operations.rules import INSTANCE_ID
from bot.slack import messages
from bot.slack.people import People
from bot.slack.replies import acting_user, click, message_ts, tell
from bot.slack.text import escape
from bot.timeutil import slack_date
from bot.workflow.outcomes import ReminderResult
from bot.workflow.reminders import Reminders
from bot.workflow.schedules import USAGE
from bot.workflow.outcomes import Denied


class ReminderFlow:
    """Reminder commands (create, list, delete) and "Back up now" clicks."""

    def __init__(self, reminders: Reminders, people: People) -> None:
        self.reminders = reminders
        self.people = people  # a schedule without a zone takes its creator's

    def command(self, body: dict[str, Any], client: WebClient, respond: Respond, args: list[str]) -> None:
        user = acting_user(body) or ""
        channel = str(body.get("channel_id") or "")[:32]
        first = args[0].lower() if args else ""
        if first in {"", "help"}:
            respond(text=_("Backup reminders: {usage}", usage=escape(tr(USAGE))), response_type="ephemeral")
        elif first == "list":
            respond(text=messages.reminder_list(self.reminders.list(channel=channel)), response_type="ephemeral")
        elif first in {"delete", "remove", "rm"}:
            if len(args) < 2:
                respond(text=_("Which one? `/rds remind delete <id>` (see `/rds remind list`)."), response_type="ephemeral")
                return
            respond(text=_result_text(self.reminders.delete(user=user, reminder_id=args[1])), response_type="ephemeral")
        elif not INSTANCE_ID.match(args[0]):
            respond(text=_("`{instance}` is not an instance ID. {usage}", instance=escape(args[0][:64]), usage=escape(tr(USAGE))),
                    response_type="ephemeral")
        else:
            result = self.reminders.create(user=user, channel=channel, instance_id=args[0], words=args[1:],
                                           default_tz=self.people.zone(user))
            respond(text=_result_text(result), response_type="ephemeral")

    def backup_now(self, body: dict[str, Any], client: WebClient) -> None:
        reminder_id, user, channel = click(body)
        try:
            outcome = self.reminders.backup_now(reminder_id=reminder_id, user=user, message_ts=message_ts(body))
        except FieldErrors as errors:
            tell(client, channel, user, ":warning: " + escape(" ".join(errors.errors.values())))
            return
        if isinstance(outcome, ReminderResult):
            tell(client, channel, user, escape(outcome.message))
        elif isinstance(outcome, Denied):
            tell(client, channel, user, messages.denied(operations.require("backup"), outcome.decision,
                                                        outcome.request.id if outcome.request else None))
        # Submitted: the workflow sends it on; progress appears under the reminder.


def _result_text(result: ReminderResult) -> str:
    text = ("" if result.ok else ":warning: ") + escape(result.message)
    if result.ok and result.reminder is not None and result.reminder.next_run_at is not None:
        # The message names the schedule's zone; this adds the same moment in the reader's own.
        text += " " + _("(Your time: {when}.)", when=slack_date(result.reminder.next_run_at))
    if result.decision is not None and not result.decision.allowed:
        text = f":lock: {escape(result.message)}\n{messages.decision_text(result.decision)}"
    return text
