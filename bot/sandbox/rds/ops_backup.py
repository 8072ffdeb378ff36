"""Backup operations: CreateBackup, DescribeBackupTasks, DescribeBackups, DescribeBackupPolicy.

CreateBackup rules (seed 003 and the SDK's field notes):

* the instance must exist (``InvalidDBInstanceName.NotFound``, 404, the page's code),
  be a primary (``ReadDBInstanceNotSupport``), unlocked
  (``IncorrectDBInstanceLockMode.ValueNotSupported``) and Running
  (``IncorrectDBInstanceState``, 403);
* ``BackupMethod`` by engine and disk: MySQL on local SSD Logical|Physical, MySQL on
  cloud disks Snapshot, PostgreSQL and SQL Server Physical|Snapshot, MariaDB Physical
  only (it takes snapshots but must be sent Physical); otherwise
  ``InvalidBackupMethod.ValueNotSupport``;
* ``BackupType`` Auto|FullBackup (``BackupType.NotSupport``); ``BackupStrategy=db`` and
  ``DBName`` take effect only for MySQL+Logical and SQL Server+Physical+FullBackup,
  where every named database must exist and be Running (``InvalidDB.NotFound``);
* one backup job at a time (``BackupJobExists``) and at most 20 backup sets per
  instance per UTC day (``Exceeded.BackupTimes``, 403).

A job moves NoStart -> Checking -> Preparing -> Uploading (Process 0..100) ->
Finished over ``Timings.backup_s``; then its backup set appears in DescribeBackups.
DescribeBackupTasks keeps listing finished and failed tasks (with ``BackupId`` once
Finished), so a poller that looks late still sees how the job ended.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.sandbox.rds.errors import DESCRIBE_NOT_FOUND, ApiError, invalid
from bot.sandbox.rds.jobs import Job
from bot.sandbox.rds.model import MARIADB, MYSQL, POSTGRESQL, SQLSERVER, Backup, Instance
from bot.sandbox.rds.params import Params, format_time, page, page_number, page_size
from bot.sandbox.rds.state import State
from bot.sandbox.rds.views import backup_view

ACTION = "CreateBackup"
MAX_SETS_PER_DAY = 20
_DB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")

# (fraction of the job's time at which the phase starts, BackupStatus)
_PHASES = ((0.0, "NoStart"), (0.1, "Checking"), (0.2, "Preparing"), (0.3, "Uploading"))
_UPLOAD_START = 0.3


def allowed_methods(instance: Instance) -> tuple[str, ...]:
    """The BackupMethod values the instance's engine and disk accept."""
    if instance.engine == MYSQL:
        return ("Logical", "Physical") if instance.storage_type == "local_ssd" else ("Snapshot",)
    if instance.engine in (POSTGRESQL, SQLSERVER):
        return ("Physical", "Snapshot")
    if instance.engine == MARIADB:
        return ("Physical",)
    return ()


def _method_error(_name: str) -> ApiError:
    return ApiError("InvalidBackupMethod.ValueNotSupport")


def _type_error(_name: str) -> ApiError:
    return ApiError("BackupType.NotSupport")


def _running_backup(state: State, instance_id: str) -> Job | None:
    return next((j for j in state.jobs if j.action == ACTION and j.instance_id == instance_id and not j.done), None)


def _sets_today(state: State, instance_id: str) -> int:
    today = state.now().date()
    made = sum(1 for b in state.backups_of(instance_id) if b.start.date() == today)
    return made + (1 if _running_backup(state, instance_id) else 0)


def _database_scope(state: State, instance: Instance, params: Params, method: str, backup_type: str) -> list[str]:
    """The databases a db-level backup covers, or [] for an instance-level one."""
    strategy = params.choice("BackupStrategy", ("db", "instance"))
    db_level_allowed = (instance.engine == MYSQL and method == "Logical") or (
        instance.engine == SQLSERVER and method == "Physical" and backup_type == "FullBackup"
    )
    if strategy != "db" or not db_level_allowed:
        return []
    names = params.csv("DBName")
    if not names or any(not _DB_NAME.match(name) for name in names):
        raise ApiError("InvalidDBName.Format")
    databases = state.databases.get(instance.id, {})
    for name in names:
        if name not in databases or databases[name].status != "Running":
            raise ApiError("InvalidDB.NotFound")
    return names


def create_backup(state: State, params: Params) -> dict[str, Any]:
    instance = state.find_instance(params.require("DBInstanceId"), "InvalidDBInstanceName.NotFound")
    if instance.instance_type != "Primary":
        raise ApiError("ReadDBInstanceNotSupport")
    if instance.lock_mode != "Unlock":
        raise ApiError("IncorrectDBInstanceLockMode.ValueNotSupported")
    if instance.status != "Running":
        raise ApiError("IncorrectDBInstanceState")
    method = params.choice("BackupMethod", ("Logical", "Physical", "Snapshot"), "Physical", _method_error)
    if method not in allowed_methods(instance):
        raise ApiError("InvalidBackupMethod.ValueNotSupport")
    backup_type = params.choice("BackupType", ("Auto", "FullBackup"), "Auto", _type_error)
    retention = params.integer("BackupRetentionPeriod")
    if retention is not None and retention != -1 and not 7 <= retention <= 730:
        raise invalid("BackupRetentionPeriod")
    scope = _database_scope(state, instance, params, method, backup_type)
    if method == "Logical" and not state.databases_of(instance.id):
        raise ApiError("InvalidDB.NotFound")  # a logical backup needs a database holding data
    if _running_backup(state, instance.id):
        raise ApiError("BackupJobExists")
    if _sets_today(state, instance.id) >= MAX_SETS_PER_DAY:
        raise ApiError("Exceeded.BackupTimes")
    job = state.start_job(
        ACTION,
        instance,
        state.timings.backup_s,
        lambda finished: _finish(state, finished),
        method="Snapshot" if instance.engine == MARIADB else method,
        databases=tuple(scope) or tuple(db.name for db in state.databases_of(instance.id)),
        scale="db" if scope else "instance",
    )
    return {"BackupJobId": job.id}


def _finish(state: State, job: Job) -> None:
    """Record the job's backup set (a failed job leaves a Failed set, as the service does)."""
    start = datetime.fromtimestamp(job.started_at, UTC)
    used = int(state.used_storage_gb(job.instance_id) * 1024**3 * 0.3)
    backup = Backup(
        id=state.new_backup_id(),
        instance_id=job.instance_id,
        start=start,
        end=start + timedelta(seconds=job.duration_s),
        status="Failed" if job.failed else "Success",
        method=job.detail["method"],
        mode="Manual",
        size_bytes=0 if job.failed else used,
        databases=job.detail["databases"],
        scale=job.detail["scale"],
    )
    state.backups[backup.id] = backup
    if not job.failed:
        job.detail["backup_id"] = backup.id


def backup_job_view(job: Job, now: float) -> dict[str, Any]:
    """One ``Items.BackupJob[]`` entry of DescribeBackupTasks."""
    fraction = job.fraction(now)
    if job.done:
        status, process = ("Failed", "0") if job.failed else ("Finished", "100")
    else:
        status = next(name for start, name in reversed(_PHASES) if fraction >= start)
        uploaded = max(0.0, (fraction - _UPLOAD_START) / (1 - _UPLOAD_START))
        process = str(int(uploaded * 100)) if status == "Uploading" else "0"
    view = {
        "BackupJobId": job.id,
        "BackupStatus": status,
        "BackupProgressStatus": status,
        "Process": process,
        "JobMode": "Manual",
        "TaskAction": "TempBackupTask",
    }
    if "backup_id" in job.detail:
        view["BackupId"] = job.detail["backup_id"]
    return view


_IN_PROGRESS = {"Checking", "Preparing", "Waiting", "Uploading"}


def describe_backup_tasks(state: State, params: Params) -> dict[str, Any]:
    instance = state.find_instance(params.require("DBInstanceId"), DESCRIBE_NOT_FOUND)
    job_id = params.integer("BackupJobId")
    wanted_status = params.get("BackupJobStatus")
    mode = params.choice("BackupMode", ("Automated", "Manual"))
    now = state.clock()
    views = []
    for job in state.jobs:
        if job.action != ACTION or job.instance_id != instance.id:
            continue
        if job_id is not None and job.id != str(job_id):
            continue
        view = backup_job_view(job, now)
        status = view["BackupStatus"]
        # "Progressing" is the documented filter for every in-progress phase.
        progressing = wanted_status == "Progressing" and status in _IN_PROGRESS
        if wanted_status and status != wanted_status and not progressing:
            continue
        if mode is not None and mode != view["JobMode"]:
            continue
        views.append(view)
    return {"Items": {"BackupJob": views}}


def describe_backups(state: State, params: Params) -> dict[str, Any]:
    instance = state.find_instance(params.require("DBInstanceId"), DESCRIBE_NOT_FOUND)
    start = params.time("StartTime", "InvalidStartTime.Format", minutes=True)
    end = params.time("EndTime", "InvalidEndTime.Format", minutes=True)
    if start and end and end < start:
        raise ApiError("InvalidParameterCombination")
    status = params.choice("BackupStatus", ("Success", "Failed"))
    mode = params.choice("BackupMode", ("Automated", "Manual"))
    backup_type = params.choice("BackupType", ("FullBackup", "IncrementalBackup"))
    backup_id = params.get("BackupId")
    size = page_size(params, (30, 50, 100), 30)
    number = page_number(params)
    found = [
        b
        for b in state.backups_of(instance.id)
        if (backup_id is None or b.id == backup_id)
        and (status is None or b.status == status)
        and (mode is None or b.mode == mode)
        and (backup_type is None or b.backup_type == backup_type)
        and (start is None or b.start >= start)
        # Minute precision: EndTime 10:05Z still includes a set started at 10:05:30.
        and (end is None or b.start < end + timedelta(minutes=1))
    ]
    chosen = page(found, number, size)
    return {
        "TotalRecordCount": str(len(found)),
        "PageNumber": str(number),
        "PageRecordCount": str(len(chosen)),
        "TotalEcsSnapshotSize": sum(b.size_bytes for b in found if b.method == "Snapshot"),
        "Items": {"Backup": [backup_view(b, instance) for b in chosen]},
    }


def describe_backup_policy(state: State, params: Params) -> dict[str, Any]:
    instance = state.find_instance(params.require("DBInstanceId"), DESCRIBE_NOT_FOUND)
    now = state.now()
    next_backup = now.replace(hour=18, minute=0, second=0, microsecond=0)
    if next_backup <= now:
        next_backup += timedelta(days=1)
    days = instance.backup_retention_days
    return {
        "BackupRetentionPeriod": days,
        "PreferredBackupTime": "18:00Z-19:00Z",
        "PreferredBackupPeriod": "Monday,Tuesday,Wednesday,Thursday,Friday,Saturday,Sunday",
        "PreferredNextBackupTime": format_time(next_backup).replace(":00Z", "Z"),
        "BackupLog": "Enable" if instance.log_backup else "Disabled",
        "EnableBackupLog": "1" if instance.log_backup else "0",
        "LogBackupRetentionPeriod": days,
        "PitrRetentionPeriod": days,
        "EnablePitrProtection": False,
        "LocalLogRetentionHours": 18,
        "LocalLogRetentionSpace": "30",
        "HighSpaceUsageProtection": "Enable",
        "LogBackupFrequency": "LogInterval",
        "CompressType": "4",
        "BackupMethod": allowed_methods(instance)[-1] if allowed_methods(instance) else "Physical",
        "Category": "Standard",
        "ReleasedKeepPolicy": "None",
        "ArchiveBackupRetentionPeriod": "0",
        "ArchiveBackupKeepPolicy": "ByMonth",
        "ArchiveBackupKeepCount": "1",
        "EnableIncrementDataBackup": False,
        "BackupInterval": "-1",
        "SupportReleasedKeep": 1,
        "SupportVolumeShadowCopy": 1 if instance.engine == SQLSERVER else 0,
    }


OPERATIONS = {
    "CreateBackup": create_backup,
    "DescribeBackupTasks": describe_backup_tasks,
    "DescribeBackups": describe_backups,
    "DescribeBackupPolicy": describe_backup_policy,
}
