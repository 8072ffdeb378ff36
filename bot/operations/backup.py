"""CreateBackup: back up an instance now (no approval needed).

Rules from seeds/CreateBackup.ja.txt and RDS_API.md: which BackupMethod each
engine and disk takes, when BackupStrategy, DBName, BackupType and
BackupRetentionPeriod take effect, and the page's preconditions (Running, no
backup job in progress, at most 20 backup sets a day) — checked before the
call so the user hears "one is already running" instead of an API code.
The API takes no ClientToken, so after a crash the bot looks for the job it may
have started instead of calling again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

from bot.i18n import _
from bot.operations.base import Context, FieldKind, FieldSpec, Form, Meta, Operation, Plan, Progress, instance_field, reason_field
from bot.operations.checks import engine_name, require_instance
from bot.operations.rules import Checker, check_names, check_reason
from bot.rds.directory import InstanceInfo, RdsDirectory
from bot.rds.errors import RdsError
from bot.timeutil import human_bytes, human_duration

METHODS = (("Physical", _("Physical")), ("Logical", _("Logical (MySQL on local SSD)")), ("Snapshot", _("Snapshot")))
TYPES = (("Auto", _("Auto (full or incremental)")), ("FullBackup", _("Full")))
STRATEGIES = (("instance", _("Whole instance")), ("db", _("Selected databases")))
MAX_SETS_PER_DAY = 20
ENGINES = {"mysql", "sqlserver", "postgresql", "mariadb"}


def allowed_methods(info: InstanceInfo) -> tuple[str, ...]:
    """BackupMethod values by engine and disk (RDS_API.md, CreateBackup)."""
    engine = info.engine.lower()
    if engine == "mysql":
        return ("Logical", "Physical") if info.storage_type == "local_ssd" else ("Snapshot",)
    if engine in {"sqlserver", "postgresql"}:
        return ("Physical", "Snapshot")
    if engine == "mariadb":
        return ("Physical",)  # MariaDB takes snapshots, but the API must be sent Physical
    return ()


class Backup(Operation):
    """Back up one instance now."""

    meta = Meta.api("backup", "CreateBackup", title=_("Back up an RDS instance"), verb=_("back up"), progress_in_place=True,
                    exclusive=True, reads=("rds:DescribeBackupTasks", "rds:DescribeBackups", "rds:DescribeDatabases"))
    fields = (
        instance_field(),
        FieldSpec("BackupMethod", _("Method"), FieldKind.SELECT, options=METHODS,
                  hint=_("Default: Physical (Snapshot for MySQL on cloud disks).")),
        FieldSpec("BackupType", _("Type"), FieldKind.SELECT, options=TYPES, hint=_("SQL Server with Physical only.")),
        FieldSpec("BackupStrategy", _("Scope"), FieldKind.SELECT, options=STRATEGIES,
                  hint=_("Selected databases: MySQL Logical, or SQL Server Full.")),
        FieldSpec("DBName", _("Databases"), FieldKind.DATABASES, hint=_("Only with Scope = Selected databases.")),
        FieldSpec("BackupRetentionPeriod", _("Keep for (days)"), FieldKind.NUMBER,
                  hint=_("7-730, or -1 for long-term. MySQL, or SQL Server selected-database full backups.")),
        reason_field(required=False),
    )

    def validate(self, form: Form, ctx: Context) -> Plan:
        c = Checker(form)
        instance_id = c.instance_id()
        method = c.choice("BackupMethod", [v for v, _label in METHODS], what=_("The method"))
        backup_type = c.choice("BackupType", [v for v, _label in TYPES], what=_("The type"))
        strategy = c.choice("BackupStrategy", [v for v, _label in STRATEGIES], what=_("The scope"))
        names = check_names(c, "DBName")
        retention = c.integer("BackupRetentionPeriod", low=-1, high=730, what=_("Keep for"))
        if retention is not None and retention != -1 and retention < 7:
            c.fail("BackupRetentionPeriod", "retention_range", "Keep for 7 to 730 days, or -1 for long-term.")
        check_reason(c, required=False)
        if names and strategy != "db":
            c.fail("DBName", "databases_without_scope", "Databases are only taken with Scope = Selected databases.")
        if strategy == "db" and not names and c.ok("DBName"):
            c.fail("DBName", "no_databases", "Pick the databases to back up.")
        info = require_instance(c, ctx, instance_id, engines=ENGINES, why_engine=_("backups support"))
        c.done()
        assert info is not None and instance_id is not None
        allowed = allowed_methods(info)
        method = method or ("Snapshot" if allowed == ("Snapshot",) else "Physical")
        engine = info.engine.lower()
        if method not in allowed:
            c.fail("BackupMethod", "method_not_taken", "{engine} on {disk} takes {methods} backups.",
                   engine=engine_name(info.engine), disk=info.storage_type or _("this disk"),
                   methods=_(" or ").join(allowed))
        if backup_type and engine != "sqlserver":
            c.fail("BackupType", "type_not_sql_server", "Only SQL Server takes a backup type.")
        elif backup_type and method != "Physical":
            c.fail("BackupType", "type_not_physical", "A backup type only applies to Physical backups.")
        db_scope = (engine == "mysql" and method == "Logical") or (
            engine == "sqlserver" and method == "Physical" and backup_type == "FullBackup")
        if strategy == "db" and not db_scope:
            c.fail("BackupStrategy", "scope_not_taken",
                   "Selected databases work for MySQL Logical or SQL Server Physical Full backups.")
        if retention is not None:
            sql_ok = engine == "sqlserver" and strategy == "db" and method == "Physical" and backup_type == "FullBackup"
            if engine != "mysql" and not sql_ok:
                c.fail("BackupRetentionPeriod", "retention_not_taken",
                       "Only MySQL, or SQL Server selected-database Physical Full backups, take a retention period.")
        if names and c.ok("DBName"):
            self._check_databases(c, ctx.directory, info.id, names)
        self._check_capacity(c, ctx, info.id)
        c.done()
        params: dict[str, Any] = {
            "DBInstanceId": instance_id,
            "BackupMethod": method,
            "BackupType": backup_type,
            "BackupStrategy": strategy,
            "DBName": ",".join(names) if names else None,
            "BackupRetentionPeriod": retention,
        }
        params = {k: v for k, v in params.items() if v is not None}
        return Plan(instance_id=instance_id, params=params, instance=info, summary=self.summary(params))

    @staticmethod
    def _check_databases(c: Checker, directory: RdsDirectory, instance_id: str, names: list[str]) -> None:
        try:
            present = {d.name: d.status for d in directory.databases(instance_id)}
        except RdsError as error:
            c.fail("DBName", "databases_of_unlisted", "Could not list the databases of {instance}: {error}",
                   instance=instance_id, error=error.plain())
            return
        missing = [n for n in names if n not in present]
        if missing:
            c.fail("DBName", "not_on_instance", "Not on {instance}: {names}.", instance=instance_id,
                   names=", ".join(missing[:5]))
        busy = [n for n in names if n in present and present[n] not in {"Running", ""}]
        if busy:
            c.fail("DBName", "databases_not_running", "Not Running: {names}.", names=", ".join(busy[:5]))

    @staticmethod
    def _check_capacity(c: Checker, ctx: Context, instance_id: str) -> None:
        """The page's preconditions: no job in progress, fewer than 20 sets today."""
        try:
            running = [t for t in ctx.directory.backup_tasks(instance_id) if t.active]
            backups = ctx.directory.backups(instance_id, fresh=True)
        except RdsError as error:
            c.fail("DBInstanceId", "backups_unchecked", "Could not check {instance}'s backups: {error}",
                   instance=instance_id, error=error.plain())
            return
        if running:
            job = running[0]
            pct = f", {job.percent}%" if job.percent is not None else ""
            c.fail("DBInstanceId", "backup_running",
                   "A backup of {instance} is already running (job {job}: {status}{percent}); wait for it to finish.",
                   instance=instance_id, job=job.job_id, status=job.status, percent=pct)
            return
        # The seed's "a day" names no zone: the API's times are UTC, so the day counted is the UTC calendar day
        # (which for Asia/Shanghai runs from 08:00 to 08:00): say which, and when it turns.
        today = ctx.now.astimezone(UTC).date()
        made = sum(1 for b in backups if b.start is not None and b.start.astimezone(UTC).date() == today)
        if made >= MAX_SETS_PER_DAY:
            turns = datetime.combine(today + timedelta(days=1), time(0), tzinfo=UTC)
            c.fail("DBInstanceId", "daily_backup_limit",
                   "{instance} already has {count} backup sets on {day}, counted as a UTC day (00:00-24:00 UTC); "
                   "RDS allows {most} a day. The count starts again at 00:00 UTC, in {wait}.", instance=instance_id,
                   count=made, day=today.isoformat(), most=MAX_SETS_PER_DAY, wait=human_duration(turns - ctx.now))

    def find_started(self, directory: RdsDirectory, request_id: str, params: Mapping[str, Any],
                     since: datetime) -> dict[str, Any] | None:
        instance_id = str(params["DBInstanceId"])
        active = [t for t in directory.backup_tasks(instance_id) if t.active]
        if active:
            return {"BackupJobId": active[0].job_id}
        recent = [b for b in directory.backups(instance_id, fresh=True)
                  if b.start is not None and b.start >= since - timedelta(seconds=5)]
        if recent:
            return {"BackupId": recent[0].id, "BackupJobId": ""}
        return None

    def probe(self, directory: RdsDirectory, params: Mapping[str, Any], result: Mapping[str, Any],
              memo: Mapping[str, Any]) -> Progress:
        instance_id = str(params["DBInstanceId"])
        job_id = str(result.get("BackupJobId") or "")
        if not job_id and result.get("BackupId"):
            return Progress(status="Finished", done=True, result={"BackupId": result["BackupId"]})
        tasks = directory.backup_tasks(instance_id, job_id=job_id)
        task = next((t for t in tasks if t.job_id == job_id), None)
        if task is None:
            return Progress(status="Waiting")
        if task.status == "Finished":
            return Progress(status="Finished", done=True, percent=100, result=self._finished(directory, instance_id, task.backup_id))
        if task.status == "Failed":
            return Progress(status="Failed", done=True, failed=True, error_code="BackupJobFailed",
                            error_message=_("Backup job {job} of {instance} failed.", job=job_id, instance=instance_id))
        return Progress(status=task.status or "Waiting", percent=task.percent)

    @staticmethod
    def _finished(directory: RdsDirectory, instance_id: str, backup_id: str) -> dict[str, Any]:
        result: dict[str, Any] = {"BackupId": backup_id}
        try:
            match = next((b for b in directory.backups(instance_id, fresh=True) if b.id == backup_id), None)
        except RdsError:
            match = None
        if match is not None:
            result["BackupSize"] = match.size
            result["BackupMethod"] = match.method
        return result

    def outcome(self, params: Mapping[str, Any], result: Mapping[str, Any]) -> str:
        size = f", {human_bytes(result['BackupSize'])}" if result.get("BackupSize") else ""
        scope = _(" of {databases}", databases=params["DBName"]) if params.get("DBName") else ""
        return _("Backup *{backup}*{scope} on {instance} finished ({method}{size}).", backup=result.get("BackupId", "?"),
                 scope=scope, instance=params.get("DBInstanceId"), method=params.get("BackupMethod", "Physical"),
                 size=size)
