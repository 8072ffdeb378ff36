"""CloneDBInstance through the real SDK: the new instance's life, idempotency, every refusal."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.sandbox.rds import ManualClock, RdsEmulator, Timings
from bot.sandbox.rds.params import format_time
from bot.sandbox.rds.seed import (
    HOST_GROUP,
    MYSQL_CLASSIC,
    MYSQL_DEV,
    MYSQL_PROD,
    MYSQL_STOPPED,
    PG_STAGING,
)

@pytest.fixture
def emu(slow_emulator: Callable[[Timings], RdsEmulator]) -> RdsEmulator:
    return slow_emulator(Timings(clone_s=60))


def good_backup(emu: RdsEmulator, instance_id: str = MYSQL_PROD) -> str:
    return next(b.id for b in emu.backups(instance_id) if b.status == "Success")


def clone(sdk: Any, client: Any, **kwargs: Any) -> Any:
    return client.clone_dbinstance(sdk.models.CloneDBInstanceRequest(**kwargs)).body


def status(sdk: Any, client: Any, instance_id: str) -> str:
    request = sdk.models.DescribeDBInstanceAttributeRequest(dbinstance_id=instance_id)
    return client.describe_dbinstance_attribute(request).body.items.dbinstance_attribute[0].dbinstance_status


def test_clone_from_a_backup_goes_creating_then_running(rds_sdk: Any, emu: RdsEmulator, clock: ManualClock) -> None:
    client = rds_sdk.client(emu.endpoint)
    body = clone(rds_sdk, client, dbinstance_id=MYSQL_PROD, pay_type="Postpaid", backup_id=good_backup(emu))
    assert body.dbinstance_id.startswith("rm-bp1") and body.dbinstance_id != MYSQL_PROD
    assert body.order_id.isdigit()
    assert status(rds_sdk, client, body.dbinstance_id) == "Creating"
    listed = client.describe_dbinstances(
        rds_sdk.models.DescribeDBInstancesRequest(region_id="cn-hangzhou", dbinstance_id=body.dbinstance_id)
    ).body.items.dbinstance
    assert [i.dbinstance_status for i in listed] == ["Creating"]
    clock.advance(59)
    assert status(rds_sdk, client, body.dbinstance_id) == "Creating"
    clock.advance(2)
    assert status(rds_sdk, client, body.dbinstance_id) == "Running"
    clone_dbs = {(d.name, d.status) for d in emu.databases(body.dbinstance_id)}
    assert clone_dbs == {("payments", "Running"), ("ledger", "Running"), ("audit", "Running")}
    new = emu.instance(body.dbinstance_id)
    assert new is not None and (new.engine, new.storage_gb, new.storage_type, new.zone) == (
        "MySQL",
        500,
        "local_ssd",
        "cn-hangzhou-h",
    )


def test_clone_to_a_point_in_time_with_some_databases(rds_sdk: Any, emu: RdsEmulator) -> None:
    client = rds_sdk.client(emu.endpoint)
    body = clone(
        rds_sdk,
        client,
        dbinstance_id=MYSQL_PROD,
        pay_type="Prepaid",
        period="Month",
        used_time=2,
        restore_time=format_time(datetime.now(UTC) - timedelta(hours=2)),
        db_names="payments,audit",
        dbinstance_storage=600,
        dbinstance_description="payments-pitr",
        zone_id="cn-hangzhou-h",
        zone_id_slave_1="cn-hangzhou-i",
        v_switch_id="vsw-bp1prodh0000001,vsw-bp1prodi0000001",
    )
    emu.complete_all()
    new = emu.instance(body.dbinstance_id)
    assert new is not None
    assert (new.status, new.storage_gb, new.description, new.pay_type, new.slave_zones) == (
        "Running",
        600,
        "payments-pitr",
        "Prepaid",
        ("cn-hangzhou-i",),
    )
    assert sorted(d.name for d in emu.databases(body.dbinstance_id)) == ["audit", "payments"]


def test_clone_some_tables_under_new_names(rds_sdk: Any, emu: RdsEmulator) -> None:
    client = rds_sdk.client(emu.endpoint)
    meta = [
        {
            "type": "db",
            "name": "audit",
            "newname": "audit_new",
            "tables": [{"type": "table", "name": "events", "newname": "events_new"}],
        }
    ]
    body = clone(
        rds_sdk,
        client,
        dbinstance_id=MYSQL_PROD,
        pay_type="Postpaid",
        backup_id=good_backup(emu),
        restore_table="1",
        table_meta=json.dumps(meta),
    )
    emu.complete_all()
    assert [d.name for d in emu.databases(body.dbinstance_id)] == ["audit_new"]


def test_the_further_options_are_accepted_and_recorded(rds_sdk: Any, rds: Any, rds_emu: RdsEmulator) -> None:
    """AutoPay, DeletionProtection, BackupType and DedicatedHostGroupId, sent as the bot sends them (strings)."""
    backup = next(b for b in rds_emu.backups(MYSQL_DEV) if b.status == "Success")
    body = rds_sdk.raw(rds, "CloneDBInstance", {
        "DBInstanceId": MYSQL_DEV, "PayType": "Prepaid", "Period": "Month", "UsedTime": "1", "AutoPay": "false",
        "DeletionProtection": "true", "BackupId": backup.id, "BackupType": backup.backup_type,
        "DedicatedHostGroupId": HOST_GROUP})
    new = rds_emu.instance(body["DBInstanceId"])
    assert new is not None
    assert (new.auto_pay, new.deletion_protection, new.dedicated_host_group_id) == (False, True, HOST_GROUP)
    (call,) = [c for c in rds_emu.calls_for("CloneDBInstance") if c.params.get("DBInstanceId") == MYSQL_DEV
               and c.params.get("DedicatedHostGroupId") == HOST_GROUP]
    assert (call.params["AutoPay"], call.params["DeletionProtection"]) == ("false", "true")


def test_same_client_token_gives_the_same_answer_and_one_instance(rds_sdk: Any, emu: RdsEmulator) -> None:
    client = rds_sdk.client(emu.endpoint)
    backup_id = good_backup(emu)
    before = len(emu.instances())
    first = clone(
        rds_sdk, client, dbinstance_id=MYSQL_PROD, pay_type="Postpaid", backup_id=backup_id, client_token="req-42"
    )
    again = clone(
        rds_sdk, client, dbinstance_id=MYSQL_PROD, pay_type="Postpaid", backup_id=backup_id, client_token="req-42"
    )
    assert again.to_map() == first.to_map()  # DBInstanceId, OrderId and RequestId
    assert len(emu.instances()) == before + 1
    calls = emu.calls_for("CloneDBInstance")
    assert [(c.client_token, c.status, c.replayed) for c in calls] == [("req-42", 200, False), ("req-42", 200, True)]
    other = clone(
        rds_sdk, client, dbinstance_id=MYSQL_PROD, pay_type="Postpaid", backup_id=backup_id, client_token="req-43"
    )
    assert other.dbinstance_id != first.dbinstance_id and len(emu.instances()) == before + 2


def test_client_token_survives_a_client_timeout(rds_sdk: Any, emu: RdsEmulator) -> None:
    from darabonba.exceptions import UnretryableException

    emu.inject(action="CloneDBInstance", delay_s=0.5)
    slow = rds_sdk.client(emu.endpoint, read_timeout=200)
    kwargs = {"dbinstance_id": MYSQL_PROD, "pay_type": "Postpaid", "backup_id": good_backup(emu), "client_token": "t-1"}
    with pytest.raises(UnretryableException):
        clone(rds_sdk, slow, **kwargs)
    retried = clone(rds_sdk, rds_sdk.client(emu.endpoint), **kwargs)
    assert [j.instance_id for j in emu.jobs("CloneDBInstance")] == [retried.dbinstance_id]


def test_a_refused_call_does_not_use_up_the_token(rds_sdk: Any, emu: RdsEmulator) -> None:
    client = rds_sdk.client(emu.endpoint)
    emu.inject(action="CloneDBInstance", code="Throttling.User", retry_after_ms=100)
    kwargs = {"dbinstance_id": MYSQL_PROD, "pay_type": "Postpaid", "backup_id": good_backup(emu), "client_token": "t-2"}
    assert rds_sdk.error(clone, rds_sdk, client, **kwargs).code == "Throttling.User"
    assert clone(rds_sdk, client, **kwargs).dbinstance_id
    assert len(emu.jobs("CloneDBInstance")) == 1


@pytest.mark.parametrize(
    ("final_status", "expected"), [("Released", "Released"), (None, "InvalidDBInstanceId.NotFound")]
)
def test_failed_clone(rds_sdk: Any, emu: RdsEmulator, final_status: str | None, expected: str) -> None:
    client = rds_sdk.client(emu.endpoint)
    emu.fail_job("CloneDBInstance", final_status=final_status)
    body = clone(rds_sdk, client, dbinstance_id=MYSQL_PROD, pay_type="Postpaid", backup_id=good_backup(emu))
    emu.complete_all()
    try:
        outcome = status(rds_sdk, client, body.dbinstance_id)
    except rds_sdk.TeaException as error:
        outcome = error.code
    assert outcome == expected
    tasks = rds_sdk.raw(
        client,
        "DescribeHistoryTasks",
        {
            "FromStartTime": format_time(datetime.now(UTC) - timedelta(hours=1)),
            "ToStartTime": format_time(datetime.now(UTC) + timedelta(hours=1)),
            "TaskType": "CloneDBInstance",
        },
    )
    assert [t["Status"] for t in tasks["Items"]] == ["Failed"]


# --- refusals --------------------------------------------------------------------------------

NOW = datetime.now(UTC)
OK = {"DBInstanceId": MYSQL_PROD, "PayType": "Postpaid", "BackupId": "$BACKUP"}
CASES: list[tuple[str, dict[str, Any], str, int]] = [
    ("unknown source", {**OK, "DBInstanceId": "rm-bp1doesnotexist00"}, "InvalidDBInstance.NotFound", 404),
    ("source in another region", {**OK, "RegionId": "cn-shanghai"}, "InvalidDBInstance.NotFound", 404),
    ("PayType missing", {"DBInstanceId": MYSQL_PROD, "BackupId": "$BACKUP"}, "MissingParameter", 400),
    ("PayType unknown", {**OK, "PayType": "Monthly"}, "InvalidParameter", 400),
    ("classic network source", {**OK, "DBInstanceId": MYSQL_CLASSIC}, "StopService.Clone", 400),
    ("source not running", {**OK, "DBInstanceId": MYSQL_STOPPED}, "InvalideStatus.Format", 400),
    (
        "neither BackupId nor RestoreTime",
        {"DBInstanceId": MYSQL_PROD, "PayType": "Postpaid"},
        "RequiredParam.NotFound",
        400,
    ),
    (
        "both BackupId and RestoreTime",
        {**OK, "RestoreTime": format_time(NOW - timedelta(hours=1))},
        "Parameters.Invalid",
        400,
    ),
    ("unknown backup", {**OK, "BackupId": "999"}, "InvalidBakset.Invalid", 400),
    ("backup of another instance", {**OK, "BackupId": "$DEV_BACKUP"}, "InvalidBakset.Invalid", 400),
    ("failed backup", {**OK, "BackupId": "$FAILED_BACKUP"}, "InvalidBakset.Invalid", 400),
    (
        "malformed RestoreTime",
        {"DBInstanceId": MYSQL_PROD, "PayType": "Postpaid", "RestoreTime": "2024-03-05 10:00"},
        "InvalidRestoreTime.Format",
        400,
    ),
    (
        "RestoreTime in the future",
        {"DBInstanceId": MYSQL_PROD, "PayType": "Postpaid", "RestoreTime": format_time(NOW + timedelta(hours=1))},
        "InvalidRestoreTime.Format",
        400,
    ),
    (
        "RestoreTime before retention",
        {"DBInstanceId": MYSQL_PROD, "PayType": "Postpaid", "RestoreTime": format_time(NOW - timedelta(days=30))},
        "InvalidRestoreTime.Format",
        400,
    ),
    (
        "local_ssd to a cloud disk",
        {**OK, "DBInstanceStorageType": "cloud_essd"},
        "InvalidRecoveryDbInstance.StorageType",
        400,
    ),
    (
        "lower ESSD level",
        {
            "DBInstanceId": PG_STAGING,
            "PayType": "Postpaid",
            "BackupId": "$PG_BACKUP",
            "DBInstanceStorageType": "cloud_essd",
        },
        "CannotDecreaseEssdPerfLevel",
        400,
    ),
    ("serverless on local disk", {**OK, "Category": "serverless_basic"}, "InvalidInstanceLevel.DiskType", 400),
    (
        "class without the disk type",
        {**OK, "DBInstanceClass": "mysql.n2.medium.2c"},
        "InvalidInstanceLevel.DiskType",
        400,
    ),
    ("offline class", {**OK, "DBInstanceClass": "rds.mysql.t1.small"}, "InvalidDBInstanceClass.Offline", 400),
    ("another engine's class", {**OK, "DBInstanceClass": "pg.x4.large.2c"}, "IncorrectTargetClasscode", 400),
    ("unknown class", {**OK, "DBInstanceClass": "rds.mysql.huge"}, "InvalidDBInstanceClass.NotFound", 404),
    ("smaller storage", {**OK, "DBInstanceStorage": 400}, "InvalidRecoveryDbInstance.StorageSize", 400),
    ("storage not a multiple of 5", {**OK, "DBInstanceStorage": 503}, "InvalidParameter", 400),
    (
        "description starts with a digit",
        {**OK, "DBInstanceDescription": "1clone"},
        "InvalidDBInstanceDescription.Format",
        400,
    ),
    ("description is a URL", {**OK, "DBInstanceDescription": "http://x"}, "InvalidDBInstanceDescription.Format", 400),
    ("zone malformed", {**OK, "ZoneId": "cn_hangzhou_h"}, "InvalidAvZone.Format", 400),
    ("zone of another region", {**OK, "ZoneId": "cn-shanghai-e"}, "InvalidAvZone.Format", 400),
    (
        "secondary zone on Basic",
        {**OK, "Category": "Basic", "ZoneIdSlave1": "cn-hangzhou-i"},
        "ZoneId.NotMatchWithCategory",
        400,
    ),
    ("logger zone on HighAvailability", {**OK, "ZoneIdSlave2": "cn-hangzhou-j"}, "ZoneId.NotMatchWithCategory", 400),
    (
        "zone without stock",
        {**OK, "ZoneId": "cn-hangzhou-k", "VSwitchId": "vsw-bp1nostockk0001"},
        "OperationDenied.ZoneResource",
        403,
    ),
    ("classic network target", {**OK, "InstanceNetworkType": "Classic"}, "StopService.Clone", 400),
    ("VPC without VSwitchId", {**OK, "InstanceNetworkType": "VPC"}, "InvalidVswitchId", 403),
    ("unknown vSwitch", {**OK, "VSwitchId": "vsw-bp1nothere000001"}, "InvalidVswitchId", 403),
    ("vSwitch in another zone", {**OK, "VSwitchId": "vsw-bp1prodi0000001"}, "InvalidVswitchId", 403),
    (
        "vSwitch outside VPCId",
        {**OK, "VPCId": "vpc-bp1dev0000000001", "VSwitchId": "vsw-bp1prodh0000001"},
        "InvalidVswitchId",
        403,
    ),
    (
        "one vSwitch for two zones",
        {**OK, "ZoneIdSlave1": "cn-hangzhou-i", "VSwitchId": "vsw-bp1prodh0000001"},
        "InvalidVswitchId",
        403,
    ),
    ("vSwitch out of IPs (HA)", {**OK, "VSwitchId": "vsw-bp1fullh0000001"}, "AtLeastThreeVSwitchAvailableIp", 400),
    (
        "vSwitch out of IPs (Basic)",
        {**OK, "Category": "Basic", "VSwitchId": "vsw-bp1fullh0000001"},
        "AtLeastTwoVSwitchAvailableIp",
        400,
    ),
    (
        "private IP in use",
        {**OK, "VSwitchId": "vsw-bp1prodh0000001", "PrivateIpAddress": "172.16.0.13"},
        "InvalidIPAddress.Conflict",
        400,
    ),
    (
        "private IP outside the vSwitch",
        {**OK, "VSwitchId": "vsw-bp1prodh0000001", "PrivateIpAddress": "10.1.1.1"},
        "InvalidVpcParameter",
        400,
    ),
    ("Prepaid without Period", {**OK, "PayType": "Prepaid", "UsedTime": 1}, "Order.PeriodInvalid", 400),
    ("Prepaid without UsedTime", {**OK, "PayType": "Prepaid", "Period": "Year"}, "Order.PeriodInvalid", 400),
    ("Prepaid UsedTime 0", {**OK, "PayType": "Prepaid", "Period": "Month", "UsedTime": 0}, "Order.PeriodInvalid", 400),
    ("Prepaid 5 years", {**OK, "PayType": "Prepaid", "Period": "Year", "UsedTime": 5}, "InvalidParam.UsedTime", 400),
    (
        "Prepaid 10 months",
        {**OK, "PayType": "Prepaid", "Period": "Month", "UsedTime": 10},
        "InvalidParam.UsedTime",
        400,
    ),
    ("DbNames not in the backup", {**OK, "DbNames": "payments,nosuchdb"}, "InvalidBackupSet", 400),
    ("RestoreTable without TableMeta", {**OK, "RestoreTable": "1"}, "RequiredParam.NotFound", 400),
    ("TableMeta not JSON", {**OK, "RestoreTable": "1", "TableMeta": "audit"}, "InvalidParamTableMeta", 400),
    (
        "TableMeta without newname",
        {**OK, "RestoreTable": "1", "TableMeta": '[{"type":"db","name":"audit"}]'},
        "InvalidParamTableMeta.Content",
        400,
    ),
    (
        "TableMeta duplicate newname",
        {
            **OK,
            "RestoreTable": "1",
            "TableMeta": json.dumps(
                [{"type": "db", "name": "audit", "newname": "x"}, {"type": "db", "name": "payments", "newname": "x"}]
            ),
        },
        "InvalidParamTableMeta.Duplicate",
        400,
    ),
    (
        "TableMeta database not in the backup",
        {**OK, "RestoreTable": "1", "TableMeta": json.dumps([{"type": "db", "name": "nosuchdb", "newname": "x"}])},
        "InvalidBackupSet",
        400,
    ),
    ("BackupType unknown", {**OK, "BackupType": "Auto"}, "InvalidParameter", 400),
    ("BackupType not the set's", {**OK, "BackupType": "IncrementalBackup"}, "InvalidBakset.Invalid", 400),
    ("DedicatedHostGroupId unknown", {**OK, "DedicatedHostGroupId": "dhg-nosuchgroup01"}, "HostInfo.NotFound", 404),
    ("AutoPay not a boolean", {**OK, "AutoPay": "maybe"}, "InvalidParameter", 400),
    ("DeletionProtection not a boolean", {**OK, "DeletionProtection": "1"}, "InvalidParameter", 400),
    (
        "tables need more disk",
        {**OK, "RestoreTable": "1", "TableMeta": json.dumps([{"type": "db", "name": "ledger", "newname": "ledger2"}])},
        "DiskSize.NotEnough",
        400,
    ),
]


@pytest.fixture(scope="module")
def backups(rds_emu: RdsEmulator) -> dict[str, str]:
    def pick(instance_id: str, wanted: str) -> str:
        return next(b.id for b in rds_emu.backups(instance_id) if b.status == wanted)

    return {
        "$BACKUP": pick(MYSQL_PROD, "Success"),
        "$FAILED_BACKUP": pick(MYSQL_PROD, "Failed"),
        "$DEV_BACKUP": pick(MYSQL_DEV, "Success"),
        "$PG_BACKUP": pick(PG_STAGING, "Success"),
    }


@pytest.mark.parametrize(("query", "code", "status"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_clone_refusals(
    rds_sdk: Any, rds: Any, rds_emu: RdsEmulator, backups: dict[str, str], query: dict, code: str, status: int
) -> None:
    before = len(rds_emu.instances())
    query = {k: backups.get(v, v) if isinstance(v, str) else v for k, v in query.items()}
    error = rds_sdk.error(rds_sdk.raw, rds, "CloneDBInstance", query)
    assert (error.code, error.status_code) == (code, status), error.data["Message"]
    assert len(rds_emu.instances()) == before
