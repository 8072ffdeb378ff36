"""The modals' external selects: instances (type-ahead), backup sets, cross-region sets, databases.

Each shows only what the person may read (:mod:`bot.workflow.reads`); a refused
read answers with one option saying so, never an error.

Slack gives a suggestion three seconds; a lookup that takes longer is answered
with no options, and the user's next keystroke asks again.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from slack_bolt import Ack

from bot.operations.base import FieldKind
from bot.operations.rules import INSTANCE_ID
from bot.rds.directory import BackupInfo
from bot.rds.errors import RdsError
from bot.slack import messages, modals
from bot.slack.forms import selected
from bot.slack.modal_open import spec_of_view
from bot.slack.replies import acting_user, metadata
from bot.timeutil import human_bytes, human_time
from bot.i18n import _
from bot.workflow import reads
from bot.workflow.deps import Deps
from bot.workflow.limits import Limit

log = logging.getLogger(__name__)

OPTIONS_BUDGET_S = 2.2  # a block_suggestion must be answered within Slack's 3 s
MAX_OPTIONS = 100  # Slack's limit for one options answer
REFUSED_VALUE = "-"  # the value of an option that only explains (never a valid ID)


class Pickers:
    """Answers ``block_suggestion`` requests for the operation modals."""

    def __init__(self, deps: Deps, executor: Executor) -> None:
        self.deps = deps
        self.executor = executor

    def suggest(self, ack: Ack, body: dict[str, Any]) -> None:
        action_id = str(body.get("action_id") or "")[:64]
        query = str(body.get("value") or "")[:100].strip().lower()
        view = body.get("view") or {}
        spec = spec_of_view(view)
        user = acting_user(body) or ""
        if spec is None or not spec.has_field(action_id) or not user:
            ack(options=[])
            return
        field = spec.field(action_id)
        instance = selected(view, "DBInstanceId") or metadata(view).get("instance")
        future = self.executor.submit(self.options, user, field.kind, field.engine, str(instance or ""), query)
        try:
            ack(options=future.result(timeout=OPTIONS_BUDGET_S))
        except FutureTimeout:
            log.info("options lookup over budget", extra={"action_id": action_id})
            ack(options=[])
        except RdsError as error:
            log.warning("options lookup failed", extra={"action_id": action_id, "code": error.code})
            ack(options=[])

    def options(self, user: str, kind: FieldKind, engine: str | None, instance: str,
                query: str) -> list[dict[str, Any]]:
        """The options of one picker for ``query`` (lower case), as far as ``user`` may see them."""
        limited = self.deps.limits.check(Limit.LOOKUPS, user) if self.deps.limits is not None else None
        if limited is not None:
            return [_note(":hourglass: " + limited)]
        if kind is FieldKind.INSTANCE:
            found = reads.visible_instances(self.deps, user, query, engine=engine)[:MAX_OPTIONS]
            if not found:
                return [_note(_("No instance you may see matches."))]
            return [modals.option(i.id, i.label) for i in found]
        if not INSTANCE_ID.match(instance):
            return []
        try:
            if kind is FieldKind.BACKUP:
                backups = [b for b in reads.backup_sets(self.deps, user, instance) if query in b.id]
                return [modals.option(b.id, backup_label(b)) for b in backups[:MAX_OPTIONS]]
            if kind is FieldKind.CROSS_BACKUP:
                sets = [b for b in reads.cross_region_sets(self.deps, user, instance) if query in str(b.id)]
                return [modals.option(str(b.id), messages.cross_backup_label(b)) for b in sets[:MAX_OPTIONS]]
            if kind is FieldKind.DATABASES:
                names = [n for n in reads.database_names(self.deps, user, instance) if query in n.lower()]
                return [modals.option(name, name) for name in names[:MAX_OPTIONS]]
        except reads.ReadRefused as refused:
            return [_note(":lock: " + _("Not allowed: {action} on {instance}", action=refused.decision.action,
                                        instance=instance))]
        return []


def _note(text: str) -> dict[str, Any]:
    """A refusal shown where the user looks, as the only option; picking it fails validation plainly."""
    return modals.option(REFUSED_VALUE, text)


def backup_label(backup: BackupInfo) -> str:
    when = human_time(backup.end or backup.start) if (backup.end or backup.start) else "?"
    size = human_bytes(backup.size) if backup.size else ""
    return f"{backup.id} · {when} · {backup.method} {backup.type} {size}".strip()
