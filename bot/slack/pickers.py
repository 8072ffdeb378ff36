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
from bot.rds.backup_search import Found, QueryKind
from bot.rds.directory import BackupInfo, InstanceInfo
from bot.rds.places import Place
from bot.rds.errors import RdsError
from bot.slack import messages, modals
from bot.slack.forms import selected
from bot.slack.modal_open import spec_of_view
from bot.slack.replies import acting_user, metadata
from bot.slack.text import plain
from bot.timeutil import human_bytes, human_time
from bot.i18n import _
from bot.workflow import reads
from bot.workflow.deps import Deps
from bot.workflow.limits import Limit

log = logging.getLogger(__name__)

OPTIONS_BUDGET_S = 2.2  # a block_suggestion must be answered within Slack's 3 s
MAX_OPTIONS = 100  # Slack's limit for one options answer
REFUSED_VALUE = "-"  # the value of an option that only explains (never a valid ID)
GROUP_LABEL = 75  # Slack's limit on an option group's label
BACKUP_KINDS = (FieldKind.BACKUP, FieldKind.CROSS_BACKUP)


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
        if field.kind is FieldKind.CROSS_BACKUP:  # a restore may take another instance's set (BackupInstanceId)
            instance = selected(view, "BackupInstanceId") or instance
        if field.kind in BACKUP_KINDS:
            future: Any = self.executor.submit(self.backup_options, user, field.kind, str(instance or ""), query)
        else:
            future = self.executor.submit(self.options, user, field.kind, field.engine, str(instance or ""), query,
                                          _restore_set(field.name, view))
        try:
            answer = future.result(timeout=OPTIONS_BUDGET_S)
            if isinstance(answer, dict):  # a backup picker's: options or option groups
                ack(**answer)
            else:
                ack(options=answer)
        except FutureTimeout:
            log.info("options lookup over budget", extra={"action_id": action_id})
            ack(options=[])
        except RdsError as error:
            log.warning("options lookup failed", extra={"action_id": action_id, "code": error.code})
            ack(options=[])

    def options(self, user: str, kind: FieldKind, engine: str | None, instance: str,
                query: str, restore_set: tuple[str, str] | None = None) -> list[dict[str, Any]]:
        """The options of one picker for ``query`` (lower case), as far as ``user`` may see them.
        ``restore_set`` (instance, CrossBackupId): a restore target picker offers only where that set restores."""
        limited = self._limited(user)
        if limited is not None:
            return [limited]
        if kind is FieldKind.INSTANCE:
            return self._instances(user, engine, query, restore_set)
        if not INSTANCE_ID.match(instance):
            return []
        try:
            if kind is FieldKind.DATABASES:
                names = [n for n in reads.database_names(self.deps, user, instance) if query in n.lower()]
                return [modals.option(name, name) for name in names[:MAX_OPTIONS]]
        except reads.ReadRefused as refused:
            return [_refused(refused, instance)]
        return []

    def _instances(self, user: str, engine: str | None, query: str,
                   restore_set: tuple[str, str] | None) -> list[dict[str, Any]]:
        """Instances in every account and region (each option says where), then a note per place that could
        not be read: one region down never hides the others."""
        reach = reads.restore_reach(self.deps, user, *restore_set) if restore_set else None
        found = reads.visible_search(self.deps, user, query, engine=engine, reach=reach)
        named = self.deps.directory.accounts().named
        notes = [_note(":warning: " + _("Could not read {place}: {error}", place=u.place.label(),
                                        error=u.error.plain() if u.error else _("no answer in time.")))
                 for u in found.unreadable]
        options = [modals.option(i.id, instance_label(i, named=named))
                   for i in found.instances[:MAX_OPTIONS - len(notes)]]
        return (options or [_note(_("No instance you may see matches."))]) + notes

    def _limited(self, user: str) -> dict[str, Any] | None:
        """A note when ``user`` looked up too much lately (Limit.LOOKUPS), else None."""
        limited = self.deps.limits.check(Limit.LOOKUPS, user) if self.deps.limits is not None else None
        return _note(":hourglass: " + limited) if limited is not None else None

    def backup_options(self, user: str, kind: FieldKind, instance: str, query: str) -> dict[str, Any]:
        """A backup picker's answer for ``query``, searched among all the instance's sets (a day, a month,
        ID digits, or the newest): ``options``, or one option group whose label says the list was cut."""
        limited = self._limited(user)
        if limited is not None or not INSTANCE_ID.match(instance):
            return {"options": [limited] if limited is not None else []}
        try:
            if kind is FieldKind.BACKUP:
                found: Found[Any] = reads.backup_sets(self.deps, user, instance, query)
                options = [modals.option(b.id, backup_label(b)) for b in found.items]
            else:
                found = reads.cross_region_sets(self.deps, user, instance, query)
                options = [modals.option(str(b.id), messages.cross_backup_label(b)) for b in found.items]
        except reads.ReadRefused as refused:
            return {"options": [_refused(refused, instance)]}
        if not options:
            return {"options": [_note(_nothing_found(found))]}
        note = _cut_note(found)
        if note is None:
            return {"options": options[:MAX_OPTIONS]}
        return {"option_groups": [{"label": {"type": "plain_text", "text": plain(note, limit=GROUP_LABEL)},
                                   "options": options[:MAX_OPTIONS]}]}


def instance_label(info: InstanceInfo, *, named: bool) -> str:
    """``rm-… · prod · cn-shanghai · payments-dr · MySQL 8.0``: where it lives comes first, so a long
    description is what Slack's 75 characters cut."""
    where = Place(info.account if named else "", info.region_id).label()
    parts = [info.id, where, info.description, f"{info.engine} {info.engine_version}".strip()]
    return " · ".join(p for p in parts if p)


def _restore_set(field: str, view: dict[str, Any]) -> tuple[str, str] | None:
    """(instance, CrossBackupId) of the set a restore modal restores, for its target picker; None elsewhere."""
    owner, backup = selected(view, "BackupInstanceId"), selected(view, "BackupId")
    if field != "DBInstanceId" or not owner or not backup or selected(view, "RestoreType") == "1":
        return None
    return str(owner), str(backup)


def _refused(refused: reads.ReadRefused, instance: str) -> dict[str, Any]:
    return _note(":lock: " + _("Not allowed: {action} on {instance}", action=refused.decision.action,
                               instance=instance))


def _nothing_found(found: Found[Any]) -> str:
    """Why a backup picker shows no set: what to type, or that nothing matches."""
    if found.query.kind is QueryKind.UNCLEAR:
        return _("Type a date (yyyy-mm-dd, UTC) or digits of a backup set ID.")
    if found.query.kind is QueryKind.NEWEST:
        return _("No backup set to restore from.")
    if not found.complete:
        return _("None among the newest {count}; type the whole ID or a date.", count=found.searched)
    return _("No backup set matches {query}.", query=found.query.text)


def _cut_note(found: Found[Any]) -> str | None:
    """An option group's label when more sets match than are shown (None: the list is complete)."""
    if found.complete:
        return None
    shown = len(found.items)
    if found.query.kind is QueryKind.NEWEST:
        return _("Newest {shown} of {total}: type yyyy-mm-dd or ID digits for older", shown=shown,
                 total=found.total)
    if found.query.kind is QueryKind.DIGITS and shown < MAX_OPTIONS:
        return _("Matches among the newest {count}; type the whole ID for older", count=found.searched)
    if found.query.kind is QueryKind.MONTH:
        return _("First {shown} of {total}; type a day (yyyy-mm-dd) to narrow", shown=shown, total=found.total)
    return _("First {shown} matches; type more to narrow", shown=shown)


def _note(text: str) -> dict[str, Any]:
    """A refusal shown where the user looks, as the only option; picking it fails validation plainly."""
    return modals.option(REFUSED_VALUE, text)


def backup_label(backup: BackupInfo) -> str:
    when = human_time(backup.end or backup.start) if (backup.end or backup.start) else "?"
    size = human_bytes(backup.size) if backup.size else ""
    return f"{backup.id} · {when} · {backup.method} {backup.type} {size}".strip()
