"""Cross-region backups: DescribeCrossRegionBackups (seed 004) and RestoreDdrTable (seed 002).

DescribeCrossRegionBackups, in order: ``DBInstanceId``/``RegionId`` missing ->
``MissingParameter``; an unknown RegionId or CrossBackupRegion -> ``InvalidRegion.Format``;
a region without cross-region backup -> ``CrossBackupNotSupport`` (403); unknown instance
(or not in RegionId) -> ``InvalidDBInstance.NotFound`` (404); MySQL on cloud disks or
MariaDB -> ``InvalidDBInstanceEngineType.Format`` (the page supports only MySQL on local
disks, PostgreSQL and SQL Server); CrossBackupId/BackupId/PageSize/PageNumber not valid
-> ``InvalidParameters.Format``; neither CrossBackupId nor both StartTime and EndTime ->
``ParameterAbsence``; bad times -> ``InvalidStartTime.Format`` / ``InvalidEndTime.Format``,
EndTime before StartTime -> ``InvalidTime.Format``; a page past the last one ->
``InvalidPage.notFound`` (404; page 1 of nothing is an empty list).

RestoreDdrTable, in order: unknown target -> ``InvalidDBInstance.NotFound`` (404);
RestoreType absent -> ``RestoreType.NotFound`` (404), not 0/1 ->
``InvalidRestoreType.Format``; TableMeta -> the ``InvalidParamTableMeta*`` codes; the
target read-only or of an engine without cross-region backup -> ``IncorrectDBInstanceType``
(403), not Running or locked -> ``IncorrectDBInstanceState`` (403), with read-only
children -> ``ChildDBInstanceExists`` (403). RestoreType 0: BackupId (a CrossBackupId)
missing -> ``RequiredParam.NotFound``, unknown -> ``InvalidBackupSetID.NotFound`` (404),
failed -> ``IncorrectBackupSetState`` (403), not restorable in the target's region or of
another engine -> ``InvalidBakset.Invalid``, logical -> ``IncorrectBackupSetMethod`` (403).
RestoreType 1: RestoreTime/SourceRegion/SourceDBInstanceName missing ->
``RequiredParam.NotFound``; RestoreTime malformed or not in the past ->
``InvalidRestoreTime.Format``; unknown SourceRegion -> ``InvalidRegion.Format``; no
usable cross-region set -> ``NoAvailableDisasterRestoreBakset``; no cross-region log
backup -> ``InvalidBackupLogStatus`` (403); before the oldest set ->
``InvalidBackup.NotFound`` (404); within the last five minutes (logs not shipped yet) ->
``InvalidBinlog.NotFound`` (404). Then per database: not in the backup ->
``InvalidSourceRestoreDBName.NotFound``; restoring into the source instance under the
same database (whole database) or table names -> ``InvalidParamTableMetaForRestore.Content``;
a whole database whose new name the target already has -> ``InvalidDBName.Duplicate``.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from bot.sandbox.rds.errors import INSTANCE_NOT_FOUND, ApiError
from bot.sandbox.rds.jobs import Job
from bot.sandbox.rds.model import LOCAL_SSD, MYSQL, POSTGRESQL, SQLSERVER, CrossRegionBackup, Database, Instance
from bot.sandbox.rds.params import Params, format_time, page, page_number, page_size, parse_time
from bot.sandbox.rds.state import State
from bot.sandbox.rds.table_meta import DbEntry, parse_table_meta

RESTORE_ACTION = "RestoreDdrTable"
# Cross-region log backups ship with a delay; a restore time this recent is not covered yet.
LOG_SHIPPING_DELAY = timedelta(minutes=5)


def supports_cross_region_backup(instance: Instance) -> bool:
    """MySQL on local disks, PostgreSQL and SQL Server (seed 004's list)."""
    if instance.engine == MYSQL:
        return instance.storage_type == LOCAL_SSD
    return instance.engine in (POSTGRESQL, SQLSERVER)


def _format_error(_name: str) -> ApiError:
    return ApiError("InvalidParameters.Format")


def _check_region(state: State, region: str | None) -> None:
    if region is not None and region not in state.regions:
        raise ApiError("InvalidRegion.Format")


def cross_backup_view(cross: CrossRegionBackup, instance: Instance) -> dict[str, Any]:
    """One ``Items.Item[]`` entry; the integer fields are integers, as the page states."""
    stamp = cross.start.strftime("%Y%m%d%H%M%S")
    file_name = f"{instance.region}_{instance.id}_hins{cross.node_id}_data_{stamp}_qp.xb"
    return {
        "CrossBackupId": cross.id,
        "CrossBackupRegion": cross.cross_backup_region,
        "BackupStartTime": format_time(cross.start),
        "BackupEndTime": format_time(cross.end),
        "ConsistentTime": format_time(cross.consistent),
        "BackupMethod": cross.method,
        "BackupType": cross.backup_type,
        "BackupSetScale": cross.scale,
        "BackupSetStatus": cross.status,
        "CrossBackupSetSize": cross.size_bytes,
        "CrossBackupSetFile": file_name,
        "CrossBackupSetLocation": "oss",
        "CrossBackupDownloadLink": f"http://rdsddrbak-{cross.cross_backup_region.split('-')[-1]}"
        f".oss-{cross.cross_backup_region}.aliyuncs.com/{file_name}",
        "Engine": instance.engine.lower(),
        "EngineVersion": instance.engine_version,
        "Category": instance.category,
        "DBInstanceStorageType": instance.storage_type,
        "InstanceId": cross.node_id,
        "RestoreRegions": {"RestoreRegion": list(cross.restore_regions)},
    }


def describe_cross_region_backups(state: State, params: Params) -> dict[str, Any]:
    instance_id = params.require("DBInstanceId")
    region = params.require("RegionId")
    _check_region(state, region)
    if not state.regions[region].cross_backup_supported:
        raise ApiError("CrossBackupNotSupport")
    stored_in = params.get("CrossBackupRegion")
    _check_region(state, stored_in)
    instance = state.find_instance(instance_id, INSTANCE_NOT_FOUND, region=region)
    if not supports_cross_region_backup(instance):
        raise ApiError("InvalidDBInstanceEngineType.Format")
    cross_id = params.integer("CrossBackupId", error=_format_error)
    backup_id = params.integer("BackupId", error=_format_error)
    size = page_size(params, (30, 50, 100), 30, _format_error)
    number = page_number(params, _format_error)
    raw_start, raw_end = params.get("StartTime"), params.get("EndTime")
    if cross_id is None and (raw_start is None or raw_end is None):
        raise ApiError("ParameterAbsence")
    start = params.time("StartTime", "InvalidStartTime.Format")
    end = params.time("EndTime", "InvalidEndTime.Format")
    if start and end and end < start:
        raise ApiError("InvalidTime.Format")
    found = sorted(
        (
            c
            for c in state.cross_backups.values()
            if c.instance_id == instance.id
            and (cross_id is None or c.id == cross_id)
            and (backup_id is None or c.backup_id == backup_id)
            and (stored_in is None or c.cross_backup_region == stored_in)
            and (start is None or c.start >= start)
            and (end is None or c.start <= end)
        ),
        key=lambda c: c.start,
        reverse=True,
    )
    if number > max(1, math.ceil(len(found) / size)):
        raise ApiError("InvalidPage.notFound")
    chosen = page(found, number, size)
    return {
        "RegionId": instance.region,
        "StartTime": raw_start or "",
        "EndTime": raw_end or "",
        "PageNumber": number,
        "PageRecordCount": len(chosen),
        "TotalRecordCount": len(found),
        "Items": {"Item": [cross_backup_view(c, instance) for c in chosen]},
    }


def _from_backup_set(state: State, params: Params, target: Instance) -> tuple[str, tuple[str, ...]]:
    """RestoreType 0: (source instance ID, databases in the set)."""
    raw = params.get("BackupId")
    if raw is None:
        raise ApiError("RequiredParam.NotFound")
    cross = state.cross_backups.get(int(raw)) if raw.isdigit() else None
    if cross is None:
        raise ApiError("InvalidBackupSetID.NotFound")
    if cross.status != 0:
        raise ApiError("IncorrectBackupSetState")
    source = state.instances.get(cross.instance_id)
    if not state.visible(source):
        raise ApiError("InvalidBackupSetID.NotFound")  # another account's set
    assert source is not None
    if target.region not in cross.restore_regions or source.engine != target.engine:
        raise ApiError("InvalidBakset.Invalid")
    if cross.method == "L":
        raise ApiError("IncorrectBackupSetMethod")
    return cross.instance_id, cross.databases


def _from_point_in_time(state: State, params: Params, target: Instance) -> tuple[str, tuple[str, ...]]:
    """RestoreType 1: (source instance ID, databases at the restore time)."""
    raw_time = params.get("RestoreTime")
    source_region = params.get("SourceRegion")
    source_id = params.get("SourceDBInstanceName")
    if raw_time is None or source_region is None or source_id is None:
        raise ApiError("RequiredParam.NotFound")
    when = parse_time(raw_time, "InvalidRestoreTime.Format")
    now = state.now()
    if when >= now:
        raise ApiError("InvalidRestoreTime.Format")
    _check_region(state, source_region)
    source = state.find_instance(source_id, INSTANCE_NOT_FOUND, region=source_region)
    sets = [
        c
        for c in state.cross_backups.values()
        if c.instance_id == source.id and c.status == 0 and target.region in c.restore_regions
    ]
    if not sets or source.engine != target.engine:
        raise ApiError("NoAvailableDisasterRestoreBakset")
    if not source.cross_region_log_backup:
        raise ApiError("InvalidBackupLogStatus")
    if when < min(c.consistent for c in sets):
        raise ApiError("InvalidBackup.NotFound")
    if when > now - LOG_SHIPPING_DELAY:
        raise ApiError("InvalidBinlog.NotFound")
    return source.id, state.databases_at(source.id, when)


def _check_entries(
    entries: list[DbEntry], available: tuple[str, ...], into_source: bool, target_dbs: dict[str, Database]
) -> None:
    for entry in entries:
        if entry.name not in available:
            raise ApiError("InvalidSourceRestoreDBName.NotFound")
        if into_source:
            same_db = not entry.tables and entry.newname == entry.name
            same_table = any(table.newname == table.name for table in entry.tables)
            if same_db or same_table:
                raise ApiError("InvalidParamTableMetaForRestore.Content")
        if not entry.tables and entry.newname in target_dbs:
            raise ApiError("InvalidDBName.Duplicate")


def restore_ddr_table(state: State, params: Params) -> dict[str, Any]:
    target = state.find_instance(params.require("DBInstanceId"), INSTANCE_NOT_FOUND)
    region = params.get("RegionId")
    _check_region(state, region)
    if region is not None and region != target.region:
        raise ApiError(INSTANCE_NOT_FOUND)
    restore_type = params.get("RestoreType")
    if restore_type is None:
        raise ApiError("RestoreType.NotFound")
    if restore_type not in ("0", "1"):
        raise ApiError("InvalidRestoreType.Format")
    entries = parse_table_meta(params.get("TableMeta"))
    if target.instance_type != "Primary" or not supports_cross_region_backup(target):
        raise ApiError("IncorrectDBInstanceType")
    if target.status != "Running" or target.lock_mode != "Unlock":
        raise ApiError("IncorrectDBInstanceState")
    if state.read_only_children(target.id):
        raise ApiError("ChildDBInstanceExists")
    pick = _from_backup_set if restore_type == "0" else _from_point_in_time
    source_id, available = pick(state, params, target)
    target_dbs = state.databases.setdefault(target.id, {})
    _check_entries(entries, available, source_id == target.id, target_dbs)
    # Tables restored into a database the target already has create no database.
    created = {e.newname: e.name for e in entries if e.newname not in target_dbs}
    state.add_databases(target, created, source_id)
    target.status = "Restoring"
    state.start_job(
        RESTORE_ACTION, target, state.timings.restore_s, lambda job: _finish(state, job), databases=tuple(created)
    )
    return {"DBInstanceId": target.id}


def _finish(state: State, job: Job) -> None:
    """The target is Running again; its new databases stay (success) or go (failure)."""
    target = state.instances.get(job.instance_id)
    if target is not None and target.status == "Restoring":
        target.status = "Running"
    state.settle_databases(job.instance_id, job.detail["databases"], not job.failed)


OPERATIONS = {
    "DescribeCrossRegionBackups": describe_cross_region_backups,
    RESTORE_ACTION: restore_ddr_table,
}
