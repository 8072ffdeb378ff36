"""DescribeCrossRegionBackups and RestoreDdrTable through the real SDK."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.sandbox.rds import RdsEmulator
from bot.sandbox.rds.params import format_time
from bot.sandbox.rds.seed import (
    MARIADB_WEB,
    MSSQL_PROD,
    MYSQL_DEV,
    MYSQL_DR_SHANGHAI,
    MYSQL_LOCKED,
    MYSQL_PROD,
    MYSQL_READONLY,
    PG_STAGING,
)

NOW = datetime.now(UTC)
HANGZHOU = "cn-hangzhou"


WEEK = {"StartTime": format_time(NOW - timedelta(days=7)), "EndTime": format_time(NOW)}


def cross_sets(emu: RdsEmulator, instance_id: str) -> dict[str, int]:
    """Named cross-region sets of an instance: ok (physical), failed, logical."""
    sets = emu.cross_region_backups(instance_id)
    kinds = {
        "$OK": [c.id for c in sets if c.status == 0 and c.method == "P"],
        "$FAILED": [c.id for c in sets if c.status == 1],
        "$LOGICAL": [c.id for c in sets if c.method == "L"],
    }
    return {name: ids[-1] for name, ids in kinds.items() if ids}


def test_list_cross_region_backups(rds_sdk: Any, rds: Any) -> None:
    body = rds_sdk.raw(rds, "DescribeCrossRegionBackups", {"DBInstanceId": MYSQL_PROD, "RegionId": HANGZHOU, **WEEK})
    rds_sdk.check_types(body, rds_sdk.models.DescribeCrossRegionBackupsResponseBody)
    assert (body["TotalRecordCount"], body["PageRecordCount"], body["PageNumber"], body["RegionId"]) == (
        4,
        4,
        1,
        HANGZHOU,
    )
    assert (body["StartTime"], body["EndTime"]) == (WEEK["StartTime"], WEEK["EndTime"])
    items = body["Items"]["Item"]
    assert sorted(i["BackupSetStatus"] for i in items) == [0, 0, 0, 1]
    assert {i["CrossBackupRegion"] for i in items} == {"cn-shanghai"}
    assert items[0]["RestoreRegions"]["RestoreRegion"] == ["cn-shanghai", HANGZHOU]


def test_list_through_the_model_and_by_id(rds_sdk: Any, rds: Any, rds_emu: RdsEmulator) -> None:
    wanted = cross_sets(rds_emu, MSSQL_PROD)["$OK"]
    request = rds_sdk.models.DescribeCrossRegionBackupsRequest(
        dbinstance_id=MSSQL_PROD, region_id=HANGZHOU, cross_backup_id=wanted
    )
    (item,) = rds.describe_cross_region_backups(request).body.items.item
    assert (item.cross_backup_id, item.engine, item.backup_method, item.backup_type) == (wanted, "sqlserver", "P", "F")


def test_pages_of_cross_region_backups(rds_sdk: Any, rds: Any) -> None:
    query = {"DBInstanceId": MYSQL_PROD, "RegionId": HANGZHOU, **WEEK}
    assert rds_sdk.raw(rds, "DescribeCrossRegionBackups", {**query, "PageSize": 50})["PageRecordCount"] == 4
    error = rds_sdk.error(rds_sdk.raw, rds, "DescribeCrossRegionBackups", {**query, "PageNumber": 2})
    assert (error.code, error.status_code) == ("InvalidPage.notFound", 404)
    old = {"StartTime": format_time(NOW - timedelta(days=60)), "EndTime": format_time(NOW - timedelta(days=50))}
    empty = rds_sdk.raw(rds, "DescribeCrossRegionBackups", {**query, **old})
    assert (empty["TotalRecordCount"], empty["Items"]["Item"]) == (0, [])


LIST = {"DBInstanceId": MYSQL_PROD, "RegionId": HANGZHOU, **WEEK}
LIST_CASES: list[tuple[str, dict[str, Any], str, int]] = [
    ("RegionId missing", {"DBInstanceId": MYSQL_PROD, **WEEK}, "MissingParameter", 400),
    ("unknown region", {**LIST, "RegionId": "cn-nowhere"}, "InvalidRegion.Format", 400),
    ("unknown storage region", {**LIST, "CrossBackupRegion": "mars-1"}, "InvalidRegion.Format", 400),
    ("region without cross-region backup", {**LIST, "RegionId": "cn-heyuan"}, "CrossBackupNotSupport", 403),
    ("unknown instance", {**LIST, "DBInstanceId": "rm-bp1doesnotexist00"}, "InvalidDBInstance.NotFound", 404),
    ("instance of another region", {**LIST, "DBInstanceId": MYSQL_DR_SHANGHAI}, "InvalidDBInstance.NotFound", 404),
    ("MySQL on cloud disks", {**LIST, "DBInstanceId": MYSQL_DEV}, "InvalidDBInstanceEngineType.Format", 400),
    ("MariaDB", {**LIST, "DBInstanceId": MARIADB_WEB}, "InvalidDBInstanceEngineType.Format", 400),
    ("no id and no times", {"DBInstanceId": MYSQL_PROD, "RegionId": HANGZHOU}, "ParameterAbsence", 400),
    (
        "only StartTime",
        {"DBInstanceId": MYSQL_PROD, "RegionId": HANGZHOU, "StartTime": WEEK["StartTime"]},
        "ParameterAbsence",
        400,
    ),
    ("bad StartTime", {**LIST, "StartTime": "2024-03-05T02:21Z"}, "InvalidStartTime.Format", 400),
    ("bad EndTime", {**LIST, "EndTime": "now"}, "InvalidEndTime.Format", 400),
    (
        "EndTime before StartTime",
        {**LIST, "StartTime": WEEK["EndTime"], "EndTime": WEEK["StartTime"]},
        "InvalidTime.Format",
        400,
    ),
    ("PageSize not allowed", {**LIST, "PageSize": 20}, "InvalidParameters.Format", 400),
    ("PageNumber zero", {**LIST, "PageNumber": 0}, "InvalidParameters.Format", 400),
    (
        "CrossBackupId not a number",
        {"DBInstanceId": MYSQL_PROD, "RegionId": HANGZHOU, "CrossBackupId": "abc"},
        "InvalidParameters.Format",
        400,
    ),
]


@pytest.mark.parametrize(("query", "code", "status"), [c[1:] for c in LIST_CASES], ids=[c[0] for c in LIST_CASES])
def test_list_refusals(rds_sdk: Any, rds: Any, query: dict, code: str, status: int) -> None:
    error = rds_sdk.error(rds_sdk.raw, rds, "DescribeCrossRegionBackups", query)
    assert (error.code, error.status_code) == (code, status), error.data["Message"]


def restore(sdk: Any, client: Any, **kwargs: Any) -> Any:
    return client.restore_ddr_table(sdk.models.RestoreDdrTableRequest(**kwargs)).body


def meta(*entries: tuple[str, str]) -> str:
    return json.dumps([{"type": "db", "name": name, "newname": newname} for name, newname in entries])


def test_restore_from_a_cross_region_set(rds_sdk: Any, rds_fresh: RdsEmulator) -> None:
    client = rds_sdk.client(rds_fresh.endpoint)
    kwargs = {
        "dbinstance_id": MYSQL_DR_SHANGHAI,
        "restore_type": "0",
        "region_id": "cn-shanghai",
        "backup_id": str(cross_sets(rds_fresh, MYSQL_PROD)["$OK"]),
        "client_token": "restore-1",
        "table_meta": meta(("payments", "payments_restored")),
    }
    body = restore(rds_sdk, client, **kwargs)
    assert body.dbinstance_id == MYSQL_DR_SHANGHAI
    assert restore(rds_sdk, client, **kwargs).to_map() == body.to_map()  # ClientToken: same answer, one job
    assert len(rds_fresh.jobs("RestoreDdrTable")) == 1
    target = rds_fresh.instance(MYSQL_DR_SHANGHAI)
    assert target is not None and target.status == "Restoring"
    assert {d.name: d.status for d in rds_fresh.databases(MYSQL_DR_SHANGHAI)}["payments_restored"] == "Creating"
    rds_fresh.complete_all()
    assert rds_fresh.instance(MYSQL_DR_SHANGHAI).status == "Running"  # type: ignore[union-attr]
    assert {d.name: d.status for d in rds_fresh.databases(MYSQL_DR_SHANGHAI)}["payments_restored"] == "Running"


def test_restore_to_a_point_in_time(rds_sdk: Any, rds_fresh: RdsEmulator) -> None:
    client = rds_sdk.client(rds_fresh.endpoint)
    restore(
        rds_sdk,
        client,
        dbinstance_id=MYSQL_DR_SHANGHAI,
        restore_type="1",
        source_region=HANGZHOU,
        source_dbinstance_name=MYSQL_PROD,
        restore_time=format_time(NOW - timedelta(hours=3)),
        table_meta=meta(("ledger", "ledger_at_3h"), ("audit", "audit_at_3h")),
    )
    rds_fresh.complete_all()
    names = {d.name for d in rds_fresh.databases(MYSQL_DR_SHANGHAI)}
    assert {"ledger_at_3h", "audit_at_3h"} <= names


def test_restore_tables_into_the_source_under_new_names(rds_sdk: Any, rds_fresh: RdsEmulator) -> None:
    client = rds_sdk.client(rds_fresh.endpoint)
    table_meta = json.dumps(
        [
            {
                "type": "db",
                "name": "hr",
                "newname": "hr",
                "tables": [{"type": "table", "name": "staff", "newname": "staff_backup"}],
            }
        ]
    )
    restore(
        rds_sdk,
        client,
        dbinstance_id=MSSQL_PROD,
        restore_type="0",
        table_meta=table_meta,
        backup_id=str(cross_sets(rds_fresh, MSSQL_PROD)["$OK"]),
    )
    rds_fresh.complete_all()
    assert len(rds_fresh.databases(MSSQL_PROD)) == 6  # tables went into the existing database


def test_failed_restore_leaves_the_target_running_without_the_databases(rds_sdk: Any, rds_fresh: RdsEmulator) -> None:
    client = rds_sdk.client(rds_fresh.endpoint)
    rds_fresh.fail_job("RestoreDdrTable")
    restore(
        rds_sdk,
        client,
        dbinstance_id=MYSQL_DR_SHANGHAI,
        restore_type="0",
        backup_id=str(cross_sets(rds_fresh, MYSQL_PROD)["$OK"]),
        table_meta=meta(("payments", "p2")),
    )
    rds_fresh.complete_all()
    assert rds_fresh.instance(MYSQL_DR_SHANGHAI).status == "Running"  # type: ignore[union-attr]
    assert "p2" not in {d.name for d in rds_fresh.databases(MYSQL_DR_SHANGHAI)}


class Ago:
    """A time relative to when the test runs (not to when the module was imported)."""

    def __init__(self, delta: timedelta) -> None:
        self.delta = delta

    def __str__(self) -> str:
        return format_time(datetime.now(UTC) - self.delta)

    def __neg__(self) -> "Ago":
        return Ago(-self.delta)


OK0 = {"DBInstanceId": MYSQL_DR_SHANGHAI, "RestoreType": "0", "BackupId": "$OK", "TableMeta": meta(("payments", "p1"))}
OK1 = {
    "DBInstanceId": MYSQL_DR_SHANGHAI,
    "RestoreType": "1",
    "SourceRegion": HANGZHOU,
    "SourceDBInstanceName": MYSQL_PROD,
    "RestoreTime": Ago(timedelta(hours=3)),
    "TableMeta": meta(("payments", "p1")),
}
RESTORE_CASES: list[tuple[str, dict[str, Any], str, int]] = [
    ("unknown target", {**OK0, "DBInstanceId": "rm-uf6doesnotexist00"}, "InvalidDBInstance.NotFound", 404),
    ("target not in RegionId", {**OK0, "RegionId": HANGZHOU}, "InvalidDBInstance.NotFound", 404),
    ("RegionId unknown", {**OK0, "RegionId": "xx-1"}, "InvalidRegion.Format", 400),
    ("RestoreType missing", {k: v for k, v in OK0.items() if k != "RestoreType"}, "RestoreType.NotFound", 404),
    ("RestoreType unknown", {**OK0, "RestoreType": "2"}, "InvalidRestoreType.Format", 400),
    ("TableMeta missing", {k: v for k, v in OK0.items() if k != "TableMeta"}, "InvalidParamTableMeta", 400),
    ("TableMeta not a list", {**OK0, "TableMeta": '{"name":"payments"}'}, "InvalidParamTableMeta", 400),
    (
        "TableMeta without newname",
        {**OK0, "TableMeta": '[{"type":"db","name":"payments"}]'},
        "InvalidParamTableMeta.Content",
        400,
    ),
    (
        "TableMeta table without name",
        {
            **OK0,
            "TableMeta": json.dumps(
                [{"type": "db", "name": "payments", "newname": "p", "tables": [{"type": "table", "newname": "t"}]}]
            ),
        },
        "InvalidParamTableMeta.Content",
        400,
    ),
    (
        "TableMeta duplicate table",
        {
            **OK0,
            "TableMeta": json.dumps(
                [
                    {
                        "type": "db",
                        "name": "payments",
                        "newname": "p",
                        "tables": [{"name": "a", "newname": "t"}, {"name": "b", "newname": "t"}],
                    }
                ]
            ),
        },
        "InvalidParamTableMeta.Duplicate",
        400,
    ),
    ("target MySQL on cloud disks", {**OK0, "DBInstanceId": MYSQL_DEV}, "IncorrectDBInstanceType", 403),
    ("read-only target", {**OK0, "DBInstanceId": MYSQL_READONLY}, "IncorrectDBInstanceType", 403),
    ("locked target", {**OK0, "DBInstanceId": MYSQL_LOCKED}, "IncorrectDBInstanceState", 403),
    ("target with read-only children", {**OK0, "DBInstanceId": MYSQL_PROD}, "ChildDBInstanceExists", 403),
    ("BackupId missing", {k: v for k, v in OK0.items() if k != "BackupId"}, "RequiredParam.NotFound", 400),
    ("unknown BackupId", {**OK0, "BackupId": "42"}, "InvalidBackupSetID.NotFound", 404),
    ("failed set", {**OK0, "BackupId": "$FAILED"}, "IncorrectBackupSetState", 403),
    ("logical set", {**OK0, "BackupId": "$LOGICAL"}, "IncorrectBackupSetMethod", 403),
    ("set of another engine", {**OK0, "BackupId": "$MSSQL_OK"}, "InvalidBakset.Invalid", 400),
    (
        "point in time without SourceRegion",
        {k: v for k, v in OK1.items() if k != "SourceRegion"},
        "RequiredParam.NotFound",
        400,
    ),
    ("malformed RestoreTime", {**OK1, "RestoreTime": "2024-03-05"}, "InvalidRestoreTime.Format", 400),
    (
        "RestoreTime in the future",
        {**OK1, "RestoreTime": Ago(-timedelta(hours=1))},
        "InvalidRestoreTime.Format",
        400,
    ),
    ("unknown SourceRegion", {**OK1, "SourceRegion": "cn-nowhere"}, "InvalidRegion.Format", 400),
    ("unknown source", {**OK1, "SourceDBInstanceName": "rm-bp1doesnotexist00"}, "InvalidDBInstance.NotFound", 404),
    (
        "source without cross-region sets",
        {**OK1, "SourceDBInstanceName": MYSQL_DEV},
        "NoAvailableDisasterRestoreBakset",
        400,
    ),
    (
        "source without cross-region log backup",
        {**OK1, "DBInstanceId": PG_STAGING, "SourceDBInstanceName": PG_STAGING, "TableMeta": meta(("analytics", "a2"))},
        "InvalidBackupLogStatus",
        403,
    ),
    (
        "before the oldest set",
        {**OK1, "RestoreTime": Ago(timedelta(days=6, hours=12))},
        "InvalidBackup.NotFound",
        404,
    ),
    (
        "logs not shipped yet",
        {**OK1, "RestoreTime": Ago(timedelta(minutes=1))},
        "InvalidBinlog.NotFound",
        404,
    ),
    (
        "database not in the set",
        {**OK0, "TableMeta": meta(("nosuchdb", "x"))},
        "InvalidSourceRestoreDBName.NotFound",
        400,
    ),
    (
        "same database name into the source",
        {**OK0, "DBInstanceId": MSSQL_PROD, "BackupId": "$MSSQL_OK", "TableMeta": meta(("hr", "hr"))},
        "InvalidParamTableMetaForRestore.Content",
        400,
    ),
    (
        "same table name into the source",
        {
            **OK0,
            "DBInstanceId": MSSQL_PROD,
            "BackupId": "$MSSQL_OK",
            "TableMeta": json.dumps(
                [{"type": "db", "name": "hr", "newname": "hr", "tables": [{"name": "t", "newname": "t"}]}]
            ),
        },
        "InvalidParamTableMetaForRestore.Content",
        400,
    ),
    (
        "target already has the database",
        {**OK0, "TableMeta": meta(("payments", "dr_probe"))},
        "InvalidDBName.Duplicate",
        400,
    ),
]


@pytest.fixture(scope="module")
def named_sets(rds_emu: RdsEmulator) -> dict[str, str]:
    names = {k: str(v) for k, v in cross_sets(rds_emu, MYSQL_PROD).items()}
    names["$MSSQL_OK"] = str(cross_sets(rds_emu, MSSQL_PROD)["$OK"])
    return names


@pytest.mark.parametrize(("query", "code", "status"), [c[1:] for c in RESTORE_CASES], ids=[c[0] for c in RESTORE_CASES])
def test_restore_refusals(
    rds_sdk: Any, rds: Any, rds_emu: RdsEmulator, named_sets: dict[str, str], query: dict, code: str, status: int
) -> None:
    query = {k: str(v) if isinstance(v, Ago) else named_sets.get(v, v) for k, v in query.items()}
    error = rds_sdk.error(rds_sdk.raw, rds, "RestoreDdrTable", query)
    assert (error.code, error.status_code) == (code, status), error.data["Message"]
    assert rds_emu.jobs("RestoreDdrTable") == []
