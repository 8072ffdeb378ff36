"""`/rds remind ...` and the reminders' "Back up now" button."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import operations
from bot.i18n import _
from bot.operations.base import FieldErrors
from bot.operations.rules import INSTANCE_ID
from bot.slack import messages
from bot.slack.replies import acting_user, click, message_ts, tell
from bot.slack.text import escape
from bot.workflow.outcomes import ReminderResult
from bot.workflow.reminders import Reminders
from bot.workflow.schedules import USAGE
from bot.workflow.outcomes import Denied

log = logging.getLogger(__name__)

TZ_TTL_S = 3600.0


class ReminderFlow:
    """Reminder commands (create, list, delete) and "Back up now" clicks."""

    def __init__(self, reminders: Reminders) -> None:
        self.reminders = reminders
        self._zones: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def command(self, body: dict[str, Any], client: WebClient, respond: Respond, args: list[str]) -> None:
        user = acting_user(body) or ""
        channel = str(body.get("channel_id") or "")[:32]
        first = args[0].lower() if args else ""
        if first in {"", "help"}:
            respond(text=_("Backup reminders: {usage}", usage=escape(USAGE)), response_type="ephemeral")
        elif first == "list":
            respond(text=messages.reminder_list(self.reminders.list(channel=channel)), response_type="ephemeral")
        elif first in {"delete", "remove", "rm"}:
            if len(args) < 2:
                respond(text=_("Which one? `/rds remind delete <id>` (see `/rds remind list`)."), response_type="ephemeral")
                return
            respond(text=_result_text(self.reminders.delete(user=user, reminder_id=args[1])), response_type="ephemeral")
        elif not INSTANCE_ID.match(args[0]):
            respond(text=_("`{instance}` is not an instance ID. {usage}", instance=escape(args[0][:64]), usage=escape(USAGE)),
                    response_type="ephemeral")
        else:
            result = self.reminders.create(user=user, channel=channel, instance_id=args[0], words=args[1:],
                                           default_tz=self._zone_of(client, user))
            respond(text=_result_text(result), response_type="ephemeral")

    def _zone_of(self, client: WebClient, user: str) -> str:
        """The user's Slack time zone, the default for schedules without one."""
        with self._lock:
            hit = self._zones.get(user)
            if hit is not None and time.monotonic() - hit[0] < TZ_TTL_S:
                return hit[1]
        try:
            zone = str((client.users_info(user=user).get("user") or {}).get("tz") or "UTC")
        except SlackApiError as error:
            log.info("no time zone for the user", extra={"error": error.response.get("error")})
            zone = "UTC"
        with self._lock:
            self._zones[user] = (time.monotonic(), zone)
        return zone

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
    if result.decision is not None and not result.decision.allowed:
        text = f":lock: {escape(result.message)}\n{messages.decision_text(result.decision)}"
    return text
