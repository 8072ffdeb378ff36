"""Checks against the live estate that several operations share.

Each adds its finding to the form's :class:`Checker` under the right field, so
an operation states *which* checks apply and never re-implements one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.operations.base import Context
from bot.operations.rules import Checker
from bot.rds.directory import InstanceInfo, RdsDirectory
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
) -> InstanceInfo | None:
    """The instance if it exists and meets the conditions; otherwise a field error."""
    if instance_id is None or not c.ok(field):
        return None
    try:
        info = ctx.directory.instance(instance_id)
    except RdsError as error:
        if error.code.endswith("NotFound"):
            c.fail(field, f"No instance {instance_id} in {ctx.region_id}.")
        else:
            c.fail(field, f"Could not check {instance_id} with RDS right now: {error.plain()} "
                          "Your input is kept; submit again.")
        return None
    allowed = {e.lower() for e in engines} if engines is not None else None
    if allowed is not None and info.engine.lower() not in allowed:
        names = " or ".join(engine_name(e) for e in sorted(allowed))
        c.fail(field, f"{info.id} runs {engine_name(info.engine)}; {why_engine or 'this needs'} {names}.".replace("  ", " "))
    elif primary and info.is_read_only:
        c.fail(field, f"{info.id} is a read-only instance; use its primary.")
    elif unlocked and info.lock_mode and info.lock_mode.lower() not in {"unlock", ""}:
        c.fail(field, f"{info.id} is locked ({info.lock_mode}).")
    elif running and info.status and info.status != "Running":
        c.fail(field, f"{info.id} is {info.status}; it must be Running.")
    return info


def check_backup(c: Checker, directory: RdsDirectory, instance_id: str, backup_id: str, *, field: str = "BackupId") -> None:
    """The backup set exists, belongs to the instance and succeeded."""
    try:
        backups = directory.backups(instance_id)
    except RdsError as error:
        c.fail(field, f"Could not list the backups of {instance_id}: {error.plain()}")
        return
    match = next((b for b in backups if b.id == backup_id), None)
    if match is None:
        c.fail(field, f"Backup set {backup_id} is not a backup of {instance_id}.")
    elif not match.ok:
        c.fail(field, f"Backup set {backup_id} is {match.status}; pick a successful one.")


def check_window(c: Checker, ctx: Context, instance_id: str, restore_time: datetime, *, field: str = "RestoreTime") -> None:
    """A point in time must lie inside the instance's backup retention window."""
    try:
        backups = [b for b in ctx.directory.backups(instance_id) if b.ok]
    except RdsError as error:
        c.fail(field, f"Could not read the backups of {instance_id}: {error.plain()}")
        return
    retention = ctx.directory.retention_days(instance_id)
    starts = [t for t in (b.consistent or b.end for b in backups) if t is not None]
    if not starts:
        c.fail(field, f"{instance_id} has no successful backup, so no point in time can be restored.")
        return
    earliest = min(starts)
    if retention is not None and retention > 0:
        earliest = max(earliest, ctx.now - timedelta(days=retention))
    if restore_time < earliest:
        c.fail(field, f"Outside the backup retention window: the earliest point is {human_time(earliest)}.")
