"""Checks against the live estate that several operations share.

Each adds its finding to the form's :class:`Checker` under the right field, so
an operation states *which* checks apply and never re-implements one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.i18n import _
from bot.operations.base import Context, instance_unusable
from bot.operations.rules import Checker
from bot.rds.backup_search import backup_by_id, oldest_backup
from bot.rds.directory import BackupInfo, InstanceInfo, RdsDirectory
from bot.rds.errors import RdsError
from bot.timeutil import human_time

ENGINE_NAMES = {"mysql": "MySQL", "sqlserver": "SQL Server", "postgresql": "PostgreSQL", "mariadb": "MariaDB"}


def engine_name(engine: str) -> str:
    return ENGINE_NAMES.get(engine.lower(), engine)


def require_instance(
    c: Checker,
    ctx: Context,
    instance_id: str | None,
    *,
    field: str = "DBInstanceId",
    running: bool = True,
    primary: bool = True,
    unlocked: bool = True,
    engines: Iterable[str] | None = None,
    why_engine: str = "",
    region: str | None = None,
) -> InstanceInfo | None:
    """The instance if it exists (in ``region``, default the bot's) and meets the conditions; otherwise a field error."""
    if instance_id is None or not c.ok(field):
        return None
    try:
        info = ctx.directory.instance(instance_id, region=region)
    except RdsError as error:
        c.add(field, instance_unusable(error, instance_id, region or ctx.where or ctx.region_id))
        return None
    allowed = {e.lower() for e in engines} if engines is not None else None
    if allowed is not None and info.engine.lower() not in allowed:
        # Worded outside the call: Babel does not extract a template whose arguments hold other _() calls.
        why = (why_engine or _("this needs")).strip()
        engines_text = _(" or ").join(engine_name(e) for e in sorted(allowed))
        c.fail(field, "wrong_engine", "{instance} runs {engine}; {why} {engines}.", instance=info.id,
               engine=engine_name(info.engine), why=why, engines=engines_text)
    elif primary and info.is_read_only:
        c.fail(field, "read_only_instance", "{instance} is a read-only instance; use its primary.", instance=info.id)
    elif unlocked and info.lock_mode and info.lock_mode.lower() not in {"unlock", ""}:
        c.fail(field, "instance_locked", "{instance} is locked ({lock}).", instance=info.id, lock=info.lock_mode)
    elif running and info.status and info.status != "Running":
        c.fail(field, "instance_not_running", "{instance} is {status}; it must be Running.", instance=info.id,
               status=info.status)
    return info


def check_backup(c: Checker, directory: RdsDirectory, instance_id: str, backup_id: str, *,
                 field: str = "BackupId") -> BackupInfo | None:
    """The backup set exists, belongs to the instance and succeeded; looked up by its ID, so a set of
    any age counts, not only the newest page. Returns the set when it is usable."""
    try:
        match = backup_by_id(directory, instance_id, backup_id)
    except RdsError as error:
        c.fail(field, "backups_unlisted", "Could not list the backups of {instance}: {error}", instance=instance_id,
               error=error.plain())
        return None
    if match is None:
        c.fail(field, "backup_not_of_instance", "Backup set {backup} is not a backup of {instance}.", backup=backup_id,
               instance=instance_id)
    elif not match.ok:
        c.fail(field, "backup_not_successful", "Backup set {backup} is {status}; pick a successful one.",
               backup=backup_id, status=match.status)
    return match if match is not None and match.ok else None


def earliest_point(backups: Iterable[BackupInfo], retention_days: int | None, now: datetime) -> datetime | None:
    """The start of the restore window: the oldest successful backup, not before the retention period
    (None: no successful backup, so no point in time can be restored)."""
    starts = [t for t in (b.consistent or b.end for b in backups if b.ok) if t is not None]
    if not starts:
        return None
    earliest = min(starts)
    if retention_days is not None and retention_days > 0:
        earliest = max(earliest, now - timedelta(days=retention_days))
    return earliest


def window_start(directory: RdsDirectory, instance_id: str, now: datetime) -> datetime | None:
    """:func:`earliest_point` over every set of the instance: its oldest is read from the last page
    of DescribeBackups, however many sets there are (raises RdsError)."""
    oldest = oldest_backup(directory, instance_id)
    return earliest_point([oldest] if oldest is not None else [], directory.retention_days(instance_id), now)


def check_window(c: Checker, ctx: Context, instance_id: str, restore_time: datetime, *, field: str = "RestoreTime") -> None:
    """A point in time must lie inside the instance's backup retention window."""
    try:
        earliest = window_start(ctx.directory, instance_id, ctx.now)
    except RdsError as error:
        c.fail(field, "backups_unread", "Could not read the backups of {instance}: {error}", instance=instance_id,
               error=error.plain())
        return
    if earliest is None:
        c.fail(field, "no_successful_backup",
               "{instance} has no successful backup, so no point in time can be restored.", instance=instance_id)
        return
    if restore_time < earliest:
        c.fail(field, "outside_retention", "Outside the backup retention window: the earliest point is {earliest}.",
               earliest=human_time(earliest))
