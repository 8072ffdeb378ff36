"""CopyDatabaseBetweenInstances through the real SDK: progress on the target and every refusal."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.sandbox.rds import RdsEmulator
from bot.sandbox.rds.params import format_time
from bot.sandbox.rds.seed import (
    MSSQL_2016,
    MSSQL_ALWAYSON,
    MSSQL_BASIC,
    MSSQL_PROD,
    MSSQL_QA,
    MSSQL_READONLY,
    MSSQL_SHANGHAI,
    MYSQL_DEV,
    MYSQL_PROD,
)

NOW = datetime.now(UTC)


def latest_backup(emu: RdsEmulator, instance_id: str) -> str:
    return next(b.id for b in emu.backups(instance_id) if b.status == "Success")


def copy(sdk: Any, client: Any, **kwargs: Any) -> Any:
    return client.copy_database_between_instances(sdk.models.CopyDatabaseBetweenInstancesRequest(**kwargs)).body


def target_dbs(sdk: Any, client: Any, instance_id: str) -> dict[str, str]:
    body = client.describe_databases(sdk.models.DescribeDatabasesRequest(dbinstance_id=instance_id)).body
    return {d.dbname: d.dbstatus for d in body.databases.database}


def test_copy_from_a_backup_creates_then_runs_the_databases(rds_sdk: Any, rds_fresh: RdsEmulator) -> None:
    client = rds_sdk.client(rds_fresh.endpoint)
    body = copy(
        rds_sdk,
        client,
        dbinstance_id=MSSQL_PROD,
        target_dbinstance_id=MSSQL_QA,
        db_names=json.dumps({"hr": "hr_copy"}),
        backup_id=latest_backup(rds_fresh, MSSQL_PROD),
    )
    assert body.to_map().keys() == {"RequestId"}
    assert target_dbs(rds_sdk, client, MSSQL_QA)["hr_copy"] == "Creating"
    rds_fresh.complete_all()
    assert target_dbs(rds_sdk, client, MSSQL_QA) == {"erp": "Running", "qa_seed": "Running", "hr_copy": "Running"}


def test_copy_to_a_point_in_time_finishes_after_the_configured_time(rds_sdk: Any, rds_fresh: RdsEmulator) -> None:
    import time

    client = rds_sdk.client(rds_fresh.endpoint)
    copy(
        rds_sdk,
        client,
        dbinstance_id=MSSQL_PROD,
        target_dbinstance_id=MSSQL_QA,
        sync_user_privilege="YES",
        db_names=json.dumps({"erp": "erp_pitr"}),
        restore_time=format_time(NOW - timedelta(hours=1)),
    )
    assert target_dbs(rds_sdk, client, MSSQL_QA)["erp_pitr"] == "Creating"
    time.sleep(0.35)  # RDS_FAST.copy_s is 0.3 s
    assert target_dbs(rds_sdk, client, MSSQL_QA)["erp_pitr"] == "Running"


def test_failed_copy_leaves_no_database(rds_sdk: Any, rds_fresh: RdsEmulator) -> None:
    client = rds_sdk.client(rds_fresh.endpoint)
    rds_fresh.fail_job("CopyDatabaseBetweenInstances")
    copy(
        rds_sdk,
        client,
        dbinstance_id=MSSQL_PROD,
        target_dbinstance_id=MSSQL_QA,
        db_names=json.dumps({"hr": "hr_copy"}),
        backup_id=latest_backup(rds_fresh, MSSQL_PROD),
    )
    rds_fresh.complete_all()
    assert "hr_copy" not in target_dbs(rds_sdk, client, MSSQL_QA)
    assert [j.failed for j in rds_fresh.jobs("CopyDatabaseBetweenInstances")] == [True]


def test_a_repeated_copy_is_refused_because_the_api_has_no_client_token(rds_sdk: Any, rds_fresh: RdsEmulator) -> None:
    assert "client_token" not in rds_sdk.models.CopyDatabaseBetweenInstancesRequest().__dict__
    client = rds_sdk.client(rds_fresh.endpoint)
    kwargs = {
        "dbinstance_id": MSSQL_PROD,
        "target_dbinstance_id": MSSQL_QA,
        "db_names": json.dumps({"hr": "hr2"}),
        "backup_id": latest_backup(rds_fresh, MSSQL_PROD),
    }
    copy(rds_sdk, client, **kwargs)
    assert rds_sdk.error(copy, rds_sdk, client, **kwargs).code == "InvalidDBName.Duplicate"


OK = {"DBInstanceId": MSSQL_PROD, "TargetDBInstanceId": MSSQL_QA, "DbNames": '{"hr":"hr_copy"}', "BackupId": "$BACKUP"}
PITR = {**{k: v for k, v in OK.items() if k != "BackupId"}, "RestoreTime": format_time(NOW - timedelta(hours=1))}
CASES: list[tuple[str, dict[str, Any], str, int]] = [
    ("DbNames missing", {k: v for k, v in OK.items() if k != "DbNames"}, "MissingParameter", 400),
    ("unknown source", {**OK, "DBInstanceId": "rm-bp1doesnotexist00"}, "InvalidDBInstance.NotFound", 404),
    ("target not an instance ID", {**OK, "TargetDBInstanceId": "erp-qa"}, "InvalidTargetDBInstanceName.Format", 400),
    ("unknown target", {**OK, "TargetDBInstanceId": "rm-bp1doesnotexist00"}, "InvalidDBInstance.NotFound", 404),
    ("source not SQL Server", {**OK, "DBInstanceId": MYSQL_PROD}, "EngineNotSupported", 400),
    ("target not SQL Server", {**OK, "TargetDBInstanceId": MYSQL_DEV}, "TargetInstanceEngineNotSupported", 400),
    ("read-only source", {**OK, "DBInstanceId": MSSQL_READONLY}, "ReadDBInstanceNotSupport", 400),
    ("read-only target", {**OK, "TargetDBInstanceId": MSSQL_READONLY}, "ReadOnlyInstanceNotSupport", 400),
    ("other region", {**OK, "TargetDBInstanceId": MSSQL_SHANGHAI}, "InvalidInstancesRegion.Malformed", 400),
    ("newer source version", {**OK, "TargetDBInstanceId": MSSQL_2016}, "InvalidInstanceVersion", 403),
    (
        "both BackupId and RestoreTime",
        {**OK, "RestoreTime": format_time(NOW - timedelta(hours=1))},
        "ErrorParametersConflict",
        400,
    ),
    (
        "neither BackupId nor RestoreTime",
        {k: v for k, v in OK.items() if k != "BackupId"},
        "RequiredParam.NotFound",
        400,
    ),
    ("DbNames not JSON", {**OK, "DbNames": "hr,erp"}, "InvalidRecoveryDBNames.Format", 400),
    ("DbNames a list", {**OK, "DbNames": '["hr"]'}, "InvalidRecoveryDBNames.Format", 400),
    ("DbNames empty map", {**OK, "DbNames": "{}"}, "InvalidRecoveryDBNames.Format", 400),
    ("DbNames non-string", {**OK, "DbNames": '{"hr": 1}'}, "InvalidRecoveryDBNames.Format", 400),
    ("name with bad characters", {**OK, "DbNames": '{"hr":"hr copy!"}'}, "InvalidCharacter.DbOrAccount", 400),
    ("name starting with a digit", {**OK, "DbNames": '{"hr":"1hr"}'}, "InvalidDBName.Format", 400),
    ("system database name", {**OK, "DbNames": '{"hr":"master"}'}, "InvalidDBName.Format", 400),
    ("two sources one name", {**OK, "DbNames": '{"hr":"x","erp":"x"}'}, "InvalidDBName.Duplicate", 400),
    ("BackupId not a number", {**OK, "BackupId": "latest"}, "InvalidBackupSetID", 400),
    ("unknown BackupId", {**OK, "BackupId": "999"}, "InvalidBackupIdOrRestoreTime.NotFound", 400),
    ("backup of another instance", {**OK, "BackupId": "$QA_BACKUP"}, "InvalidBackupIdOrRestoreTime.NotFound", 400),
    ("malformed RestoreTime", {**PITR, "RestoreTime": "yesterday"}, "InvalidBackupIdOrRestoreTime.NotFound", 400),
    (
        "RestoreTime in the future",
        {**PITR, "RestoreTime": format_time(NOW + timedelta(hours=1))},
        "InvalidBackupIdOrRestoreTime.NotFound",
        400,
    ),
    (
        "RestoreTime before retention",
        {**PITR, "RestoreTime": format_time(NOW - timedelta(days=10))},
        "InvalidBackupIdOrRestoreTime.NotFound",
        400,
    ),
    (
        "RestoreTime before the first backup",
        {**PITR, "RestoreTime": format_time(NOW - timedelta(days=7) + timedelta(hours=1))},
        "InvalidParamTableMeta.RestoreTime",
        403,
    ),
    ("source database missing", {**OK, "DbNames": '{"nosuchdb":"x"}'}, "InvalidDBName.NotFound", 400),
    ("target already has it", {**OK, "DbNames": '{"erp":"erp"}'}, "InvalidDBName.Duplicate", 400),
    ("TDE source database", {**OK, "DbNames": '{"finance_tde":"f2"}'}, "CanNotCopyDBHasTDEEnabled", 400),
    ("cold database at RestoreTime", {**PITR, "DbNames": '{"archive2019":"a2"}'}, "InvalidRestoreTimeSpecified", 400),
    ("cold database in the backup", {**OK, "DbNames": '{"archive2019":"a2"}'}, "InvalidRestoreDB", 400),
    (
        "SIMPLE recovery with RestoreTime",
        {**PITR, "DbNames": '{"reporting_simple":"r2"}'},
        "CurrentRecoveryModelNotSupportThisAction",
        403,
    ),
    (
        "too many databases",
        {**OK, "DbNames": '{"hr":"a","reporting_simple":"b","erp":"c"}'},
        "DBCountLimitExceeded",
        400,
    ),
    ("not enough target storage", {**OK, "DbNames": '{"warehouse":"w2"}'}, "StorageLimitExceeded", 403),
    (
        "snapshot set to a target without snapshot backup",
        {
            **OK,
            "DBInstanceId": MSSQL_BASIC,
            "TargetDBInstanceId": MSSQL_ALWAYSON,
            "DbNames": '{"erp_dev":"erp_dev"}',
            "BackupId": "$BASIC_BACKUP",
        },
        "OperationDenied.SnapshotBackupSet",
        400,
    ),
    (
        "snapshot-backup source by time",
        {**PITR, "DBInstanceId": MSSQL_BASIC, "TargetDBInstanceId": MSSQL_ALWAYSON, "DbNames": '{"erp_dev":"erp_dev"}'},
        "OperationDenied.RestoreTime",
        400,
    ),
    ("SyncUserPrivilege unknown", {**OK, "SyncUserPrivilege": "MAYBE"}, "InvalidParameter", 400),
]


@pytest.fixture(scope="module")
def backups(rds_emu: RdsEmulator) -> dict[str, str]:
    return {
        "$BACKUP": latest_backup(rds_emu, MSSQL_PROD),
        "$QA_BACKUP": latest_backup(rds_emu, MSSQL_QA),
        "$BASIC_BACKUP": latest_backup(rds_emu, MSSQL_BASIC),
    }


@pytest.mark.parametrize(("query", "code", "status"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_copy_refusals(rds_sdk: Any, rds: Any, backups: dict[str, str], query: dict, code: str, status: int) -> None:
    query = {k: backups.get(v, v) for k, v in query.items()}
    error = rds_sdk.error(rds_sdk.raw, rds, "CopyDatabaseBetweenInstances", query)
    assert (error.code, error.status_code) == (code, status), error.data["Message"]


@pytest.mark.parametrize(
    ("changes", "code", "status"),
    [
        ({"instance": MSSQL_PROD, "status": "Restoring"}, "IncorrectDBInstanceState", 403),
        ({"instance": MSSQL_QA, "lock_mode": "ManualLock"}, "IncorrectDBInstanceState", 403),
        ({"instance": MSSQL_QA, "category": "serverless_ha"}, "IncorrectDBInstanceType", 403),
        ({"instance": MSSQL_ALWAYSON, "snapshot_backup": True}, "Forbidden.SnapshotRecovery", 403),
    ],
)
def test_copy_refusals_that_need_a_changed_estate(
    rds_sdk: Any, rds_fresh: RdsEmulator, changes: dict, code: str, status: int
) -> None:
    instance = changes.pop("instance")
    rds_fresh.update_instance(instance, **changes)
    client = rds_sdk.client(rds_fresh.endpoint)
    if instance == MSSQL_ALWAYSON:  # one of the two databases of a snapshot set: a partial restore
        query = {
            "DBInstanceId": MSSQL_BASIC,
            "TargetDBInstanceId": MSSQL_ALWAYSON,
            "DbNames": '{"erp_dev":"erp_dev"}',
            "BackupId": latest_backup(rds_fresh, MSSQL_BASIC),
        }
    else:
        query = {**OK, "BackupId": latest_backup(rds_fresh, MSSQL_PROD)}
    error = rds_sdk.error(rds_sdk.raw, client, "CopyDatabaseBetweenInstances", query)
    assert (error.code, error.status_code) == (code, status)


CATEGORIES = ["Basic", "HighAvailability", "AlwaysOn", "Share"]
EXPECTED_PAIRS = {
    ("HighAvailability", "Basic"): ("UnsupportedCopyDbHighAvailabilityToBasic", 403),
    ("HighAvailability", "Share"): ("UnsupportedCopyDbHighAvailabilityToShare", 403),
    ("AlwaysOn", "Basic"): ("UnsupportedCopyDbAlwaysOnToBasic", 403),
    ("AlwaysOn", "HighAvailability"): ("UnsupportedCopyDbAlwaysOnToHighAvailability", 403),
    ("AlwaysOn", "Share"): ("UnsupportedCopyDbAlwaysOnToShare", 403),
    ("Basic", "Share"): ("UnsupportedCopyDbBasicToShare", 403),
    ("Share", "Basic"): ("UnsupportedCopyDbShareToBasic", 403),
    ("Share", "HighAvailability"): ("UnsupportedCopyDbShareToHighAvailability", 403),
    ("Share", "AlwaysOn"): ("UnsupportedCopyDbShareToAlwaysOn", 403),
    ("Basic", "HighAvailability"): ("BackupRestoreNotSupported.BasicHA", 400),
    ("HighAvailability", "AlwaysOn"): ("BackupRestoreNotSupported.HADedicatedAlwaysOn", 400),
}


@pytest.mark.parametrize(("source", "target"), list(itertools.product(CATEGORIES, CATEGORIES)))
def test_category_pairs(rds_sdk: Any, rds_fresh: RdsEmulator, source: str, target: str) -> None:
    rds_fresh.update_instance(MSSQL_PROD, category=source)
    rds_fresh.update_instance(MSSQL_QA, category=target)
    client = rds_sdk.client(rds_fresh.endpoint)
    query = {**OK, "BackupId": latest_backup(rds_fresh, MSSQL_PROD)}
    if (source, target) in EXPECTED_PAIRS:
        error = rds_sdk.error(rds_sdk.raw, client, "CopyDatabaseBetweenInstances", query)
        assert (error.code, error.status_code) == EXPECTED_PAIRS[(source, target)]
    else:  # same edition, and Basic -> AlwaysOn, which neither list names
        assert rds_sdk.raw(client, "CopyDatabaseBetweenInstances", query).keys() == {"RequestId"}
