"""The modals' external selects: instances (type-ahead), backup sets, cross-region sets, databases.

Slack gives a suggestion three seconds; a lookup that takes longer is answered
with no options, and the user's next keystroke asks again.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import timedelta
from typing import Any

from slack_bolt import Ack

from bot.operations.base import FieldKind
from bot.operations.rules import INSTANCE_ID
from bot.rds.directory import BackupInfo
from bot.rds.errors import RdsError
from bot.slack import messages, modals
from bot.slack.forms import selected
from bot.slack.modal_open import spec_of_view
from bot.slack.replies import metadata
from bot.timeutil import human_bytes, human_time, utcnow
from bot.workflow.deps import Deps

log = logging.getLogger(__name__)

OPTIONS_BUDGET_S = 2.2  # a block_suggestion must be answered within Slack's 3 s
PICKER_WINDOW = timedelta(days=30)
MAX_OPTIONS = 100  # Slack's limit for one options answer


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
        if spec is None or not spec.has_field(action_id):
            ack(options=[])
            return
        field = spec.field(action_id)
        instance = selected(view, "DBInstanceId") or metadata(view).get("instance")
        future = self.executor.submit(self.options, field.kind, field.engine, str(instance or ""), query)
        try:
            ack(options=future.result(timeout=OPTIONS_BUDGET_S))
        except FutureTimeout:
            log.info("options lookup over budget", extra={"action_id": action_id})
            ack(options=[])
        except RdsError as error:
            log.warning("options lookup failed", extra={"action_id": action_id, "code": error.code})
            ack(options=[])

    def options(self, kind: FieldKind, engine: str | None, instance: str, query: str) -> list[dict[str, Any]]:
        """The options of one picker for ``query`` (what the user typed, lower case)."""
        directory = self.deps.directory
        if kind is FieldKind.INSTANCE:
            return [modals.option(i.id, i.label) for i in directory.search_instances(query, engine=engine)[:MAX_OPTIONS]]
        if not INSTANCE_ID.match(instance):
            return []
        if kind is FieldKind.BACKUP:
            backups = [b for b in directory.backups(instance) if b.ok and query in b.id]
            return [modals.option(b.id, backup_label(b)) for b in backups[:MAX_OPTIONS]]
        if kind is FieldKind.CROSS_BACKUP:
            now = utcnow()
            page = directory.cross_region_backups(instance, start=now - PICKER_WINDOW, end=now, page_size=MAX_OPTIONS)
            sets = [b for b in page.items if not b.failed and b.method != "L" and query in str(b.id)]
            return [modals.option(str(b.id), messages.cross_backup_label(b)) for b in sets[:MAX_OPTIONS]]
        if kind is FieldKind.DATABASES:
            names = [d.name for d in directory.databases(instance) if query in d.name.lower()]
            return [modals.option(name, name) for name in names[:MAX_OPTIONS]]
        return []


def backup_label(backup: BackupInfo) -> str:
    when = human_time(backup.end or backup.start) if (backup.end or backup.start) else "?"
    size = human_bytes(backup.size) if backup.size else ""
    return f"{backup.id} · {when} · {backup.method} {backup.type} {size}".strip()
