"""`/rds backups`: cross-region backup sets, paged, with "Restore from this".

The listing is an ephemeral message; Next/Previous replace it through the
response URL. Page buttons carry the query as their value, which is parsed and
checked again (rules and policy) on every click.
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import Executor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot import operations
from bot.i18n import _
from bot.operations.base import FieldErrors
from bot.operations.rules import INSTANCE_ID
from bot.slack import messages
from bot.slack.blocks import Message, section
from bot.slack.forms import errors_for
from bot.slack.modal_open import ModalOpener
from bot.slack.replies import acting_user, answer_late, block_id_of, click, tell
from bot.slack.text import escape
from bot.workflow.deps import Deps
from bot.workflow.outcomes import Denied, Listing
from bot.workflow.reads import list_backups

log = logging.getLogger(__name__)

BUDGET_S = 2.2


class BackupListing:
    """Handlers for the listing command, its modal, its pages and its restore buttons."""

    def __init__(self, deps: Deps, executor: Executor, opener: ModalOpener) -> None:
        self.deps = deps
        self.executor = executor
        self.opener = opener

    def command(self, body: dict[str, Any], client: WebClient, respond: Respond, instance: str | None) -> None:
        user = acting_user(body) or ""
        if instance is None or not INSTANCE_ID.match(instance):
            notes = [":warning: " + _("`{instance}` is not an instance ID.", instance=escape(instance[:64]))] if instance else []
            self.opener.open(operations.LISTING, body=body, client=client, respond=respond, notes=notes)
            return
        try:
            result = list_backups(self.deps, user=user, form={"DBInstanceId": instance})
        except FieldErrors as errors:
            respond(text=":warning: " + escape(" ".join(errors.errors.values())), response_type="ephemeral")
            return
        message = self._render(result)
        respond(text=message.text, blocks=message.blocks, response_type="ephemeral")

    def submit(self, *, ack: Ack, client: WebClient, user: str, channel: str, form: dict[str, Any]) -> None:
        """The listing modal: field errors on the modal, the listing as an ephemeral message."""
        future = self.executor.submit(list_backups, self.deps, user=user, form=form)
        try:
            result = future.result(timeout=BUDGET_S)
        except FieldErrors as errors:
            ack(response_action="errors", errors=errors_for({"blocks": [
                {"type": "input", "block_id": f.name} for f in operations.LISTING.fields]}, errors.errors))
            return
        except FutureTimeout:
            ack(response_action="clear")
            future.add_done_callback(lambda f: self._post_late(client, channel, user, f))
            return
        except Exception:  # noqa: BLE001 - the user must get an answer whatever broke
            log.exception("listing failed", extra={"user": user})
            ack(response_action="errors", errors={"DBInstanceId": _("Something went wrong on the bot's side; try again.")})
            return
        ack(response_action="clear")
        # After the answer (Bolt answers Slack when this listener returns): the modal closes at once.
        self.deps.later(self._post, client, channel, user, result)

    def _post(self, client: WebClient, channel: str, user: str, result: Listing | Denied) -> None:
        message = self._render(result)
        tell(client, channel, user, message.text, blocks=message.blocks)

    def _post_late(self, client: WebClient, channel: str, user: str, future: Any) -> None:
        answer_late(future, done=lambda result: self._post(client, channel, user, result), what="listing",
                    invalid=lambda errors: tell(client, channel, user,
                                                ":warning: " + escape(" ".join(errors.errors.values()))),
                    broken=lambda: tell(client, channel, user,
                                        ":warning: " + _("Something went wrong on the bot's side; try again.")))

    def page(self, body: dict[str, Any], respond: Respond) -> None:
        pointer, user, _channel = click(body)
        try:
            result = list_backups(self.deps, user=user, pointer=pointer)
        except FieldErrors as errors:
            respond(text=":warning: " + escape(" ".join(errors.errors.values())), response_type="ephemeral",
                    replace_original=False)
            return
        message = self._render(result)
        respond(text=message.text, blocks=message.blocks, replace_original=True)

    def restore_from(self, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        """Open the restore modal prefilled with the set and its instance: the target starts as that instance,
        but any other one the set restores into may be picked (only a prefill: submission checks it all)."""
        backup_id, user, channel = click(body)
        parts = block_id_of(body).split("|")
        instance = parts[1] if len(parts) > 1 and INSTANCE_ID.match(parts[1]) else None
        if not re.fullmatch(r"[0-9]{1,18}", backup_id):
            tell(client, channel, user, _("That is not a cross-region backup set."))
            return
        restore = operations.require("restore")
        self.opener.open(restore, body=body, client=client, respond=respond,
                        initial={"DBInstanceId": instance, "RestoreType": "0", "BackupId": backup_id,
                                 "BackupInstanceId": instance})

    @staticmethod
    def _render(result: Listing | Denied) -> Message:
        if isinstance(result, Denied):
            text = ":lock: " + _("You may not list these backups.") + f"\n{messages.decision_text(result.decision)}"
            return Message(text=text, blocks=[section(text)])
        return messages.listing(result)

