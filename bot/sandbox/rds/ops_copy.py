"""CopyDatabaseBetweenInstances: copy SQL Server databases to another instance (seed 000).

Checks, in order (each raises the page's code; 400 unless marked):

1. both instances exist (``InvalidDBInstance.NotFound``, 404; a target ID that is not
   an instance ID at all -> ``InvalidTargetDBInstanceName.Format``);
2. both are SQL Server (``EngineNotSupported`` / ``TargetInstanceEngineNotSupported``),
   neither is read-only (``ReadDBInstanceNotSupport`` / ``ReadOnlyInstanceNotSupport``)
   nor serverless (``IncorrectDBInstanceType``, 403), same region
   (``InvalidInstancesRegion.Malformed``), both Running and unlocked
   (``IncorrectDBInstanceState``, 403);
3. the category pair: ``UnsupportedCopyDb<From>To<To>`` (403) for the nine pairs the page
   names; else ``BackupRestoreNotSupported.BasicHA`` for Basic -> HighAvailability,
   ``...HADedicatedAlwaysOn`` for HighAvailability -> AlwaysOn (the page's 403 code wins
   where both pages' lists name a pair); same category and Basic -> AlwaysOn are allowed;
4. source version newer than the target's (``InvalidInstanceVersion``, 403);
5. BackupId / RestoreTime: both -> ``ErrorParametersConflict``, neither ->
   ``RequiredParam.NotFound``;
6. DbNames: not a non-empty JSON map of strings -> ``InvalidRecoveryDBNames.Format``; a
   name with characters outside letters, digits, ``_ . -`` -> ``InvalidCharacter.DbOrAccount``;
   otherwise not starting with a letter, over 64 characters or a system database ->
   ``InvalidDBName.Format``; two sources mapped to one name -> ``InvalidDBName.Duplicate``;
7. the restore point: a BackupId that is not a number -> ``InvalidBackupSetID``; unknown,
   of another instance or failed -> ``InvalidBackupIdOrRestoreTime.NotFound``; a snapshot
   set into an instance without snapshot backup -> ``OperationDenied.SnapshotBackupSet``,
   or for only some of its databases -> ``Forbidden.SnapshotRecovery`` (403); a RestoreTime
   malformed, in the future or outside the retention window ->
   ``InvalidBackupIdOrRestoreTime.NotFound``, before the first kept backup ->
   ``InvalidParamTableMeta.RestoreTime`` (403); from a snapshot-backup instance into one
   without -> ``OperationDenied.RestoreTime``;
8. each source database: missing -> ``InvalidDBName.NotFound``; not in the backup set ->
   ``InvalidBackupSet``; TDE on -> ``CanNotCopyDBHasTDEEnabled``; in cold storage ->
   ``InvalidRestoreTimeSpecified`` (RestoreTime after it went cold) / ``InvalidRestoreDB``
   (BackupId taken after it went cold); SIMPLE recovery with RestoreTime ->
   ``CurrentRecoveryModelNotSupportThisAction`` (403);
9. the target: already holds a new name -> ``InvalidDBName.Duplicate``; too many databases
   -> ``DBCountLimitExceeded``; not enough free storage -> ``StorageLimitExceeded`` (403).

The SDK's request model has no ClientToken, so this action is not idempotent: a
retried call after a lost answer gives ``InvalidDBName.Duplicate``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.sandbox.rds.errors import INSTANCE_NOT_FOUND, ApiError
from bot.sandbox.rds.model import SQLSERVER, Backup, Database, Instance
from bot.sandbox.rds.params import Params, parse_time
from bot.sandbox.rds.state import State

ACTION = "CopyDatabaseBetweenInstances"
_INSTANCE_ID = re.compile(r"^rm-[a-z0-9]+$")
_NAME_CHARS = re.compile(r"^[A-Za-z0-9_.\-]+$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")
_SYSTEM_DATABASES = {"master", "model", "msdb", "tempdb", "distribution", "resource"}

# The nine pairs seed 000 refuses with UnsupportedCopyDb<From>To<To> (HTTP 403).
UNSUPPORTED_PAIRS = {
    ("HighAvailability", "Basic"),
    ("HighAvailability", "Share"),
    ("AlwaysOn", "Basic"),
    ("AlwaysOn", "HighAvailability"),
    ("AlwaysOn", "Share"),
    ("Basic", "Share"),
    ("Share", "Basic"),
    ("Share", "HighAvailability"),
    ("Share", "AlwaysOn"),
}
# The 400 family, for pairs the 403 list does not name.
RESTORE_NOT_SUPPORTED = {
    ("Basic", "HighAvailability"): "BackupRestoreNotSupported.BasicHA",
    ("HighAvailability", "AlwaysOn"): "BackupRestoreNotSupported.HADedicatedAlwaysOn",
}


def category_pair_error(source: str, target: str) -> ApiError | None:
    """The refusal for copying from a ``source`` edition to a ``target`` edition, if any."""
    if (source, target) in UNSUPPORTED_PAIRS:
        return ApiError(
            f"UnsupportedCopyDb{source}To{target}",
            status=403,
            message=f"Replicate Database from RDS Category:{source} to RDS Category:{target} is not supported.",
        )
    code = RESTORE_NOT_SUPPORTED.get((source, target))
    return ApiError(code) if code else None


def version_number(engine_version: str) -> float:
    """``2019_std_ha`` -> 2019, ``2008r2`` -> 2008.5: enough to order SQL Server versions."""
    match = re.match(r"(\d{4})(r2)?", engine_version)
    if not match:
        return 0.0
    return int(match.group(1)) + (0.5 if match.group(2) else 0.0)


def _check_instances(state: State, params: Params) -> tuple[Instance, Instance]:
    source = state.find_instance(params.require("DBInstanceId"), INSTANCE_NOT_FOUND)
    target_id = params.require("TargetDBInstanceId")
    if not _INSTANCE_ID.match(target_id):
        raise ApiError("InvalidTargetDBInstanceName.Format")
    target = state.find_instance(target_id, INSTANCE_NOT_FOUND)
    if source.engine != SQLSERVER:
        raise ApiError("EngineNotSupported")
    if target.engine != SQLSERVER:
        raise ApiError("TargetInstanceEngineNotSupported")
    if source.instance_type != "Primary":
        raise ApiError("ReadDBInstanceNotSupport")
    if target.instance_type != "Primary":
        raise ApiError("ReadOnlyInstanceNotSupport")
    if source.category.startswith("serverless") or target.category.startswith("serverless"):
        raise ApiError("IncorrectDBInstanceType")
    if source.region != target.region:
        raise ApiError("InvalidInstancesRegion.Malformed")
    for instance in (source, target):
        if instance.status != "Running" or instance.lock_mode != "Unlock":
            raise ApiError("IncorrectDBInstanceState")
    refusal = category_pair_error(source.category, target.category)
    if refusal:
        raise refusal
    if version_number(source.engine_version) > version_number(target.engine_version):
        raise ApiError("InvalidInstanceVersion")
    return source, target


def parse_db_names(raw: str) -> dict[str, str]:
    """DbNames, ``{"source name": "target name", ...}``, checked name by name."""
    try:
        mapping = json.loads(raw)
    except ValueError:
        raise ApiError("InvalidRecoveryDBNames.Format") from None
    if not isinstance(mapping, dict) or not mapping:
        raise ApiError("InvalidRecoveryDBNames.Format")
    if not all(isinstance(v, str) and v for pair in mapping.items() for v in pair):
        raise ApiError("InvalidRecoveryDBNames.Format")
    for name in (*mapping.keys(), *mapping.values()):
        if not _NAME_CHARS.match(name):
            raise ApiError("InvalidCharacter.DbOrAccount")
        if not _NAME.match(name) or name.lower() in _SYSTEM_DATABASES:
            raise ApiError("InvalidDBName.Format")
    if len(set(mapping.values())) != len(mapping):
        raise ApiError("InvalidDBName.Duplicate")
    return mapping


def _backup_set(state: State, source: Instance, target: Instance, raw: str, names: dict[str, str]) -> Backup:
    if not raw.isdigit():
        raise ApiError("InvalidBackupSetID")
    backup = state.backups.get(raw)
    if backup is None or backup.instance_id != source.id or backup.status != "Success":
        raise ApiError("InvalidBackupIdOrRestoreTime.NotFound")
    if backup.method == "Snapshot":
        if not target.snapshot_backup:
            raise ApiError("OperationDenied.SnapshotBackupSet")
        if set(names) != set(backup.databases):
            raise ApiError("Forbidden.SnapshotRecovery")
    return backup


def _check_sources(
    source_dbs: dict[str, Database],
    names: dict[str, str],
    available: tuple[str, ...],
    backup: Backup | None,
    restore_time: Any,
) -> None:
    for name in names:
        database = source_dbs.get(name)
        if database is None:
            raise ApiError("InvalidDBName.NotFound")
        if name not in available:
            raise ApiError("InvalidBackupSet")
        if database.tde:
            raise ApiError("CanNotCopyDBHasTDEEnabled")
        cold = database.cold_storage_since
        if cold is not None and restore_time is not None and restore_time >= cold:
            raise ApiError("InvalidRestoreTimeSpecified")
        if cold is not None and backup is not None and backup.consistent_time >= cold:
            raise ApiError("InvalidRestoreDB")
        if restore_time is not None and database.recovery_model == "SIMPLE":
            raise ApiError("CurrentRecoveryModelNotSupportThisAction")


def copy_database_between_instances(state: State, params: Params) -> dict[str, Any]:
    raw_names = params.require("DbNames")
    source, target = _check_instances(state, params)
    params.choice("SyncUserPrivilege", ("YES", "NO"), "NO")
    backup_id, raw_time = params.get("BackupId"), params.get("RestoreTime")
    if backup_id and raw_time:
        raise ApiError("ErrorParametersConflict")
    if not backup_id and not raw_time:
        raise ApiError("RequiredParam.NotFound")
    names = parse_db_names(raw_names)
    backup, restore_time = None, None
    if backup_id:
        backup = _backup_set(state, source, target, backup_id, names)
        available = backup.databases
    else:
        restore_time = parse_time(raw_time or "", "InvalidBackupIdOrRestoreTime.NotFound")
        problem = state.point_in_time_problem(source, restore_time)
        if problem == "retention":
            raise ApiError("InvalidBackupIdOrRestoreTime.NotFound")
        if problem == "chain":
            raise ApiError("InvalidParamTableMeta.RestoreTime")
        if source.snapshot_backup and not target.snapshot_backup:
            raise ApiError("OperationDenied.RestoreTime")
        available = state.databases_at(source.id, restore_time)
    source_dbs = state.databases.get(source.id, {})
    _check_sources(source_dbs, names, available, backup, restore_time)
    target_dbs = state.databases.setdefault(target.id, {})
    if any(new in target_dbs for new in names.values()):
        raise ApiError("InvalidDBName.Duplicate")
    if len(target_dbs) + len(names) > target.max_databases:
        raise ApiError("DBCountLimitExceeded")
    needed = sum(source_dbs[name].size_gb for name in names)
    if state.used_storage_gb(target.id) + needed > target.storage_gb:
        raise ApiError("StorageLimitExceeded")
    state.add_databases(target, {new: old for old, new in names.items()}, source.id)
    state.start_job(
        ACTION,
        target,
        state.timings.copy_s,
        lambda job: state.settle_databases(job.instance_id, job.detail["databases"], not job.failed),
        source=source.id,
        databases=tuple(names.values()),
    )
    return {}


OPERATIONS = {ACTION: copy_database_between_instances}
